"""Starting runs: admission, idempotency and the canary's share."""

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from designer.models import VersionStatus, Workflow, WorkflowVersion
from runs import releases
from runs.errors import RunError
from runs.events import EventLog
from runs.models import (
    Run,
    RunState,
)
from runs.services.admission import has_room
from runs.services.advancing import admit
from runs.services.dispatching import retry_budget
from runs.services.graphs import compiled_graph


def run_start(
    *,
    workflow: Workflow,
    input: Any,
    actor: str,
    version: WorkflowVersion | None = None,
    idempotency_key: str | None = None,
    created_by: Any = None,
    trigger: str = "api",
    trigger_at: datetime | None = None,
    parent_attempt: Any = None,
    parent_item: Any = None,
) -> tuple[Run, bool]:
    """Create a run of a published version; admit it now if the workflow has room.

    Return the run and whether it was created (False: an earlier run with the same
    idempotency key).
    """
    chosen = version is not None
    parent = parent_attempt or parent_item
    if version is None:
        version = workflow.live_version
        if version is None:
            raise RunError(
                "no_live_version", f"{workflow.slug} has no published version"
            )
    if version.workflow_id != workflow.pk:
        raise RunError("bad_version", "the version belongs to another workflow")
    if version.status == VersionStatus.DRAFT:
        raise RunError("version_not_published", "only published versions can run")
    try:
        with transaction.atomic():
            # Serialises admission per workflow: the running count cannot race, nor
            # the canary's share.
            locked = (
                Workflow.objects.select_for_update(no_key=True)
                .filter(pk=workflow.pk)
                .first()
            )
            if idempotency_key:
                existing = Run.objects.filter(
                    workflow=workflow, idempotency_key=idempotency_key
                ).first()
                if existing is not None:
                    return existing, False
            if not chosen and locked is not None and locked.canary_version_id:
                version = releases.pick_version(locked, live=version)
            graph = compiled_graph(version)
            log = EventLog()
            run = Run.objects.create(
                workflow=workflow,
                version=version,
                input=input,
                idempotency_key=idempotency_key or None,
                trigger=trigger[:64],
                trigger_at=trigger_at,
                parent_run_id=parent.run_id if parent else None,
                parent_attempt=parent_attempt,
                parent_item=parent_item,
                call_depth=(parent.run.call_depth + 1) if parent else 0,
                created_by=created_by if getattr(created_by, "pk", None) else None,
            )
            log.add(
                "run_created",
                run=run,
                to_state=RunState.PENDING,
                actor=actor,
                data={"version": version.number, "trigger": trigger},
            )
            if has_room(workflow, version, exclude=run.pk):
                admit(run, graph, log, actor=actor)
            log.flush()
    except IntegrityError:
        if not idempotency_key:
            raise
        existing = Run.objects.get(workflow=workflow, idempotency_key=idempotency_key)
        return existing, False
    # A web process may start no other run for a while: count this first attempt in
    # the retry budget now rather than leave it in the process's buffer.
    retry_budget().flush()
    return run, True
