"""Read runs, steps, attempts and events with their joins decided here."""

from django.db.models import Max, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from runs.models import Attempt, Event, Run, StepRun


def run_list(
    *, workflow: str = "", state: str = "", version: int | None = None
) -> QuerySet[Run]:
    """Return runs newest first, filtered by workflow slug, state and version."""
    qs = Run.objects.select_related("workflow", "version").order_by("-id")
    if workflow:
        qs = qs.filter(workflow__slug=workflow)
    if state:
        qs = qs.filter(state__in=state.split(","))
    if version is not None:
        qs = qs.filter(version__number=version)
    return qs.defer("input", "output")


def run_get(*, run_id: int) -> Run:
    """Return a run with its steps and attempts, or raise Http404."""
    steps = StepRun.objects.order_by("id").prefetch_related(
        Prefetch("attempts", queryset=Attempt.objects.order_by("number"))
    )
    return get_object_or_404(
        Run.objects.select_related("workflow", "version").prefetch_related(
            Prefetch("steps", queryset=steps)
        ),
        pk=run_id,
    )


def event_list(
    *, run_id: int | None = None, after: int = 0, limit: int = 500
) -> list[Event]:
    """Return events after an id, oldest first, optionally for one run."""
    qs = Event.objects.select_related("workflow", "version").filter(id__gt=after)
    if run_id is not None:
        qs = qs.filter(run_id=run_id)
    return list(qs.order_by("id")[:limit])


def last_event_id() -> int:
    """Return the newest event id (0 when there is none)."""
    return Event.objects.aggregate(m=Max("id"))["m"] or 0
