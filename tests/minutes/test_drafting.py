"""Drafting the minutes from the sitting's record: every required element, in order."""

from __future__ import annotations

import pytest

from meetings.minutes import services
from meetings.minutes.models import Block
from meetings.minutes.record import load_record
from meetings.models import Sitting

pytestmark = pytest.mark.django_db


def test_the_record_is_read_from_the_voting_app(recorded):
    record = load_record(recorded["sitting"])
    assert record.title.endswith(f"磐梯町議会定例会会議録(第{recorded['sitting'].number}号)")
    assert len(record.members) == 10 and len(record.officials) == 1 and len(record.secretariat) == 1
    assert [t.role for t in record.turns] == ["議長", "議長", "町長", "3番", "町長", "議長"]
    assert {v.method for v in record.votes} == {"no_objection", "roll_call", "standing"}


def test_draft_contains_every_required_element_in_order(recorded, clerk_user):
    sitting = recorded["sitting"]
    minutes = services.draft_generate(sitting=sitting, actor=clerk_user)
    h = minutes.header
    session = sitting.session
    assert (
        minutes.title.startswith("令和")
        and f"第{session.number}回磐梯町議会定例会会議録(第{sitting.number}号)" in minutes.title
    )
    assert h["date_label"].startswith("令和") and h["place"] == "磐梯町議会議場"
    assert [(t["label"], t["time"]) for t in h["times"]] == [
        ("開議", "午前10時00分"),
        ("休憩", "午前10時26分"),
        ("再開", "午前10時29分"),
        ("散会", "午前11時30分"),
    ]
    assert [m["seat_number"] for m in h["present"]] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert [m["name"] for m in h["absent"]] == ["加藤恵"] and h["absent"][0]["reason"] == "病気"
    remote = [m for m in h["present"] if m["remote"]]
    assert [m["seat_number"] for m in remote] == [8]
    assert [(o["title"], o["name"]) for o in h["officials"]] == [("町長", "五十嵐正")]
    assert [(o["title"], o["name"]) for o in h["secretariat"]] == [("議会事務局長", "星和夫")]
    assert [a["label"] for a in h["agenda"]] == ["日程第1", "日程第2", "日程第3"]

    blocks = list(minutes.blocks.order_by("position"))
    shape = [(b.kind, b.heading if b.kind == "speech" else b.text) for b in blocks]
    chair = "議長(佐藤一郎君)"
    assert shape == [
        ("status", "午前10時00分 開議"),
        ("speech", chair),  # suggested: ただいまから本日の会議を開きます。
        ("heading", "日程第1 会議録署名議員の指名"),
        ("speech", chair),  # suggested: 日程第1、会議録署名議員の指名を行います。
        ("speech", chair),  # the recorded turn
        ("heading", "日程第2 会期の決定"),
        ("speech", chair),
        ("speech", chair),
        ("speech", chair),  # お諮りします … ご異議ありませんか。
        ("vote", "異議なしと認め、可決"),
        ("speech", chair),  # ご異議なしと認めます。よって …
        ("heading", "日程第3 議案第45号 磐梯町税条例の一部を改正する条例について"),
        ("speech", chair),
        ("speech", "町長(五十嵐正君)"),
        ("speech", "3番(高橋健君)"),
        ("speech", "町長(五十嵐正君)"),
        ("speech", chair),  # 暫時休憩します。
        ("status", "午前10時26分 休憩"),
        ("status", "午前10時29分 再開"),
        ("speech", chair),  # 休憩前に引き続き会議を開きます。
        ("speech", chair),
        ("vote", "記名投票により採決 賛成6票 反対2票 可決"),
        ("speech", chair),
        ("speech", chair),
        ("vote", "起立により採決 賛成3人 反対5人 否決"),
        ("speech", chair),
        ("speech", chair),
        ("speech", chair),  # 以上で本日の日程は全部終了しました。…
        ("status", "午前11時30分 散会"),
    ]
    # Recorded turns start empty for the clerk; the chair's customary lines are suggested.
    turns = [b for b in blocks if b.source.startswith("turn:")]
    assert len(turns) == 6 and all(b.text == "" for b in turns)
    suggested = [b.text for b in blocks if b.is_suggestion]
    assert suggested[0] == "ただいまから本日の会議を開きます。"
    assert "日程第2、会期の決定を議題といたします。" in suggested
    assert (
        "投票の結果を報告します。賛成6票、反対2票。以上のとおり賛成多数です。よって、議案第45号 磐梯町税条例の一部を改正する条例については可決されました。"
        in suggested
    )
    assert "起立少数です。よって、附帯決議案は否決されました。" in suggested
    # The chair signs; nominated signers are added by the clerk.
    assert [(s.person_id, s.role) for s in minutes.signatories.all()] == [
        (recorded["members"][0].pk, "chair")
    ]


def test_roll_call_names_and_counts_match_the_record(recorded, clerk_user):
    minutes = services.draft_generate(sitting=recorded["sitting"], actor=clerk_user)
    vote = minutes.blocks.get(kind=Block.Kind.VOTE, data__method="roll_call")
    poll = recorded["roll_call"]
    assert (vote.data["yes"], vote.data["no"]) == (poll.yes_count, poll.no_count) == (6, 2)
    expected = [
        (b.member.seat_number, f"{b.member.family_name}{b.member.given_name}", b.choice)
        for b in poll.ballots.select_related("member").order_by("member__seat_number")
    ]
    assert [(v["seat_number"], v["name"], v["choice"]) for v in vote.data["ballots"]] == expected
    assert [v["choice_label"] for v in vote.data["ballots"]].count("反対") == 2
    standing = minutes.blocks.get(kind=Block.Kind.VOTE, data__method="standing")
    assert standing.data["ballots"] == []  # a standing vote counts, it does not name


def test_a_sitting_still_open_cannot_be_drafted(recorded, clerk_user):
    Sitting.objects.filter(pk=recorded["sitting"].pk).update(status=Sitting.Status.OPEN)
    with pytest.raises(services.MinutesRefused, match="once the sitting is closed"):
        services.draft_generate(sitting=recorded["sitting"], actor=clerk_user)


def test_refreshing_from_the_record_keeps_typed_speeches_and_remarks(recorded, clerk_user):
    sitting = recorded["sitting"]
    minutes = services.draft_generate(sitting=sitting, actor=clerk_user)
    speech = minutes.blocks.filter(kind=Block.Kind.SPEECH, source__startswith="turn:").order_by("position")[3]
    services.block_edit(block=speech, text="議案第45号について質問します。", actor=clerk_user)
    heading = minutes.blocks.get(kind=Block.Kind.HEADING, agenda_item=recorded["items"][2])
    services.remark_add(minutes=minutes, after=heading, text="(資料配付)", actor=clerk_user)
    # The record is corrected: the standing vote's counts were wrong.
    recorded["standing"].__class__.objects.filter(pk=recorded["standing"].pk).update(
        yes_count=5, no_count=3, outcome="carried"
    )
    again = services.draft_generate(sitting=sitting, actor=clerk_user)
    assert again.pk == minutes.pk
    blocks = list(again.blocks.order_by("position"))
    texts = [b.text for b in blocks]
    assert "議案第45号について質問します。" in texts
    i = texts.index("(資料配付)")
    assert (
        blocks[i - 1].kind == Block.Kind.HEADING and blocks[i - 1].agenda_item_id == recorded["items"][2].pk
    )
    assert again.blocks.get(data__method="standing").data["yes"] == 5
    # The chair's untouched suggestion follows the corrected record.
    declare = again.blocks.get(source=f"chair:declare:{recorded['standing'].pk}")
    assert declare.text == "起立多数です。よって、附帯決議案は可決されました。"
    assert "賛成3人" not in again.blocks.get(data__method="standing").text


def test_a_closed_session_item_keeps_its_vote_but_not_its_speeches(recorded, clerk_user):
    item = recorded["items"][2]
    type(item).objects.filter(pk=item.pk).update(closed_session=True)
    minutes = services.draft_generate(sitting=recorded["sitting"], actor=clerk_user)
    in_item = list(minutes.blocks.filter(agenda_item=item).order_by("position"))
    assert [b.kind for b in in_item if not b.is_suggestion] == ["heading", "remark", "vote", "vote"]
    assert not [b for b in in_item if b.source.startswith("turn:")]
    assert in_item[2].text == "(この間、秘密会)"
    assert minutes.header["agenda"][2]["closed_session"] is True
    again = services.draft_generate(sitting=recorded["sitting"], actor=clerk_user)
    assert again.blocks.filter(text="(この間、秘密会)").count() == 1


def test_vote_summaries_for_a_casting_vote_a_secret_ballot_and_a_special_majority():
    from meetings.minutes.drafting import vote_data
    from meetings.minutes.record import BallotRow, PersonRef, VoteRecord

    tie = VoteRecord(
        id=1,
        agenda_item_id=None,
        motion="修正案",
        method="standing",
        result="adopted",
        yes=4,
        no=4,
        casting_vote="yes",
    )
    assert (
        vote_data(tie, chair_title="委員長")["summary"]
        == "起立により採決 賛成4人 反対4人 可決(可否同数のため委員長裁決: 賛成)"
    )
    secret = VoteRecord(
        id=2,
        agenda_item_id=None,
        motion="選挙",
        method="secret",
        result="rejected",
        yes=3,
        no=6,
        ballots=[BallotRow(PersonRef(id=1, name="佐藤一郎"), "yes")],
    )
    data = vote_data(secret)
    assert data["summary"] == "無記名投票により採決 賛成3票 反対6票 否決" and data["ballots"] == []
    special = VoteRecord(
        id=3,
        agenda_item_id=None,
        motion="秘密会とすること",
        method="standing",
        result="adopted",
        yes=8,
        no=1,
        requirement="秘密会（第115条）: 出席議員の3分の2以上",
        special=True,
    )
    assert vote_data(special)["special"] is True


def test_a_roll_call_ballot_recorded_by_the_clerk_is_marked_so_in_the_minutes():
    from django.template.loader import render_to_string

    from meetings.minutes.drafting import vote_data
    from meetings.minutes.record import BallotRow, PersonRef, VoteRecord

    vote = VoteRecord(
        id=4,
        agenda_item_id=None,
        motion="議案第1号",
        method="roll_call",
        result="adopted",
        yes=2,
        no=0,
        ballots=[
            BallotRow(PersonRef(id=1, name="佐藤一郎", seat_number=1), "yes"),
            BallotRow(PersonRef(id=2, name="鈴木花子", seat_number=2), "yes", recorded_by_clerk=True),
        ],
    )
    data = vote_data(vote)
    assert [b["recorded_by_clerk"] for b in data["ballots"]] == [False, True]
    html = render_to_string(
        "meetings/minutes/_document_body.html",
        {
            "header": {},
            "signatories": [],
            "blocks": [
                type(
                    "B",
                    (),
                    {
                        "kind": "vote",
                        "data": data,
                        "text": data["summary"],
                        "speaker_name": "",
                        "speaker_role": "",
                        "pk": 1,
                    },
                )()
            ],
        },
    )
    assert "記名投票の結果" in html
    assert html.count("事務局が代理で記録") == 1


def test_minutes_unanimous_standing_vote_says_kiritsu_zenin(recorded, clerk_user):
    """#12 (§116 practice): when everyone entitled to vote stood, the chair says 起立全員, not 起立多数."""
    standing = recorded["standing"]
    voters = [p.pk for p in recorded["voters"][:7]]  # the eight present, less the chair who does not vote
    type(standing).objects.filter(pk=standing.pk).update(
        yes_count=7, no_count=0, outcome="carried", entitled=voters
    )
    minutes = services.draft_generate(sitting=recorded["sitting"], actor=clerk_user)
    declare = minutes.blocks.get(source=f"chair:declare:{standing.pk}")
    assert declare.text == "起立全員です。よって、附帯決議案は可決されました。"
    vote = minutes.blocks.get(data__method="standing")
    assert vote.text == "起立により採決 起立全員 可決" and vote.data["unanimous"] is True


def test_minutes_unanimous_show_of_hands_and_not_when_one_short():
    """#12: 挙手全員 only when every entitled voter raised a hand; one missing hand is 挙手多数."""
    from meetings.minutes.drafting import _declaration, vote_data
    from meetings.minutes.record import VoteRecord

    everyone = VoteRecord(
        id=1,
        agenda_item_id=None,
        motion="議案第1号",
        method="hands",
        result="adopted",
        yes=5,
        no=0,
        present=6,
        entitled=5,
    )
    assert _declaration(everyone, "委員長") == "挙手全員です。よって、議案第1号は可決されました。"
    assert vote_data(everyone)["summary"] == "挙手により採決 挙手全員 可決"
    one_short = VoteRecord(
        id=2,
        agenda_item_id=None,
        motion="議案第2号",
        method="hands",
        result="adopted",
        yes=4,
        no=0,
        present=6,
        entitled=5,
    )
    assert _declaration(one_short, "委員長").startswith("挙手多数です。")
    against = VoteRecord(
        id=3,
        agenda_item_id=None,
        motion="議案第3号",
        method="standing",
        result="adopted",
        yes=4,
        no=1,
        present=6,
        entitled=5,
    )
    assert _declaration(against, "議長").startswith("起立多数です。")
