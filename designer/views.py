"""Pages of the designer (React mounts into the templates)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


@login_required
@ensure_csrf_cookie
def workflow_list_page(request: HttpRequest) -> HttpResponse:
    """Render the workflows list."""
    return render(request, "workflows.html")
