"""Clerk pages for the organisation (bodies, members)."""

from django.urls import path

from council import org_views

app_name = "council"
urlpatterns: list = [
    path("bodies/", org_views.bodies, name="bodies"),
    path("bodies/new/", org_views.body_create, name="body_create"),
    path("bodies/<int:pk>/", org_views.body_detail, name="body_detail"),
    path("bodies/<int:pk>/members/", org_views.membership_add, name="membership_add"),
    path("bodies/<int:pk>/officer/", org_views.body_officer, name="body_officer"),
    path("memberships/<int:pk>/end/", org_views.membership_end, name="membership_end"),
    path("people/", org_views.people, name="people"),
    path("people/new/", org_views.person_create, name="person_create"),
    path("people/<int:pk>/", org_views.person_edit, name="person_edit"),
    path("people/import/", org_views.people_import, name="people_import"),
]
