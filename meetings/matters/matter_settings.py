"""The council's rules for matters (``MatterSettings``), changed by the secretariat from the product
(not only the admin): how matters are numbered and whether names are published for standing and
show-of-hands votes. One audited service; the numbering cannot change under a year's matters.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from council.audit import audit_record
from council.errors import Refused
from council.models import Council
from meetings.matters.models import Matter, MatterSettings


@transaction.atomic
def settings_update(
    *, actor, council: Council, numbering: str, publish_counted_names: bool
) -> MatterSettings:
    """Save the council's matter settings; refused (nothing changed) when the numbering would
    change while matters of the current year are already numbered the old way."""
    if numbering not in MatterSettings.Numbering.values:
        raise Refused({"numbering": _("Choose how matters are numbered.")})
    current, _made = MatterSettings.objects.select_for_update().get_or_create(council=council)
    year = timezone.localdate().year
    if (
        numbering != current.numbering
        and Matter.objects.filter(council=council, session__year__gte=year, number__isnull=False).exists()
    ):
        raise Refused(
            {
                "numbering": _(
                    "Matters of %(year)d are already numbered; the numbering can change from next year."
                )
                % {"year": year}
            }
        )
    before = {"numbering": current.numbering, "publish_counted_names": current.publish_counted_names}
    after = {"numbering": numbering, "publish_counted_names": bool(publish_counted_names)}
    if before == after:
        return current
    current.numbering = numbering
    current.publish_counted_names = bool(publish_counted_names)
    current.save(update_fields=["numbering", "publish_counted_names"])
    audit_record(
        action="matter.settings", actor=actor, target=current, data={"before": before, "after": after}
    )
    return current
