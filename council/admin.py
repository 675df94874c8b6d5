"""Django admin for the organisation. Every change made here is written to the audit chain too."""

from __future__ import annotations

from django.contrib import admin
from django.db import models
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _

from council.audit import audit_record
from council.models import AuditEntry, Body, Caucus, Council, Membership, Person


class AuditedAdmin(admin.ModelAdmin):
    """Writes an audit entry for each save and delete (the admin already wraps them in a transaction)."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def _audit(self, request, obj, action: str, data: dict | None = None) -> None:
        audit_record(
            action=f"admin.{action}",
            actor=request.user,
            target_type=obj._meta.label_lower,
            target_id=obj.pk,
            data=data or {},
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = {
            name: model_to_dict(obj, fields=[name]).get(name)
            for name in form.changed_data
            if name in {f.name for f in obj._meta.concrete_fields}
        }
        self._audit(request, obj, "change" if change else "add", {"fields": changed})

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            pk = deleted.pk
            deleted.delete()
            audit_record(
                action="admin.delete", actor=request.user, target_type=deleted._meta.label_lower, target_id=pk
            )
        for instance in instances:
            adding = instance.pk is None
            instance.save()
            self._audit(request, instance, "add" if adding else "change")
        formset.save_m2m()

    def delete_model(self, request, obj):
        pk = obj.pk
        label = obj._meta.label_lower
        super().delete_model(request, obj)
        audit_record(action="admin.delete", actor=request.user, target_type=label, target_id=pk)

    def delete_queryset(self, request, queryset):
        label = queryset.model._meta.label_lower
        pks = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        for pk in pks:
            audit_record(action="admin.delete", actor=request.user, target_type=label, target_id=pk)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["person"]
    fields = ["person", "role", "start", "end"]


class PersonMembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["body", "role", "start", "end"]
    verbose_name_plural = _("memberships of bodies")


@admin.register(Council)
class CouncilAdmin(AuditedAdmin):
    list_display = ["name", "municipality", "seats", "term_start", "term_end"]
    search_fields = ["name", "municipality"]


@admin.register(Caucus)
class CaucusAdmin(AuditedAdmin):
    list_display = ["name", "council"]
    list_filter = ["council"]
    search_fields = ["name"]


@admin.register(Person)
class PersonAdmin(AuditedAdmin):
    list_display = ["name", "reading", "kind", "seat_number", "title", "caucus", "user", "active"]
    list_filter = ["kind", "active", "caucus", "council"]
    search_fields = [
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "title",
        "user__username",
    ]
    list_select_related = ["caucus", "user"]
    autocomplete_fields = ["user"]
    inlines = [PersonMembershipInline]
    ordering = ["kind", "seat_number", "family_name_kana"]

    @admin.display(description=_("name"), ordering="family_name_kana")
    def name(self, obj):
        return obj.full_name

    @admin.display(description=_("reading (kana)"))
    def reading(self, obj):
        return obj.full_name_kana


@admin.register(Body)
class BodyAdmin(AuditedAdmin):
    list_display = ["name", "kind", "seats", "quorum_basis", "allows_remote_attendance", "council", "order"]
    list_filter = ["kind", "allows_remote_attendance", "council"]
    search_fields = ["name", "name_en"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["person", "body", "role", "start", "end"]
    list_filter = ["body", "role"]
    search_fields = ["person__family_name", "person__given_name", "person__family_name_kana", "body__name"]
    list_select_related = ["person", "body"]
    autocomplete_fields = ["person"]
    date_hierarchy = "start"


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record that changes only through its services (which keep the audit chain and the rules)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """Read-only: the chain is append-only."""

    list_display = ["id", "at", "action", "actor", "target_type", "target_id"]
    list_filter = ["action", "target_type"]
    search_fields = ["action", "target_type", "target_id"]
    readonly_fields = ["at", "actor", "action", "target_type", "target_id", "data", "prev_hash", "hash"]
    date_hierarchy = "at"
