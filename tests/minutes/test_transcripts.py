"""Transcript import: WebVTT and timestamped text split into speech blocks by the recorded turns."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from council.models import AuditEntry
from meetings.minutes import services, transcripts
from meetings.minutes.models import Block

SAMPLE = (Path(__file__).parent / "data" / "sample.vtt").read_text(encoding="utf-8")


@pytest.fixture
def draft(recorded, clerk_user):
    return services.draft_generate(sitting=recorded["sitting"], actor=clerk_user)


def _speeches(minutes):
    return [
        (b.heading, b.text)
        for b in minutes.blocks.filter(kind=Block.Kind.SPEECH, source__startswith="turn:").order_by(
            "position"
        )
    ]


@pytest.mark.django_db
def test_webvtt_sample_is_split_by_the_turns_at_the_floor(draft, clerk_user):
    summary = services.transcript_import(minutes=draft, content=SAMPLE, actor=clerk_user)
    assert summary["cues"] == 7 and summary["filled"] == 5 and summary["unmatched"] == 1
    assert summary["unmatched_cues"] == ["(休憩中の雑音)"]
    assert _speeches(draft) == [
        ("議長(佐藤一郎君)", "ただいまから本日の会議を開きます。"),
        ("議長(佐藤一郎君)", "日程第2、会期の決定を議題といたします。"),
        ("町長(五十嵐正君)", "議案第45号について、提案の理由を申し上げます。よろしくお願いいたします。"),
        ("3番(高橋健君)", "税率の根拠を伺います。"),
        ("町長(五十嵐正君)", ""),
        ("議長(佐藤一郎君)", "以上で本日の日程は全部終了しました。"),
    ]
    entry = AuditEntry.objects.get(action="minutes.transcript_imported")
    assert entry.data["filled"] == 5 and entry.data["format"] == "auto"


@pytest.mark.django_db
def test_typed_speeches_are_kept_unless_overwriting(draft, clerk_user):
    first = (
        draft.blocks.filter(kind=Block.Kind.SPEECH, source__startswith="turn:").order_by("position").first()
    )
    services.block_edit(block=first, text="手で入力した本文", actor=clerk_user)
    summary = services.transcript_import(minutes=draft, content=SAMPLE, actor=clerk_user)
    assert summary["skipped"] == 1 and _speeches(draft)[0][1] == "手で入力した本文"
    services.transcript_import(minutes=draft, content=SAMPLE, actor=clerk_user, overwrite=True)
    assert _speeches(draft)[0][1] == "ただいまから本日の会議を開きます。"


@pytest.mark.django_db
def test_plain_text_with_clock_times(draft, clerk_user):
    text = "10:11:05 税率の根拠を\n伺います。\n10:21:10 お答えします。\n"
    summary = services.transcript_import(minutes=draft, content=text, fmt="clock", actor=clerk_user)
    assert summary["filled"] == 2
    speeches = _speeches(draft)
    assert speeches[3][1] == "税率の根拠を伺います。" and speeches[4][1] == "お答えします。"


@pytest.mark.django_db
def test_bad_transcripts_are_refused(draft, clerk_user):
    with pytest.raises(services.MinutesRefused, match="No timestamped lines"):
        services.transcript_import(minutes=draft, content="ただの文章", actor=clerk_user)
    with pytest.raises(services.MinutesRefused, match="not a WebVTT file"):
        services.transcript_import(
            minutes=draft, content="00:00:01.000 --> 00:00:02.000\nx", fmt="vtt", actor=clerk_user
        )


def test_parse_offsets_and_tags():
    base = datetime.datetime(2026, 11, 27, 1, 0, tzinfo=datetime.UTC)
    cues = transcripts.parse(SAMPLE, base=base)
    assert cues[2].start == base + datetime.timedelta(minutes=5, seconds=2)
    assert cues[2].voice == "町長" and cues[4].text == "税率の根拠を伺います。"
    assert transcripts.join_texts(["Good", "morning", "議長", "です"]) == "Good morning議長です"
    text_cues = transcripts.parse("[00:00:03] first\n[1:02] second", base=base)
    assert [c.start - base for c in text_cues] == [
        datetime.timedelta(seconds=3),
        datetime.timedelta(seconds=62),
    ]
