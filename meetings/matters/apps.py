from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MattersConfig(AppConfig):
    name = "meetings.matters"
    label = "matters"
    verbose_name = _("Matters (議案等)")

    def ready(self) -> None:
        # A declared vote on a matter's motion records the matter's step (see hooks.py).
        from meetings.matters import hooks  # noqa: F401
        from meetings.matters.permissions import can_manage_matters
        from meetings.views import SITTING_LINKS, SittingLink

        if not any(link.url_name == "meetings:matters:manage_sitting" for link in SITTING_LINKS):
            SITTING_LINKS.append(
                SittingLink(
                    "meetings:matters:manage_sitting",
                    _("Matters on this sitting"),
                    lambda user, sitting: can_manage_matters(user),
                )
            )
