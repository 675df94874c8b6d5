"""Open data beside the PDF: JSON shaped like the National Diet minutes API (meeting →
speechRecord), Popolo vote events (motion, counts, individual roll-call votes), and CSV.

Everything comes from the minutes' own blocks, so an export always matches the document.
The JSON's shape is kept in ``docs/minutes.schema.json``.
"""

from __future__ import annotations

import csv
import io

from django.utils import timezone

from meetings.minutes import selectors
from meetings.minutes.models import Block, Minutes

SCHEMA_ID = "https://gikai.example/schemas/minutes.schema.json"
POPOLO_RESULT = {"adopted": "pass", "rejected": "fail"}


def _iso(dt) -> str | None:
    return timezone.localtime(dt).isoformat() if dt else None


def front_matter(minutes: Minutes) -> str:
    """The front matter as one text, like the Diet API's speechOrder 0 (会議録情報)."""
    h = minutes.header or {}
    lines = [minutes.title, f"{h.get('date_label', '')} {h.get('place', '')}".strip()]
    lines += [f"{t['label']} {t['time']}" for t in h.get("times", [])]
    lines.append("○議事日程")
    lines += [f"{a['label']} {a['title']}" for a in h.get("agenda", [])]
    lines.append(f"○出席議員({len(h.get('present', []))}名)")
    lines += [
        f"{m['seat_number'] or ''}番 {m['name']}君{'(オンライン)' if m.get('remote') else ''}"
        for m in h.get("present", [])
    ]
    lines.append(f"○欠席議員({len(h.get('absent', []))}名)")
    lines += [f"{m['seat_number'] or ''}番 {m['name']}君" for m in h.get("absent", [])]
    lines.append("○説明のため出席した者")
    lines += [f"{o['title']} {o['name']}" for o in h.get("officials", [])]
    lines.append("○職務のため出席した事務局職員")
    lines += [f"{o['title']} {o['name']}" for o in h.get("secretariat", [])]
    return "\n".join(lines)


def vote_blocks(minutes: Minutes, blocks=None) -> list[Block]:
    blocks = selectors.ordered_blocks(minutes) if blocks is None else blocks
    return [b for b in blocks if b.kind == Block.Kind.VOTE]


def popolo(minutes: Minutes, blocks=None) -> dict:
    """Popolo Motion / VoteEvent / Count / Vote for every vote in the minutes."""
    sitting = minutes.sitting
    motions, events = [], []
    for b in vote_blocks(minutes, blocks):
        d = b.data
        motion_id = f"motion-{d['vote_id']}"
        motions.append(
            {
                "id": motion_id,
                "organization_id": f"body-{sitting.body_id}",
                "legislative_session_id": f"session-{sitting.session_id}",
                "text": d.get("motion") or "",
                "date": d.get("declared_at") or sitting.date.isoformat(),
                "requirement": d.get("requirement") or "",
                "result": POPOLO_RESULT.get(d.get("result"), d.get("result") or ""),
            }
        )
        counts = []
        for option in ("yes", "no", "abstain"):
            if d.get(option) is not None:
                counts.append({"option": option, "value": d[option]})
        events.append(
            {
                "id": f"vote-{d['vote_id']}",
                "motion_id": motion_id,
                "organization_id": f"body-{sitting.body_id}",
                "start_date": d.get("declared_at") or sitting.date.isoformat(),
                "method": d.get("method"),
                "method_label": d.get("method_label"),
                "result": POPOLO_RESULT.get(d.get("result"), d.get("result") or ""),
                "casting_vote": d.get("casting_vote") or None,
                "counts": counts,
                "votes": [
                    {
                        "voter_id": f"person-{v['person_id']}",
                        "voter_name": v["name"],
                        "option": v["choice"],
                        "seat_number": v.get("seat_number"),
                    }
                    for v in d.get("ballots", [])
                ],
            }
        )
    return {"motions": motions, "vote_events": events}


def diet_json(minutes: Minutes, *, base_url: str = "") -> dict:
    """The minutes in the shape of the National Diet Library's minutes API."""
    sitting = minutes.sitting
    blocks = selectors.ordered_blocks(minutes)
    issue_id = f"{sitting.session.council_id}-{sitting.pk}-v{minutes.version}"
    created, updated = _iso(minutes.created_at), _iso(minutes.signed_at or minutes.updated_at)
    speeches = [
        {
            "speechID": f"{issue_id}_000",
            "speechOrder": 0,
            "speaker": "会議録情報",
            "speakerYomi": None,
            "speakerGroup": None,
            "speakerPosition": None,
            "speakerRole": None,
            "speech": front_matter(minutes),
            "startTime": None,
            "createTime": created,
            "updateTime": updated,
        }
    ]
    chair_title = (minutes.header or {}).get("chair_title", "議長")
    order = 0
    for b in blocks:
        if b.kind != Block.Kind.SPEECH:
            continue
        order += 1
        speaker = b.speaker
        speeches.append(
            {
                "speechID": f"{issue_id}_{order:03d}",
                "speechOrder": order,
                "speaker": b.speaker_name,
                "speakerYomi": (b.data or {}).get("kana")
                or (speaker.full_name_kana.replace(" ", "") if speaker else None),
                "speakerGroup": (b.data or {}).get("caucus") or None,
                "speakerPosition": (b.data or {}).get("position") or b.speaker_role or None,
                "speakerRole": chair_title if b.speaker_role == chair_title else None,
                "speech": f"○{b.heading}　{b.text}",
                "startTime": _iso(b.started_at),
                "createTime": created,
                "updateTime": _iso(b.updated_at),
            }
        )
    record = {
        "issueID": issue_id,
        "imageKind": "会議録",
        "session": sitting.session.number,
        "sessionTitle": sitting.session.title,
        "nameOfHouse": sitting.session.council.name,
        "nameOfMeeting": sitting.body.name,
        "issue": f"第{sitting.number}号",
        "date": sitting.date.isoformat(),
        "title": minutes.title,
        "version": minutes.version,
        "corrects": minutes.corrects.version if minutes.corrects_id else None,
        "state": minutes.state,
        "textSha256": minutes.text_sha256 or None,
        "pdfSha256": minutes.pdf_sha256 or None,
        "agenda": [
            {"label": a["label"], "title": a["title"]} for a in (minutes.header or {}).get("agenda", [])
        ],
        "speechRecord": speeches,
        "voteEvents": popolo(minutes, blocks)["vote_events"],
        "meetingURL": f"{base_url}/meetings/minutes/public/{minutes.pk}/" if base_url else None,
        "pdfURL": f"{base_url}/meetings/minutes/public/{minutes.pk}/pdf/"
        if base_url and minutes.pdf
        else None,
    }
    return {
        "$schema": SCHEMA_ID,
        "numberOfRecords": 1,
        "numberOfReturn": 1,
        "startRecord": 1,
        "nextRecordPosition": None,
        "meetingRecord": [record],
    }


CSV_COLUMNS = [
    "vote_id",
    "agenda_item",
    "motion",
    "method",
    "result",
    "yes",
    "no",
    "abstain",
    "seat_number",
    "member",
    "vote",
]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """Neutralise spreadsheet formulas (CSV injection): text starting with = + - @ gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, out):
        self._writer = csv.writer(out)

    def writerow(self, row):
        self._writer.writerow([csv_safe(cell) for cell in row])


def votes_csv(minutes: Minutes) -> str:
    """One row per counted vote; roll-call ballots add one row per member with their vote."""
    headings = {}
    out = io.StringIO()
    writer = _SafeWriter(out)
    writer.writerow(CSV_COLUMNS)
    blocks = selectors.ordered_blocks(minutes)
    for b in blocks:
        if b.kind == Block.Kind.HEADING:
            headings[b.agenda_item_id] = b.text
    for b in vote_blocks(minutes, blocks):
        d = b.data
        base = [
            d["vote_id"],
            headings.get(b.agenda_item_id, ""),
            d.get("motion") or "",
            d.get("method_label"),
            d.get("result_label"),
            d.get("yes"),
            d.get("no"),
            d.get("abstain"),
        ]
        writer.writerow(base + ["", "", ""])
        for v in d.get("ballots", []):
            writer.writerow(base + [v.get("seat_number") or "", v["name"], v["choice_label"]])
    return out.getvalue()
