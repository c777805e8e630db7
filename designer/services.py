"""Services that change workflows and versions."""

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from designer.models import VersionStatus, Workflow, WorkflowVersion
from engine.actions import registered_actions
from engine.graph import ValidationResult, graph_checksum, validate_graph
from runs.events import EventLog, actor_of

MAX_GRAPH_NODES = 2000


class GraphInvalid(Exception):
    """Raised when a graph fails validation; carries the result."""

    def __init__(self, result: ValidationResult) -> None:
        super().__init__("graph is invalid")
        self.result = result


class VersionConflict(Exception):
    """Raised when a request conflicts with a version's state (e.g. it is published)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Node types the format describes but this engine cannot run yet: refused at save
# time rather than failing a run halfway.
def graph_validate(*, graph: Any) -> ValidationResult:
    """Validate a graph against the schema, the semantic rules and the actions."""
    actions = {name: a.params_schema for name, a in registered_actions().items()}
    result = validate_graph(graph, actions=actions)
    return result


def _validated(graph: Any) -> ValidationResult:
    result = graph_validate(graph=graph)
    if not result.ok:
        raise GraphInvalid(result)
    return result


def workflow_create(
    *,
    slug: str,
    name: str,
    description: str = "",
    created_by: Any = None,
    owner_group: Any = None,
) -> Workflow:
    """Create an empty workflow, owned by a team (group) or by nobody (everyone)."""
    return Workflow.objects.create(
        slug=slug,
        name=name,
        description=description,
        created_by=created_by,
        owner_group=owner_group,
    )


def version_create(
    *,
    workflow: Workflow,
    graph: Any,
    note: str = "",
    created_by: Any = None,
    parent: WorkflowVersion | None = None,
) -> tuple[WorkflowVersion, ValidationResult]:
    """Store a valid graph as a new draft of the workflow."""
    result = _validated(graph)
    with transaction.atomic():
        Workflow.objects.select_for_update(no_key=True).filter(pk=workflow.pk).first()
        if parent is None:
            parent = workflow.live_version
        last = workflow.versions.aggregate(n=Max("number"))["n"] or 0
        version = WorkflowVersion.objects.create(
            workflow=workflow,
            number=last + 1,
            graph=graph,
            checksum=graph_checksum(graph),
            note=note,
            created_by=created_by,
            parent=parent,
        )
        log = EventLog()
        log.add(
            "version_created",
            to_state=VersionStatus.DRAFT,
            actor=actor_of(created_by),
            workflow_id=workflow.pk,
            version_id=version.pk,
            data={"checksum": version.checksum},
        )
        log.flush()
    return version, result


def version_update(
    *, version: WorkflowVersion, graph: Any, note: str | None = None, actor: Any = None
) -> tuple[WorkflowVersion, ValidationResult]:
    """Replace the graph of a draft; published versions refuse (VersionConflict)."""
    result = _validated(graph)
    with transaction.atomic():
        locked = WorkflowVersion.objects.select_for_update(no_key=True).get(
            pk=version.pk
        )
        if locked.status != VersionStatus.DRAFT:
            raise VersionConflict(
                "version_immutable",
                f"version {locked.number} is {locked.status}; create a new draft",
            )
        locked.graph = graph
        locked.checksum = graph_checksum(graph)
        if note is not None:
            locked.note = note
        locked.save(update_fields=["graph", "checksum", "note", "updated_at"])
    return locked, result


def version_publish(*, version: WorkflowVersion, actor: Any = None) -> WorkflowVersion:
    """Publish a draft with the next number and make it the live version."""
    _validated(version.graph)
    with transaction.atomic():
        workflow = Workflow.objects.select_for_update(no_key=True).get(
            pk=version.workflow_id
        )
        locked = WorkflowVersion.objects.select_for_update(no_key=True).get(
            pk=version.pk
        )
        if locked.status != VersionStatus.DRAFT:
            raise VersionConflict(
                "not_draft", f"version {locked.number} is already {locked.status}"
            )
        previous_live = workflow.live_version_id
        locked.publish(at=timezone.now())
        locked.save()
        workflow.live_version = locked
        workflow.save(update_fields=["live_version", "updated_at"])
        log = EventLog()
        log.add(
            "version_published",
            from_state=VersionStatus.DRAFT,
            to_state=VersionStatus.PUBLISHED,
            actor=actor_of(actor),
            workflow_id=workflow.pk,
            version_id=locked.pk,
            data={"number": locked.number, "previous_live_version_id": previous_live},
        )
        log.flush()
    return locked


def workflow_rollback(
    *, workflow: Workflow, number: int, actor: Any = None, reason: str = ""
) -> Workflow:
    """Point the live version at an earlier published version in one step."""
    with transaction.atomic():
        locked = Workflow.objects.select_for_update(no_key=True).get(pk=workflow.pk)
        target = locked.versions.filter(number=number).first()
        if target is None:
            raise VersionConflict("unknown_version", f"version {number} does not exist")
        if target.status != VersionStatus.PUBLISHED:
            raise VersionConflict(
                "version_not_published", f"version {number} is {target.status}"
            )
        previous = locked.live_version
        locked.live_version = target
        locked.save(update_fields=["live_version", "updated_at"])
        log = EventLog()
        log.add(
            "live_version_changed",
            actor=actor_of(actor),
            reason=reason or "rollback",
            workflow_id=locked.pk,
            version_id=target.pk,
            data={
                "from": previous.number if previous else None,
                "to": target.number,
            },
        )
        log.flush()
    return locked
