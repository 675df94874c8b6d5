from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    name = "meetings.live"
    label = "live"
    verbose_name = _("Live sessions")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from council.security.signals import access_changed
        from meetings.live import handlers

        handlers.register()
        _add_sitting_links()
        user_logged_out.connect(_close_sockets_on_sign_out, dispatch_uid="live.close_sockets_on_sign_out")
        access_changed.connect(
            _close_sockets_on_access_change, dispatch_uid="live.close_sockets_on_access_change"
        )


def _close_sockets_on_sign_out(sender, request, user, **kwargs) -> None:
    """A member who signs out loses their live sockets on every server process, after commit."""
    if user is None or not getattr(user, "pk", None):
        return
    from django.db import transaction

    from meetings.live.fanout import close_user_sockets

    user_id = user.pk
    transaction.on_commit(lambda: close_user_sockets(user_id))


def _close_sockets_on_access_change(sender, user_id: int, **kwargs) -> None:
    """The organisation says a user's access may have changed (already after commit): close the
    user's sockets on every process; each reconnect is authorized afresh."""
    from meetings.live.fanout import close_user_sockets

    close_user_sockets(user_id)


def _add_sitting_links() -> None:
    """Buttons on the sitting page: the console for those who run it, the public view if public."""
    from meetings.live import permissions
    from meetings.views import SITTING_LINKS, SittingLink

    names = {link.url_name for link in SITTING_LINKS}
    if "meetings:live:console" not in names:
        SITTING_LINKS.append(
            SittingLink(
                "meetings:live:console",
                _("Run the sitting (console)"),
                lambda user, sitting: permissions.can_run(user, sitting),
                primary=True,
            )
        )
    if "meetings:live:public" not in names:
        SITTING_LINKS.append(
            SittingLink(
                "meetings:live:public",
                _("Public view (傍聴)"),
                lambda user, sitting: permissions.can_watch_public(sitting),
            )
        )
