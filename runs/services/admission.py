"""How many runs of a workflow, and tasks of a run, may be active at once."""

from django.conf import settings

from designer.models import Workflow, WorkflowVersion
from runs.models import (
    Run,
    RunState,
    StepState,
)

DEFAULT_MAX_CONCURRENT_RUNS = 50
DEFAULT_RUN_MAX_ACTIVE_TASKS = 64
# A task step in one of these states holds one of its run's task slots.
ACTIVE_TASK_STATES = (StepState.QUEUED, StepState.RUNNING, StepState.RETRY_WAIT)
# Retries due sooner than this are published with a short countdown; later ones wait in


def max_active_tasks() -> int:
    """Return how many tasks of one run may be queued or running at once."""
    return int(
        getattr(
            settings, "SWITCHYARD_RUN_MAX_ACTIVE_TASKS", DEFAULT_RUN_MAX_ACTIVE_TASKS
        )
    )


def _max_concurrent(version: WorkflowVersion) -> int:
    value = version.graph.get("max_concurrent_runs", DEFAULT_MAX_CONCURRENT_RUNS)
    return int(value)


def has_room(workflow: Workflow, version: WorkflowVersion, *, exclude: int) -> bool:
    limit = _max_concurrent(version)
    active = (
        Run.objects.filter(
            workflow=workflow,
            state__in=[RunState.RUNNING, RunState.PAUSED, RunState.COMPENSATING],
        )
        .exclude(pk=exclude)
        .count()
    )
    return active < limit
