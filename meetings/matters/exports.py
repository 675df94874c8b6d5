"""Open data for a session's matters: the results table (議決結果一覧) and the per-member votes
(議員別賛否一覧) as JSON (``docs/matters.schema.json``) and CSV, built from the same selectors as
the public pages, so they can never show more than the pages do. Always in Japanese."""

from __future__ import annotations

import csv
import io

from django.utils import translation

from meetings.matters import rules, selectors
from meetings.models import Session

SCHEMA = "https://gikai.example/schemas/matters.schema.json"
CHOICE_JA = {"yes": "賛成", "no": "反対", "chair": "議長", "": "—"}


def _result_ja(code: str) -> str:
    return rules.RESULT_JA.get(code, "") if code else ""


def results_data(session: Session, *, base_url: str = "") -> dict:
    from django.urls import reverse

    with translation.override("ja"):
        matters = selectors.published_matters(session)
        rows = []
        for matter in matters:
            rows.append(
                {
                    "id": matter.pk,
                    "kind": matter.kind,
                    "label": matter.label_ja,
                    "number": matter.number,
                    "amends": matter.amends.label_ja if matter.amends_id else None,
                    "title": matter.title,
                    "titleEn": matter.title_en or None,
                    "submitter": selectors.submitter_text(matter),
                    "submitterKind": matter.submitter_kind,
                    "submittedOn": matter.submitted_on.isoformat(),
                    "committee": matter.referred_to.name if matter.referred_to_id else None,
                    "committeeDecision": rules.COMMITTEE_DECISION_JA.get(matter.committee_decision) or None,
                    "decidedOn": matter.decided_on.isoformat() if matter.decided_on else None,
                    "result": matter.result or None,
                    "resultLabel": _result_ja(matter.result) or None,
                    "url": base_url + reverse("meetings:matters:public_matter", args=[matter.pk]),
                }
            )
        return {
            "$schema": SCHEMA,
            "council": session.council.name,
            "session": session.title,
            "sessionId": session.pk,
            "startDate": session.start_date.isoformat(),
            "endDate": session.end_date.isoformat(),
            "matters": rows,
        }


def results_csv(session: Session) -> str:
    data = results_data(session)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["番号", "件名", "提出者", "付託委員会", "委員会審査結果", "議決日", "議決結果"])
    for row in data["matters"]:
        writer.writerow(
            [
                row["label"],
                row["title"],
                row["submitter"],
                row["committee"] or "",
                row["committeeDecision"] or "",
                row["decidedOn"] or "",
                row["resultLabel"] or "",
            ]
        )
    return out.getvalue()


def votes_data(session: Session) -> dict:
    with translation.override("ja"):
        members, rows = selectors.public_votes(session)
        votes = []
        for row in rows:
            vote = {
                "poll": row.poll_id,
                "matter": row.matter.label_ja,
                "matterId": row.matter.pk,
                "title": row.matter.title,
                "body": row.sitting.body.name,
                "date": row.sitting.date.isoformat(),
                "method": row.method,
                "result": row.outcome,
                "counts": {"yes": row.yes, "no": row.no},
                "named": row.named,
            }
            if row.named:
                vote["votes"] = [
                    {"member": m.pk, "name": m.full_name, "choice": row.choices.get(m.pk, "absent")}
                    for m in members
                    if m.pk in row.choices
                ]
            votes.append(vote)
        return {
            "$schema": SCHEMA,
            "council": session.council.name,
            "session": session.title,
            "sessionId": session.pk,
            "members": [{"id": m.pk, "name": m.full_name, "seat": m.seat_number} for m in members],
            "votes": votes,
        }


def votes_csv(session: Session) -> str:
    """One line per vote, one column per member: 賛成 / 反対 / 議長 / blank (not named or absent)."""
    members, rows = selectors.public_votes(session)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["番号", "件名", "会議", "日付", "表決方法", "賛成", "反対"] + [m.full_name for m in members]
    )
    with translation.override("ja"):
        for row in rows:
            named = [CHOICE_JA.get(row.choices.get(m.pk, ""), "") if row.named else "" for m in members]
            writer.writerow(
                [
                    row.matter.label_ja,
                    row.matter.title,
                    row.sitting.body.name,
                    row.sitting.date.isoformat(),
                    str(row.method_label),
                    row.yes,
                    row.no,
                ]
                + named
            )
    return out.getvalue()
