"""Every council and meetings model is in the admin, and its pages load."""

import pytest
from django.contrib import admin
from django.db import transaction
from django.urls import reverse

from council.audit import audit_record
from council.models import AuditEntry, Body, Caucus, Council, Membership, Person
from meetings.models import AgendaItem, AgendaItemDocument, Session, Sitting
from tests.factories import make_agenda_item

OURS = [
    Council,
    Caucus,
    Person,
    Body,
    Membership,
    AuditEntry,
    Session,
    Sitting,
    AgendaItem,
    AgendaItemDocument,
]


def test_every_model_is_registered():
    for model in OURS:
        assert model in admin.site._registry, model


@pytest.fixture
def admin_client(client, org):
    client.force_login(org["admin"])
    make_agenda_item(org["sitting"])
    Caucus.objects.create(council=org["council"], name="新生会")
    with transaction.atomic():
        audit_record(action="test.entry")
    return client


@pytest.mark.parametrize("model", OURS, ids=lambda m: m._meta.label)
def test_admin_pages_load(admin_client, model):
    info = (model._meta.app_label, model._meta.model_name)
    response = admin_client.get(reverse("admin:{}_{}_changelist".format(*info)))
    assert response.status_code == 200
    add = admin_client.get(reverse("admin:{}_{}_add".format(*info)))
    assert add.status_code == (403 if model is AuditEntry else 200)
    obj = model.objects.first()
    if obj is not None:
        change = admin_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
        assert change.status_code == 200


def test_admin_search_and_filters(admin_client, org):
    url = reverse("admin:council_person_changelist")
    response = admin_client.get(url, {"q": "やまだ", "kind__exact": "councillor"})
    assert response.status_code == 200
    assert "山田" in response.content.decode()


def test_admin_change_is_audited(admin_client, org):
    body = org["committee"]
    url = reverse("admin:council_body_change", args=[body.pk])
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        {"name": "総務文教常任委員会", "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    )
    data["allows_remote_attendance"] = "on"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    body.refresh_from_db()
    assert body.name == "総務文教常任委員会"
    assert AuditEntry.objects.filter(
        action="admin.change", target_type="council.body", target_id=str(body.pk)
    ).exists()


def test_audit_entries_are_read_only(admin_client):
    entry = AuditEntry.objects.first()
    url = reverse("admin:council_auditentry_delete", args=[entry.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_non_staff_cannot_use_admin(client, org):
    client.force_login(org["clerk"].user)
    response = client.get(reverse("admin:council_person_changelist"))
    assert response.status_code == 302
