"""The connections page (React mounts into the template)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


@login_required
@ensure_csrf_cookie
def connections_page(request: HttpRequest) -> HttpResponse:
    """Render the connections list (what the user may change comes from the API)."""
    return render(request, "connections.html")
