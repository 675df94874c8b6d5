"""Demo data: the minutes of every completed demo sitting, drafted from its record, with the
speeches typed, signed by the chair and two nominated members, frozen and published.

Runs after the step that records the completed sitting (meetings.voting.demo). Idempotent:
a sitting that already has minutes is left alone.
"""

from __future__ import annotations

from django.db.models import Q
from django.test import override_settings

from council.models import Council, Person
from meetings.minutes import jobs, services
from meetings.minutes.models import Block, GenerationJob, Minutes
from meetings.models import AgendaItem, Sitting

COUNCIL_NAME = "磐梯町議会"


def _has_record(sitting: Sitting) -> bool:
    return bool(
        getattr(sitting, "floor_turns", None) is not None
        and (sitting.floor_turns.filter(granted_at__isnull=False).exists() or sitting.polls.exists())
    )


def _signers(minutes: Minutes) -> list[Person]:
    if not minutes.sitting.body.is_plenary:
        return []  # a committee's record is signed by its chair
    chair_id = minutes.signatories.filter(role="chair").values_list("person_id", flat=True).first()
    present = [m for m in minutes.header.get("present", []) if m.get("person_id") != chair_id]
    ids = [m["person_id"] for m in present][4:6] or [m["person_id"] for m in present][:2]
    people = {p.pk: p for p in Person.objects.filter(pk__in=ids)}
    return [people[i] for i in ids if i in people]


def _speech_text(block: Block, item: AgendaItem | None, n_in_item: int, signers: list[Person]) -> str:
    title = item.title if item else ""
    about = title if title.endswith("について") else f"{title}について"
    label = f"日程第{item.position}" if item else ""
    role = block.speaker_role
    if role in ("議長", "委員長"):
        if item and item.kind == AgendaItem.Kind.SIGNERS and signers:
            names = "、".join(f"{p.seat_number}番 {p.family_name}{p.given_name}君" for p in signers)
            return (
                f"{label}、会議録署名議員の指名を行います。\n会議録署名議員は、会議規則第127条の規定により、"
                f"{names}を指名します。"
            )
        if n_in_item == 0:
            return f"{label}、{title}を議題といたします。\n本件について提案理由の説明を求めます。"
        return "ほかに質疑はありませんか。\n(「なし」の声あり)\n質疑なしと認めます。これで質疑を終わります。"
    if role.endswith("番"):
        return (
            f"{about}質疑いたします。\n今回の改正により町民の負担はどのように変わるのか、"
            "また、周知の方法と時期について伺います。"
        )
    return (
        f"ただいま議題となりました{about}、提案理由を申し上げます。\n"
        "本案は、関係法令の改正に伴い所要の整備を行うものであります。"
        "ご審議のほど、よろしくお願い申し上げます。"
    )


def _type_speeches(minutes: Minutes, signers: list[Person]) -> None:
    items = {i.pk: i for i in AgendaItem.objects.filter(sitting=minutes.sitting)}
    seen: dict[int | None, int] = {}
    for block in minutes.blocks.filter(kind=Block.Kind.SPEECH, source__startswith="turn:").order_by(
        "position"
    ):
        n = seen.get(block.agenda_item_id, 0)
        seen[block.agenda_item_id] = n + 1
        text = _speech_text(block, items.get(block.agenda_item_id), n, signers)
        services.block_edit(block=block, text=text, actor=None)


def _complete(minutes: Minutes, stdout) -> None:
    signers = _signers(minutes)
    _type_speeches(minutes, signers)
    needed = services.min_signers(minutes.sitting)
    if len(signers) < needed or not minutes.signatories.filter(role="chair").exists():
        stdout.write(f"meetings.minutes.demo: {minutes.title} left as a draft (no chair or signers).")
        return
    if needed:
        services.signers_nominate(minutes=minutes, people=signers, actor=None)
    services.minutes_submit(minutes=minutes, actor=None)
    for signatory in minutes.signatories.select_related("person__user"):
        if signatory.person.user is None:
            stdout.write(
                f"meetings.minutes.demo: {minutes.title} left under review ({signatory.person} has no sign-in)."
            )
            return
    # The demo command exits right away: render the final PDF in this thread, not a background one.
    with override_settings(MINUTES_JOBS_INLINE=True):
        for signatory in minutes.signatories.select_related("person__user"):
            services.minutes_sign(minutes=minutes, user=signatory.person.user)
        for job in GenerationJob.objects.filter(minutes=minutes, state=GenerationJob.State.QUEUED):
            jobs.run_job(job.pk)  # when seeding inside an outer transaction, on-commit has not run yet
    minutes.refresh_from_db()
    services.minutes_publish(minutes=minutes, actor=None)


def seed(*, stdout) -> None:
    council = Council.objects.filter(name=COUNCIL_NAME).first()
    if council is None:
        return
    sittings = Sitting.objects.filter(session__council=council, status=Sitting.Status.CLOSED).filter(
        ~Q(pk__in=Minutes.objects.values("sitting_id"))
    )
    made = 0
    for sitting in sittings.order_by("date", "number"):
        if not _has_record(sitting):
            continue
        minutes = services.draft_generate(sitting=sitting, actor=None)
        _complete(minutes, stdout)
        made += 1
    stdout.write(f"meetings.minutes.demo: minutes for {made} completed sittings.")
