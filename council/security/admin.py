"""Account changes in the Django admin are audited, and a second factor's secret is never shown.

Users: every add, change and delete writes an audit row (which fields changed, with the values of
the flags that grant power: ``is_superuser``, ``is_staff``, ``is_active``, groups and permissions;
never the password hash), and setting a password writes ``admin.user_password_set``. TOTP devices:
the admin lists them and can delete one (audited); it cannot add one or show its key or QR code,
since enrolment happens on the user's own page where the code from the phone confirms it.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django_otp.plugins.otp_totp import admin as otp_totp_admin  # registers TOTPDevice first
from django_otp.plugins.otp_totp.models import TOTPDevice

from council.audit import audit_record

User = get_user_model()
POWER_FIELDS = ("is_superuser", "is_staff", "is_active")
M2M_FIELDS = ("groups", "user_permissions")


def _audit(request, action: str, obj, data: dict | None = None) -> None:
    audit_record(
        action=action,
        actor=request.user,
        target_type=obj._meta.label_lower,
        target_id=obj.pk,
        data=data or {},
    )


class AuditedUserAdmin(UserAdmin):
    """Django's user admin, writing an audit row for each account change."""

    def save_model(self, request, obj, form, change):
        before = {}
        if change and obj.pk:
            before = User.objects.filter(pk=obj.pk).values(*POWER_FIELDS).first() or {}
        super().save_model(request, obj, form, change)
        concrete = {f.name for f in obj._meta.concrete_fields} - {"password"}
        changed = {name: getattr(obj, name) for name in form.changed_data if name in concrete}
        for name in POWER_FIELDS:
            if change and before.get(name) != getattr(obj, name):
                changed[name] = getattr(obj, name)
        _audit(request, "admin.user_change" if change else "admin.user_add", obj, {"fields": changed})
        if changed.get("is_superuser") is True:
            _audit(request, "admin.superuser_granted", obj)
        elif change and before.get("is_superuser") and obj.is_superuser is False:
            _audit(request, "admin.superuser_revoked", obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        m2m = {
            name: sorted(v.pk for v in getattr(form.instance, name).all())
            for name in M2M_FIELDS
            if name in form.changed_data
        }
        if m2m:
            _audit(request, "admin.user_permissions_change", form.instance, {"fields": m2m})

    def delete_model(self, request, obj):
        pk, label = obj.pk, obj._meta.label_lower
        super().delete_model(request, obj)
        audit_record(action="admin.user_delete", actor=request.user, target_type=label, target_id=pk)

    def delete_queryset(self, request, queryset):
        pks = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        for pk in pks:
            audit_record(
                action="admin.user_delete",
                actor=request.user,
                target_type=User._meta.label_lower,
                target_id=pk,
            )

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            target = self.get_object(request, unquote(id))
            before = target.password if target is not None else None
            response = super().user_change_password(request, id, form_url)
            if target is not None and request.method == "POST":
                after = User.objects.filter(pk=target.pk).values_list("password", flat=True).first()
                if after != before:
                    _audit(request, "admin.user_password_set", target)
        return response


class TOTPDeviceAdmin(otp_totp_admin.TOTPDeviceAdmin):
    """Lists second factors and deletes one (audited); never adds one or shows its secret."""

    readonly_fields = [
        "user",
        "name",
        "confirmed",
        "created_at",
        "last_used_at",
        "step",
        "t0",
        "digits",
        "tolerance",
        "drift",
        "throttling_failure_timestamp",
        "throttling_failure_count",
    ]
    list_display = ["user", "name", "created_at", "last_used_at", "confirmed"]

    def get_list_display(self, request):
        return self.list_display

    def get_fieldsets(self, request, obj=None):
        return [(None, {"fields": self.readonly_fields})]

    def get_urls(self):  # no config or QR code views: they would show the key
        return admin.ModelAdmin.get_urls(self)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        with transaction.atomic():
            _audit(request, "admin.totp_device_delete", obj, {"user": obj.user_id})
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for device in queryset:
                _audit(request, "admin.totp_device_delete", device, {"user": device.user_id})
            super().delete_queryset(request, queryset)


for model, model_admin in ((User, AuditedUserAdmin), (TOTPDevice, TOTPDeviceAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
