"""General questions (一般質問): members' notices before the deadline (通告), the speaking order
(receipt order or lot), and the published list (一般質問通告一覧) that becomes the document and the
floor order of the sitting's general-questions item.

Keyword-only services, each in a transaction with an audit row; refusals raise ``Refused``.
"""

from __future__ import annotations

import datetime
import hashlib
import random
import tempfile
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import task

from council.audit import audit_record
from council.errors import Refused
from council.models import Person
from council.permissions import person_of
from meetings.matters.models import Question, QuestionCall
from meetings.models import AgendaItem, Session, Sitting

# Who may be asked to answer (答弁を求める者); the council's usual list.
ANSWERERS = [
    ("町長", gettext_lazy("Mayor (町長)")),
    ("副町長", gettext_lazy("Deputy mayor (副町長)")),
    ("教育長", gettext_lazy("Superintendent of education (教育長)")),
    ("農業委員会会長", gettext_lazy("Chair of the agricultural committee (農業委員会会長)")),
    ("選挙管理委員会委員長", gettext_lazy("Chair of the election board (選挙管理委員会委員長)")),
    ("代表監査委員", gettext_lazy("Representative auditor (代表監査委員)")),
]
MAX_TOPICS = 5
# A render of the published list asked for this long ago and not done may be asked for again.
REQUEUE_AFTER = datetime.timedelta(minutes=5)


@transaction.atomic
def call_open(*, actor, session: Session, deadline: datetime.datetime) -> QuestionCall:
    """The clerk sets (or moves) the deadline for notices of general questions."""
    call = QuestionCall.objects.select_for_update().filter(session=session).first()
    if call is not None and call.order_fixed_at is not None:
        raise Refused(_("The speaking order is already fixed; the deadline can no longer change."))
    if deadline.date() > session.end_date:
        raise Refused(_("The deadline must fall before the end of the session."))
    if call is None:
        call = QuestionCall.objects.create(session=session, deadline=deadline, created_by=actor)
    else:
        call.deadline = deadline
        call.save(update_fields=["deadline"])
    audit_record(action="questions.call", actor=actor, target=call, data={"deadline": deadline.isoformat()})
    return call


def clean_topics(topics: list[dict]) -> list[dict]:
    valid = {code for code, _label in ANSWERERS}
    cleaned = []
    for topic in topics:
        subject = (topic.get("subject") or "").strip()
        points = (topic.get("points") or "").strip()
        answerers = [a for a in topic.get("answerers") or [] if a]
        if not (subject or points):
            continue
        if not subject:
            raise Refused(_("Each topic needs its subject."))
        if not points:
            raise Refused(_("Give the points of the question for “%(subject)s”.") % {"subject": subject})
        if not answerers:
            raise Refused(_("Say who is asked to answer “%(subject)s”.") % {"subject": subject})
        if set(answerers) - valid:
            raise Refused(_("Unknown answerer."))
        if len(subject) > 100 or len(points) > 2000:
            raise Refused(_("A subject has at most 100 characters and its points at most 2,000."))
        cleaned.append({"subject": subject, "points": points, "answerers": answerers})
    if not cleaned:
        raise Refused(_("Give at least one topic."))
    if len(cleaned) > MAX_TOPICS:
        raise Refused(_("At most %(n)d topics per member.") % {"n": MAX_TOPICS})
    return cleaned


@transaction.atomic
def question_submit(*, user, call: QuestionCall, topics: list[dict]) -> Question:
    """A member gives (or corrects) their notice before the deadline; the receipt time of the
    first notice stays (it decides the order when the order is by receipt)."""
    member = person_of(user)
    if member is None or not member.active or member.kind != Person.Kind.COUNCILLOR:
        raise Refused(_("Only councillors give notice of general questions."))
    call = QuestionCall.objects.select_for_update().get(pk=call.pk)
    if call.order_fixed_at is not None or timezone.now() > call.deadline:
        raise Refused(_("The deadline for general questions has passed."))
    cleaned = clean_topics(topics)
    now = timezone.now()
    question, made = Question.objects.get_or_create(
        call=call, member=member, defaults={"topics": cleaned, "submitted_at": now, "updated_at": now}
    )
    if not made:
        question.topics = cleaned
        question.updated_at = now
        question.save(update_fields=["topics", "updated_at"])
    audit_record(
        action="questions.submit" if made else "questions.correct",
        actor=user,
        target=question,
        data={"call": call.pk, "topics": [t["subject"] for t in cleaned]},
    )
    notify_clerks(call)
    return question


@transaction.atomic
def question_withdraw(*, user, call: QuestionCall) -> None:
    member = person_of(user)
    call = QuestionCall.objects.select_for_update().get(pk=call.pk)
    if call.order_fixed_at is not None:
        raise Refused(_("The speaking order is fixed; ask the chair to withdraw your questions."))
    question = Question.objects.filter(call=call, member=member).first()
    if question is None:
        raise Refused(_("You have given no notice of general questions."))
    audit_record(action="questions.withdraw", actor=user, target=question, data={"call": call.pk})
    question.delete()
    notify_clerks(call)


@transaction.atomic
def order_fix(*, actor, call: QuestionCall, method: str, rng: random.Random | None = None) -> list[Question]:
    """Fix the speaking order after the deadline: by receipt (通告順) or by lot (抽選)."""
    call = QuestionCall.objects.select_for_update().get(pk=call.pk)
    if method not in QuestionCall.Order.values:
        raise Refused(_("Choose how the speaking order is decided."))
    if call.order_fixed_at is not None:
        raise Refused(_("The speaking order is already fixed."))
    if timezone.now() <= call.deadline:
        raise Refused(_("The deadline has not passed yet; members may still give notice."))
    questions = list(call.questions.select_related("member").order_by("submitted_at", "id"))
    if not questions:
        raise Refused(_("No member has given notice of general questions."))
    if method == QuestionCall.Order.LOT:
        (rng or random.SystemRandom()).shuffle(questions)
    for position, question in enumerate(questions, start=1):
        question.order = position
    Question.objects.bulk_update(questions, ["order"])
    call.order_method, call.order_fixed_at = method, timezone.now()
    call.save(update_fields=["order_method", "order_fixed_at"])
    audit_record(
        action="questions.order",
        actor=actor,
        target=call,
        data={"method": method, "order": [q.member_id for q in questions]},
    )
    notify_clerks(call)
    return questions


def list_html(call: QuestionCall) -> str:
    from django.template.loader import render_to_string
    from django.utils import translation

    questions = list(call.questions.select_related("member").order_by("order", "submitted_at"))
    with translation.override("ja"):
        return render_to_string(
            "meetings/matters/questions_document.html",
            {"call": call, "questions": questions, "session": call.session},
        )


def _order_text(call: QuestionCall) -> str:
    return "\n".join(
        f"{q.order}. {q.member.full_name}({'、'.join(t['subject'] for t in q.topics)})"
        for q in call.questions.select_related("member").order_by("order")
    )


def publish(*, actor, call: QuestionCall, sitting: Sitting) -> QuestionCall:
    """Publish the 一般質問通告一覧: the list as published (kept), the sitting's general-questions
    item (created when missing) whose description gives the order, and the sitting's floor queue
    in that order (``floor_schedule``), in one transaction. Its PDF, a public document on the item,
    is made by the job worker after commit (``publish_document_task``): until it shows the list as
    published, the pages say it is being prepared. Publishing again after a change replaces the
    document (差し替え) and brings the item and the queue up to date: no turn is queued twice, a
    turn already taken stays."""
    with transaction.atomic():
        call = QuestionCall.objects.select_for_update().get(pk=call.pk)
        if call.order_fixed_at is None:
            raise Refused(_("Fix the speaking order before publishing the list."))
        if sitting.session_id != call.session_id or not sitting.body.is_plenary:
            raise Refused(_("Choose a plenary sitting of this session."))
        again = call.published_at is not None
        if again and call.sitting_id not in (None, sitting.pk):
            raise Refused(
                _("The list is published for %(sitting)s; publish it again there.")
                % {"sitting": call.sitting}
            )
        if not call.questions.exists():
            raise Refused(_("No member has given notice of general questions."))
        html = list_html(call)
        sha = hashlib.sha256(html.encode()).hexdigest()
        item = _questions_item(actor=actor, call=call, sitting=sitting)
        floor = _schedule_floor(actor=actor, call=call, sitting=sitting, item=item)
        call.sitting, call.agenda_item, call.published_at = sitting, item, timezone.now()
        call.published_html, call.published_sha256 = html, sha
        call.floor_order, call.document_queued_at = floor["order"], timezone.now()
        call.save(
            update_fields=[
                "sitting",
                "agenda_item",
                "published_at",
                "published_html",
                "published_sha256",
                "floor_order",
                "document_queued_at",
            ]
        )
        audit_record(
            action="questions.republish" if again else "questions.publish",
            actor=actor,
            target=call,
            data={"sitting": sitting.pk, "item": item.pk, "sha256": sha, "floor": floor},
        )
        notify_clerks(call)
        actor_pk = actor.pk
        transaction.on_commit(lambda: publish_document_task.enqueue(call.pk, sha, actor_pk))
    return call


def document_requeue(*, actor, call: QuestionCall) -> bool:
    """Ask again for the published list's PDF when the render asked for ``REQUEUE_AFTER`` ago has
    not come (the worker was stopped, the job failed): the clerk's page calls this, so the public
    page does not say "being prepared" for ever. True when a render was queued."""
    with transaction.atomic():
        call = QuestionCall.objects.select_for_update().get(pk=call.pk)
        if call.published_at is None or not _wants_document(call, call.published_sha256):
            return False
        now = timezone.now()
        if call.document_queued_at is not None and call.document_queued_at > now - REQUEUE_AFTER:
            return False
        call.document_queued_at = now
        call.save(update_fields=["document_queued_at"])
        sha, actor_pk = call.published_sha256, actor.pk
        transaction.on_commit(lambda: publish_document_task.enqueue(call.pk, sha, actor_pk))
    return True


@task()
def publish_document_task(call_pk: int, sha: str, actor_pk: int) -> None:
    """In the job worker: the PDF of the list as published (``sha``), as the public document on
    the general-questions item (new, or a replacement version), released. A newer publication
    queued its own render, so a task for an older one does nothing."""
    from django.contrib.auth import get_user_model

    from meetings.minutes.rendering import render_pdf

    call = QuestionCall.objects.filter(pk=call_pk).first()
    if call is None or not _wants_document(call, sha):
        return
    data = render_pdf(call.published_html).data
    actor = get_user_model().objects.get(pk=actor_pk)
    with tempfile.TemporaryDirectory(prefix="questions-") as folder:
        path = Path(folder) / "questions.pdf"
        path.write_bytes(data)
        with transaction.atomic():
            call = (
                QuestionCall.objects.select_for_update(of=("self",))
                .select_related("session__council", "sitting__body", "document", "agenda_item")
                .get(pk=call_pk)
            )
            if not _wants_document(call, sha):
                return  # published again meanwhile, or made by another worker
            document = _document_save(actor=actor, call=call, path=path)
            call.document, call.document_sha256 = document, sha
            call.save(update_fields=["document", "document_sha256"])
            audit_record(
                action="questions.document",
                actor=actor,
                target=call,
                data={"document": document.pk, "sha256": sha, "bytes": len(data)},
            )
            notify_clerks(call)


def _wants_document(call: QuestionCall, sha: str) -> bool:
    """The list published as ``sha`` is still the current one and has no document yet."""
    if call.published_sha256 != sha or call.sitting_id is None:
        return False
    return not (call.document_id is not None and call.document_sha256 == sha)


def _document_save(*, actor, call: QuestionCall, path: Path):
    """The published list's document: a new version of the one published before, or a new public
    document linked to the general-questions item; released."""
    from documents.models import Document
    from documents.services import document_create, document_release, document_replace
    from meetings.models import AgendaItemDocument

    name = "一般質問通告一覧.pdf"
    if call.document is not None:
        document_replace(
            document=call.document, path=path, original_name=name, actor=actor, note="一般質問通告一覧の更新"
        )
        document = Document.objects.get(pk=call.document_id)
    else:
        document = document_create(
            body=call.sitting.body,
            title=f"{call.session.title} 一般質問通告一覧",
            path=path,
            original_name=name,
            actor=actor,
            visibility=Document.Visibility.PUBLIC,
        )
    item = call.agenda_item
    if item is not None:
        AgendaItemDocument.objects.get_or_create(
            agenda_item=item, document=document, defaults={"position": item.document_links.count() + 1}
        )
    if document.release_state != Document.Release.RELEASED:
        document = document_release(document=document, actor=actor)
    return document


def _questions_item(*, actor, call: QuestionCall, sitting: Sitting) -> AgendaItem:
    """The sitting's 一般質問 item (the one published before, or the first, or a new one)."""
    from meetings.services.agenda import agenda_item_add, agenda_item_update

    items = sitting.agenda_items.filter(kind=AgendaItem.Kind.GENERAL_QUESTIONS)
    item = items.filter(pk=call.agenda_item_id).first() or items.order_by("position").first()
    order = _order_text(call)
    if item is None:
        return agenda_item_add(
            actor=actor,
            sitting=sitting,
            kind=AgendaItem.Kind.GENERAL_QUESTIONS,
            title="一般質問",
            title_en="General questions",
            description=order,
        )
    if item.description != order:
        item = agenda_item_update(actor=actor, item=item, description=order)
    return item


def _schedule_floor(*, actor, call: QuestionCall, sitting: Sitting, item: AgendaItem) -> dict:
    """The questioners queue for the floor on the item in the published order."""
    from meetings.voting.errors import VotingError
    from meetings.voting.services.floor import floor_schedule

    people = [q.member for q in call.questions.select_related("member").order_by("order")]
    previous = list(Person.objects.filter(pk__in=call.floor_order or []))
    try:
        report = floor_schedule(sitting=sitting, agenda_item=item, people=people, by=actor, replaces=previous)
    except VotingError as exc:
        raise Refused(str(exc)) from None
    return {"order": [p.pk for p in people], **report}


# --- changes after the order is fixed (with the chair's leave) --------------------------------


@transaction.atomic
def question_strike(*, actor, question: Question) -> QuestionCall:
    """The clerk strikes a member's notice after the order is fixed (the member withdrew it with
    the chair's leave); the members after it move up. Publish the list again to update it."""
    call = QuestionCall.objects.select_for_update().get(pk=question.call_id)
    question = Question.objects.select_related("member").filter(pk=question.pk, call=call).first()
    if question is None:
        raise Refused(_("This notice is no longer on the list."))
    if call.order_fixed_at is None:
        raise Refused(_("Before the order is fixed, the member withdraws the notice themselves."))
    audit_record(
        action="questions.strike",
        actor=actor,
        target=call,
        data={"member": question.member_id, "order": question.order},
    )
    question.delete()
    rest = list(call.questions.order_by("order", "id"))
    _renumber(rest)
    notify_clerks(call)
    return call


@transaction.atomic
def order_move(*, actor, question: Question, direction: str) -> QuestionCall:
    """Move a member one place up or down in the fixed order (a swap the council agreed to)."""
    call = QuestionCall.objects.select_for_update().get(pk=question.call_id)
    if call.order_fixed_at is None:
        raise Refused(_("Fix the speaking order first."))
    if direction not in ("up", "down"):
        raise Refused(_("Choose up or down."))
    ordered = list(call.questions.order_by("order", "id"))
    index = next((i for i, q in enumerate(ordered) if q.pk == question.pk), None)
    if index is None:
        raise Refused(_("This notice is no longer on the list."))
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        raise Refused(_("This member is already at that end of the order."))
    ordered[index], ordered[other] = ordered[other], ordered[index]
    _renumber(ordered)
    audit_record(
        action="questions.reorder",
        actor=actor,
        target=call,
        data={"order": [q.member_id for q in ordered]},
    )
    notify_clerks(call)
    return call


def _renumber(ordered: list[Question]) -> None:
    # Clear first: the unique (call, order) constraint is checked row by row on PostgreSQL.
    Question.objects.filter(pk__in=[q.pk for q in ordered]).update(order=None)
    for position, question in enumerate(ordered, start=1):
        question.order = position
    Question.objects.bulk_update(ordered, ["order"])


# --- the clerk's list, live -------------------------------------------------------------------


def live_sitting(call: QuestionCall) -> Sitting | None:
    """The sitting whose clerks' stream carries the list's notices: the one it is published for,
    else the session's first plenary sitting."""
    if call.sitting_id:
        return call.sitting
    return (
        Sitting.objects.filter(session_id=call.session_id, body__kind="plenary")
        .order_by("date", "start_time", "number")
        .first()
    )


def notify_clerks(call: QuestionCall) -> None:
    """Tell the clerks' pages that the list changed (``questions.changed`` on the clerks' stream,
    sent after commit): a notice, not part of the live state; the page fetches the list again."""
    from meetings.events import publish as publish_event

    sitting = live_sitting(call)
    if sitting is None:
        return
    count = Question.objects.filter(call=call).count()
    publish_event(
        sitting_id=sitting.pk,
        type="questions.changed",
        payload={"questions_call": call.pk, "questions_count": count},
        audience="clerks",
    )
