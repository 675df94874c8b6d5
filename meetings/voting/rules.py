"""The law's decision rules as one pure function (no database, no clock); the rules are stated in
docs/procedure.md (#decisions, #special-majorities).

§116 ordinary rule: a majority of those voting decides, "majority" meaning strictly more than
half (yes > no); the chair does not vote and decides a tie (可否同数 → 裁決).
Special majorities: the chair votes and there is no casting vote; the attendance needed is
either simply the quorum or a fraction of the members *in office* (議員数, read as 現に在職する
議員の数: §135 expulsion, §178 no-confidence, self-dissolution), never of the seats (定数) that
§113's quorum uses; with 10 seats and 9 in office expulsion needs 6 present (docs/procedure.md).
The approval needed is a fraction of the members present for the matter, "at least" that
fraction (≥ 2/3: 8 of 12 passes, 7 of 11 fails).
All arithmetic is exact (integers and ``Fraction``), never floating point.

§113 quorum: at least ``quorum`` members present. A member excluded for personal interest
(除斥, §117) is not counted for that matter, but when the exclusion alone leaves the body short
the sitting may continue (§113 proviso), so ``present + excluded >= quorum`` suffices.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from meetings.attendance.rules import quorum_met

ORDINARY = "ordinary"
SPECIAL = "special"

CARRIED = "carried"
REJECTED = "rejected"
TIE = "tie"
NO_QUORUM = "no_quorum"
ATTENDANCE_SHORT = "attendance_short"

# What a special majority's attendance fraction is taken of (each explicit, as §113's quorum
# basis is on the body).
IN_OFFICE = "in_office"  # 議員数: the members currently in office
SEATS = "seats"  # 定数: the fixed number of seats


@dataclass(frozen=True)
class Requirement:
    """What a question needs. ``attendance`` is a fraction of ``attendance_basis`` (the members
    in office, or the seats; None: the quorum suffices); ``approval`` a fraction of present
    members that the yes votes must reach or exceed."""

    kind: str = ORDINARY
    attendance: Fraction | None = None
    approval: Fraction | None = None
    key: str = ""
    label: str = ""
    attendance_basis: str = IN_OFFICE

    def __post_init__(self) -> None:
        if self.kind not in (ORDINARY, SPECIAL):
            raise ValueError(f"unknown requirement kind {self.kind!r}")
        if self.kind == SPECIAL:
            if self.approval is None or not (0 < self.approval <= 1):
                raise ValueError("a special majority needs an approval fraction in (0, 1]")
            if self.attendance is not None and not (0 < self.attendance <= 1):
                raise ValueError("the attendance fraction must be in (0, 1]")
        if self.attendance_basis not in (IN_OFFICE, SEATS):
            raise ValueError(f"unknown attendance basis {self.attendance_basis!r}")

    @property
    def chair_votes(self) -> bool:
        return self.kind == SPECIAL

    def as_dict(self) -> dict:
        def frac(f: Fraction | None):
            return None if f is None else [f.numerator, f.denominator]

        return {
            "kind": self.kind,
            "attendance": frac(self.attendance),
            "approval": frac(self.approval),
            "key": self.key,
            "label": self.label,
            "attendance_basis": self.attendance_basis,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Requirement:
        def frac(v):
            return None if v is None else Fraction(int(v[0]), int(v[1]))

        return cls(
            kind=data.get("kind", ORDINARY),
            attendance=frac(data.get("attendance")),
            approval=frac(data.get("approval")),
            key=data.get("key", ""),
            label=data.get("label", ""),
            # Stored before the basis was recorded: those were counted against the seats.
            attendance_basis=data.get("attendance_basis", SEATS),
        )


ORDINARY_MAJORITY = Requirement(kind=ORDINARY, key="ordinary", label="過半数（地方自治法第116条）")

# The statutory special majorities (docs/procedure.md#special-majorities). Councils may override labels or fractions
# per key (``MajorityPreset``).
PRESETS: dict[str, Requirement] = {
    "office_location": Requirement(
        SPECIAL, None, Fraction(2, 3), "office_location", "事務所の位置（第4条）: 出席議員の3分の2以上"
    ),
    "closed_session": Requirement(
        SPECIAL, None, Fraction(2, 3), "closed_session", "秘密会（第115条）: 出席議員の3分の2以上"
    ),
    "two_thirds": Requirement(
        SPECIAL,
        None,
        Fraction(2, 3),
        "two_thirds",
        "資格決定・再議・重要な公の施設の廃止等（第127条・第176条・第244条の2）: 出席議員の3分の2以上",
    ),
    "expulsion": Requirement(
        SPECIAL,
        Fraction(2, 3),
        Fraction(3, 4),
        "expulsion",
        "懲罰による除名（第135条）: 議員数（現に在職する議員）の3分の2以上出席、その4分の3以上",
    ),
    "no_confidence": Requirement(
        SPECIAL,
        Fraction(2, 3),
        Fraction(3, 4),
        "no_confidence",
        "不信任議決（第178条）: 議員数（現に在職する議員）の3分の2以上出席、その4分の3以上",
    ),
    "dissolution": Requirement(
        SPECIAL,
        Fraction(3, 4),
        Fraction(4, 5),
        "dissolution",
        "自主解散（特例法）: 議員数（現に在職する議員）の4分の3以上出席、その5分の4以上",
    ),
}


@dataclass(frozen=True)
class Decision:
    outcome: str  # carried | rejected | tie | no_quorum | attendance_short
    carried: bool | None  # None while a tie waits for the chair
    casting_vote_used: bool = False
    needs_casting_vote: bool = False
    quorum_by_proviso: bool = False  # met only through the §113 exclusion proviso
    approval_needed: int | None = None  # yes votes needed (special majorities)
    attendance_needed: int | None = None


def at_least(part: int, whole: int, fraction: Fraction) -> bool:
    """part ≥ fraction × whole, exactly."""
    return part * fraction.denominator >= fraction.numerator * whole


def minimum_for(whole: int, fraction: Fraction) -> int:
    """The least integer n with n ≥ fraction × whole."""
    return -(-fraction.numerator * whole // fraction.denominator)


def decide(
    *,
    requirement: Requirement,
    seats: int,
    quorum: int,
    present: int,
    yes: int,
    no: int,
    excluded: int = 0,
    casting_vote: str | None = None,
    in_office: int | None = None,
) -> Decision:
    """The result of a vote under the law.

    ``present``: members present for this matter, chair included, excluded members not.
    ``excluded``: members present but excluded (除斥) from this matter.
    ``yes``/``no``: votes cast. Under the ordinary rule the chair does not vote, so at most
    ``present - 1`` votes are cast; under a special majority the chair votes (at most ``present``).
    ``casting_vote``: the chair's decision on an ordinary-rule tie ("yes" or "no").
    ``in_office``: members currently in office (議員数), the basis of a special majority's
    attendance when its ``attendance_basis`` is ``IN_OFFICE``; at most ``seats``.
    Raises ``ValueError`` for inputs that cannot happen.
    """
    for name, value in (
        ("seats", seats),
        ("quorum", quorum),
        ("present", present),
        ("yes", yes),
        ("no", no),
        ("excluded", excluded),
    ):
        if value < 0:
            raise ValueError(f"{name} cannot be negative")
    if present + excluded > seats:
        raise ValueError("more members present than seats")
    if in_office is not None and not (present + excluded <= in_office <= seats):
        raise ValueError("members in office must be between those present and the seats")
    voters = present if requirement.chair_votes else max(present - 1, 0)
    if yes + no > voters:
        raise ValueError("more votes than members entitled to vote")
    if casting_vote not in (None, "yes", "no"):
        raise ValueError("the casting vote is yes or no")
    if casting_vote is not None and requirement.kind == SPECIAL:
        raise ValueError("there is no casting vote under a special majority")

    met, by_proviso = quorum_met(quorum=quorum, present=present, excluded=excluded)
    if not met:
        return Decision(NO_QUORUM, False)

    if requirement.kind == ORDINARY:
        if yes > no:
            return Decision(CARRIED, True, quorum_by_proviso=by_proviso)
        if no > yes:
            return Decision(REJECTED, False, quorum_by_proviso=by_proviso)
        if casting_vote is None:
            return Decision(TIE, None, needs_casting_vote=True, quorum_by_proviso=by_proviso)
        carried = casting_vote == "yes"
        return Decision(
            CARRIED if carried else REJECTED, carried, casting_vote_used=True, quorum_by_proviso=by_proviso
        )

    attendance_needed = None
    if requirement.attendance is not None:
        if requirement.attendance_basis == IN_OFFICE:
            if in_office is None:
                raise ValueError("this requirement counts attendance against the members in office")
            basis = in_office
        else:
            basis = seats
        attendance_needed = minimum_for(basis, requirement.attendance)
        if not at_least(present, basis, requirement.attendance):
            return Decision(
                ATTENDANCE_SHORT,
                False,
                quorum_by_proviso=by_proviso,
                attendance_needed=attendance_needed,
                approval_needed=minimum_for(present, requirement.approval),
            )
    approval_needed = minimum_for(present, requirement.approval)
    carried = at_least(yes, present, requirement.approval)
    return Decision(
        CARRIED if carried else REJECTED,
        carried,
        quorum_by_proviso=by_proviso,
        approval_needed=approval_needed,
        attendance_needed=attendance_needed,
    )
