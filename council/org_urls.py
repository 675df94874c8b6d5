"""Clerk pages for the organisation (bodies, members)."""

app_name = "council"
urlpatterns: list = []
