from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    name = "meetings.live"
    label = "live"
    verbose_name = _("Live sessions")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from meetings.live import handlers

        handlers.register()
        user_logged_out.connect(_close_sockets_on_sign_out, dispatch_uid="live.close_sockets_on_sign_out")


def _close_sockets_on_sign_out(sender, request, user, **kwargs) -> None:
    """A member who signs out loses their live sockets on every server process, after commit."""
    if user is None or not getattr(user, "pk", None):
        return
    from django.db import transaction

    from meetings.live.fanout import close_user_sockets

    user_id = user.pk
    transaction.on_commit(lambda: close_user_sockets(user_id))
