"""The demo's completed committee sitting: its roll, exclusion, floor and votes, recorded once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from council import demo as council_demo
from meetings import demo as meetings_demo
from meetings.models import Sitting
from meetings.voting import demo
from meetings.voting.models import Poll
from meetings.voting.selectors import sitting_record

pytestmark = pytest.mark.django_db


def test_demo_records_a_completed_sitting_once():
    out = StringIO()
    council_demo.seed(stdout=out)
    meetings_demo.seed(stdout=out)
    demo.seed(stdout=out)
    sitting = Sitting.objects.get(body__name=demo.COMMITTEE, status=Sitting.Status.CLOSED)
    record = sitting_record(sitting)
    statuses = {r["name"]: r["status"] for r in record["roll"]}
    assert statuses["鈴木 花子"] == "late" and statuses["小林 直樹"] == "present_room"
    assert {"総務課長", "事務局長"} <= {r["title"] for r in record["roll"]}
    assert record["floor"][0]["title"] == "総務課長"
    assert all(t["granted_at"] < t["ended_at"] for t in record["floor"])
    outcomes = [(p["method"], p["outcome"], p["casting_vote"]) for m in record["motions"] for p in m["polls"]]
    assert outcomes == [
        ("hands", "carried", ""),
        ("roll_call", "carried", "yes"),
        ("no_objection", "carried", ""),
    ]
    hands = record["motions"][0]["polls"][0]
    assert (
        hands["present"] == 4 and len(hands["entitled"]) == 3
    )  # one excluded (除斥), the chair does not vote
    roll_call = record["motions"][1]["polls"][0]
    assert (roll_call["yes"], roll_call["no"]) == (2, 2) and len(roll_call["names"]) == 4
    assert sitting.opened_at.date() == sitting.date
    demo.seed(stdout=out)
    assert Poll.objects.filter(sitting=sitting).count() == 3
    verify = StringIO()
    call_command("verify_record", stdout=verify)
    assert "0 problems" in verify.getvalue()
