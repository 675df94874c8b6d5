"""Sign-in throttling: django-axes refuses a locked-out username+address before any password check."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend


class ThrottledSignInBackend(AxesStandaloneBackend):
    """Axes' guard for every sign-in made over HTTP.

    ``authenticate()`` calls without a request (the test client's ``login()``, management
    commands) are not reachable by a password guesser over the network, so they pass through
    instead of failing as Axes' own backend would."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
