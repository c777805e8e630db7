"""Pages of the designer (React mounts into the templates)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from designer import selectors


@login_required
@ensure_csrf_cookie
def workflow_list_page(request: HttpRequest) -> HttpResponse:
    """Render the workflows list."""
    return render(request, "workflows.html")


@login_required
@ensure_csrf_cookie
def workflow_edit_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Render the graph editor of one workflow (404 if it does not exist)."""
    workflow = selectors.workflow_get(slug=slug, user=request.user)
    return render(request, "editor.html", {"workflow": workflow})
