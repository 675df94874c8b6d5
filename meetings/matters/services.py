"""State changes of matters: submission, each step of the road, decisions, publication.

Every function is keyword-only, runs in one transaction that locks the matter row, asks
``rules.check_step`` and refuses with its reason (``Refused``; nothing written), keeps the
matter's summary fields in step with its history and writes an audit row.

Placing a matter on an agenda goes through the agenda's own service (``agenda_item_add``), and a
vote on it through the voting services (``motion_create``; the declared result comes back
through ``hooks.py``): the sittings record the road, the clerk only adds what nothing else records.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from council.audit import audit_record
from council.errors import Refused
from council.models import Body, Membership, Person
from meetings.matters import pdfs, rules
from meetings.matters.models import (
    CommitteeReport,
    Matter,
    MatterDocument,
    MatterItem,
    MatterMotion,
    MatterSettings,
    MatterStep,
    Sponsor,
)
from meetings.models import AgendaItem, Session, Sitting

AGENDA_KIND = {
    rules.BILL: AgendaItem.Kind.BILL,
    rules.REPORT: AgendaItem.Kind.REPORT,
    rules.PETITION: AgendaItem.Kind.PETITION,
    rules.REPRESENTATION: AgendaItem.Kind.PETITION,
    rules.MEMBERS_BILL: AgendaItem.Kind.MOTION,
    rules.OPINION: AgendaItem.Kind.MOTION,
    rules.RESOLUTION: AgendaItem.Kind.MOTION,
    rules.ELECTION: AgendaItem.Kind.ELECTION,
}


def settings_for(council) -> MatterSettings:
    found = MatterSettings.objects.filter(council=council).first()
    return found or MatterSettings(council=council)


def _lock(matter: Matter) -> Matter:
    return (
        Matter.objects.select_for_update(of=("self",))
        .select_related("session", "amends", "referred_to")
        .get(pk=matter.pk)
    )


def road_of(matter: Matter) -> rules.Road:
    """What the rules need to know of the matter's history."""
    steps = list(MatterStep.objects.filter(matter=matter).select_related("body").order_by("date", "at", "id"))
    road = rules.Road(kind=matter.kind, result=matter.result, committee_decision=matter.committee_decision)
    for step in steps:
        if step.kind == rules.PLACED and step.body is not None and step.body.is_plenary:
            road.placed_in_plenary = True
        elif step.kind == rules.REFERRED:
            road.referred = True
        elif step.kind == rules.REFERRAL_OMITTED:
            road.referral_omitted = True
        elif step.kind == rules.CHAIR_REPORT:
            road.chair_reported = True
    if matter.kind == rules.AMENDMENT and matter.amends_id:
        # An amendment travels with the matter it amends: before the committee if that was referred.
        parent = road_of(matter.amends)
        road.referred = parent.referred
        road.committee_decision = ""
        road.chair_reported = True  # the chair reports on the matter, amendments included
    else:
        road.open_amendments = [
            a.label for a in Matter.objects.filter(amends=matter).select_related("amends") if not a.result
        ]
    return road


def _check(matter: Matter, step: str, *, committee: bool = False) -> None:
    try:
        rules.check_step(road_of(matter), step, committee=committee)
    except rules.StepRefused as exc:
        raise Refused(str(exc)) from None


def _step(
    matter: Matter,
    kind: str,
    *,
    actor,
    sitting: Sitting | None = None,
    body: Body | None = None,
    agenda_item: AgendaItem | None = None,
    poll=None,
    report=None,
    outcome: str = "",
    note: str = "",
    date: datetime.date | None = None,
) -> MatterStep:
    try:
        with transaction.atomic():
            step = MatterStep.objects.create(
                matter=matter,
                kind=kind,
                sitting=sitting,
                body=body or (sitting.body if sitting else None),
                agenda_item=agenda_item,
                poll=poll,
                report=report,
                outcome=outcome,
                note=note[:300],
                date=date or (sitting.date if sitting else timezone.localdate()),
                by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        # The constraints back the rules up under concurrency: a second decision or referral.
        raise Refused(_("This step has already been recorded for this matter.")) from None
    audit_record(
        action=f"matter.{kind}",
        actor=actor,
        target=matter,
        data={
            "step": step.pk,
            "sitting": sitting.pk if sitting else None,
            "outcome": outcome,
            "poll": getattr(poll, "pk", None),
            "note": note[:300],
        },
    )
    return step


def _on_sitting(matter: Matter, sitting: Sitting) -> AgendaItem:
    """The matter's agenda item on ``sitting``; refused if it is not on that sitting's agenda."""
    link = (
        MatterItem.objects.filter(matter=matter, agenda_item__sitting=sitting)
        .select_related("agenda_item")
        .first()
    )
    if link is None:
        raise Refused(_("%(matter)s is not on the agenda of this sitting.") % {"matter": matter.label})
    return link.agenda_item


# --- submission --------------------------------------------------------------------------------


def _next_number(session: Session, kind: str, scope: str) -> int:
    top = Matter.objects.filter(council=session.council, kind=kind, number_scope=scope).aggregate(
        n=Max("number")
    )
    return (top["n"] or 0) + 1


@transaction.atomic
def matter_submit(
    *,
    actor,
    session: Session,
    kind: str,
    title: str,
    submitter_kind: str,
    title_en: str = "",
    summary: str = "",
    submitter_body: Body | None = None,
    petitioner: str = "",
    submitted_on: datetime.date | None = None,
    number: int | None = None,
    amends: Matter | None = None,
    sponsors: list[tuple[Person, str]] | tuple = (),
) -> Matter:
    """A matter is submitted (提出): numbered per kind in the council's scope, with its submitter."""
    title = (title or "").strip()
    if not title:
        raise Refused(_("Give the matter a title."))
    if kind not in dict(rules.KINDS):
        raise Refused(_("Unknown kind of matter."))
    if submitter_kind not in Matter.Submitter.values:
        raise Refused(_("Say who submits the matter."))
    roles = [role for _person, role in sponsors]
    if kind in rules.PETITION_KINDS and submitter_kind != Matter.Submitter.PETITIONER:
        raise Refused(_("A petition or representation is submitted by a petitioner."))
    if submitter_kind == Matter.Submitter.PETITIONER and not petitioner.strip():
        raise Refused(_("Give the petitioner's name."))
    if kind == rules.PETITION and Sponsor.Role.INTRODUCER not in roles:
        raise Refused(_("A petition (請願) needs at least one introducing member (紹介議員)."))
    if submitter_kind == Matter.Submitter.MEMBERS and Sponsor.Role.PROPOSER not in roles:
        raise Refused(_("A members' matter needs its proposer (提出者)."))
    if submitter_kind == Matter.Submitter.COMMITTEE and (submitter_body is None or submitter_body.is_plenary):
        raise Refused(_("Choose the committee that submits the matter."))
    if kind == rules.AMENDMENT:
        if amends is None:
            raise Refused(_("Choose the matter the amendment amends."))
        amends = _lock(amends)
        if (
            amends.kind in (rules.AMENDMENT, rules.REPORT, rules.ELECTION)
            or amends.kind in rules.PETITION_KINDS
        ):
            raise Refused(_("Only a bill or a members' matter can be amended."))
        if amends.is_finished:
            raise Refused(
                _("%(matter)s has already been decided; it can no longer be amended.")
                % {"matter": amends.label}
            )
        if amends.session_id != session.pk:
            raise Refused(_("The amendment must be submitted in the session where the matter is considered."))
        number, scope = None, ""
    else:
        if amends is not None:
            raise Refused(_("Only an amendment names a matter it amends."))
        numbering = settings_for(session.council).numbering
        scope = str(session.year) if numbering == MatterSettings.Numbering.YEAR else f"s{session.pk}"
        # Numbers are taken under the session row's lock; the unique constraint backs it up.
        Session.objects.select_for_update().filter(pk=session.pk).first()
        if number is None:
            number = _next_number(session, kind, scope)
        elif number < 1:
            raise Refused(_("A matter's number starts at 1."))
        elif Matter.objects.filter(
            council=session.council, kind=kind, number_scope=scope, number=number
        ).exists():
            raise Refused(_("A matter of this kind already has that number."))
    matter = Matter.objects.create(
        council=session.council,
        session=session,
        kind=kind,
        number=number,
        number_scope=scope,
        amends=amends,
        title=title[:300],
        title_en=title_en[:300],
        summary=summary,
        submitter_kind=submitter_kind,
        submitter_body=submitter_body if submitter_kind == Matter.Submitter.COMMITTEE else None,
        petitioner=petitioner.strip()[:200],
        submitted_on=submitted_on or timezone.localdate(),
    )
    seen = set()
    for position, (person, role) in enumerate(sponsors):
        if person.kind != Person.Kind.COUNCILLOR:
            raise Refused(_("Only councillors sponsor or introduce a matter."))
        if person.pk in seen:
            raise Refused(_("%(name)s is named twice.") % {"name": person.full_name})
        seen.add(person.pk)
        Sponsor.objects.create(matter=matter, person=person, role=role, position=position)
    audit_record(
        action="matter.submit",
        actor=actor,
        target=matter,
        data={
            "kind": kind,
            "number": number,
            "scope": scope,
            "title": matter.title,
            "submitter": submitter_kind,
            "amends": amends.pk if amends else None,
            "sponsors": [[p.pk, r] for p, r in sponsors],
        },
    )
    MatterStep.objects.create(
        matter=matter,
        kind=rules.SUBMITTED,
        date=matter.submitted_on,
        by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    return matter


@transaction.atomic
def matter_document_add(
    *, actor, matter: Matter, document, role: str = MatterDocument.Role.TEXT
) -> MatterDocument:
    if role not in MatterDocument.Role.values:
        raise Refused(_("Unknown document role."))
    if document.council_id != matter.council_id:
        raise Refused(_("The document belongs to another council."))
    link, made = MatterDocument.objects.get_or_create(
        matter=matter,
        document=document,
        defaults={"role": role, "position": matter.documents.count() + 1},
    )
    if not made:
        raise Refused(_("This document is already attached to the matter."))
    audit_record(
        action="matter.document_add", actor=actor, target=matter, data={"document": document.pk, "role": role}
    )
    return link


# --- the road --------------------------------------------------------------------------------


@transaction.atomic
def matter_place(
    *, actor, matter: Matter, sitting: Sitting, agenda_item: AgendaItem | None = None
) -> AgendaItem:
    """上程: the matter is put on the sitting's order of business (a new item, or an existing one)."""
    from meetings.services.agenda import agenda_item_add

    matter = _lock(matter)
    committee = not sitting.body.is_plenary
    if sitting.session.council_id != matter.council_id:
        raise Refused(_("The sitting belongs to another council."))
    _check(matter, rules.PLACED, committee=committee)
    referred_to = matter.amends.referred_to_id if matter.kind == rules.AMENDMENT else matter.referred_to_id
    if committee and referred_to != sitting.body_id:
        raise Refused(_("%(matter)s was referred to another committee.") % {"matter": matter.label})
    if MatterItem.objects.filter(matter=matter, agenda_item__sitting=sitting).exists():
        raise Refused(_("%(matter)s is already on the agenda of this sitting.") % {"matter": matter.label})
    if agenda_item is None and matter.kind == rules.AMENDMENT:
        # An amendment is debated with the matter it amends, on the same item.
        parent = MatterItem.objects.filter(matter=matter.amends, agenda_item__sitting=sitting).first()
        if parent is None:
            raise Refused(
                _("Place %(matter)s on this sitting first; its amendment goes with it.")
                % {"matter": matter.amends.label}
            )
        agenda_item = parent.agenda_item
    if agenda_item is None:
        agenda_item = agenda_item_add(
            actor=actor,
            sitting=sitting,
            kind=AGENDA_KIND.get(matter.kind, AgendaItem.Kind.OTHER),
            title=matter.title,
            title_en=matter.title_en,
            bill_number=matter.label_ja,
        )
    elif agenda_item.sitting_id != sitting.pk:
        raise Refused(_("The agenda item belongs to another sitting."))
    MatterItem.objects.create(matter=matter, agenda_item=agenda_item)
    _step(matter, rules.PLACED, actor=actor, sitting=sitting, agenda_item=agenda_item)
    return agenda_item


@transaction.atomic
def matter_step_record(*, actor, matter: Matter, kind: str, sitting: Sitting, note: str = "") -> MatterStep:
    """The clerk's one click for a step nothing else records: 説明, 質疑, 付託省略, 討論."""
    if kind not in rules.CLERK_STEPS:
        raise Refused(_("This step is recorded by its own action."))
    matter = _lock(matter)
    _check(matter, kind, committee=not sitting.body.is_plenary)
    item = _on_sitting(matter, sitting)
    if kind == rules.REFERRAL_OMITTED and not sitting.body.is_plenary:
        raise Refused(_("Only the plenary refers matters to committees."))
    return _step(matter, kind, actor=actor, sitting=sitting, agenda_item=item, note=note)


@transaction.atomic
def matter_refer(*, actor, matter: Matter, committee: Body, sitting: Sitting) -> MatterStep:
    """付託: the plenary refers the matter to one committee."""
    matter = _lock(matter)
    if not sitting.body.is_plenary:
        raise Refused(_("Only the plenary refers matters to committees."))
    if committee.is_plenary or committee.council_id != matter.council_id:
        raise Refused(_("Choose a committee of this council."))
    _check(matter, rules.REFERRED)
    item = _on_sitting(matter, sitting)
    matter.referred_to = committee
    matter.save(update_fields=["referred_to", "updated_at"])
    return _step(
        matter,
        rules.REFERRED,
        actor=actor,
        sitting=sitting,
        agenda_item=item,
        outcome=str(committee.pk),
        note=committee.name,
    )


def _chair_name(body: Body, on: datetime.date) -> str:
    chair = (
        Membership.objects.filter(body=body, role=Membership.Role.CHAIR)
        .active(on=on)
        .select_related("person")
        .first()
    )
    return chair.person.full_name if chair else ""


def vote_summary(poll) -> str:
    """全会一致 / 賛成多数 (賛成5 反対2) / 可否同数・委員長裁決 — as a report states it."""
    if poll is None:
        return ""
    if poll.method == "no_objection":
        return "異議なし"
    if poll.casting_vote:
        return f"可否同数(賛成{poll.yes_count} 反対{poll.no_count})、委員長裁決"
    if poll.no_count == 0:
        return f"全会一致(賛成{poll.yes_count})"
    if poll.yes_count == 0:
        return f"全会一致で反対(反対{poll.no_count})"
    majority = "賛成多数" if poll.yes_count > poll.no_count else "反対多数"
    return f"{majority}(賛成{poll.yes_count} 反対{poll.no_count})"


@transaction.atomic
def matter_examine(
    *, actor, matter: Matter, decision: str, sitting: Sitting, poll=None, remarks: str = ""
) -> CommitteeReport:
    """The committee's own decision (可決すべきもの / 不採択とすべきもの / 継続審査 …), and the
    committee report (委員会審査報告書) drafted from it."""
    matter = _lock(matter)
    if sitting.body.is_plenary:
        raise Refused(_("A committee decision is taken in a committee sitting."))
    if matter.kind == rules.AMENDMENT:
        raise Refused(_("An amendment is decided by its own vote, not by a committee report."))
    _check(matter, rules.EXAMINED, committee=True)
    if matter.referred_to_id != sitting.body_id:
        raise Refused(_("%(matter)s was referred to another committee.") % {"matter": matter.label})
    if decision not in rules.committee_decisions_for(matter.kind):
        raise Refused(_("This decision does not apply to this kind of matter."))
    if decision == rules.SHOULD_AMEND and not matter.amendments.filter(result=rules.CARRIED).exists():
        raise Refused(_("No amendment to this matter has been carried; it cannot be reported as amended."))
    item = _on_sitting(matter, sitting)
    report = CommitteeReport.objects.create(
        matter=matter,
        body=sitting.body,
        decision=decision,
        decided_on=sitting.date,
        chair_name=_chair_name(sitting.body, sitting.date),
        vote_summary=vote_summary(poll),
        remarks=remarks,
        poll=poll,
    )
    matter.committee_decision = decision
    matter.save(update_fields=["committee_decision", "updated_at"])
    _step(
        matter,
        rules.EXAMINED,
        actor=actor,
        sitting=sitting,
        agenda_item=item,
        poll=poll,
        report=report,
        outcome=decision,
    )
    pdfs.queue(pdfs.REPORT, report.pk)
    return report


@transaction.atomic
def report_update(*, actor, report: CommitteeReport, remarks: str) -> CommitteeReport:
    """The clerk completes the drafted report (the committee's remarks, 意見)."""
    report = CommitteeReport.objects.select_for_update().get(pk=report.pk)
    report.remarks = (remarks or "").strip()
    report.save(update_fields=["remarks", "updated_at"])
    audit_record(action="matter.report_update", actor=actor, target=report, data={"matter": report.matter_id})
    pdfs.queue(pdfs.REPORT, report.pk)
    return report


@transaction.atomic
def matter_chair_report(*, actor, matter: Matter, sitting: Sitting, note: str = "") -> MatterStep:
    """委員長報告 at the plenary, linked to the committee's written report."""
    matter = _lock(matter)
    if not sitting.body.is_plenary:
        raise Refused(_("The committee chair reports to the plenary."))
    _check(matter, rules.CHAIR_REPORT)
    item = _on_sitting(matter, sitting)
    report = matter.reports.order_by("-decided_on", "-id").first()
    if report is not None:
        pdfs.queue(pdfs.REPORT, report.pk)
    return _step(
        matter,
        rules.CHAIR_REPORT,
        actor=actor,
        sitting=sitting,
        agenda_item=item,
        report=report,
        outcome=matter.committee_decision,
        note=note,
    )


def _amendment_carried(matter: Matter) -> bool:
    return matter.amendments.filter(result=rules.CARRIED).exists()


@transaction.atomic
def matter_decide(
    *, actor, matter: Matter, result: str, sitting: Sitting, poll=None, note: str = ""
) -> MatterStep:
    """The body decides (採決 → 議決): the final result, once. From a declared vote (``poll``) or
    recorded by the clerk (no-objection decisions taken without the voting console, reports)."""
    matter = _lock(matter)
    committee = not sitting.body.is_plenary
    if committee and matter.kind != rules.AMENDMENT:
        raise Refused(_("A committee does not decide a matter; record the committee's decision instead."))
    _check(matter, rules.DECIDED, committee=committee)
    try:
        rules.check_result(matter.kind, result)
    except rules.StepRefused as exc:
        raise Refused(str(exc)) from None
    if result == rules.WITHDRAWN:
        raise Refused(_("Use the withdrawal action to record a withdrawal."))
    if result == rules.CONTINUED and not matter.referred_to_id:
        raise Refused(_("Only a matter before a committee can be continued (継続審査)."))
    if result == rules.PASSED and _amendment_carried(matter):
        raise Refused(
            _("An amendment to this matter was carried: the result is 修正可決 (passed as amended).")
        )
    if result == rules.AMENDED and not _amendment_carried(matter):
        raise Refused(_("No amendment to this matter was carried; it cannot pass as amended."))
    item = _on_sitting(matter, sitting)
    if poll is not None:
        _step(
            matter,
            rules.VOTED,
            actor=actor,
            sitting=sitting,
            agenda_item=item,
            poll=poll,
            outcome=poll.outcome,
            note=vote_summary(poll),
        )
    step = _step(
        matter,
        rules.DECIDED,
        actor=actor,
        sitting=sitting,
        agenda_item=item,
        poll=poll,
        outcome=result,
        note=note,
    )
    matter.result = result
    matter.decided_on = sitting.date if result != rules.CONTINUED else None
    matter.save(update_fields=["result", "decided_on", "updated_at"])
    return step


@transaction.atomic
def matter_withdraw(*, actor, matter: Matter, note: str = "", on: datetime.date | None = None) -> MatterStep:
    """撤回: the submitter withdraws the matter (with the council's leave once it is on the agenda)."""
    matter = _lock(matter)
    if matter.result == rules.WITHDRAWN:
        raise Refused(_("This matter was withdrawn; nothing more can happen to it."))
    if matter.is_finished:
        raise Refused(
            _("This matter has already been decided (%(result)s).") % {"result": matter.result_text}
        )
    step = _step(matter, rules.DECIDED, actor=actor, outcome=rules.WITHDRAWN, note=note, date=on)
    matter.result = rules.WITHDRAWN
    matter.decided_on = step.date
    matter.save(update_fields=["result", "decided_on", "updated_at"])
    for amendment in matter.amendments.filter(result=""):
        matter_withdraw(actor=actor, matter=amendment, note=_("withdrawn with the matter it amends"), on=on)
    return step


@transaction.atomic
def matter_motion_create(*, actor, matter: Matter, sitting: Sitting):
    """Put the matter to the vote: a motion on its agenda item, linked back to the matter, so the
    declared result records the decision (``hooks.py``)."""
    from meetings.voting.services.motions import motion_create

    matter = _lock(matter)
    committee = not sitting.body.is_plenary
    if committee and matter.kind != rules.AMENDMENT:
        _check(matter, rules.EXAMINED, committee=True)
    else:
        _check(matter, rules.VOTED, committee=committee)
    item = _on_sitting(matter, sitting)
    existing = (
        MatterMotion.objects.filter(matter=matter, motion__agenda_item=item).select_related("motion").first()
    )
    if existing is not None:
        return existing.motion
    motion = motion_create(
        agenda_item=item,
        title=f"{matter.label_ja} {matter.title}"[:300],
        by=actor,
        bill_number=matter.label_ja[:50],
    )
    MatterMotion.objects.create(matter=matter, motion=motion)
    audit_record(action="matter.motion", actor=actor, target=matter, data={"motion": motion.pk})
    return motion


# Publication lives in its own module; these names stay importable from here.
from meetings.matters.publication import (  # noqa: E402, F401
    counted_names_record,
    matter_publish,
    matter_unpublish,
    session_publish,
)
