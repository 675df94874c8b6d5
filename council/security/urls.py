"""Security pages: the second sign-in step and TOTP enrolment."""

from django.urls import path

from council.security import views

app_name = "security"
urlpatterns = [
    path("sign-in/code/", views.second_factor, name="second_factor"),
    path("second-factor/", views.totp, name="totp"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
]
