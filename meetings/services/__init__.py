"""State changes of meetings, one module per concern (sessions and agendas here; other areas add theirs).

Core services are re-exported for convenience.
"""

from meetings.services.agenda import (  # noqa: F401
    AGENDA_TEMPLATES,
    agenda_document_move,
    agenda_item_add,
    agenda_item_delete,
    agenda_item_move,
    agenda_item_update,
    agenda_publish,
    agenda_reorder,
    agenda_unpublish,
)
from meetings.services.sittings import (  # noqa: F401
    session_create,
    session_update,
    sitting_cancel,
    sitting_create,
    sitting_update,
)
