"""Minutes URLs, mounted at /meetings/minutes/ (namespace "meetings:minutes")."""

from django.urls import path

from meetings.minutes import views

app_name = "minutes"
urlpatterns = [
    path("", views.index, name="index"),
    path("public/", views.public_list, name="public_list"),
    path("public/<int:pk>/", views.public_detail, name="public_detail"),
    path("public/<int:pk>/pdf/", views.public_pdf, name="public_pdf"),
    path("public/<int:pk>/json/", views.public_json, name="public_json"),
    path("public/<int:pk>/votes.json", views.public_votes_json, name="public_votes_json"),
    path("public/<int:pk>/votes.csv", views.public_votes_csv, name="public_votes_csv"),
    path("sittings/<int:sitting_id>/", views.sitting_minutes, name="sitting"),
    path("sittings/<int:sitting_id>/generate/", views.generate, name="generate"),
    path("jobs/<int:pk>/", views.job_status, name="job"),
    path("jobs/<int:pk>/pdf/", views.job_pdf, name="job_pdf"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/blocks/<int:block_id>/", views.block_save, name="block_save"),
    path("<int:pk>/blocks/<int:block_id>/move/", views.block_move, name="block_move"),
    path("<int:pk>/blocks/<int:block_id>/delete/", views.block_delete, name="block_delete"),
    path("<int:pk>/remarks/", views.remark_add, name="remark_add"),
    path("<int:pk>/transcript/", views.transcript, name="transcript"),
    path("<int:pk>/signers/", views.signers, name="signers"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/return/", views.return_to_draft, name="return"),
    path("<int:pk>/sign/", views.sign, name="sign"),
    path("<int:pk>/publish/", views.publish, name="publish"),
    path("<int:pk>/correct/", views.correct, name="correct"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/pdf/", views.pdf, name="pdf"),
    path("<int:pk>/json/", views.export_json, name="json"),
    path("<int:pk>/votes.json", views.export_votes_json, name="votes_json"),
    path("<int:pk>/votes.csv", views.export_votes_csv, name="votes_csv"),
]
