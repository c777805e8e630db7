"""Read workflows and versions with the joins decided here, not in views."""

from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from designer.access import visible_q
from designer.models import Workflow, WorkflowVersion
from runs.models import Run


def workflow_list(*, search: str = "", user: Any = None) -> QuerySet[Workflow]:
    """Return workflows (those `user` sees) with their live version and last run."""
    last_run = Run.objects.filter(workflow=OuterRef("pk")).order_by("-id")
    qs = Workflow.objects.select_related("live_version", "owner_group").annotate(
        last_run_id=Subquery(last_run.values("id")[:1]),
        last_run_state=Subquery(last_run.values("state")[:1]),
        last_run_created_at=Subquery(last_run.values("created_at")[:1]),
        last_run_finished_at=Subquery(last_run.values("finished_at")[:1]),
        last_run_version=Subquery(last_run.values("version__number")[:1]),
    )
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    if user is not None:
        qs = qs.filter(visible_q(user))
    return qs.order_by("name")


def workflow_get(*, slug: str, user: Any = None) -> Workflow:
    """Return one workflow (if `user` sees it) or raise Http404."""
    qs = Workflow.objects.select_related("live_version", "owner_group")
    if user is not None:
        qs = qs.filter(visible_q(user))
    return get_object_or_404(qs, slug=slug)


def version_list(*, workflow: Workflow) -> QuerySet[WorkflowVersion]:
    """Return a workflow's versions, newest first."""
    return workflow.versions.order_by("-number")


def version_get(*, workflow: Workflow, number: int) -> WorkflowVersion:
    """Return one version of a workflow by number or raise Http404."""
    return get_object_or_404(
        WorkflowVersion.objects.select_related("workflow"),
        workflow=workflow,
        number=number,
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
