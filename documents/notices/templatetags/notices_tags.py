"""``{% notices_panel %}``: the signed-in member's notices, for the start page and the reader."""

from django import template

from documents.annotations.selectors import needing_review
from documents.notices import permissions, selectors, services

register = template.Library()


@register.inclusion_tag("documents/notices/_panel.html", takes_context=True)
def notices_panel(context, compact: bool = False):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    services.announce_documents()  # idempotent: new releases show up on the start page at once
    receipts = list(selectors.inbox(user)[: 8 if compact else 10])
    return {
        "show": True,
        "compact": compact,
        "receipts": receipts,
        "unread": selectors.unread_count(user),
        "can_send": permissions.can_send(user),
        # The member's own count only (annotations are private; this is shown to them alone).
        "review_count": needing_review(user).count(),
    }
