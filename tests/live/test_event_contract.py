"""The event contract: a state plus the events a client received equals a fresh state.

For every registered message type that changes a sitting (``meetings.live.protocol``), and for
every audience (a member's tablet, the chair's and the clerk's consoles, an official, the public
view), the test builds each audience's state, handles the message as the consumer does
(``dispatch.run_calls``, with the events sent after commit), applies the events of the streams
that audience receives to its earlier state with the reference client's rules
(``bench.protoclient.FollowedState``, written from docs/protocol.md), and compares the result with
a freshly built state. This is Zulip's ``test_events.py`` check for our protocol: a change that
forgets its event, or an event that does not say what the state says, fails here.

A new registered type fails ``test_every_registered_type_has_a_case`` until it gets a case here
(or is listed among the requests that change nothing).
"""

from __future__ import annotations

import copy
import json
import select
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser

from bench.protoclient import FollowedState
from meetings import events
from meetings.attendance.models import AttendanceSuggestion, IdentityCheck
from meetings.live import dispatch, protocol
from meetings.live.state import build_state, clear_state_cache
from meetings.models import Sitting
from meetings.voting.services import (
    ballots,
    exclusions,
    floor,
    identity,
    motions,
    polls,
    remote,
    roll,
    suggestions,
)
from tests import factories
from tests.live.conftest import make_document
from tests.shared_data import built_once, fresh_copy
from tests.voting.conftest import mark_all_present, open_sitting

pytestmark = pytest.mark.django_db

APPLY_JS = Path(__file__).resolve().parents[1] / "js" / "apply_events.mjs"

# Requests that change nothing another client could see: answered to the sender alone.
NO_STATE_CHANGE = {
    "ping": "answered with pong",
    "state.request": "answered with the state",
    "follow": "reported to the console's presence list, which is not part of the state",
    "presence.list": "a query",
    "agenda.list": "a query",
}


@pytest.fixture(scope="module")
def _scene_once(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module (tests/shared_data.py); each case changes its own copy."""
    with built_once(django_db_blocker, tmp_path_factory.mktemp("scene")):
        yield _build_scene(factories.make_small_council())


@pytest.fixture
def scene(db, _scene_once):
    """An open committee sitting (remote attendance allowed), four of five members present."""
    return fresh_copy(_scene_once)


def _build_scene(org):
    sitting = open_sitting(factories.make_sitting(org["session"], org["committee"], place="第1委員会室"))
    item = factories.make_agenda_item(sitting, bill_number="議案第45号")
    people = org["members"][2:7]  # chair people[0]
    mark_all_present(sitting, people[:4], org["clerk"].user)
    doc = make_document(org, body=org["committee"], agenda_item=item)
    return dict(
        org,
        sitting=sitting,
        item=item,
        people=people,
        doc=doc,
        chair=people[0],
        chair_user=people[0].user,
        clerk_user=org["clerk"].user,
        member=people[1],
    )


def audiences(s) -> dict[str, tuple]:
    """(user, main audience, streams) of each kind of socket, as the consumer connects them."""
    return {
        "member": (s["member"].user, "members", ("members",)),
        "chair console": (s["chair_user"], "members", ("members", "clerks")),
        "clerk console": (s["clerk_user"], "members", ("members", "clerks")),
        "official": (s["official"].user, "members", ("members",)),
        "public": (AnonymousUser(), "public", ("public",)),
    }


# Handled like the others, but nothing of the live state changes (the check below still holds).
SILENT = {"motion.create": "motions are not part of the live state; a vote on one is (vote.open)"}


# --- one case per state-changing type: (scene) -> (acting user, message) ----------------------


def _motion(s, **kw):
    return motions.motion_create(
        agenda_item=s["item"], title="町税条例の一部改正について", by=s["chair_user"], **kw
    )


def _poll(s, method="roll_call"):
    return polls.poll_open(motion=_motion(s), method=method, by=s["chair_user"])


def _remote(s, *, approved=True, checked=True, checked_in=False):
    person = s["people"][4]
    request = remote.remote_apply(sitting=s["sitting"], person=person, reason="育児のため", by=person.user)
    if approved:
        remote.remote_decide(request=request, approve=True, by=s["chair_user"])
    if checked:
        identity.identity_check_record(
            request=request, method=IdentityCheck.Method.VIDEO, passed=True, by=s["clerk_user"]
        )
    if checked_in:
        roll.attendance_check_in(sitting=s["sitting"], user=person.user)
    return person, request


def _present(s):
    from meetings.live import services as live

    live.agenda_move(sitting=s["sitting"], actor=s["clerk_user"], agenda_item=s["item"])
    live.document_present(sitting=s["sitting"], actor=s["clerk_user"], document_id=s["doc"].pk)


def _tie(s):
    poll = _poll(s)
    for person, choice in zip(s["people"][1:3], ["yes", "no"], strict=True):
        ballots.vote_cast(poll_id=poll.pk, user=person.user, choice=choice, client_token=f"t{person.pk}")
    return polls.poll_close(poll=poll, by=s["chair_user"])


def _scheduled(s):
    Sitting.objects.filter(pk=s["sitting"].pk).update(status=Sitting.Status.SCHEDULED)


def _recess(s):
    Sitting.objects.filter(pk=s["sitting"].pk).update(status=Sitting.Status.RECESS)


CASES = {
    # running the sitting
    "sitting.open": lambda s: (_scheduled(s), (s["clerk_user"], {"type": "sitting.open"}))[1],
    "sitting.recess": lambda s: (s["chair_user"], {"type": "sitting.recess"}),
    "sitting.resume": lambda s: (_recess(s), (s["clerk_user"], {"type": "sitting.resume"}))[1],
    "sitting.close": lambda s: (s["clerk_user"], {"type": "sitting.close"}),
    "agenda.move": lambda s: (s["clerk_user"], {"type": "agenda.move", "agenda_item_id": s["item"].pk}),
    "document.present": lambda s: (
        s["clerk_user"],
        {"type": "document.present", "document_id": s["doc"].pk, "page": 3},
    ),
    "page.turn": lambda s: (_present(s), (s["clerk_user"], {"type": "page.turn", "page": 5}))[1],
    "presenter.handover": lambda s: (
        s["clerk_user"],
        {"type": "presenter.handover", "user_id": s["official"].user.pk},
    ),
    "presenter.reclaim": lambda s: (
        services_live().presenter_handover(
            sitting=s["sitting"], actor=s["clerk_user"], to_user=s["official"].user
        ),
        (s["chair_user"], {"type": "presenter.reclaim"}),
    )[1],
    # the roll
    "attendance.prepare": lambda s: (s["clerk_user"], {"type": "attendance.prepare"}),
    "attendance.all_present": lambda s: (s["clerk_user"], {"type": "attendance.all_present"}),
    "attendance.mark": lambda s: (
        s["clerk_user"],
        {"type": "attendance.mark", "person_id": s["people"][3].pk, "status": "late"},
    ),
    "attendance.checkin": lambda s: (_remote(s), (s["people"][4].user, {"type": "attendance.checkin"}))[1],
    "attendance.checkout": lambda s: (
        _remote(s, checked_in=True),
        (s["people"][4].user, {"type": "attendance.checkout"}),
    )[1],
    "remote.apply": lambda s: (s["people"][4].user, {"type": "remote.apply", "reason": "看護のため"}),
    "remote.decide": lambda s: (
        s["chair_user"],
        {
            "type": "remote.decide",
            "approve": True,
            "request_id": _remote(s, approved=False, checked=False)[1].pk,
        },
    ),
    "remote.check": lambda s: (
        s["clerk_user"],
        {
            "type": "remote.check",
            "method": "video",
            "passed": True,
            "request_id": _remote(s, checked=False)[1].pk,
        },
    ),
    "remote.disconnect": lambda s: (
        s["chair_user"],
        {"type": "remote.disconnect", "person_id": _remote(s, checked_in=True)[0].pk},
    ),
    "suggestion.decide": lambda s: (
        _remote(s),
        (
            s["clerk_user"],
            {
                "type": "suggestion.decide",
                "accept": True,
                "suggestion_id": suggestions.suggestion_add(
                    sitting=s["sitting"],
                    event=AttendanceSuggestion.Event.JOINED,
                    display_name="",
                    person_id=s["people"][4].pk,
                ).pk,
            },
        ),
    )[1],
    "exclusion.add": lambda s: (
        s["chair_user"],
        {
            "type": "exclusion.add",
            "agenda_item_id": s["item"].pk,
            "person_id": s["people"][3].pk,
            "reason": "本人の一身上に関する事件",
        },
    ),
    "exclusion.remove": lambda s: (
        s["chair_user"],
        {
            "type": "exclusion.remove",
            "exclusion_id": exclusions.exclusion_add(
                agenda_item=s["item"], person=s["people"][3], reason="除斥", by=s["chair_user"]
            ).pk,
        },
    ),
    # the floor
    "floor.request": lambda s: (s["member"].user, {"type": "floor.request"}),
    "floor.withdraw": lambda s: (
        floor.floor_request(sitting=s["sitting"], user=s["member"].user),
        (s["member"].user, {"type": "floor.withdraw"}),
    )[1],
    "floor.grant": lambda s: (
        s["chair_user"],
        {
            "type": "floor.grant",
            "turn_id": floor.floor_request(sitting=s["sitting"], user=s["member"].user).pk,
        },
    ),
    "floor.give": lambda s: (s["chair_user"], {"type": "floor.give", "person_id": s["people"][2].pk}),
    "floor.skip": lambda s: (
        s["chair_user"],
        {
            "type": "floor.skip",
            "turn_id": floor.floor_request(sitting=s["sitting"], user=s["member"].user).pk,
        },
    ),
    "floor.end": lambda s: (
        floor.floor_give(sitting=s["sitting"], person=s["people"][2], by=s["chair_user"]),
        (s["chair_user"], {"type": "floor.end"}),
    )[1],
    # motions and votes
    "motion.create": lambda s: (
        s["chair_user"],
        {"type": "motion.create", "agenda_item_id": s["item"].pk, "title": "議案第45号"},
    ),
    "vote.open": lambda s: (
        s["chair_user"],
        {"type": "vote.open", "motion_id": _motion(s).pk, "method": "roll_call"},
    ),
    "vote.cast": lambda s: (
        s["member"].user,
        {"type": "vote.cast", "poll_id": _poll(s).pk, "choice": "yes", "token": "contract"},
    ),
    "vote.close": lambda s: (s["chair_user"], {"type": "vote.close", "poll_id": _voted(s).pk}),
    "vote.counts": lambda s: (
        s["clerk_user"],
        {"type": "vote.counts", "poll_id": _poll(s, "standing").pk, "yes": 2, "no": 1},
    ),
    "vote.casting": lambda s: (
        s["chair_user"],
        {"type": "vote.casting", "poll_id": _tie(s).pk, "choice": "yes"},
    ),
    "vote.declare": lambda s: (
        s["chair_user"],
        {"type": "vote.declare", "poll_id": polls.poll_close(poll=_voted(s), by=s["chair_user"]).pk},
    ),
    "objection.raise": lambda s: (
        s["member"].user,
        {"type": "objection.raise", "poll_id": _poll(s, "no_objection").pk},
    ),
}


def services_live():
    from meetings.live import services as live

    return live


def _voted(s):
    poll = _poll(s)
    for person, choice in zip(s["people"][1:4], ["yes", "yes", "no"], strict=True):
        ballots.vote_cast(poll_id=poll.pk, user=person.user, choice=choice, client_token=f"v{person.pk}")
    return poll


# --- the check ----------------------------------------------------------------------------------


def _fresh(sitting_id: int, user, audience: str, streams: tuple) -> dict:
    clear_state_cache()
    return json.loads(
        events.encode(build_state(sitting_id=sitting_id, audience=audience, user=user, streams=streams))
    )


def _differences(got, want, path="") -> list[str]:
    if isinstance(got, dict) and isinstance(want, dict):
        out = []
        for key in sorted(set(got) | set(want), key=str):
            if key not in got or key not in want:
                out.append(f"{path}/{key}: {'missing' if key not in got else 'extra'}")
            else:
                out += _differences(got[key], want[key], f"{path}/{key}")
        return out
    return (
        []
        if got == want
        else [
            f"{path}: {json.dumps(got, ensure_ascii=False)[:150]} != "
            f"{json.dumps(want, ensure_ascii=False)[:150]}"
        ]
    )


def test_every_registered_type_has_a_case():
    registered = set(protocol.registered_types())
    missing = registered - set(CASES) - set(NO_STATE_CHANGE)
    assert not missing, f"registered types without an event-contract case: {sorted(missing)}"
    assert not (set(CASES) | set(NO_STATE_CHANGE)) - registered  # no stale cases


@pytest.fixture(scope="module")
def socket_js():
    """static/js/live/socket.js under node: one process for the module, one line per case."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (scripts/setup.sh installs it)")
    proc = subprocess.Popen(
        [node, str(APPLY_JS), "--lines"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )

    def through(cases: list[dict]) -> list[dict]:
        proc.stdin.write(json.dumps(cases) + "\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        line = proc.stdout.readline() if ready else ""
        if not line:
            proc.kill()
            raise AssertionError(f"apply_events.mjs gave no answer: {proc.stderr.read()[-2000:]}")
        return json.loads(line)

    yield through
    proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, proc.stderr.read()[-2000:]
    proc.stderr.close()
    proc.stdout.close()


@pytest.mark.parametrize("kind", sorted(CASES))
def test_state_plus_events_equals_a_fresh_state(
    scene, kind, monkeypatch, django_capture_on_commit_callbacks, socket_js
):
    sent: list[dict] = []
    narrowed: dict[int, dict] = {}  # by position in ``sent``: the event for officials, when it differs

    def capture(*, group, stream, seq, text, narrow=None):
        if narrow is not None:
            narrowed[len(sent)] = json.loads(narrow)
        sent.append(json.loads(text))

    monkeypatch.setattr(events, "send_frame", capture)
    with django_capture_on_commit_callbacks(execute=True):
        user, message = CASES[kind](scene)
    sitting_id = scene["sitting"].pk
    watchers = {
        name: (FollowedState(_fresh(sitting_id, u, a, st)), u, a, st)
        for name, (u, a, st) in audiences(scene).items()
    }
    sent.clear()
    narrowed.clear()

    entry = protocol.registered(kind)
    message = {**message, "id": "contract"}
    with django_capture_on_commit_callbacks(execute=True):
        (reply,) = dispatch.run_calls(entry, sitting_id=sitting_id, lang="en", calls=[(user.pk, message)])
    assert reply is not dispatch.REVOKED and reply["type"] != "error", reply
    assert reply["re"] == "contract"
    assert sent or kind in SILENT, f"{kind} changed the sitting but sent no event"

    browser_cases, fresh_states = [], {}
    for name, (followed, u, audience, streams) in watchers.items():
        before = copy.deepcopy(followed.state)
        reads_closed = name != "official"
        received = [
            event if reads_closed else narrowed.get(i, event)
            for i, event in enumerate(sent)
            if event["stream"] in streams
        ]
        browser_cases.append({"state": before, "events": received, "replies": [reply] if u == user else []})
        for event in received:
            assert followed.apply(event) == "applied", (name, event["type"])
        if u == user:
            followed.apply_reply(reply)
        fresh = fresh_states[name] = _fresh(sitting_id, u, audience, streams)
        assert followed.state == fresh, (
            f"{kind}: the {name}'s state after the events differs from a fresh one: "
            f"{_differences(followed.state, fresh)}"
        )
    # The browsers' client (static/js/live/socket.js) applies them the same way.
    for name, state in zip(watchers, socket_js(browser_cases), strict=True):
        assert state == fresh_states[name], (
            f"{kind}: socket.js's {name} state differs from a fresh one: "
            f"{_differences(state, fresh_states[name])}"
        )


def test_officials_never_receive_a_closed_session_paper_they_may_not_open(
    scene, monkeypatch, django_capture_on_commit_callbacks
):
    """During a closed-session item (秘密会) its papers may be presented to the members, but the
    officials following the sitting may not open them: their state and their events carry the
    presentation blanked (the same seq), everyone else's the paper."""
    from documents.models import Document
    from meetings.live import services as live

    closed_item = factories.make_agenda_item(scene["sitting"], title="人事案件", closed_session=True)
    secret = make_document(
        scene,
        title="秘密会資料 人事評価",
        body=scene["committee"],
        pages=9,
        visibility=Document.Visibility.CLOSED_SESSION,
        agenda_item=closed_item,
    )
    live.agenda_move(sitting=scene["sitting"], actor=scene["clerk_user"], agenda_item=closed_item)
    sent: list[tuple[str, str | None]] = []
    monkeypatch.setattr(
        events, "send_frame", lambda *, group, stream, seq, text, narrow=None: sent.append((text, narrow))
    )
    sitting_id = scene["sitting"].pk
    who = audiences(scene)
    official = FollowedState(_fresh(sitting_id, *who["official"]))
    member = FollowedState(_fresh(sitting_id, *who["member"]))
    for message in (
        {"type": "document.present", "document_id": secret.pk, "page": 2},
        {"type": "page.turn", "page": 3},
    ):
        with django_capture_on_commit_callbacks(execute=True):
            (reply,) = dispatch.run_calls(
                protocol.registered(message["type"]),
                sitting_id=sitting_id,
                lang="en",
                calls=[(scene["clerk_user"].pk, message)],
            )
        assert reply is None, reply
    for_official = [
        json.loads(narrow or text) for text, narrow in sent if json.loads(text)["stream"] == "members"
    ]
    for_member = [json.loads(text) for text, _narrow in sent if json.loads(text)["stream"] == "members"]
    for event in for_official:
        assert official.apply(event) == "applied"
    for event in for_member:
        assert member.apply(event) == "applied"
    assert official.state == _fresh(sitting_id, *who["official"]) and official.state["presentation"] is None
    assert member.state == _fresh(sitting_id, *who["member"])
    assert (
        member.state["presentation"]["title"] == "秘密会資料 人事評価"
        and member.state["presentation"]["page"] == 3
    )
    seen = json.dumps([official.state, *for_official], ensure_ascii=False)
    for leak in (
        "秘密会資料",
        f'"document_id":{secret.pk}',
        f'"version_id":{secret.versions.get().pk}',
        '"page_count":9',
    ):
        assert leak.replace(":", ": ") not in seen and leak not in seen, leak


# --- refusals on the merits: ``invalid`` names the offending field, and nothing is sent -------------
# One case per ``invalid`` refusal of a service that a message can reach past its schema:
# (scene) -> (acting user, message, the field the error must name).


def _suggestion(s, *, accepted=False, person=True):
    suggestion = suggestions.suggestion_add(
        sitting=s["sitting"],
        event=AttendanceSuggestion.Event.JOINED,
        display_name="誰か",
        person_id=s["people"][4].pk if person else None,
    )
    if accepted:
        suggestions.suggestion_decide(suggestion=suggestion, accept=False, by=s["clerk_user"])
    return suggestion.pk


def _motion_message(s, **fields):
    return {"type": "motion.create", "agenda_item_id": s["item"].pk, "title": "議案第45号", **fields}


INVALID_CASES = {
    "mark, unknown status": lambda s: (
        s["clerk_user"],
        {"type": "attendance.mark", "person_id": s["people"][3].pk, "status": "asleep"},
        "status",
    ),
    "mark, unknown reason": lambda s: (
        s["clerk_user"],
        {"type": "attendance.mark", "person_id": s["people"][3].pk, "status": "absent", "reason": "rain"},
        "reason",
    ),
    "mark, an official online": lambda s: (
        s["clerk_user"],
        {"type": "attendance.mark", "person_id": s["official"].pk, "status": "present_online"},
        "status",
    ),
    "remote apply without a reason": lambda s: (
        s["people"][4].user,
        {"type": "remote.apply", "reason": "  "},
        "reason",
    ),
    "identity check, unknown method": lambda s: (
        s["clerk_user"],
        {
            "type": "remote.check",
            "method": "telepathy",
            "passed": True,
            "request_id": _remote(s, checked=False)[1].pk,
        },
        "method",
    ),
    "suggestion handled already": lambda s: (
        s["clerk_user"],
        {"type": "suggestion.decide", "accept": True, "suggestion_id": _suggestion(s, accepted=True)},
        "suggestion_id",
    ),
    "suggestion matched to nobody": lambda s: (
        s["clerk_user"],
        {"type": "suggestion.decide", "accept": True, "suggestion_id": _suggestion(s, person=False)},
        "accept",
    ),
    "exclusion without a reason": lambda s: (
        s["chair_user"],
        {
            "type": "exclusion.add",
            "agenda_item_id": s["item"].pk,
            "person_id": s["people"][3].pk,
            "reason": " ",
        },
        "reason",
    ),
    "exclusion twice": lambda s: (
        exclusions.exclusion_add(
            agenda_item=s["item"], person=s["people"][3], reason="除斥", by=s["chair_user"]
        ),
        (
            s["chair_user"],
            {
                "type": "exclusion.add",
                "agenda_item_id": s["item"].pk,
                "person_id": s["people"][3].pk,
                "reason": "除斥",
            },
            "person_id",
        ),
    )[1],
    "motion without a title": lambda s: (s["chair_user"], _motion_message(s, title=" "), "title"),
    "motion, unknown majority": lambda s: (s["chair_user"], _motion_message(s, preset="most"), "preset"),
    "motion, approval over one": lambda s: (
        s["chair_user"],
        _motion_message(s, approval=[3, 2]),
        "approval",
    ),
    "motion, attendance over one": lambda s: (
        s["chair_user"],
        _motion_message(s, approval=[2, 3], attendance=[3, 2]),
        "attendance",
    ),
    "vote, unknown method": lambda s: (
        s["chair_user"],
        {"type": "vote.open", "motion_id": _motion(s).pk, "method": "applause"},
        "method",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID_CASES))
def test_an_invalid_refusal_names_its_field_and_sends_nothing(
    scene, case, monkeypatch, django_capture_on_commit_callbacks
):
    from council.models import AuditEntry

    sent: list[str] = []
    monkeypatch.setattr(
        events, "send_frame", lambda *, group, stream, seq, text, narrow=None: sent.append(text)
    )
    with django_capture_on_commit_callbacks(execute=True):
        user, message, field = INVALID_CASES[case](scene)
    sent.clear()
    audited = AuditEntry.objects.count()
    entry = protocol.registered(message["type"])
    with django_capture_on_commit_callbacks(execute=True):
        (reply,) = dispatch.run_calls(
            entry, sitting_id=scene["sitting"].pk, lang="en", calls=[(user.pk, {**message, "id": 7})]
        )
    assert reply["type"] == "error" and reply["code"] == "invalid", reply
    assert reply.get("field") == field, reply
    assert field in entry.validator.schema["properties"], "the field is one the message type has"
    assert reply["for"] == message["type"] and reply["re"] == 7
    assert not sent and AuditEntry.objects.count() == audited, "a refused request changes nothing"


def test_every_invalid_refusal_a_service_raises_names_its_field():
    """Server-side ``invalid`` refusals (``DomainError(..., code="invalid")``) say which field they
    are about (``field=``), as the schema's do: a new one without it fails here, and the cases above check the field
    reaches the client."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    unnamed = []
    for area in ("council", "documents", "meetings"):
        for path in (root / area).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                keywords = {k.arg: k.value for k in node.keywords}
                code = keywords.get("code")
                if isinstance(code, ast.Constant) and code.value == "invalid" and "field" not in keywords:
                    unnamed.append(f"{path.relative_to(root)}:{node.lineno}")
    assert not unnamed, "invalid refusals without field=: " + ", ".join(unnamed)
