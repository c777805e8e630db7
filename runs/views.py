"""Pages for monitoring runs (React mounts into the templates)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import ensure_csrf_cookie

from designer import access
from runs.models import Run


@login_required
@ensure_csrf_cookie
def board_page(request: HttpRequest) -> HttpResponse:
    """Render the live operations board."""
    return render(request, "board.html")


@login_required
@ensure_csrf_cookie
def run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    """Render one run's page."""
    run = get_object_or_404(
        Run.objects.select_related("workflow", "version").filter(
            access.visible_q(request.user, "workflow__")
        ),
        pk=run_id,
    )
    return render(request, "run.html", {"run": run})


@login_required
@ensure_csrf_cookie
def handoffs_page(request: HttpRequest) -> HttpResponse:
    """Render the handoff inbox."""
    return render(request, "handoffs.html")


@login_required
@ensure_csrf_cookie
def runs_page(request: HttpRequest) -> HttpResponse:
    """Render the run search with bulk actions."""
    return render(request, "runs.html")
