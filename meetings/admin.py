"""Django admin for sessions, sittings and the order of business (audited like the organisation's)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from council.admin import AuditedAdmin
from meetings.models import AgendaItem, AgendaItemDocument, Session, Sitting


class SittingInline(admin.TabularInline):
    model = Sitting
    extra = 0
    fields = ["body", "number", "date", "start_time", "place", "status"]
    show_change_link = True


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    extra = 0
    fields = ["position", "kind", "bill_number", "title", "title_en", "closed_session"]
    show_change_link = True


class AgendaItemDocumentInline(admin.TabularInline):
    model = AgendaItemDocument
    extra = 0
    raw_id_fields = ["document"]


@admin.register(Session)
class SessionAdmin(AuditedAdmin):
    list_display = ["session", "kind", "year", "number", "start_date", "end_date", "council"]
    list_filter = ["kind", "year", "council"]
    search_fields = ["year", "number"]
    date_hierarchy = "start_date"
    inlines = [SittingInline]

    @admin.display(description=_("session"), ordering="start_date")
    def session(self, obj):
        return obj.title


@admin.register(Sitting)
class SittingAdmin(AuditedAdmin):
    list_display = [
        "sitting",
        "body",
        "date",
        "start_time",
        "place",
        "status",
        "agenda_published_at",
        "ical_sequence",
    ]
    list_filter = ["status", "body", "session", "is_public"]
    search_fields = ["place", "body__name", "agenda_items__title"]
    list_select_related = ["session", "body"]
    date_hierarchy = "date"
    readonly_fields = ["ical_sequence", "updated_at"]
    inlines = [AgendaItemInline]

    @admin.display(description=_("sitting"), ordering="date")
    def sitting(self, obj):
        return str(obj)

    def save_model(self, request, obj, form, change):
        # Calendar subscribers must see admin changes too.
        if change and {"date", "start_time", "place", "status"} & set(form.changed_data):
            obj.ical_sequence += 1
        super().save_model(request, obj, form, change)


@admin.register(AgendaItem)
class AgendaItemAdmin(AuditedAdmin):
    list_display = ["item", "sitting", "kind", "bill_number", "closed_session"]
    list_filter = ["kind", "closed_session", "sitting__body"]
    search_fields = ["title", "title_en", "bill_number", "description"]
    list_select_related = ["sitting", "sitting__session", "sitting__body"]
    inlines = [AgendaItemDocumentInline]

    @admin.display(description=_("agenda item"), ordering="position")
    def item(self, obj):
        return str(obj)


@admin.register(AgendaItemDocument)
class AgendaItemDocumentAdmin(AuditedAdmin):
    list_display = ["agenda_item", "document", "position"]
    raw_id_fields = ["agenda_item", "document"]
