from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Meetings")

    def ready(self) -> None:
        # Documents knows nothing of meetings; the offline packet asks meetings which documents
        # belong to a member's upcoming sittings.
        from documents.annotations.selectors import register_upcoming_documents
        from meetings.selectors import upcoming_documents_for

        register_upcoming_documents(upcoming_documents_for)
