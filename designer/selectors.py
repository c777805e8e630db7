"""Read workflows and versions with the joins decided here, not in views."""

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from designer.access import visible_q
from designer.models import Workflow, WorkflowVersion

# What other apps add to each workflow of the list (runs: its last run), registered
# by them at start-up, so designing depends on none of them.
_LIST_ANNOTATIONS: list[Callable[[QuerySet[Workflow]], QuerySet[Workflow]]] = []


def register_list_annotation(
    annotate: Callable[[QuerySet[Workflow]], QuerySet[Workflow]],
) -> None:
    """Add fields to the workflow list's rows (once per function)."""
    if annotate not in _LIST_ANNOTATIONS:
        _LIST_ANNOTATIONS.append(annotate)


def workflow_list(*, search: str = "", user: Any = None) -> QuerySet[Workflow]:
    """Return workflows (those `user` sees) with their live version and what the
    registered annotations add (the last run)."""
    qs = Workflow.objects.select_related("live_version", "owner_group")
    for annotate in _LIST_ANNOTATIONS:
        qs = annotate(qs)
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
