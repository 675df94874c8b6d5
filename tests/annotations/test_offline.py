"""Offline packets at the API level: what goes in, expiry, revocation, sign-out, sync from devices."""

import datetime
import json
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from council.audit import audit_verify
from council.models import AuditEntry
from documents.annotations import selectors, services
from documents.annotations.models import Annotation, OfflineDevice
from meetings.models import AgendaItemDocument, Sitting
from tests import factories
from tests.annotations.helpers import make_document
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


@pytest.fixture
def packet(org):
    sitting = org["sitting"]
    item = factories.make_agenda_item(sitting, title="町税条例の一部改正について")
    secret_item = factories.make_agenda_item(sitting, title="人事案件", closed_session=True)
    docs = {
        "bill": make_document(org["council"], org["plenary"], title="議案第45号"),
        "closed_visibility": make_document(
            org["council"], org["plenary"], title="秘密会資料", visibility="closed"
        ),
        "closed_item": make_document(org["council"], org["plenary"], title="人事案件資料"),
        "draft": make_document(org["council"], org["plenary"], title="未公開", released=False),
        "committee": make_document(org["council"], org["committee"], title="委員会資料"),
    }
    for key in ("bill", "closed_visibility", "draft", "committee"):
        AgendaItemDocument.objects.create(agenda_item=item, document=docs[key])
    AgendaItemDocument.objects.create(agenda_item=secret_item, document=docs["closed_item"])
    past = factories.make_sitting(
        org["session"],
        org["plenary"],
        date=timezone.localdate() - datetime.timedelta(days=2),
        status=Sitting.Status.CLOSED,
    )
    old_item = factories.make_agenda_item(past)
    docs["past"] = make_document(org["council"], org["plenary"], title="過去の資料")
    AgendaItemDocument.objects.create(agenda_item=old_item, document=docs["past"])
    return docs


def issue(client, device_id=None):
    device_id = device_id or str(uuid.uuid4())
    response = client.post(
        reverse("documents:annotations:api_packet"),
        data=json.dumps({"device_id": device_id, "label": "iPad"}),
        content_type="application/json",
    )
    return device_id, response


def test_offline_packet_contains_upcoming_released_documents_never_closed_session(org, packet):
    titles = [i.document.title for i in selectors.packet_for(org["members"][8].user)]
    assert titles == ["議案第45号"]  # not closed-session, not drafts, not past sittings, not other bodies
    # A committee member also gets the committee's document linked to the item (they may read it).
    committee_member = {i.document.title for i in selectors.packet_for(org["members"][4].user)}
    assert committee_member == {"議案第45号", "委員会資料"}
    assert selectors.packet_for(org["clerk"].user)  # the secretariat reads packets too
    assert selectors.packet_for(factories.make_person(org["council"], kind="public").user) == []


def test_offline_packet_manifest_registers_device_with_expiry(org, packet, settings):
    settings.COUNCIL_OFFLINE_DAYS = 3
    client = login(org["members"][8].user)
    device_id, response = issue(client)
    assert response.status_code == 200
    manifest = response.json()
    assert [i["title"] for i in manifest["items"]] == ["議案第45号"]
    item = manifest["items"][0]
    assert item["file"] == reverse(
        "documents:version_file", kwargs={"version_id": packet["bill"].current_version.pk}
    )
    assert item["reader"].startswith(f"/documents/{packet['bill'].pk}/read/")
    assert manifest["total"] == packet["bill"].current_version.size
    assert any(a.endswith("js/annotations/layer.js") for a in manifest["assets"])
    assert any("pdf.worker" in a for a in manifest["assets"])
    device = OfflineDevice.objects.get(device_id=device_id)
    assert device.member == org["members"][8].user
    expires = datetime.datetime.fromisoformat(manifest["expires_at"])
    assert abs((expires - timezone.now()) - datetime.timedelta(days=3)) < datetime.timedelta(minutes=1)
    assert AuditEntry.objects.filter(action="offline.packet_issued").count() == 1


def test_offline_packet_refused_to_anonymous_and_public(org, packet):
    _, anonymous = issue(Client())
    assert anonymous.status_code == 403
    public = factories.make_person(org["council"], kind="public")
    _, response = issue(login(public.user))
    assert response.status_code == 403
    assert response.json() == {"code": "refused", "error": "You cannot keep documents offline."}


def test_offline_expiry_reported_to_device(org, packet):
    member = org["members"][8].user
    client = login(member)
    device_id, _ = issue(client)
    url = reverse("documents:annotations:api_device", kwargs={"device_id": device_id})
    assert client.get(url).json() == {
        "known": True,
        "revoked": False,
        "expired": False,
        "expires_at": OfflineDevice.objects.get().expires_at.isoformat(),
    }
    OfflineDevice.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get(url).json()["expired"] is True
    # The device reports it removed its copy; a new download starts a new period.
    assert client.post(url).json() == {"ok": True}
    assert OfflineDevice.objects.get().wiped_at is not None
    _, again = issue(client, device_id)
    assert again.status_code == 200
    device = OfflineDevice.objects.get()
    assert device.wiped_at is None and not device.is_expired()


def test_offline_revocation_applied_when_device_comes_online(org, packet):
    member = org["members"][8].user
    client = login(member)
    device_id, _ = issue(client)
    admin = login(org["admin"])
    page = admin.get(reverse("documents:annotations:manage_devices"))
    assert "the next time each device connects" in page.content.decode()
    admin.post(reverse("documents:annotations:manage_devices"), {"member": member.pk})
    device = OfflineDevice.objects.get()
    assert device.revoked_at is not None and device.revoked_by == org["admin"]
    status_url = reverse("documents:annotations:api_device", kwargs={"device_id": device_id})
    assert client.get(status_url).json()["revoked"] is True
    # Notes sent from a revoked device are not accepted; the device is told to wipe.
    response = client.post(
        reverse("documents:annotations:api_sync"),
        content_type="application/json",
        data=json.dumps(
            {
                "device_id": device_id,
                "changes": [
                    {
                        "client_id": str(uuid.uuid4()),
                        "version": packet["bill"].current_version.pk,
                        "page": 1,
                        "kind": "note",
                        "geometry": {"x": 0.1, "y": 0.1},
                        "text": "x",
                    }
                ],
            }
        ),
    )
    assert response.json() == {"revoked": True, "results": []}
    assert not Annotation.objects.exists()
    # It cannot download the packet again under the same id.
    _, again = issue(client, device_id)
    assert again.status_code == 410 and again.json()["revoked"] is True
    client.post(status_url)
    assert OfflineDevice.objects.get().wiped_at is not None
    actions = list(AuditEntry.objects.filter(action__startswith="offline.").values_list("action", flat=True))
    assert actions == ["offline.packet_issued", "offline.devices_revoked", "offline.copy_removed"]
    assert audit_verify().ok


def test_offline_revocation_refused_for_other_members(org, packet):
    victim = org["members"][8].user
    issue(login(victim))
    with pytest.raises(services.AnnotationError, match="You may not revoke these devices."):
        services.devices_revoke(actor=org["members"][2].user, member=victim)
    assert (
        login(org["members"][2].user).get(reverse("documents:annotations:manage_devices")).status_code == 403
    )
    assert (
        login(org["official"].user)
        .post(reverse("documents:annotations:manage_devices"), {"member": victim.pk})
        .status_code
        == 403
    )
    assert OfflineDevice.objects.get().revoked_at is None


def test_offline_member_revokes_own_lost_tablet(org, packet):
    member = org["members"][8].user
    client = login(member)
    issue(client)
    issue(client)
    response = client.post(reverse("documents:annotations:revoke_own_devices"), follow=True)
    assert "2 device(s) revoked" in response.content.decode()
    assert OfflineDevice.objects.filter(revoked_at__isnull=False).count() == 2
    with pytest.raises(services.AnnotationError, match="There is no device to revoke."):
        services.devices_revoke(actor=member, member=member)


def test_offline_device_ids_belong_to_one_member(org, packet):
    device_id, _ = issue(login(org["members"][8].user))
    _, response = issue(login(org["members"][7].user), device_id)
    assert response.status_code == 403
    assert response.json() == {"code": "refused", "error": "This device is not known."}
    other = login(org["members"][7].user).get(
        reverse("documents:annotations:api_device", kwargs={"device_id": device_id})
    )
    assert other.json()["known"] is False


def test_offline_sign_out_clears_site_data(org):
    client = login(org["members"][8].user)
    response = client.post(reverse("logout"))
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert "Clear-Site-Data" not in Client().get(reverse("login"))


def test_offline_service_worker_served_for_the_whole_site(org):
    response = Client().get(reverse("documents:annotations:service_worker"))
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Content-Type"].startswith("text/javascript")
    body = b"".join(response.streaming_content).decode()
    assert "council-packet-v1" in body and "/accounts/logout/" in body


def test_offline_sync_batch_from_device_with_duplicates_and_conflict(org, packet):
    """A device that was offline sends everything at once, some of it twice."""
    member = org["members"][8].user
    client = login(member)
    device_id, _ = issue(client)
    version = packet["bill"].current_version
    t0 = timezone.now() - datetime.timedelta(hours=2)
    shared = str(uuid.uuid4())
    services.annotations_sync(
        member=member,
        changes=[
            {
                "client_id": shared,
                "version": version.pk,
                "page": 1,
                "kind": "note",
                "geometry": {"x": 0.3, "y": 0.3},
                "text": "会議前のメモ",
                "updated_at": t0.isoformat(),
            }
        ],
    )
    # Meanwhile, on the phone (online), the note was edited later than the tablet's offline edit.
    services.annotations_sync(
        member=member,
        changes=[
            {
                "client_id": shared,
                "version": version.pk,
                "page": 1,
                "kind": "note",
                "geometry": {"x": 0.3, "y": 0.3},
                "text": "スマホで修正",
                "base_revision": 1,
                "updated_at": (t0 + datetime.timedelta(minutes=50)).isoformat(),
            }
        ],
    )
    fresh = str(uuid.uuid4())
    batch = [
        {
            "client_id": fresh,
            "version": version.pk,
            "page": 2,
            "kind": "pen",
            "base_revision": 0,
            "geometry": {"points": [[0.1, 0.1, 0.4], [0.2, 0.2, 0.7]], "width": 0.003},
            "updated_at": (t0 + datetime.timedelta(minutes=10)).isoformat(),
        },
        {
            "client_id": shared,
            "version": version.pk,
            "page": 1,
            "kind": "note",
            "geometry": {"x": 0.3, "y": 0.3},
            "text": "電車で修正",
            "base_revision": 1,
            "updated_at": (t0 + datetime.timedelta(minutes=20)).isoformat(),
        },
    ]
    response = client.post(
        reverse("documents:annotations:api_sync"),
        content_type="application/json",
        data=json.dumps({"device_id": device_id, "changes": batch + batch}),
    )
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["created", "conflict", "unchanged", "conflict"]
    assert results[1]["annotation"]["text"] == "スマホで修正"
    assert results[1]["conflict_copy"]["text"] == "電車で修正"
    texts = sorted(Annotation.objects.filter(member=member, kind="note").values_list("text", flat=True))
    assert texts == ["スマホで修正", "電車で修正"]  # no duplicates, nothing lost
    assert Annotation.objects.filter(member=member, kind="pen").count() == 1


def test_offline_devices_learn_which_versions_may_still_be_kept(org, packet):
    member = org["members"][8].user
    client = login(member)
    url = reverse("documents:annotations:api_packet")
    bill = packet["bill"]
    assert client.get(url).json() == {"versions": [bill.current_version.pk]}
    bill.release_state = "withdrawn"
    bill.save()
    assert client.get(url).json() == {"versions": []}  # the device drops it when it next connects
    assert Client().get(url).status_code == 403


def test_offline_member_leaving_office_loses_offline_copies(org, packet):
    person = org["members"][8]
    client = login(person.user)
    device_id, _ = issue(client)
    person.active = False
    person.save()
    status = client.get(reverse("documents:annotations:api_device", kwargs={"device_id": device_id})).json()
    assert status["revoked"] is True


def test_offline_revoked_device_learns_it_without_a_session(org, packet):
    member = org["members"][8].user
    device_id, _ = issue(login(member))
    services.devices_revoke(actor=org["admin"], member=member)
    url = reverse("documents:annotations:api_device", kwargs={"device_id": device_id})
    assert Client().get(url).json()["revoked"] is True  # e.g. the session expired meanwhile
    assert (
        Client()
        .get(reverse("documents:annotations:api_device", kwargs={"device_id": str(uuid.uuid4())}))
        .json()["known"]
        is False
    )
    assert (
        Client().get(reverse("documents:annotations:api_device", kwargs={"device_id": "nope"})).status_code
        == 404
    )


def test_a_lone_surrogate_in_an_offline_sync_is_a_400_that_changes_nothing(org, packet):
    """JSON may spell a lone surrogate ("\\ud800"); no database can store it, so the sync refuses it
    as a bad request instead of failing with a server error."""
    member = org["members"][8].user
    client = login(member)
    device_id, _ = issue(client)
    version = packet["bill"].current_version.pk
    client_id = str(uuid.uuid4())
    note = json.dumps(
        {
            "device_id": device_id,
            "changes": [
                {
                    "client_id": client_id,
                    "version": version,
                    "page": 1,
                    "kind": "note",
                    "geometry": {"x": 0.1, "y": 0.1},
                    "text": "LONE",
                }
            ],
        }
    )
    bodies = [
        note.replace("LONE", "\\ud800"),
        '{"device_id": "\\udfff", "changes": []}',
        '{"changes": [{"\\ud800": 1}]}',
    ]
    client.raise_request_exception = False
    for body in bodies:
        response = client.post(
            reverse("documents:annotations:api_sync"), data=body.encode(), content_type="application/json"
        )
        assert response.status_code == 400, body
    assert not Annotation.objects.exists()
