"""The road of a matter (議案等) as pure functions: which step may follow which, what a vote's
outcome means for each kind of matter, and how matters are numbered and labelled.

No database and no request: the services ask these functions and refuse with their reason.
The steps follow the standard town council rules of procedure (標準町村議会会議規則):
上程 → 提案理由の説明 → 質疑 → 付託 (or 委員会付託省略) → 委員会審査 → 委員長報告 → 討論 → 採決.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# --- kinds -----------------------------------------------------------------------------------

BILL = "bill"
REPORT = "report"
APPROVAL = "approval"
CONSENT = "consent"
CERTIFICATION = "certification"
CONSULTATION = "consultation"
MEMBERS_BILL = "members_bill"
OPINION = "opinion"
RESOLUTION = "resolution"
PETITION = "petition"
REPRESENTATION = "representation"
ELECTION = "election"
AMENDMENT = "amendment"

KINDS = [
    (BILL, gettext_lazy("Bill (議案)")),
    (REPORT, gettext_lazy("Report (報告)")),
    (APPROVAL, gettext_lazy("Approval (承認)")),
    (CONSENT, gettext_lazy("Consent (同意)")),
    (CERTIFICATION, gettext_lazy("Certification (認定)")),
    (CONSULTATION, gettext_lazy("Consultation (諮問)")),
    (MEMBERS_BILL, gettext_lazy("Members' bill (発議案)")),
    (OPINION, gettext_lazy("Written opinion (意見書案)")),
    (RESOLUTION, gettext_lazy("Resolution (決議案)")),
    (PETITION, gettext_lazy("Petition (請願)")),
    (REPRESENTATION, gettext_lazy("Representation (陳情)")),
    (ELECTION, gettext_lazy("Election (選挙)")),
    (AMENDMENT, gettext_lazy("Amendment (修正案)")),
]

# The word before 第○号, and the English label.
PREFIX = {
    BILL: ("議案", "Bill"),
    REPORT: ("報告", "Report"),
    APPROVAL: ("承認", "Approval"),
    CONSENT: ("同意", "Consent"),
    CERTIFICATION: ("認定", "Certification"),
    CONSULTATION: ("諮問", "Consultation"),
    MEMBERS_BILL: ("発議", "Members' Bill"),
    OPINION: ("意見書案", "Draft Opinion"),
    RESOLUTION: ("決議案", "Draft Resolution"),
    PETITION: ("請願", "Petition"),
    REPRESENTATION: ("陳情", "Representation"),
    ELECTION: ("選挙", "Election"),
}

PETITION_KINDS = frozenset({PETITION, REPRESENTATION})


def label(kind: str, number: int | None, *, amends: str = "", english: bool = False) -> str:
    """議案第45号 / Bill No. 45; an amendment is named after the matter it amends."""
    if kind == AMENDMENT:
        return f"Amendment to {amends}" if english else f"{amends}に対する修正案"
    ja, en = PREFIX[kind]
    return f"{en} No. {number}" if english else f"{ja}第{number}号"


# --- results ---------------------------------------------------------------------------------

PASSED = "passed"  # 原案可決
AMENDED = "amended"  # 修正可決
CARRIED = "carried"  # 可決 (an amendment, a members' motion put without an original)
REJECTED = "rejected"  # 否決
ADOPTED = "adopted"  # 採択
NOT_ADOPTED = "not_adopted"  # 不採択
CONSENTED = "consented"  # 同意
NOT_CONSENTED = "not_consented"  # 不同意
APPROVED = "approved"  # 承認
NOT_APPROVED = "not_approved"  # 不承認
CERTIFIED = "certified"  # 認定
NOT_CERTIFIED = "not_certified"  # 不認定
SUITABLE = "suitable"  # 適任 (諮問への答申)
RECEIVED = "received"  # 報告済 (a report is heard, not voted)
ELECTED = "elected"  # 選挙済
CONTINUED = "continued"  # 継続審査 (not final: the matter stays before a committee)
WITHDRAWN = "withdrawn"  # 撤回

RESULTS = [
    (PASSED, gettext_lazy("Passed as proposed (原案可決)")),
    (AMENDED, gettext_lazy("Passed as amended (修正可決)")),
    (CARRIED, gettext_lazy("Carried (可決)")),
    (REJECTED, gettext_lazy("Rejected (否決)")),
    (ADOPTED, gettext_lazy("Adopted (採択)")),
    (NOT_ADOPTED, gettext_lazy("Not adopted (不採択)")),
    (CONSENTED, gettext_lazy("Consented (同意)")),
    (NOT_CONSENTED, gettext_lazy("Not consented (不同意)")),
    (APPROVED, gettext_lazy("Approved (承認)")),
    (NOT_APPROVED, gettext_lazy("Not approved (不承認)")),
    (CERTIFIED, gettext_lazy("Certified (認定)")),
    (NOT_CERTIFIED, gettext_lazy("Not certified (不認定)")),
    (SUITABLE, gettext_lazy("Found suitable (適任)")),
    (RECEIVED, gettext_lazy("Reported (報告済)")),
    (ELECTED, gettext_lazy("Election held (選挙済)")),
    (CONTINUED, gettext_lazy("Continued examination (継続審査)")),
    (WITHDRAWN, gettext_lazy("Withdrawn (撤回)")),
]

RESULT_JA = {
    PASSED: "原案可決",
    AMENDED: "修正可決",
    CARRIED: "可決",
    REJECTED: "否決",
    ADOPTED: "採択",
    NOT_ADOPTED: "不採択",
    CONSENTED: "同意",
    NOT_CONSENTED: "不同意",
    APPROVED: "承認",
    NOT_APPROVED: "不承認",
    CERTIFIED: "認定",
    NOT_CERTIFIED: "不認定",
    SUITABLE: "適任",
    RECEIVED: "報告済",
    ELECTED: "選挙済",
    CONTINUED: "継続審査",
    WITHDRAWN: "撤回",
}
RESULT_EN = {
    PASSED: "Passed as proposed",
    AMENDED: "Passed as amended",
    CARRIED: "Carried",
    REJECTED: "Rejected",
    ADOPTED: "Adopted",
    NOT_ADOPTED: "Not adopted",
    CONSENTED: "Consented",
    NOT_CONSENTED: "Not consented",
    APPROVED: "Approved",
    NOT_APPROVED: "Not approved",
    CERTIFIED: "Certified",
    NOT_CERTIFIED: "Not certified",
    SUITABLE: "Found suitable",
    RECEIVED: "Reported",
    ELECTED: "Election held",
    CONTINUED: "Continued examination",
    WITHDRAWN: "Withdrawn",
}

# What "carried" and "rejected" mean for each kind (the plenary's decision).
_CARRIED = {
    BILL: PASSED,
    MEMBERS_BILL: PASSED,
    OPINION: PASSED,
    RESOLUTION: PASSED,
    AMENDMENT: CARRIED,
    APPROVAL: APPROVED,
    CONSENT: CONSENTED,
    CERTIFICATION: CERTIFIED,
    CONSULTATION: SUITABLE,
    PETITION: ADOPTED,
    REPRESENTATION: ADOPTED,
    ELECTION: ELECTED,
    REPORT: RECEIVED,
}
_REJECTED = {
    APPROVAL: NOT_APPROVED,
    CONSENT: NOT_CONSENTED,
    CERTIFICATION: NOT_CERTIFIED,
    PETITION: NOT_ADOPTED,
    REPRESENTATION: NOT_ADOPTED,
}


def result_for_vote(kind: str, *, carried: bool, amendment_passed: bool = False) -> str:
    """The plenary's result of a vote on a matter of ``kind``: 原案可決 or 修正可決, 採択 …"""
    if not carried:
        return _REJECTED.get(kind, REJECTED)
    result = _CARRIED[kind]
    if result == PASSED and amendment_passed:
        return AMENDED
    return result


def results_for(kind: str) -> list[str]:
    """Results a clerk may record for a matter of ``kind`` (plus 継続審査 and 撤回 where they apply)."""
    options = {result_for_vote(kind, carried=True), result_for_vote(kind, carried=False)}
    if kind in (BILL, MEMBERS_BILL, OPINION, RESOLUTION):
        options.add(AMENDED)
    if kind == REPORT:
        options = {RECEIVED}
    if kind == ELECTION:
        options = {ELECTED}
    ordered = [code for code, _label in RESULTS if code in options]
    if kind not in (REPORT, ELECTION, AMENDMENT):
        ordered.append(CONTINUED)
    ordered.append(WITHDRAWN)
    return ordered


# --- committee decisions (委員会の審査結果) ----------------------------------------------------

SHOULD_PASS = "should_pass"  # 原案可決すべきもの
SHOULD_AMEND = "should_amend"  # 修正可決すべきもの
SHOULD_REJECT = "should_reject"  # 否決すべきもの
SHOULD_ADOPT = "should_adopt"  # 採択すべきもの
SHOULD_NOT_ADOPT = "should_not_adopt"  # 不採択とすべきもの
SHOULD_CONTINUE = "should_continue"  # 継続審査とすべきもの

COMMITTEE_DECISIONS = [
    (SHOULD_PASS, gettext_lazy("Should pass as proposed (原案可決すべきもの)")),
    (SHOULD_AMEND, gettext_lazy("Should pass as amended (修正可決すべきもの)")),
    (SHOULD_REJECT, gettext_lazy("Should be rejected (否決すべきもの)")),
    (SHOULD_ADOPT, gettext_lazy("Should be adopted (採択すべきもの)")),
    (SHOULD_NOT_ADOPT, gettext_lazy("Should not be adopted (不採択とすべきもの)")),
    (SHOULD_CONTINUE, gettext_lazy("Examination to continue (継続審査とすべきもの)")),
]
COMMITTEE_DECISION_JA = {
    SHOULD_PASS: "原案可決すべきもの",
    SHOULD_AMEND: "修正可決すべきもの",
    SHOULD_REJECT: "否決すべきもの",
    SHOULD_ADOPT: "採択すべきもの",
    SHOULD_NOT_ADOPT: "不採択とすべきもの",
    SHOULD_CONTINUE: "継続審査とすべきもの",
}


def committee_decisions_for(kind: str) -> list[str]:
    if kind in PETITION_KINDS:
        return [SHOULD_ADOPT, SHOULD_NOT_ADOPT, SHOULD_CONTINUE]
    return [SHOULD_PASS, SHOULD_AMEND, SHOULD_REJECT, SHOULD_CONTINUE]


def committee_decision_for_vote(kind: str, *, carried: bool, amendment_passed: bool = False) -> str:
    if kind in PETITION_KINDS:
        return SHOULD_ADOPT if carried else SHOULD_NOT_ADOPT
    if not carried:
        return SHOULD_REJECT
    return SHOULD_AMEND if amendment_passed else SHOULD_PASS


# --- steps -----------------------------------------------------------------------------------

SUBMITTED = "submitted"
PLACED = "placed"
EXPLAINED = "explained"
QUESTIONED = "questioned"
REFERRED = "referred"
REFERRAL_OMITTED = "referral_omitted"
EXAMINED = "examined"
CHAIR_REPORT = "chair_report"
DEBATED = "debated"
VOTED = "voted"
DECIDED = "decided"

STEPS = [
    (SUBMITTED, gettext_lazy("Submitted (提出)")),
    (PLACED, gettext_lazy("Placed on the agenda (上程)")),
    (EXPLAINED, gettext_lazy("Reasons explained (提案理由の説明)")),
    (QUESTIONED, gettext_lazy("Questions (質疑)")),
    (REFERRED, gettext_lazy("Referred to a committee (付託)")),
    (REFERRAL_OMITTED, gettext_lazy("Referral omitted (委員会付託省略)")),
    (EXAMINED, gettext_lazy("Committee decision (委員会審査)")),
    (CHAIR_REPORT, gettext_lazy("Committee chair's report (委員長報告)")),
    (DEBATED, gettext_lazy("Debate (討論)")),
    (VOTED, gettext_lazy("Vote (採決)")),
    (DECIDED, gettext_lazy("Decision (議決)")),
]

# Steps a clerk records with one click (the others come from the services that do the work).
CLERK_STEPS = (EXPLAINED, QUESTIONED, REFERRAL_OMITTED, DEBATED)


@dataclass
class Road:
    """What has happened to a matter so far, as the rules need it."""

    kind: str
    placed_in_plenary: bool = False
    referred: bool = False
    referral_omitted: bool = False
    committee_decision: str = ""  # the latest one
    chair_reported: bool = False
    result: str = ""
    open_amendments: list[str] = field(default_factory=list)  # labels of undecided amendments

    @property
    def finished(self) -> bool:
        return bool(self.result) and self.result != CONTINUED


class StepRefused(Exception):
    """A step the rules do not allow now; ``str()`` is the translated reason."""


def check_step(road: Road, step: str, *, committee: bool = False) -> None:
    """Refuse ``step`` on ``road`` with the reason, or return. ``committee``: taken in a committee."""
    if road.result == WITHDRAWN:
        raise StepRefused(_("This matter was withdrawn; nothing more can happen to it."))
    if road.finished:
        raise StepRefused(
            _("This matter has already been decided (%(result)s).") % {"result": result_text(road.result)}
        )
    if step == PLACED:
        if committee and not road.referred:
            raise StepRefused(
                _("This matter was not referred to a committee; it cannot be on a committee's agenda.")
            )
        return
    if step in (EXPLAINED, QUESTIONED) and not road.placed_in_plenary:
        raise StepRefused(_("Place the matter on the plenary's agenda (上程) first."))
    if step in (REFERRED, REFERRAL_OMITTED):
        if not road.placed_in_plenary:
            raise StepRefused(_("Place the matter on the plenary's agenda (上程) first."))
        if road.kind == AMENDMENT:
            raise StepRefused(
                _("An amendment is not referred on its own; it goes with the matter it amends.")
            )
        if road.referred:
            raise StepRefused(_("This matter has already been referred to a committee."))
        if road.referral_omitted:
            raise StepRefused(_("Referral to a committee was already omitted for this matter."))
    if step == EXAMINED:
        if not road.referred:
            raise StepRefused(_("This matter was never referred to a committee."))
        if road.committee_decision and road.committee_decision != SHOULD_CONTINUE:
            raise StepRefused(_("The committee has already decided on this matter."))
    if step == CHAIR_REPORT:
        if not road.referred:
            raise StepRefused(_("This matter was never referred to a committee; there is nothing to report."))
        if not road.committee_decision:
            raise StepRefused(_("The committee has not decided on this matter yet."))
        if road.chair_reported and road.committee_decision != SHOULD_CONTINUE:
            raise StepRefused(_("The committee chair has already reported on this matter."))
    if step in (DEBATED, VOTED, DECIDED) and not committee:
        if not road.placed_in_plenary:
            raise StepRefused(_("Place the matter on the plenary's agenda (上程) first."))
        if road.referred and not road.chair_reported:
            raise StepRefused(
                _("The committee chair must report (委員長報告) before the plenary debates and decides.")
            )
    if step in (VOTED, DECIDED) and road.open_amendments:
        raise StepRefused(
            _(
                "Vote on the amendment first (%(amendments)s): amendments are decided before the matter they amend."
            )
            % {"amendments": "、".join(road.open_amendments)}
        )


def check_result(kind: str, result: str) -> None:
    if result not in results_for(kind):
        raise StepRefused(_("This result does not apply to this kind of matter."))


def result_text(result: str) -> str:
    from django.utils.translation import get_language

    table = RESULT_EN if (get_language() or "ja").startswith("en") else RESULT_JA
    return table.get(result, result)
