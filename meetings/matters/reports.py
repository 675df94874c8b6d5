"""The committee report (委員会審査報告書) as a document: HTML from one template, PDF with
WeasyPrint through the minutes' renderer (static files only, fonts embedded)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from meetings.matters.models import CommitteeReport


def report_html(report: CommitteeReport) -> str:
    """Always in Japanese: it is the official document addressed to the chair of the council."""
    from council.models import Membership

    matter = report.matter
    plenary_chair = (
        Membership.objects.filter(
            body__council=matter.council, body__kind="plenary", role=Membership.Role.CHAIR
        )
        .active(on=report.decided_on)
        .select_related("person")
        .first()
    )
    with translation.override("ja"):
        return render_to_string(
            "meetings/matters/report_document.html",
            {
                "report": report,
                "matter": matter,
                "council": matter.council,
                "plenary_chair": plenary_chair.person.full_name if plenary_chair else "",
            },
        )


def report_pdf(report: CommitteeReport) -> bytes:
    from meetings.minutes.rendering import render_pdf

    return render_pdf(report_html(report)).data
