"""``{% voting_context sitting as voting %}``: what the console and reader panels need to render."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from meetings.attendance.models import Attendance, IdentityCheck
from meetings.voting import permissions, selectors
from meetings.voting.models import Poll

register = template.Library()


@register.simple_tag(takes_context=True)
def voting_context(context, sitting) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    person = permissions.person_of(user)
    body = sitting.body
    council = body.council
    presets = selectors.presets_for(council)
    return {
        "sitting_id": sitting.pk,
        "person_id": person.pk if person else "",
        "is_chair": permissions.can_chair(user, sitting),
        "keeps_roll": permissions.can_keep_roll(user, sitting),
        "is_member": permissions.can_take_part(user, sitting),
        "remote_allowed": body.allows_remote_attendance or body.is_plenary,
        "is_plenary": body.is_plenary,
        "agenda_items": list(sitting.agenda_items.all()),
        "attendees": selectors.attendable_non_members(sitting)
        if permissions.can_keep_roll(user, sitting)
        else [],
        "presets": [(key, req.label) for key, req in presets.items()],
        "methods": Poll.Method.choices,
        "statuses": Attendance.Status.choices,
        "reasons": [c for c in Attendance.AbsenceReason.choices if c[0]],
        "check_methods": IdentityCheck.Method.choices,
        "video_url": reverse("meetings:voting:video", args=[sitting.pk]) if body.jitsi_server else "",
        "meeting_url": body.meeting_url,
        "suggest_url": reverse("meetings:voting:suggest", args=[sitting.pk]),
        "strings": strings(),
    }


def strings() -> dict:
    """Words the panels' JavaScript shows, in the user's language."""
    return {
        "quorum_met": _("Quorum met"),
        "quorum_not_met": _("No quorum"),
        "speaker": _("Speaking"),
        "nobody": _("Nobody has the floor"),
        "grant": _("Give the floor"),
        "skip": _("Skip"),
        "end_turn": _("End the turn"),
        "waiting": _("waiting"),
        "online": _("online"),
        "in_queue": _("You are number %(n)s in the queue"),
        "request_floor": _("Ask for the floor"),
        "withdraw": _("Withdraw the request"),
        "yes": _("Yes (賛成)"),
        "no": _("No (反対)"),
        "confirm_vote": _("Your vote cannot be changed. Vote %(choice)s?"),
        "voted": _("Your vote was recorded. Receipt: %(receipt)s"),
        "not_entitled": _("You do not vote on this question."),
        "object": _("Object (異議あり)"),
        "objected": _("An objection was raised: a formal vote follows."),
        "voted_count": _("%(voted)s of %(entitled)s have voted"),
        "not_yet": _("Not yet voted"),
        "close": _("Close the vote"),
        "declare": _("Declare the result"),
        "enter_counts": _("Enter the counts"),
        "casting": _("The votes are tied. The chair decides:"),
        "result": _("Result"),
        "carried": _("Carried (可決)"),
        "rejected": _("Rejected (否決)"),
        "counting": _("Counting"),
        "no_vote": _("No vote in progress"),
        "approve": _("Approve"),
        "refuse": _("Refuse"),
        "check": _("Record the identity check"),
        "passed": _("passed"),
        "failed": _("failed"),
        "disconnect": _("Disconnect"),
        "accept": _("Accept"),
        "dismiss": _("Dismiss"),
        "joined": _("joined the video call"),
        "left_call": _("left the video call"),
        "apply": _("Apply to attend online"),
        "pending": _("Waiting for the chair's decision"),
        "approved_wait": _("Approved. Waiting for the clerk's identity check."),
        "check_in": _("Check in online"),
        "check_out": _("Leave the sitting"),
        "refused_remote": _("The chair refused your request to attend online."),
        "disconnected": _("The chair has disconnected you."),
        "you_online": _("You are present online."),
        "remote_not_counted": _(
            "In the plenary, online attendance is not counted and you cannot vote online."
        ),
        "record_for": _("Record for a member in the room"),
        "present": _("present"),
        "seat": _("No. %(n)s"),
        "reason": _("Reason"),
        "mark": _("Mark"),
        "vote_open": _("Vote in progress"),
        "method": _("Method"),
        "requirement": _("Requirement"),
        "casting_recorded": _("Decided by the chair's casting vote (裁決)"),
        "connection_lost": _("Connection lost; reconnecting…"),
        "cancel": _("Cancel"),
        "remove": _("Remove"),
    }
