"""Sign-out removes offline copies: the response tells the browser to clear its caches and
storage (the Service Worker also clears them when it sees the sign-out request)."""

from django.conf import settings
from django.urls import reverse


class ClearOfflineCopiesAtSignOut:
    def __init__(self, get_response):
        self.get_response = get_response
        self.path = None

    def __call__(self, request):
        response = self.get_response(request)
        if self.path is None:
            self.path = reverse(getattr(settings, "COUNCIL_LOGOUT_URL_NAME", "logout"))
        if request.method == "POST" and request.path == self.path and response.status_code < 400:
            response["Clear-Site-Data"] = '"cache", "storage"'
        return response
