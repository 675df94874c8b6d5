"""Open data: Diet-API-shaped JSON valid against docs/minutes.schema.json, Popolo vote events, CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest

from meetings.minutes import exports, services
from meetings.minutes.models import Block

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "minutes.schema.json").read_text())
pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(recorded, clerk_user):
    minutes = services.draft_generate(sitting=recorded["sitting"], actor=clerk_user)
    speech = minutes.blocks.filter(kind=Block.Kind.SPEECH, source__startswith="turn:").order_by("position")[3]
    services.block_edit(block=speech, text="税率の根拠を伺います。", actor=clerk_user)
    return minutes


def test_json_export_validates_against_the_schema(draft):
    data = exports.diet_json(draft, base_url="https://gikai.example")
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.FormatChecker())
    record = data["meetingRecord"][0]
    assert record["nameOfHouse"] == "磐梯町議会" and record["imageKind"] == "会議録"
    speeches = record["speechRecord"]
    assert speeches[0]["speechOrder"] == 0 and "出席議員(9名)" in speeches[0]["speech"]
    assert [s["speechOrder"] for s in speeches] == list(range(len(speeches)))
    assert len(speeches) == 1 + draft.blocks.filter(kind=Block.Kind.SPEECH).count()
    asker = next(s for s in speeches if s["speaker"] == "高橋健")
    assert (
        asker["speaker"] == "高橋健" and asker["speakerPosition"] == "議員" and asker["speakerRole"] is None
    )
    assert asker["speech"] == "○3番(高橋健君)　税率の根拠を伺います。"
    assert speeches[1]["speakerRole"] == "議長"
    # A broken export is caught by the schema.
    record["speechRecord"][1].pop("speaker")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_popolo_vote_events_carry_counts_and_roll_call_names(draft, recorded):
    data = exports.popolo(draft)
    events = {e["method"]: e for e in data["vote_events"]}
    roll = events["roll_call"]
    assert roll["result"] == "pass" and {c["option"]: c["value"] for c in roll["counts"]} == {
        "yes": 6,
        "no": 2,
    }
    assert [(v["voter_id"], v["option"]) for v in roll["votes"]] == [
        (f"person-{p.pk}", c) for p, c in zip(recorded["voters"], recorded["choices"], strict=True)
    ]
    assert events["standing"]["result"] == "fail" and events["standing"]["votes"] == []
    assert {m["id"] for m in data["motions"]} == {e["motion_id"] for e in data["vote_events"]}


def test_csv_has_a_row_per_vote_and_per_roll_call_ballot(draft, recorded):
    rows = list(csv.DictReader(io.StringIO(exports.votes_csv(draft))))
    assert len(rows) == 3 + 8
    named = [r for r in rows if r["member"]]
    assert [r["vote"] for r in named] == ["賛成" if c == "yes" else "反対" for c in recorded["choices"]]
    assert {r["method"] for r in rows} == {"簡易表決", "記名投票", "起立"}
