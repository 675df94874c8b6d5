"""Pages and endpoints: the editor and its autosave, background generation, sign-off, public list."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from council.models import AuditEntry
from meetings.minutes import services
from meetings.minutes.models import Block, GenerationJob, Minutes
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def login(user, **kw) -> Client:
    client = Client(**kw)
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def draft(recorded, clerk_user):
    return services.draft_generate(sitting=recorded["sitting"], actor=clerk_user)


def test_generation_runs_in_the_background_and_reports_progress(
    recorded, clerk_user, settings, django_capture_on_commit_callbacks
):
    settings.MINUTES_JOBS_INLINE = True
    client = login(clerk_user)
    sitting = recorded["sitting"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("meetings:minutes:generate", args=[sitting.pk]))
    assert response.status_code == 302
    job = GenerationJob.objects.get(sitting=sitting)
    status = client.get(reverse("meetings:minutes:job", args=[job.pk])).json()
    minutes = Minutes.objects.get(sitting=sitting)
    assert status["state"] == "done" and status["progress"] == 100
    assert status["next"] == reverse("meetings:minutes:edit", args=[minutes.pk])
    page = client.get(reverse("meetings:minutes:sitting", args=[sitting.pk])).content.decode()
    assert f'data-job-url="{reverse("meetings:minutes:job", args=[job.pk])}"' in page


def test_a_draft_finished_before_its_page_is_drawn_still_leads_to_the_editor(
    recorded, clerk_user, settings, django_capture_on_commit_callbacks
):
    """The worker may finish the draft before the redirected page is drawn: that page follows the
    job just started (data-watch, so job.js asks its status and opens the editor) and links to it."""
    settings.MINUTES_JOBS_INLINE = True
    client = login(clerk_user)
    sitting = recorded["sitting"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("meetings:minutes:generate", args=[sitting.pk]))
    job = GenerationJob.objects.get(sitting=sitting)
    assert response["Location"].endswith(f"?job={job.pk}")
    page = client.get(response["Location"]).content.decode()
    minutes = Minutes.objects.get(sitting=sitting)
    assert 'data-job-state="done" data-watch="1"' in page
    assert f'href="{reverse("meetings:minutes:edit", args=[minutes.pk])}"' in page
    # Coming back to the sitting's page later: the finished job is shown, not followed.
    later = client.get(reverse("meetings:minutes:sitting", args=[sitting.pk])).content.decode()
    assert 'data-job-state="done"' in later and "data-watch" not in later


def test_a_failed_job_says_why(recorded, clerk_user, settings, django_capture_on_commit_callbacks):
    settings.MINUTES_JOBS_INLINE = True
    from meetings.minutes import jobs
    from meetings.models import Sitting

    Sitting.objects.filter(pk=recorded["sitting"].pk).update(status=Sitting.Status.OPEN)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.job_start(sitting=recorded["sitting"], kind="draft", actor=clerk_user)
    job.refresh_from_db()
    assert job.state == "failed" and "once the sitting is closed" in job.message


def test_editor_autosave_with_csrf_token_is_saved_and_audited(draft, clerk_user):
    client = login(clerk_user, enforce_csrf_checks=True)
    page = client.get(reverse("meetings:minutes:edit", args=[draft.pk]))
    html = page.content.decode()
    speech = draft.blocks.filter(kind=Block.Kind.SPEECH, source__startswith="turn:").order_by("position")[3]
    url = reverse("meetings:minutes:block_save", args=[draft.pk, speech.pk])
    assert f'data-save-url="{url}"' in html and "○3番(高橋健君)" in html
    token = client.cookies["csrftoken"].value
    body = json.dumps({"text": "税率の根拠を伺います。", "revision": 0})
    refused = client.post(url, body, content_type="application/json")
    assert refused.status_code == 403
    ok = client.post(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 200 and ok.json()["revision"] == 1
    speech.refresh_from_db()
    assert speech.text == "税率の根拠を伺います。"
    assert AuditEntry.objects.filter(action="minutes.block_edited", target_id=str(speech.pk)).count() == 1
    stale = client.post(
        url, body.replace("伺います", "伺う"), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert stale.status_code == 409
    assert "他の人がこのブロックを変更しました" in stale.json()["error"]  # in the user's language


def test_facts_refuse_autosave(draft, clerk_user):
    client = login(clerk_user)
    vote = draft.blocks.filter(kind=Block.Kind.VOTE).first()
    response = client.post(
        reverse("meetings:minutes:block_save", args=[draft.pk, vote.pk]), {"text": "改ざん", "revision": "0"}
    )
    assert response.status_code == 409


def test_members_cannot_edit_or_read_a_draft(draft, recorded):
    client = login(recorded["members"][3].user)
    assert client.get(reverse("meetings:minutes:edit", args=[draft.pk])).status_code == 404
    assert client.get(reverse("meetings:minutes:detail", args=[draft.pk])).status_code == 404
    speech = draft.blocks.filter(kind=Block.Kind.SPEECH).first()
    response = client.post(reverse("meetings:minutes:block_save", args=[draft.pk, speech.pk]), {"text": "x"})
    assert response.status_code == 404


def test_remarks_and_transcript_through_the_editor(draft, clerk_user):
    client = login(clerk_user)
    first = draft.blocks.order_by("position").first()
    response = client.post(
        reverse("meetings:minutes:remark_add", args=[draft.pk]), {"after": first.pk, "text": "(議場閉鎖)"}
    )
    remark = draft.blocks.get(kind=Block.Kind.REMARK)
    assert response["Location"].endswith(f"#block-{remark.pk}")
    client.post(reverse("meetings:minutes:block_move", args=[draft.pk, remark.pk]), {"direction": "up"})
    remark.refresh_from_db()
    assert remark.position == 1
    vtt = "WEBVTT\n\n00:11:00.000 --> 00:11:10.000\n税率の根拠を伺います。\n"
    response = client.post(
        reverse("meetings:minutes:transcript", args=[draft.pk]), {"content": vtt}, follow=True
    )
    assert draft.blocks.filter(text="税率の根拠を伺います。").exists()
    assert response.status_code == 200


@pytest.mark.slow  # renders and signs a minutes PDF
def test_sign_off_through_the_pages_then_public_list_and_search(
    recorded, draft, clerk_user, settings, django_capture_on_commit_callbacks
):
    settings.MINUTES_JOBS_INLINE = True
    members = recorded["members"]
    clerk = login(clerk_user)
    speech = draft.blocks.filter(kind=Block.Kind.SPEECH, source__startswith="turn:").order_by("position")[3]
    services.block_edit(block=speech, text="固定資産税の税率について伺います。", actor=clerk_user)
    clerk.post(
        reverse("meetings:minutes:signers", args=[draft.pk]), {"signers": [members[4].pk, members[5].pk]}
    )
    clerk.post(reverse("meetings:minutes:submit", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.state == Minutes.State.REVIEW
    outsider = login(members[6].user)
    page = outsider.get(reverse("meetings:minutes:detail", args=[draft.pk]))
    assert page.status_code == 404  # under review: only the signers and the secretariat read it
    assert outsider.get(reverse("meetings:minutes:index"))["Location"] == reverse(
        "meetings:minutes:public_list"
    )
    awaiting = login(members[4].user).get(reverse("meetings:minutes:index")).content.decode()
    assert reverse("meetings:minutes:detail", args=[draft.pk]) in awaiting
    with django_capture_on_commit_callbacks(execute=True):
        for person in (members[0], members[4], members[5]):
            signer = login(person.user)
            page = signer.get(reverse("meetings:minutes:detail", args=[draft.pk])).content.decode()
            assert reverse("meetings:minutes:sign", args=[draft.pk]) in page
            signer.post(reverse("meetings:minutes:sign", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.state == Minutes.State.SIGNED and draft.pdf_sha256
    detail = clerk.get(reverse("meetings:minutes:detail", args=[draft.pk])).content.decode()
    assert "監査記録に記録されたハッシュ値と一致しています" in detail
    anonymous = Client()
    assert anonymous.get(reverse("meetings:minutes:public_detail", args=[draft.pk])).status_code == 404
    clerk.post(reverse("meetings:minutes:publish", args=[draft.pk]))
    listing = anonymous.get(reverse("meetings:minutes:public_list")).content.decode()
    assert draft.title in listing
    found = anonymous.get(reverse("meetings:minutes:public_list"), {"q": "固定資産税"}).content.decode()
    assert draft.title in found
    missing = anonymous.get(reverse("meetings:minutes:public_list"), {"q": "存在しない語句"}).content.decode()
    assert draft.title not in missing
    pdf = anonymous.get(reverse("meetings:minutes:public_pdf", args=[draft.pk]))
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF-")
    data = anonymous.get(reverse("meetings:minutes:public_json", args=[draft.pk])).json()
    assert data["meetingRecord"][0]["pdfSha256"] == draft.pdf_sha256
    csv_text = anonymous.get(reverse("meetings:minutes:public_votes_csv", args=[draft.pk])).content.decode(
        "utf-8-sig"
    )
    assert csv_text.startswith("vote_id,")


def test_a_failed_final_pdf_can_be_rendered_again(
    recorded, draft, clerk_user, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from meetings.minutes import rendering

    members = recorded["members"]
    services.signers_nominate(minutes=draft, people=[members[4], members[5]], actor=clerk_user)
    services.minutes_submit(minutes=draft, actor=clerk_user)
    settings.MINUTES_JOBS_INLINE = True
    real = rendering.render_pdf
    monkeypatch.setattr(rendering, "render_pdf", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with django_capture_on_commit_callbacks(execute=True):
        for person in (members[0], members[4], members[5]):
            services.minutes_sign(minutes=draft, user=person.user)
    draft.refresh_from_db()
    assert draft.state == Minutes.State.SIGNED and not draft.pdf_sha256
    assert GenerationJob.objects.get(minutes=draft, final=True).message == "disk full"
    clerk = login(clerk_user)
    page = clerk.get(reverse("meetings:minutes:detail", args=[draft.pk])).content.decode()
    assert reverse("meetings:minutes:preview", args=[draft.pk]) in page
    monkeypatch.setattr(rendering, "render_pdf", real)
    with django_capture_on_commit_callbacks(execute=True):
        clerk.post(reverse("meetings:minutes:preview", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.pdf_sha256 and draft.pages


def test_era_dates_in_the_minutes_lists(recorded, draft, clerk_user):
    """#12: the minutes lists give the sitting's date in the era form, not 2026-12-02."""
    from council.formats import era_date

    clerk = login(clerk_user)
    clerk.cookies["django_language"] = "ja"
    page = clerk.get(reverse("meetings:minutes:index")).content.decode()
    sitting = recorded["sitting"]
    assert era_date(sitting.date) in page and sitting.date.isoformat() not in page
    type(draft).objects.filter(pk=draft.pk).update(state="published")
    public = Client()
    public.cookies["django_language"] = "ja"
    assert era_date(sitting.date) in public.get(reverse("meetings:minutes:public_list")).content.decode()


def test_minutes_job_heading_stops_saying_in_progress_when_done(
    recorded, draft, clerk_user, settings, django_capture_on_commit_callbacks
):
    """#12: the job box's heading says the PDF is ready once done, not PDFを作成中."""
    settings.MINUTES_JOBS_INLINE = True
    clerk = login(clerk_user)
    clerk.cookies["django_language"] = "ja"
    with django_capture_on_commit_callbacks(execute=True):
        clerk.post(reverse("meetings:minutes:preview", args=[draft.pk]))
    job = GenerationJob.objects.get(minutes=draft, kind="pdf")
    assert job.state == "done"
    page = clerk.get(reverse("meetings:minutes:edit", args=[draft.pk])).content.decode()
    heading = page.split('id="job-title"', 1)[1].split("</h2>", 1)[0]
    assert "PDFを作成しました" in heading and "作成中" not in heading
    assert 'data-heading-done="PDFを作成しました"' in page  # for the page that watched it finish
    status = page.split('id="job-message"', 1)[1].split("</p>", 1)[0]
    assert status.endswith(">完了"), status  # not 完了: 完了
    GenerationJob.objects.filter(pk=job.pk).update(state="running", message="本文を組版中")
    running = clerk.get(reverse("meetings:minutes:edit", args=[draft.pk])).content.decode()
    assert "PDFを作成中" in running.split('id="job-title"', 1)[1].split("</h2>", 1)[0]
    assert ": 本文を組版中</p>" in running  # while it runs, its step


@pytest.mark.slow  # renders a minutes PDF
def test_minutes_preview_opens_without_leaving_the_editor(
    recorded, draft, clerk_user, settings, django_capture_on_commit_callbacks
):
    """#12: the preview is asked for from the editor and stays there: the script gets the job's box
    to show in place (then the PDF in a dialog, which may frame it); without script the clerk comes
    back to the editor, not the sitting's page."""
    settings.MINUTES_JOBS_INLINE = True
    clerk = login(clerk_user)
    url = reverse("meetings:minutes:preview", args=[draft.pk])
    with django_capture_on_commit_callbacks(execute=True):
        plain = clerk.post(url)
    assert plain.status_code == 302 and plain["Location"] == reverse("meetings:minutes:edit", args=[draft.pk])
    with django_capture_on_commit_callbacks(execute=True):
        answer = clerk.post(url, HTTP_ACCEPT="application/json").json()
    job = GenerationJob.objects.get(pk=answer["job"])
    assert answer["ok"] and reverse("meetings:minutes:job", args=[job.pk]) in answer["box"]
    pdf = clerk.get(reverse("meetings:minutes:job_pdf", args=[job.pk]))
    assert pdf.status_code == 200 and pdf["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in pdf["Content-Security-Policy"]
    editor = clerk.get(reverse("meetings:minutes:edit", args=[draft.pk])).content.decode()
    assert 'id="preview-dialog"' in editor and "data-preview-form" in editor
    # Other pages still refuse to be framed.
    assert (
        "frame-ancestors 'none'"
        in clerk.get(reverse("meetings:minutes:edit", args=[draft.pk]))["Content-Security-Policy"]
    )
