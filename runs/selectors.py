"""Read runs, steps, attempts and events with their joins decided here."""

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Count,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.shortcuts import get_object_or_404

from designer.access import visible_q
from designer.models import Workflow, WorkflowVersion
from runs.models import Attempt, Event, Run, StepRun
from runs.run_filters import RunFilter, runs_matching

# Sort keys the board may ask for (API name: ORM ordering). Newest and oldest go by
# creation time, the id breaking ties: the run_created (created_at, id) index serves
# them as they are, and run_workflow_created (workflow, created_at) for one workflow,
# so a filter on a workflow or a time range reads its page, not the table back from
# today (docs/search.md).
RUN_SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "started": ("-started_at", "-id"),
    "finished": ("-finished_at", "-id"),
    "state": ("state", "-id"),
    "workflow": ("workflow__name", "-id"),
}


def run_list(
    *, user: Any = None, run_filter: RunFilter | None = None, sort: str = "newest"
) -> QuerySet[Run]:
    """Return the runs a filter selects (runs.run_filters), in the board's order.

    Each run carries `last_event_at` (its newest event, read through the (run, id)
    index) so the board can flag runs that have gone quiet.
    """
    last_event = Event.objects.filter(run=OuterRef("pk")).order_by("-id")
    return (
        runs_matching(run_filter or RunFilter(), user=user)
        .select_related("workflow", "version")
        .defer("input", "output", "version__graph")
        .annotate(last_event_at=Subquery(last_event.values("created_at")[:1]))
        .order_by(*RUN_SORTS.get(sort, RUN_SORTS["newest"]))
    )


def run_counts(*, user: Any = None) -> list[dict]:
    """Return how many runs each workflow has in each state (live board counters)."""
    qs = Run.objects.all()
    if user is not None:
        qs = qs.filter(visible_q(user, "workflow__"))
    return list(
        qs.values("workflow__slug", "workflow__name", "state")
        .annotate(count=Count("pk"))
        .order_by("workflow__name", "state")
    )


def run_get(*, run_id: int, user: Any = None) -> Run:
    """Return a run (of a workflow `user` sees) with its steps and attempts, or 404."""
    steps = (
        StepRun.objects.order_by("id")
        .select_related("handoff")
        .prefetch_related(
            Prefetch("attempts", queryset=Attempt.objects.order_by("number"))
        )
    )
    qs = Run.objects.select_related("workflow", "version").prefetch_related(
        Prefetch("steps", queryset=steps)
    )
    if user is not None:
        qs = qs.filter(visible_q(user, "workflow__"))
    return get_object_or_404(qs, pk=run_id)


# A place in the live stream: (transaction id, event id), compared as a pair.
Position = tuple[int, int]


class _OldestInFlight(Func):
    """PostgreSQL: the oldest transaction id still in flight (all below have ended)."""

    template = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    output_field = BigIntegerField()


class _OwnTransaction(Func):
    """PostgreSQL: this transaction's id, or -1 when it has written nothing yet."""

    template = "COALESCE(pg_current_xact_id_if_assigned()::text::bigint, -1)"
    output_field = BigIntegerField()


def _final(qs: QuerySet[Event]) -> QuerySet[Event]:
    """Keep the events no transaction in flight can precede (all, on SQLite).

    Every transaction below the oldest one still in flight has ended, so the events
    stamped below it are final: no event can still commit there. The reader's own
    transaction counts as final to itself (a test, or a view inside `atomic`).
    """
    if connection.vendor != "postgresql":
        return qs  # one writer at a time: ids are in commit order, tx is 0
    return qs.filter(Q(tx__lt=_OldestInFlight()) | Q(tx=_OwnTransaction()))


def event_list(
    *, run_id: int | None = None, after: Position = (0, 0), limit: int = 500
) -> list[Event]:
    """Return events after a stream position, in stream order (tx, id).

    Stream order is commit order for the events of one run: every transaction that
    writes a run's events locks the run's row before its first write and holds it
    to its commit, so the transaction ids of one run's writers ascend in the order
    they commit, and no event of the run can still commit behind the visible ones.
    One run's events are therefore read as they are; across runs, only final ones.
    """
    tx, event_id = after
    # The version's graph is large and unused here: only its number is sent.
    qs = (
        Event.objects.select_related("workflow", "version")
        .defer("version__graph")
        .filter(tx__gte=tx)
        .exclude(tx=tx, id__lte=event_id)
    )
    qs = qs.filter(run_id=run_id) if run_id is not None else _final(qs)
    return list(qs.order_by("tx", "id")[:limit])


def event_position(event_id: int) -> Position:
    """Return the stream position just after the event a client last received."""
    if event_id <= 0:
        return (0, 0)
    tx = Event.objects.filter(pk=event_id).values_list("tx", flat=True).first()
    if tx is None:
        # Pruned, or never sent: resume after the newest event below that id.
        tx = (
            Event.objects.filter(pk__lt=event_id)
            .order_by("-id")
            .values_list("tx", flat=True)
            .first()
        )
    return (tx or 0, event_id)


def last_event_position() -> Position:
    """Return the position of the newest final event ((0, 0) when there is none)."""
    row = _final(Event.objects.all()).order_by("-tx", "-id").values_list("tx", "id")
    found = row.first()
    return (found[0], found[1]) if found is not None else (0, 0)


def last_event_id() -> int:
    """Return the id of the newest final event: where a new stream resumes."""
    return last_event_position()[1]


def annotate_last_run(qs: QuerySet[Workflow]) -> QuerySet[Workflow]:
    """Add each workflow's last run (id, state, version, times) to a workflow list."""
    last_run = Run.objects.filter(workflow=OuterRef("pk")).order_by("-id")
    return qs.annotate(
        last_run_id=Subquery(last_run.values("id")[:1]),
        last_run_state=Subquery(last_run.values("state")[:1]),
        last_run_created_at=Subquery(last_run.values("created_at")[:1]),
        last_run_finished_at=Subquery(last_run.values("finished_at")[:1]),
        last_run_version=Subquery(last_run.values("version__number")[:1]),
    )


def version_coverage(
    *,
    version: WorkflowVersion,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Return branch coverage of a version by its runs: how often each edge was taken.

    Counted in the database from the steps' `taken_edges` (one row per edge id), so
    the cost does not grow in Python with the number of runs. With `since`/`until`,
    only runs created in that window count (the scorecard's window).
    """
    from django.db import connection

    where = "r.workflow_id = %s AND r.version_id = %s"
    params: list[Any] = [version.workflow_id, version.pk]
    runs = Run.objects.filter(version=version)
    if since is not None:
        where += " AND r.created_at >= %s"
        params.append(since)
        runs = runs.filter(created_at__gte=since)
    if until is not None:
        where += " AND r.created_at < %s"
        params.append(until)
        runs = runs.filter(created_at__lt=until)
    if connection.vendor == "postgresql":
        edges_of = (
            "CROSS JOIN LATERAL jsonb_array_elements_text(s.taken_edges) AS edge(value)"
        )
    else:
        edges_of = ", json_each(s.taken_edges) AS edge"
    sql = (
        "SELECT edge.value, COUNT(*) FROM runs_steprun s "  # noqa: S608
        f"JOIN runs_run r ON r.id = s.run_id {edges_of} "
        f"WHERE {where} GROUP BY edge.value"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        taken = {str(edge): int(count) for edge, count in cursor.fetchall()}
    edges = [e["id"] for e in version.graph.get("edges", [])]
    covered = sum(1 for e in edges if taken.get(e))
    return {
        "version": version.number,
        "runs": runs.count(),
        "edges": [{"id": e, "taken": taken.get(e, 0)} for e in edges],
        "covered": covered,
        "total": len(edges),
        # None, not 0 %, when there is nothing to cover.
        "percent": round(100 * covered / len(edges), 1) if edges else None,
        "uncovered": [e for e in edges if not taken.get(e)],
    }


def of_visible_workflow(queryset: QuerySet[Any], *, pk: int, user: Any) -> Any:
    """Return the row `pk` of `queryset` (a model with a `workflow`) if `user` sees
    its workflow, else raise Http404."""
    return get_object_or_404(
        queryset.select_related("workflow").filter(visible_q(user, "workflow__")),
        pk=pk,
    )
