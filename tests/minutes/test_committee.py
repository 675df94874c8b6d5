"""Committee minutes: the committee's title, 委員長 headings, exclusions (除斥) from the record, and
sign-off by the committee chair alone."""

from __future__ import annotations

import pytest

from meetings.attendance.models import Attendance, Exclusion
from meetings.minutes import services
from meetings.minutes.models import Block, Minutes
from meetings.models import Sitting
from meetings.voting.models import FloorTurn, Motion, Poll
from tests import factories
from tests.minutes.conftest import at

pytestmark = pytest.mark.django_db


def test_committee_minutes_are_signed_by_the_committee_chair(
    org, clerk_user, settings, django_capture_on_commit_callbacks
):
    settings.MINUTES_JOBS_INLINE = True
    committee, members = org["committee"], org["members"]
    sitting = factories.make_sitting(org["session"], committee, place="第1委員会室")
    item = factories.make_agenda_item(sitting, bill_number="議案第48号", title="指定管理者の指定について")
    Sitting.objects.filter(pk=sitting.pk).update(
        status=Sitting.Status.CLOSED, opened_at=at(sitting, "13:30"), closed_at=at(sitting, "14:10")
    )
    sitting.refresh_from_db()
    for person in members[2:7]:
        Attendance.objects.create(sitting=sitting, person=person, status=Attendance.Status.PRESENT_ROOM)
    Exclusion.objects.create(agenda_item=item, person=members[5], reason="指定管理者の役員のため")
    chair = members[2]
    FloorTurn.objects.create(
        sitting=sitting,
        agenda_item=item,
        person=chair,
        status="done",
        granted_at=at(sitting, "13:31"),
        ended_at=at(sitting, "13:32"),
    )
    for person, start, end in [(members[3], "13:40", "13:45"), (members[4], "13:46", "13:50")]:
        FloorTurn.objects.create(
            sitting=sitting,
            agenda_item=item,
            person=person,
            status="done",
            granted_at=at(sitting, start),
            ended_at=at(sitting, end),
        )
    motion = Motion.objects.create(agenda_item=item, title="原案可決")
    Poll.objects.create(
        motion=motion,
        sitting=sitting,
        method=Poll.Method.HANDS,
        state=Poll.State.DECLARED,
        outcome=Poll.Outcome.CARRIED,
        yes_count=2,
        no_count=2,
        casting_vote="yes",
        present_count=4,
        opened_at=at(sitting, "13:58"),
        declared_at=at(sitting, "14:00"),
    )

    minutes = services.draft_generate(sitting=sitting, actor=clerk_user)
    assert "総務常任委員会会議録(第" in minutes.title
    assert [(t["label"]) for t in minutes.header["times"]] == ["開会", "閉会"]
    texts = [
        (b.kind, b.heading if b.kind == "speech" else b.text)
        for b in minutes.blocks.order_by("position")
        if not b.is_suggestion
    ]
    name = lambda p: f"{p.family_name}{p.given_name}"  # noqa: E731
    assert texts[1:7] == [
        ("heading", "日程第1 議案第48号 指定管理者の指定について"),
        ("status", f"(6番 {name(members[5])}君 除斥のため退席)"),
        ("speech", f"委員長({name(chair)}君)"),
        ("speech", f"副委員長({name(members[3])}君)"),
        ("speech", f"委員({name(members[4])}君)"),
        ("vote", "挙手により採決 賛成2人 反対2人 可決(可否同数のため委員長裁決: 賛成)"),
    ]
    with pytest.raises(services.MinutesRefused, match="correct the record instead"):
        services.block_edit(block=minutes.blocks.get(data__event="exclusion"), text="x", actor=clerk_user)

    services.minutes_submit(minutes=minutes, actor=clerk_user)  # no nominated signers needed
    with django_capture_on_commit_callbacks(execute=True):
        services.minutes_sign(minutes=minutes, user=chair.user)
    minutes.refresh_from_db()
    assert minutes.state == Minutes.State.SIGNED and minutes.pdf_sha256
    assert minutes.blocks.filter(kind=Block.Kind.STATUS, data__event="exclusion").count() == 1
    suggested = [b.text for b in minutes.blocks.order_by("position") if b.is_suggestion]
    assert suggested[0] == f"ただいまから{committee.name}を開会します。"
    assert "委員長は、本件について可決と裁決します。" in suggested[-2]
    assert suggested[-1] == f"以上で本日の審査は全部終了しました。これで{committee.name}を閉会します。"
