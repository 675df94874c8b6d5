"""General questions: members' notices online before the deadline, the clerk's view as they arrive,
the speaking order (receipt or lot), and the published list (PDF document on the agenda item)."""

from __future__ import annotations

import datetime
import io
import random

import pytest
from django.test import Client
from django.utils import timezone

from council.errors import Refused
from meetings.matters import questions
from meetings.matters.models import Question, QuestionCall

pytestmark = pytest.mark.django_db

TOPIC = {"subject": "防災対策について", "points": "避難所の備蓄の状況は。", "answerers": ["町長"]}


@pytest.fixture
def call(world):
    deadline = timezone.now() + datetime.timedelta(hours=2)
    return questions.call_open(actor=world["clerk_user"], session=world["session"], deadline=deadline)


def _past_deadline(call):
    QuestionCall.objects.filter(pk=call.pk).update(deadline=timezone.now() - datetime.timedelta(seconds=1))
    call.refresh_from_db()


def test_matters_questions_members_give_notice_online_and_the_clerk_sees_them(world, call):
    members = world["members"]
    member = Client()
    member.force_login(members[4].user)
    url = f"/meetings/matters/sessions/{world['session'].pk}/my-questions/"
    assert member.get(url).status_code == 200
    response = member.post(
        url,
        {
            "subject_0": "子育て支援について",
            "points_0": "学童保育の待機児童は。",
            "answerers_0": ["町長", "教育長"],
        },
    )
    assert response.status_code == 302
    notice = Question.objects.get(call=call, member=members[4])
    assert notice.topics == [
        {"subject": "子育て支援について", "points": "学童保育の待機児童は。", "answerers": ["町長", "教育長"]}
    ]
    # A topic without points is refused with its reason, changing nothing.
    response = member.post(url, {"subject_0": "別件", "points_0": "", "answerers_0": ["町長"]})
    assert (
        response.status_code == 400
        and "「別件」の質問の要旨を入力してください。" in response.content.decode()
    )
    notice.refresh_from_db()
    assert notice.topics[0]["subject"] == "子育て支援について"
    clerk = Client()
    clerk.force_login(world["clerk_user"])
    page = clerk.get(f"/meetings/matters/manage/sessions/{world['session'].pk}/questions/").content.decode()
    assert members[4].full_name in page and "子育て支援について" in page


def test_matters_questions_refusals(world, call):
    members = world["members"]
    with pytest.raises(Refused, match="Only councillors"):
        questions.question_submit(user=world["clerk_user"], call=call, topics=[TOPIC])
    with pytest.raises(Refused, match="Say who is asked to answer"):
        questions.question_submit(user=members[3].user, call=call, topics=[dict(TOPIC, answerers=[])])
    with pytest.raises(Refused, match="at least one topic"):
        questions.question_submit(user=members[3].user, call=call, topics=[{}])
    questions.question_submit(user=members[3].user, call=call, topics=[TOPIC])
    with pytest.raises(Refused, match="has not passed yet"):
        questions.order_fix(actor=world["clerk_user"], call=call, method="receipt")
    _past_deadline(call)
    with pytest.raises(Refused, match="deadline for general questions has passed"):
        questions.question_submit(user=members[5].user, call=call, topics=[TOPIC])
    with pytest.raises(Refused, match="Fix the speaking order"):
        questions.publish(actor=world["clerk_user"], call=call, sitting=world["plenary1"])


def test_matters_questions_order_by_receipt_and_by_lot(world, call):
    members = world["members"]
    for person in (members[6], members[3], members[8], members[5]):
        questions.question_submit(user=person.user, call=call, topics=[TOPIC])
    # A correction keeps the first receipt time.
    questions.question_submit(user=members[6].user, call=call, topics=[dict(TOPIC, subject="訂正")])
    _past_deadline(call)
    fixed = questions.order_fix(actor=world["clerk_user"], call=call, method="receipt")
    assert [q.member for q in fixed] == [members[6], members[3], members[8], members[5]]
    with pytest.raises(Refused, match="already fixed"):
        questions.order_fix(actor=world["clerk_user"], call=call, method="lot")
    Question.objects.filter(call=call).update(order=None)
    QuestionCall.objects.filter(pk=call.pk).update(order_fixed_at=None)
    lot = questions.order_fix(actor=world["clerk_user"], call=call, method="lot", rng=random.Random(1))
    assert sorted(q.order for q in lot) == [1, 2, 3, 4]
    assert [q.member for q in lot] != [members[6], members[3], members[8], members[5]]


def test_matters_questions_published_list_becomes_the_items_document(
    world, call, django_capture_on_commit_callbacks
):
    from pypdf import PdfReader

    from documents.permissions import is_public

    members = world["members"]
    for person in (members[3], members[4], members[5], members[9]):
        questions.question_submit(
            user=person.user, call=call, topics=[dict(TOPIC, subject=f"{person.family_name}さんの質問")]
        )
    _past_deadline(call)
    questions.order_fix(actor=world["clerk_user"], call=call, method="receipt")
    # The PDF document is made after commit (by the job worker; here the jobs run at once).
    with django_capture_on_commit_callbacks(execute=True):
        published = questions.publish(actor=world["clerk_user"], call=call, sitting=world["plenary1"])
    published.refresh_from_db()
    item = published.agenda_item
    assert item.sitting == world["plenary1"] and item.kind == "general_questions"
    assert item.document_links.filter(document=published.document).exists()
    assert is_public(published.document)
    assert item.description.splitlines()[0].startswith(f"1. {members[3].full_name}")
    version = published.document.versions.get()
    with version.served_file.open("rb") as handle:
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(handle.read())).pages).replace(" ", "")
    assert "一般質問通告一覧" in text and f"{members[9].family_name}さんの質問" in text
    with pytest.raises(Refused, match="publish it again there"):
        questions.publish(actor=world["clerk_user"], call=call, sitting=world["plenary2"])
    # Publishing again unchanged keeps the document as it is; after a change (the order swapped
    # with the chair's leave) it replaces the document (差し替え) instead of adding a second one.
    with django_capture_on_commit_callbacks(execute=True):
        again = questions.publish(actor=world["clerk_user"], call=call, sitting=world["plenary1"])
    again.refresh_from_db()
    assert again.document == published.document and again.document.versions.count() == 1
    questions.order_move(
        actor=world["clerk_user"], question=call.questions.get(member=members[9]), direction="up"
    )
    with django_capture_on_commit_callbacks(execute=True):
        again = questions.publish(actor=world["clerk_user"], call=call, sitting=world["plenary1"])
    again.refresh_from_db()
    assert again.document == published.document and again.document.versions.count() == 2
    assert again.document_ready
    assert item.document_links.count() == 1
    page = Client().get(f"/meetings/matters/sessions/{world['session'].pk}/questions/").content.decode()
    assert f"{members[5].family_name}さんの質問" in page


def test_matters_questions_list_is_not_public_before_it_is_published(world, call):
    questions.question_submit(user=world["members"][3].user, call=call, topics=[TOPIC])
    assert Client().get(f"/meetings/matters/sessions/{world['session'].pk}/questions/").status_code == 404


def test_matters_questions_strike_asks_first_on_a_page_of_its_own(world, call):
    """Striking a notice cannot be undone: the clerk confirms on a page (no JavaScript needed), in
    Japanese and in English; only the confirmed form strikes."""
    from council.models import AuditEntry

    members = world["members"]
    for person in (members[3], members[4]):
        questions.question_submit(user=person.user, call=call, topics=[dict(TOPIC, subject=person.full_name)])
    _past_deadline(call)
    questions.order_fix(actor=world["clerk_user"], call=call, method="receipt")
    first = call.questions.get(member=members[3])
    clerk = Client()
    clerk.force_login(world["clerk_user"])
    url = f"/meetings/matters/manage/sessions/{world['session'].pk}/questions/"
    form = {"action": "strike", "question": first.pk}

    page = clerk.get(url).content.decode()
    assert 'name="action" value="strike"' in page and 'name="confirm"' not in page
    response = clerk.post(url, form)  # the button on the list, as a browser without script sends it
    assert response.status_code == 200
    page = response.content.decode()
    assert "この通告を一覧から削除しますか?" in page and members[3].full_name in page
    assert "元に戻すことはできません" in page and "通告を削除する" in page
    assert 'name="confirm" value="yes"' in page and f'name="question" value="{first.pk}"' in page
    assert f'href="{url}"' in page  # cancel goes back to the list
    english = clerk.post(url, form, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Strike this notice from the list?" in english and "it cannot be undone" in english
    assert Question.objects.filter(pk=first.pk).exists()
    assert not AuditEntry.objects.filter(action="questions.strike").exists()

    response = clerk.post(url, {**form, "confirm": "yes"})
    assert response.status_code == 302
    assert not Question.objects.filter(pk=first.pk).exists()
    assert call.questions.get().order == 1
    assert AuditEntry.objects.filter(action="questions.strike").count() == 1
