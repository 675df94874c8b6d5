"""The committee report PDF (委員会審査報告書), as an anonymous visitor: drafted from the record of
a real committee vote, public once the chair has reported to the plenary and the matter is
published, rendered by the job worker. (Beside tests/matters/test_matters_public.py, whose tests
share one decided world this test must not see.)"""

from __future__ import annotations

import io

import pytest
from django.test import Client

from meetings.matters import services
from tests.annotations.helpers import response_body
from tests.matters.conftest import decided_in_committee

pytestmark = pytest.mark.django_db


def test_matters_committee_report_pdf_is_drafted_from_the_record(
    world, submit, django_capture_on_commit_callbacks
):
    from pypdf import PdfReader

    clerk, members = world["clerk_user"], world["members"]
    report = decided_in_committee(world, submit)
    bill = report.matter
    client = Client()
    # Not public before the chair reports to the plenary, nor before the matter is published.
    assert client.get(f"/meetings/matters/reports/{report.pk}/pdf/").status_code == 404
    services.matter_place(actor=clerk, matter=bill, sitting=world["plenary2"])
    services.matter_chair_report(actor=clerk, matter=bill, sitting=world["plenary2"])
    assert client.get(f"/meetings/matters/reports/{report.pk}/pdf/").status_code == 404
    services.matter_publish(actor=clerk, matter=bill)
    # The job worker renders it (here at once, when the request's transaction commits); meanwhile 503.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(f"/meetings/matters/reports/{report.pk}/pdf/").status_code == 503
    response = client.get(f"/meetings/matters/reports/{report.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(response_body(response))).pages
    ).replace(" ", "")
    for expected in (
        "委員会審査報告書",
        "議案第1号",
        "原案可決すべきもの",
        "全会一致(賛成4)",
        "附帯意見なし",
        members[2].full_name.replace(" ", ""),
    ):
        assert expected in text, expected
    page = client.get(f"/meetings/matters/{bill.pk}/").content.decode()
    assert f"/meetings/matters/reports/{report.pk}/pdf/" in page
