"""Visibility and release for every role, through can_view, visible_documents and the views alike."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from documents import permissions
from documents.models import Document, DocumentVersion

V = Document.Visibility
R = Document.Release


def make_document(org, *, body, visibility, release_state, release_at=None):
    document = Document.objects.create(
        council=org["council"],
        body=body,
        title="資料",
        visibility=visibility,
        release_state=release_state,
        release_at=release_at,
    )
    DocumentVersion.objects.create(
        document=document,
        number=1,
        served_file="x.pdf",
        original_file="x.pdf",
        original_name="x.pdf",
        original_sha256="0",
        served_sha256="0",
        size=1,
        page_count=1,
    )
    return document


def users(org):
    return {
        "anonymous": AnonymousUser(),
        "committee_member": org["members"][4].user,  # plenary and committee
        "plenary_only": org["members"][8].user,  # not on the committee
        "official": org["official"].user,
        "clerk": org["clerk"].user,
        "admin": org["admin"],
    }


# Who may see a *released* document on the committee, by visibility.
EXPECTED = {
    V.PUBLIC: {"anonymous", "committee_member", "plenary_only", "official", "clerk", "admin"},
    V.MEMBERS: {"committee_member", "official", "clerk", "admin"},
    V.CLOSED_SESSION: {"committee_member", "clerk", "admin"},
    V.SECRETARIAT: {"clerk", "admin"},
}


@pytest.mark.parametrize("visibility", list(EXPECTED))
def test_released_documents_by_visibility(org, visibility):
    document = make_document(org, body=org["committee"], visibility=visibility, release_state=R.RELEASED)
    for role, user in users(org).items():
        allowed = role in EXPECTED[visibility]
        assert permissions.can_view(user, document) is allowed, (role, visibility)
        assert permissions.visible_documents(user).filter(pk=document.pk).exists() is allowed, (
            role,
            visibility,
        )


@pytest.mark.parametrize("release_state", [R.DRAFT, R.SCHEDULED, R.WITHDRAWN])
@pytest.mark.parametrize("visibility", list(EXPECTED))
def test_unreleased_documents_only_for_the_secretariat(org, release_state, visibility):
    later = timezone.now() + datetime.timedelta(days=1) if release_state == R.SCHEDULED else None
    document = make_document(
        org, body=org["committee"], visibility=visibility, release_state=release_state, release_at=later
    )
    for role, user in users(org).items():
        allowed = role in {"clerk", "admin"}
        assert permissions.can_view(user, document) is allowed, (role, release_state)
        assert permissions.visible_documents(user).filter(pk=document.pk).exists() is allowed
    assert not permissions.is_public(document)


def test_scheduled_release_time_passed(org):
    document = make_document(
        org,
        body=org["plenary"],
        visibility=V.PUBLIC,
        release_state=R.SCHEDULED,
        release_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    assert permissions.is_public(document)
    assert permissions.can_view(AnonymousUser(), document)


def test_plenary_members_documents_for_every_councillor(org):
    document = make_document(org, body=org["plenary"], visibility=V.MEMBERS, release_state=R.RELEASED)
    for member in org["members"]:
        assert permissions.can_view(member.user, document)
    assert not permissions.can_view(AnonymousUser(), document)


def test_former_member_loses_access(org):
    from council.models import Membership

    document = make_document(
        org, body=org["committee"], visibility=V.CLOSED_SESSION, release_state=R.RELEASED
    )
    member = org["members"][5]
    assert permissions.can_view(member.user, document)
    Membership.objects.filter(person=member, body=org["committee"]).update(
        end=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert not permissions.can_view(member.user, document)
    assert not permissions.visible_documents(member.user).filter(pk=document.pk).exists()


def test_can_manage(org):
    assert permissions.can_manage(org["clerk"].user)
    assert permissions.can_manage(org["admin"])
    assert not permissions.can_manage(org["members"][0].user)
    assert not permissions.can_manage(org["official"].user)


def test_async_twins(org):
    from asgiref.sync import async_to_sync

    document = make_document(
        org, body=org["committee"], visibility=V.CLOSED_SESSION, release_state=R.RELEASED
    )
    assert not async_to_sync(permissions.ais_public)(document)
    assert async_to_sync(permissions.acan_view)(org["members"][4].user, document)
    assert not async_to_sync(permissions.acan_view)(org["official"].user, document)


def test_pages_answer_404_alike(org):
    document = make_document(org, body=org["committee"], visibility=V.SECRETARIAT, release_state=R.RELEASED)
    client = Client()
    client.force_login(org["members"][4].user)
    for name in ("documents:detail", "documents:read"):
        assert client.get(reverse(name, args=[document.pk])).status_code == 404
        assert client.get(reverse(name, args=[document.pk + 999])).status_code == 404
    clerk = Client()
    clerk.force_login(org["clerk"].user)
    assert clerk.get(reverse("documents:detail", args=[document.pk])).status_code == 200
