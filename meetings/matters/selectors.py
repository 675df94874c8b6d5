"""Reads for matters: the clerk's lists, and the public tables (会期日程, 議決結果一覧, 議員別賛否一覧)
that show only what is published and public.

Public rules: a matter appears once the clerk published it; a vote appears when it was declared in
a public sitting, not in a closed session (秘密会), on a published matter. Names appear only for
roll-call ballots (記名投票); a secret ballot (無記名投票) shows its totals and nothing else; standing
and show-of-hands votes show their counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q, QuerySet

from council.models import Person
from meetings.matters import rules
from meetings.matters.models import (
    Matter,
    MatterItem,
    MatterMotion,
    MatterStep,
    Question,
    QuestionCall,
    Sponsor,
)
from meetings.models import Session, Sitting

KIND_ORDER = {code: n for n, (code, _label) in enumerate(rules.KINDS)}


def matters_of(session: Session) -> list[Matter]:
    """Every matter of the session, in the order of the results table (kind, then number)."""
    found = (
        Matter.objects.filter(session=session)
        .select_related("submitter_body", "referred_to", "amends")
        .prefetch_related(Prefetch("sponsors", queryset=Sponsor.objects.select_related("person")))
    )
    return sorted(found, key=_order_key)


def _order_key(matter: Matter):
    if matter.kind == rules.AMENDMENT and matter.amends is not None:
        return (KIND_ORDER.get(matter.amends.kind, 99), matter.amends.number or 0, 1, matter.pk)
    return (KIND_ORDER.get(matter.kind, 99), matter.number or 0, 0, matter.pk)


def published_matters(session: Session) -> list[Matter]:
    found = (
        Matter.objects.filter(session=session, published_at__isnull=False)
        .select_related("submitter_body", "referred_to", "amends")
        .prefetch_related(Prefetch("sponsors", queryset=Sponsor.objects.select_related("person")))
    )
    return sorted(found, key=_order_key)


def public_sessions() -> QuerySet[Session]:
    return Session.objects.filter(matters__published_at__isnull=False).distinct().order_by("-start_date")


def public_matter(pk: int) -> Matter | None:
    return (
        Matter.objects.filter(pk=pk, published_at__isnull=False)
        .select_related("session", "submitter_body", "referred_to", "amends")
        .first()
    )


def submitter_text(matter: Matter) -> str:
    """町長 / 総務常任委員会 / 山田太郎 外2名 / 請願者 … (紹介議員 …), as the results table prints it."""
    sponsors = list(matter.sponsors.all())
    proposers = [s.person.full_name for s in sponsors if s.role == Sponsor.Role.PROPOSER]
    introducers = [s.person.full_name for s in sponsors if s.role == Sponsor.Role.INTRODUCER]
    english = _english()
    if matter.submitter_kind == Matter.Submitter.MAYOR:
        return "Mayor" if english else "町長"
    if matter.submitter_kind == Matter.Submitter.CHAIR:
        return "Chair" if english else "議長"
    if matter.submitter_kind == Matter.Submitter.COMMITTEE and matter.submitter_body:
        return matter.submitter_body.display_name
    if matter.submitter_kind == Matter.Submitter.MEMBERS:
        others = len([s for s in sponsors if s.role == Sponsor.Role.SECONDER])
        head = proposers[0] if proposers else ""
        extra = len(proposers) - 1 + others
        if not extra:
            return head
        return f"{head} and {extra} others" if english else f"{head} 外{extra}名"
    text = matter.petitioner
    if introducers:
        text += (
            (" (introduced by " + ", ".join(introducers) + ")")
            if english
            else "(紹介議員 " + "、".join(introducers) + ")"
        )
    return text


def _english() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "ja").startswith("en")


def steps(matter: Matter) -> list[MatterStep]:
    return list(
        matter.steps.select_related("sitting__session", "body", "agenda_item", "poll", "report").order_by(
            "date", "at", "id"
        )
    )


def schedule(session: Session, *, matters: list[Matter] | None = None, public: bool = True) -> list[dict]:
    """会期日程: each sitting with its date, body and the matters taken up (public sittings with a
    published order of business only, when ``public``). ``matters``: the session's matters already
    loaded (the published ones for the public page); items without a matter are listed by title."""
    from meetings.models import AgendaItem

    sittings = list(
        Sitting.objects.filter(session=session)
        .exclude(status=Sitting.Status.CANCELLED)
        .select_related("body")
        .order_by("date", "start_time", "body__order")
    )
    if public:
        sittings = [s for s in sittings if s.is_public and s.agenda_published_at is not None]
    if matters is None:
        matters = published_matters(session) if public else matters_of(session)
    by_id = {m.pk: m for m in matters}
    on_sitting: dict[int, list[Matter]] = {}
    for sitting_id, matter_id in MatterItem.objects.filter(agenda_item__sitting__in=sittings).values_list(
        "agenda_item__sitting_id", "matter_id"
    ):
        if matter_id in by_id:
            on_sitting.setdefault(sitting_id, []).append(by_id[matter_id])
    items: dict[int, list] = {}
    for item in (
        AgendaItem.objects.filter(sitting__in=[s for s in sittings if s.pk not in on_sitting])
        .only("id", "sitting_id", "position", "title", "title_en")
        .order_by("position")
    ):
        items.setdefault(item.sitting_id, []).append(item)
    return [
        {
            "sitting": s,
            "items": items.get(s.pk, []),
            "matters": sorted(on_sitting.get(s.pk, []), key=_order_key),
        }
        for s in sittings
    ]


# --- votes ------------------------------------------------------------------------------------


@dataclass
class VoteRow:
    """One declared vote as the public may see it."""

    poll_id: int
    matter: Matter
    sitting: Sitting
    method: str
    method_label: str
    outcome: str
    yes: int
    no: int
    named: bool
    choices: dict[int, str] = field(default_factory=dict)  # member id -> "yes" / "no" / "chair" / "absent"


def public_votes(session: Session) -> tuple[list[Person], list[VoteRow]]:
    """議員別賛否一覧: every public declared vote on the session's published matters, and for
    roll-call ballots each member's choice. Secret ballots: totals only, never names."""
    from meetings.voting.models import Ballot, Poll

    links = MatterMotion.objects.filter(
        matter__session=session, matter__published_at__isnull=False
    ).select_related("matter__amends")
    matter_of_motion = {link.motion_id: link.matter for link in links}
    polls = list(
        Poll.objects.filter(
            motion_id__in=matter_of_motion,
            state=Poll.State.DECLARED,
            sitting__is_public=True,
            motion__agenda_item__closed_session=False,
        )
        .select_related("sitting__body", "sitting__session")
        .order_by("sitting__date", "declared_at", "id")
    )
    named_ids = [p.pk for p in polls if p.method == Poll.Method.ROLL_CALL]
    ballots: dict[int, dict[int, str]] = {}
    for poll_id, member_id, choice in (
        Ballot.objects.filter(poll_id__in=named_ids).order_by().values_list("poll_id", "member_id", "choice")
    ):
        ballots.setdefault(poll_id, {})[member_id] = choice
    # Standing and show-of-hands votes: names only where the council publishes them and the clerk
    # recorded them. A secret ballot never has names here.
    from meetings.matters.models import CountedName, MatterSettings

    counted = [p.pk for p in polls if p.method in (Poll.Method.STANDING, Poll.Method.HANDS)]
    if (
        counted
        and MatterSettings.objects.filter(council_id=session.council_id, publish_counted_names=True).exists()
    ):
        for poll_id, member_id, choice in CountedName.objects.filter(poll_id__in=counted).values_list(
            "poll_id", "member_id", "choice"
        ):
            ballots.setdefault(poll_id, {})[member_id] = choice
    member_ids: set[int] = set()
    rows = []
    for poll in polls:
        named = poll.method == Poll.Method.ROLL_CALL or (
            poll.pk in ballots and poll.method in (Poll.Method.STANDING, Poll.Method.HANDS)
        )
        choices: dict[int, str] = {}
        if named:
            choices = dict(ballots.get(poll.pk, {}))
            if poll.chair_id and poll.chair_id not in choices:
                choices[poll.chair_id] = "chair"
            member_ids.update(choices)
        if poll.sitting.body.is_plenary:
            member_ids.update(poll.entitled)
        rows.append(
            VoteRow(
                poll_id=poll.pk,
                matter=matter_of_motion[poll.motion_id],
                sitting=poll.sitting,
                method=poll.method,
                method_label=str(poll.get_method_display()),
                outcome=poll.outcome,
                yes=poll.yes_count,
                no=poll.no_count,
                named=named,
                choices=choices,
            )
        )
    members = list(Person.objects.filter(pk__in=member_ids).order_by("seat_number", "family_name_kana", "id"))
    return members, rows


def matter_votes(matter: Matter) -> list[VoteRow]:
    _members, rows = public_votes(matter.session)
    return [row for row in rows if row.matter.pk == matter.pk]


def minutes_passages(matter: Matter) -> list:
    """Speeches in the published minutes (latest published version of each sitting) on the agenda
    items where the matter was taken up; never from a closed session."""
    from meetings.minutes.models import Block, Minutes

    item_ids = list(
        MatterItem.objects.filter(matter=matter, agenda_item__closed_session=False).values_list(
            "agenda_item_id", flat=True
        )
    )
    if not item_ids:
        return []
    published = Minutes.objects.filter(
        state=Minutes.State.PUBLISHED, sitting__agenda_items__in=item_ids
    ).distinct()
    latest: dict[int, Minutes] = {}
    for minutes in published.select_related("sitting__body", "sitting__session"):
        if minutes.sitting_id not in latest or minutes.version > latest[minutes.sitting_id].version:
            latest[minutes.sitting_id] = minutes
    blocks = (
        Block.objects.filter(
            minutes__in=latest.values(),
            agenda_item_id__in=item_ids,
            kind__in=[Block.Kind.SPEECH, Block.Kind.VOTE],
        )
        .exclude(Q(kind=Block.Kind.SPEECH) & Q(text=""))
        .select_related("minutes__sitting__body", "minutes__sitting__session")
        .order_by("minutes__sitting__date", "position")
    )
    return list(blocks)


def public_documents(matter: Matter) -> list:
    from documents.permissions import is_public

    return [
        link
        for link in matter.documents.select_related("document").order_by("position")
        if is_public(link.document)
    ]


def question_call(session: Session) -> QuestionCall | None:
    return QuestionCall.objects.filter(session=session).first()


def questions_in_order(call: QuestionCall) -> list[Question]:
    return list(call.questions.select_related("member").order_by("order", "submitted_at", "id"))


def question_floor(call: QuestionCall) -> dict:
    """The floor turns of the published list: ``turns`` (member id → the latest turn on the
    general-questions item) and ``stale`` (the list changed since it was published)."""
    from meetings.voting.models import FloorTurn

    turns = {}
    if call.sitting_id and call.agenda_item_id:
        for turn in FloorTurn.objects.filter(
            sitting_id=call.sitting_id, agenda_item_id=call.agenda_item_id
        ).order_by("requested_at", "id"):
            turns[turn.person_id] = turn
    current = list(call.questions.order_by("order", "id").values_list("member_id", flat=True))
    return {"turns": turns, "stale": current != list(call.floor_order or [])}


def open_calls_for(person: Person | None) -> list[QuestionCall]:
    if person is None:
        return []
    return list(
        QuestionCall.objects.filter(order_fixed_at__isnull=True)
        .select_related("session")
        .order_by("deadline")
    )


def counted_polls(matter: Matter) -> list[dict]:
    """The matter's declared standing and show-of-hands votes, with the members entitled and
    whether their names are recorded (for the clerk's form)."""
    from meetings.matters.models import CountedName
    from meetings.voting.models import Poll

    polls = list(
        Poll.objects.filter(
            motion__matter_link__matter=matter,
            state=Poll.State.DECLARED,
            method__in=[Poll.Method.STANDING, Poll.Method.HANDS],
        )
        .select_related("sitting__body")
        .order_by("declared_at", "id")
    )
    recorded = set(CountedName.objects.filter(poll__in=polls).values_list("poll_id", flat=True))
    people = {p.pk: p for p in Person.objects.filter(pk__in={pk for poll in polls for pk in poll.entitled})}
    return [
        {
            "poll": poll,
            "recorded": poll.pk in recorded,
            "members": sorted(
                (people[pk] for pk in poll.entitled if pk in people), key=lambda p: (p.seat_number or 0, p.pk)
            ),
        }
        for poll in polls
    ]
