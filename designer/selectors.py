"""Read workflows and versions with the joins decided here, not in views."""

from django.db.models import OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from designer.models import Workflow, WorkflowVersion
from runs.models import Run


def workflow_list(*, search: str = "") -> QuerySet[Workflow]:
    """Return workflows with their live version and last run, by name."""
    last_run = Run.objects.filter(workflow=OuterRef("pk")).order_by("-id")
    qs = Workflow.objects.select_related("live_version").annotate(
        last_run_id=Subquery(last_run.values("id")[:1]),
        last_run_state=Subquery(last_run.values("state")[:1]),
        last_run_created_at=Subquery(last_run.values("created_at")[:1]),
        last_run_finished_at=Subquery(last_run.values("finished_at")[:1]),
        last_run_version=Subquery(last_run.values("version__number")[:1]),
    )
    if search:
        qs = qs.filter(name__icontains=search) | qs.filter(slug__icontains=search)
    return qs.order_by("name")


def workflow_get(*, slug: str) -> Workflow:
    """Return one workflow or raise Http404."""
    return get_object_or_404(Workflow.objects.select_related("live_version"), slug=slug)


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
