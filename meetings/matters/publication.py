"""Publication of matters (the public 議決結果一覧 and a matter's page show only what is published)
and the names the clerk records for standing and show-of-hands votes on matters.

Keyword-only services, each in a transaction with an audit row; refusals raise ``Refused``.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from council.audit import audit_record
from council.errors import Refused
from council.models import Person
from meetings.matters.models import Matter, MatterMotion
from meetings.models import Session


def _lock(matter: Matter) -> Matter:
    return Matter.objects.select_for_update(of=("self",)).get(pk=matter.pk)


@transaction.atomic
def matter_publish(*, actor, matter: Matter) -> Matter:
    matter = _lock(matter)
    if matter.published_at is not None:
        raise Refused(_("%(matter)s is already published.") % {"matter": matter.label})
    matter.published_at = timezone.now()
    matter.save(update_fields=["published_at", "updated_at"])
    audit_record(action="matter.publish", actor=actor, target=matter, data={})
    return matter


@transaction.atomic
def session_publish(*, actor, session: Session) -> int:
    """Publish every matter of the session not yet published (one click after the session)."""
    pending = list(
        Matter.objects.select_for_update()
        .filter(session=session, published_at__isnull=True)
        .values_list("pk", flat=True)
    )
    if not pending:
        raise Refused(_("Every matter of this session is already published."))
    now = timezone.now()
    Matter.objects.filter(pk__in=pending).update(published_at=now, updated_at=now)
    audit_record(action="matter.publish_session", actor=actor, target=session, data={"matters": pending})
    return len(pending)


@transaction.atomic
def matter_unpublish(*, actor, matter: Matter) -> Matter:
    matter = _lock(matter)
    if matter.published_at is None:
        raise Refused(_("%(matter)s is not published.") % {"matter": matter.label})
    matter.published_at = None
    matter.save(update_fields=["published_at", "updated_at"])
    audit_record(action="matter.unpublish", actor=actor, target=matter, data={})
    return matter


@transaction.atomic
def counted_names_record(*, actor, poll, yes_members: list[Person]) -> int:
    """The clerk names who stood (起立) or raised a hand (挙手) in a declared vote on a matter; the
    others entitled voted against. The names must match the counts, and are kept once."""
    from meetings.matters.models import CountedName
    from meetings.voting.models import Poll

    poll = Poll.objects.select_for_update().get(pk=poll.pk)
    if poll.method not in (Poll.Method.STANDING, Poll.Method.HANDS):
        raise Refused(_("Names are recorded only for standing and show-of-hands votes."))
    if poll.state != Poll.State.DECLARED:
        raise Refused(_("Record the names once the result is declared."))
    if not MatterMotion.objects.filter(motion_id=poll.motion_id).exists():
        raise Refused(_("This vote is not on a matter."))
    if CountedName.objects.filter(poll=poll).exists():
        raise Refused(_("The names for this vote are already recorded."))
    entitled = set(poll.entitled)
    named = {p.pk for p in yes_members}
    if named - entitled:
        raise Refused(_("Only members entitled to vote on this question can be named."))
    if len(named) != poll.yes_count:
        raise Refused(
            _("The names do not match the count: %(yes)d voted in favour, %(named)d are named.")
            % {"yes": poll.yes_count, "named": len(named)}
        )
    CountedName.objects.bulk_create(
        CountedName(
            poll=poll,
            member_id=pk,
            choice="yes" if pk in named else "no",
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        for pk in sorted(entitled)
    )
    audit_record(action="matter.counted_names", actor=actor, target=poll, data={"yes": sorted(named)})
    return len(entitled)
