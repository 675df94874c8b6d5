"""Drafting: from a ``SittingRecord`` to the minutes' header and blocks, as plain data.

No database writes here, so the services, the benchmark and the tests share one function.
The order of the proceedings: the opening, then each agenda item (heading, its turns at the
floor and its votes in time order), with recesses and resumptions placed by their times, and
the closing last.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field

from meetings.minutes.record import (
    ABSENT,
    LATE,
    LEFT,
    PRESENT_ONLINE,
    AttendanceRow,
    SittingRecord,
    StatusEvent,
    Turn,
    VoteRecord,
    local,
)

STATUS_WORDS_PLENARY = {"open": "開議", "recess": "休憩", "resume": "再開", "close": "散会"}
STATUS_WORDS_COMMITTEE = {"open": "開会", "recess": "休憩", "resume": "再開", "close": "閉会"}
METHOD_LABELS = {
    "standing": "起立",
    "hands": "挙手",
    "roll_call": "記名投票",
    "secret": "無記名投票",
    "no_objection": "簡易表決",
}
RESULT_LABELS = {"adopted": "可決", "rejected": "否決", "objected": "異議あり"}
CHOICE_LABELS = {"yes": "賛成", "no": "反対", "abstain": "棄権"}
ATTENDANCE_LABELS = {
    "present_room": "出席",
    PRESENT_ONLINE: "出席(オンライン)",
    ABSENT: "欠席",
    LATE: "遅刻",
    LEFT: "早退",
}
CLOSED_SESSION_NOTE = "(この間、秘密会)"


def jp_time(dt: datetime.datetime | None) -> str:
    """午前10時00分 / 午後1時05分, in local time."""
    if dt is None:
        return ""
    t = local(dt)
    half = "午前" if t.hour < 12 else "午後"
    hour = t.hour if t.hour < 12 else t.hour - 12  # 正午 is 午後0時
    return f"{half}{hour}時{t.minute:02d}分"


@dataclass
class BlockSpec:
    kind: str
    text: str = ""
    agenda_item_id: int | None = None
    speaker_id: int | None = None
    speaker_role: str = ""
    speaker_name: str = ""
    started_at: datetime.datetime | None = None
    ended_at: datetime.datetime | None = None
    data: dict = field(default_factory=dict)
    source: str = ""

    @property
    def heading(self) -> str:
        if not self.speaker_role:
            return self.speaker_name
        return f"{self.speaker_role}({self.speaker_name}君)" if self.speaker_name else self.speaker_role

    @property
    def is_editable(self) -> bool:
        return self.kind in ("speech", "remark")


def _person_row(row: AttendanceRow) -> dict:
    p = row.person
    return {
        "person_id": p.id,
        "seat_number": p.seat_number,
        "name": p.name,
        "kana": p.kana,
        "title": p.title,
        "caucus": p.caucus,
        "status": row.status,
        "status_label": ATTENDANCE_LABELS.get(row.status, row.status),
        "remote": row.status == PRESENT_ONLINE,
        "reason": row.reason,
        "at": jp_time(row.at),
    }


def build_header(record: SittingRecord) -> dict:
    """The front matter: title, date, place, times, attendance, officials, order of business."""
    from council.formats import era_date

    words = STATUS_WORDS_PLENARY if record.is_plenary else STATUS_WORDS_COMMITTEE
    members = sorted(record.members, key=lambda r: (r.person.seat_number or 999, r.person.kana))
    present = [_person_row(r) for r in members if r.present]
    absent = [_person_row(r) for r in members if not r.present]
    return {
        "title": record.title,
        "council": record.council,
        "municipality": record.municipality,
        "body": record.body,
        "is_plenary": record.is_plenary,
        "date": record.date.isoformat(),
        "date_label": era_date(record.date),
        "place": record.place,
        "chair": {"name": record.chair.name, "kana": record.chair.kana} if record.chair else None,
        "chair_title": "議長" if record.is_plenary else "委員長",
        "times": [
            {
                "kind": e.kind,
                "label": words.get(e.kind, e.kind),
                "time": jp_time(e.at),
                "at": local(e.at).isoformat(),
            }
            for e in record.events
        ],
        "members_total": len(members),
        "present": present,
        "absent": absent,
        "officials": [_person_row(r) for r in record.officials if r.present],
        "secretariat": [_person_row(r) for r in record.secretariat if r.present],
        "agenda": [
            {"id": a.id, "label": a.label, "title": a.full_title, "closed_session": a.closed_session}
            for a in record.agenda
        ],
    }


def vote_data(vote: VoteRecord, *, chair_title: str = "議長") -> dict:
    method = METHOD_LABELS.get(vote.method, vote.method)
    result = RESULT_LABELS.get(vote.result, vote.result)
    if vote.method == "no_objection" and vote.result == "objected":
        summary = "異議があるため、表決に付する"
    elif vote.method == "no_objection":
        summary = f"異議なしと認め、{result}"
    elif vote.method == "secret":
        summary = f"{method}により採決 賛成{vote.yes or 0}票 反対{vote.no or 0}票 {result}"
    elif vote.method == "roll_call":
        summary = f"{method}により採決 賛成{vote.yes or 0}票 反対{vote.no or 0}票 {result}"
    elif vote.method in UNANIMOUS and vote.unanimous:
        summary = f"{method}により採決 {UNANIMOUS[vote.method]} {result}"
    else:
        summary = f"{method}により採決 賛成{vote.yes or 0}人 反対{vote.no or 0}人 {result}"
    if vote.casting_vote:
        summary += (
            f"(可否同数のため{chair_title}裁決: {CHOICE_LABELS.get(vote.casting_vote, vote.casting_vote)})"
        )
    ballots = sorted(vote.ballots, key=lambda b: (b.person.seat_number or 999, b.person.kana))
    return {
        "vote_id": vote.id,
        "motion": vote.motion,
        "method": vote.method,
        "method_label": method,
        "result": vote.result,
        "result_label": result,
        "yes": vote.yes,
        "no": vote.no,
        "abstain": vote.abstain,
        "present": vote.present,
        "unanimous": vote.unanimous,
        "requirement": vote.requirement,
        "special": vote.special,
        "casting_vote": vote.casting_vote,
        "declared_at": local(vote.declared_at).isoformat() if vote.declared_at else None,
        "summary": summary,
        "ballots": [
            {
                "person_id": b.person.id,
                "seat_number": b.person.seat_number,
                "name": b.person.name,
                "kana": b.person.kana,
                "choice": b.choice,
                "choice_label": CHOICE_LABELS.get(b.choice, b.choice),
                "recorded_by_clerk": b.recorded_by_clerk,
            }
            for b in ballots
        ]
        if vote.method == "roll_call"
        else [],
    }


def _speech(turn: Turn) -> BlockSpec:
    return BlockSpec(
        kind="speech",
        agenda_item_id=turn.agenda_item_id,
        speaker_id=turn.person.id,
        speaker_role=turn.role,
        speaker_name=turn.person.name,
        started_at=turn.granted_at,
        ended_at=turn.ended_at,
        data={"position": turn.position, "caucus": turn.person.caucus, "kana": turn.person.kana},
        source=f"turn:{turn.id}",
    )


def _status(event: StatusEvent, words: dict) -> BlockSpec:
    return BlockSpec(
        kind="status",
        text=f"{jp_time(event.at)} {words.get(event.kind, event.kind)}",
        started_at=event.at,
        data={"event": event.kind, "label": words.get(event.kind, event.kind), "time": jp_time(event.at)},
        source=f"status:{event.kind}:{event.at.isoformat()}",
    )


def _vote(vote: VoteRecord, chair_title: str) -> BlockSpec:
    data = vote_data(vote, chair_title=chair_title)
    return BlockSpec(
        kind="vote",
        agenda_item_id=vote.agenda_item_id,
        started_at=vote.declared_at,
        text=data["summary"],
        data=data,
        source=f"vote:{vote.id}",
    )


ASK = {
    "standing": "お諮りします。{about}原案のとおり決定することに賛成の方はご起立願います。",
    "hands": "お諮りします。{about}原案のとおり決定することに賛成の方は挙手願います。",
    "roll_call": "これより{motion}を記名投票により採決します。",
    "secret": "これより{motion}を無記名投票により採決します。",
    "no_objection": "お諮りします。{about}原案のとおり決定することにご異議ありませんか。",
}


def _about(motion: str) -> str:
    """「○○について、」 without doubling a title that already ends in について."""
    return f"{motion}、" if motion.endswith("について") else f"{motion}について、"


MAJORITY = {"standing": ("起立多数", "起立少数"), "hands": ("挙手多数", "挙手少数")}
# Everyone entitled rose or raised a hand: the chair says 起立全員 / 挙手全員, not 多数.
UNANIMOUS = {"standing": "起立全員", "hands": "挙手全員"}


def _declaration(vote: VoteRecord, chair_title: str) -> str:
    """The chair's words declaring the result (結果の宣告), from the record."""
    result = RESULT_LABELS.get(vote.result, vote.result)
    then = f"よって、{vote.motion}は{result}されました。"
    if vote.method == "no_objection":
        if vote.result == "objected":
            return "ご異議がありますので、表決に付します。"
        return f"ご異議なしと認めます。{then}"
    if vote.casting_vote:
        choice = "可決" if vote.casting_vote == "yes" else "否決"
        return (
            f"可否同数であります。地方自治法第116条第1項の規定により、{chair_title}が裁決します。"
            f"{chair_title}は、本件について{choice}と裁決します。{then}"
        )
    if vote.method in UNANIMOUS and vote.unanimous:
        return f"{UNANIMOUS[vote.method]}です。{then}"
    if vote.method in MAJORITY:
        return f"{MAJORITY[vote.method][0 if vote.result == 'adopted' else 1]}です。{then}"
    side = "賛成多数" if vote.result == "adopted" else "反対多数"
    return (
        f"投票の結果を報告します。賛成{vote.yes or 0}票、反対{vote.no or 0}票。以上のとおり{side}です。{then}"
    )


class _Chair:
    """The chair's customary lines (開議・議題・採決・休憩・散会の宣告), suggested in the draft as
    speech blocks the clerk can edit or delete. Each is timed at its moment and never spans time,
    so a transcript fills only the real turns."""

    def __init__(self, record: SittingRecord):
        self.person = record.chair
        self.title = "議長" if record.is_plenary else "委員長"
        self.body = record.body
        self.plenary = record.is_plenary

    def line(self, text: str, *, at, source: str, item_id: int | None = None) -> list[BlockSpec]:
        if self.person is None:
            return []
        return [
            BlockSpec(
                kind="speech",
                text=text,
                agenda_item_id=item_id,
                speaker_id=self.person.id,
                speaker_role=self.title,
                speaker_name=self.person.name,
                started_at=at,
                ended_at=at,
                data={
                    "position": self.title,
                    "caucus": self.person.caucus,
                    "kana": self.person.kana,
                    "template": True,
                    "template_text": text,
                },
                source=source,
            )
        ]

    def opening(self, at) -> list[BlockSpec]:
        text = (
            "ただいまから本日の会議を開きます。" if self.plenary else f"ただいまから{self.body}を開会します。"
        )
        return self.line(text, at=at, source="chair:open")

    def closing(self, at) -> list[BlockSpec]:
        text = (
            "以上で本日の日程は全部終了しました。本日はこれで散会します。"
            if self.plenary
            else f"以上で本日の審査は全部終了しました。これで{self.body}を閉会します。"
        )
        return self.line(text, at=at, source="chair:close")


def _asked_at(vote: VoteRecord):
    if vote.opened_at and vote.declared_at:
        return min(vote.opened_at, vote.declared_at)
    return vote.opened_at or vote.declared_at


_RANK = {"chair:ask": 0, "turn": 1, "vote": 2, "chair:declare": 3}


def _rank(block: BlockSpec) -> int:
    prefix = block.source.rsplit(":", 1)[0]
    return _RANK.get(prefix, 1)


def build_blocks(record: SittingRecord) -> list[BlockSpec]:
    words = STATUS_WORDS_PLENARY if record.is_plenary else STATUS_WORDS_COMMITTEE
    chair = _Chair(record)
    far = datetime.datetime.max.replace(tzinfo=datetime.UTC)
    by_item: dict[int | None, list[BlockSpec]] = {}
    closed_items = {a.id for a in record.agenda if a.closed_session}
    for turn in record.turns:
        if turn.agenda_item_id in closed_items:
            continue  # a closed session's speeches are not part of the published minutes
        by_item.setdefault(turn.agenda_item_id, []).append(_speech(turn))
    for vote in record.votes:
        item_blocks = by_item.setdefault(vote.agenda_item_id, [])
        item_blocks += chair.line(
            ASK.get(vote.method, "").format(motion=vote.motion, about=_about(vote.motion)),
            at=_asked_at(vote),
            source=f"chair:ask:{vote.id}",
            item_id=vote.agenda_item_id,
        )
        item_blocks.append(_vote(vote, chair.title))
        item_blocks += chair.line(
            _declaration(vote, chair.title),
            at=vote.declared_at,
            source=f"chair:declare:{vote.id}",
            item_id=vote.agenda_item_id,
        )
    for items in by_item.values():
        items.sort(key=lambda b: (b.started_at or far, _rank(b)))

    body: list[BlockSpec] = list(by_item.pop(None, []))  # business before the first item
    for entry in record.agenda:
        body.append(
            BlockSpec(
                kind="heading",
                agenda_item_id=entry.id,
                text=f"{entry.label} {entry.full_title}",
                data={"label": entry.label, "title": entry.full_title},
                source=f"agenda:{entry.id}",
            )
        )
        if entry.kind == "signers":
            intro = f"{entry.label}、会議録署名議員の指名を行います。"
        else:
            intro = f"{entry.label}、{entry.full_title}を議題といたします。"
        body += chair.line(intro, at=None, source=f"chair:item:{entry.id}", item_id=entry.id)
        for ex in (x for x in record.exclusions if x.agenda_item_id == entry.id):
            seat = f"{ex.person.seat_number}番 " if ex.person.seat_number else ""
            body.append(
                BlockSpec(
                    kind="status",
                    agenda_item_id=entry.id,
                    text=f"({seat}{ex.person.name}君 除斥のため退席)",
                    data={"event": "exclusion", "person_id": ex.person.id, "reason": ex.reason},
                    source=f"exclusion:{entry.id}:{ex.person.id}",
                )
            )
        if entry.closed_session:
            body.append(
                BlockSpec(
                    kind="remark",
                    agenda_item_id=entry.id,
                    text=CLOSED_SESSION_NOTE,
                    source=f"closed:{entry.id}",
                )
            )
        body.extend(by_item.pop(entry.id, []))
    for rest in by_item.values():  # turns on items no longer on the agenda
        body.extend(rest)

    opening = [e for e in record.events if e.kind == "open"][:1]
    closing = [e for e in record.events if e.kind == "close"][-1:]
    middle = [e for e in record.events if e.kind in ("recess", "resume")]
    blocks = []
    for e in opening:
        blocks += [_status(e, words), *chair.opening(e.at)]
    # Place each recess or resumption before the first timed block that comes after it.
    pending = sorted(middle, key=lambda e: e.at)

    def flush_one() -> None:
        event = pending.pop(0)
        if event.kind == "recess":
            blocks.extend(
                [
                    *chair.line(
                        "暫時休憩します。", at=event.at, source=f"chair:recess:{event.at.isoformat()}"
                    ),
                    _status(event, words),
                ]
            )
        else:
            blocks.extend(
                [
                    _status(event, words),
                    *chair.line(
                        "休憩前に引き続き会議を開きます。",
                        at=event.at,
                        source=f"chair:resume:{event.at.isoformat()}",
                    ),
                ]
            )

    for block in body:
        while pending and block.started_at and pending[0].at <= block.started_at:
            flush_one()
        blocks.append(block)
    while pending:
        flush_one()
    for e in closing:
        blocks += [*chair.closing(e.at), _status(e, words)]
    return blocks


def spec_dict(spec: BlockSpec) -> dict:
    return asdict(spec)


def merge_kept(specs: list[BlockSpec], old: list) -> list[BlockSpec]:
    """Refreshing a draft from the record keeps what the clerk typed: speech texts (matched by
    the turn they came from) and remarks (placed after the block they followed). ``old`` are the
    draft's blocks in order (``Block`` rows, only read)."""
    # A suggestion nobody touched is suggested afresh (the record may have been corrected).
    typed = {
        b.source: b.text for b in old if b.kind == "speech" and b.source and not b.is_untouched_suggestion
    }
    anchored: dict[str, list[BlockSpec]] = {}
    anchor = ""
    for b in old:
        if b.kind == "remark" and not b.source.startswith("closed:"):
            anchored.setdefault(anchor, []).append(
                BlockSpec(kind="remark", text=b.text, agenda_item_id=b.agenda_item_id)
            )
        elif b.kind != "remark":
            anchor = b.source
    merged = list(anchored.pop("", []))
    for spec in specs:
        if spec.kind == "speech" and spec.source in typed:
            spec.text = typed[spec.source]
        merged.append(spec)
        if spec.source:
            merged.extend(anchored.pop(spec.source, []))
    for rest in anchored.values():
        merged.extend(rest)
    return merged
