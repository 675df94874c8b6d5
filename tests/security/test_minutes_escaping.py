"""Hostile text in the record stays text in the minutes: the HTML rendered to PDF escapes it, the
JSON keeps it as data, and the CSV export does not hand spreadsheet formulas to Excel."""

import csv
import io
import json

import pytest

from meetings.minutes import exports, rendering, selectors
from meetings.minutes.services import draft_generate, remark_add
from meetings.models import Sitting
from tests import factories
from tests.security.voting_scenario import open_with_everyone_present, roll_call_vote

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def hostile_minutes(org):
    committee = org["committee"]
    voter = org["members"][4]
    voter.family_name = FORMULA
    voter.given_name = SCRIPT
    voter.save()
    sitting = factories.make_sitting(org["session"], committee)
    members = [m.person for m in committee.memberships.select_related("person__user")]
    open_with_everyone_present(sitting, members, org["clerk"].user)
    item = factories.make_agenda_item(sitting, title=f"{SCRIPT} {FORMULA}")
    chair = org["members"][2]
    voters = [p for p in members if p.pk != chair.pk]
    poll = roll_call_vote(
        sitting=sitting,
        item=item,
        voters=voters,
        chair_user=chair.user,
        choices={p.pk: "yes" for p in voters},
    )
    from meetings.voting.services.polls import poll_declare

    poll_declare(poll=poll, by=chair.user)
    Sitting.objects.filter(pk=sitting.pk).update(status=Sitting.Status.CLOSED)
    sitting.refresh_from_db()
    minutes = draft_generate(sitting=sitting, actor=org["clerk"].user)
    remark_add(minutes=minutes, text=f"（{SCRIPT}）", actor=org["clerk"].user)
    return minutes


def test_minutes_html_for_the_pdf_escapes_script(hostile_minutes):
    html = rendering.document_html(selectors.document_context(hostile_minutes))
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_minutes_json_keeps_hostile_text_as_data(hostile_minutes):
    data = json.dumps(exports.diet_json(hostile_minutes), ensure_ascii=False)
    assert json.loads(data)  # well-formed whatever the names contain
    assert "alert(1)" in data  # kept verbatim as a string value, for the reader to escape


def test_votes_csv_does_not_carry_spreadsheet_formulas(hostile_minutes):
    rows = list(csv.reader(io.StringIO(exports.votes_csv(hostile_minutes))))
    cells = [cell for row in rows[1:] for cell in row]
    assert any("HYPERLINK" in cell for cell in cells), "the hostile name is in the export"
    dangerous = [
        cell for cell in cells if cell[:1] in ("=", "+", "-", "@") and not cell.lstrip("-").isdigit()
    ]
    assert not dangerous, f"CSV cells start with a formula character (CSV injection): {dangerous[:2]}"
    assert any(cell.startswith("'=") for cell in cells), "the formula is kept as quoted text"
