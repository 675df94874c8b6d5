"""The start page. Meeting and document pages live in their apps."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from council import permissions


@login_required
def home(request):
    return render(request, "council/home.html", {"bodies": permissions.bodies_for(request.user)})
