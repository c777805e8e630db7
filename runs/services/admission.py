"""How many runs of a workflow, and tasks of a run, may be active at once."""

from functools import cache

from django.conf import settings
from django.db import connection

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


def max_active_tasks() -> int:
    """Return how many tasks of one run may be queued or running at once."""
    return int(
        getattr(
            settings, "SWITCHYARD_RUN_MAX_ACTIVE_TASKS", DEFAULT_RUN_MAX_ACTIVE_TASKS
        )
    )


def max_concurrent_runs(version: WorkflowVersion) -> int:
    """Return how many runs of the version's workflow may be active at once."""
    value = version.graph.get("max_concurrent_runs", DEFAULT_MAX_CONCURRENT_RUNS)
    return int(value)


# A run in one of these states holds one of its workflow's places.
ACTIVE_RUN_STATES = (RunState.RUNNING, RunState.PAUSED, RunState.COMPENSATING)


@cache
def _active_runs_sql(vendor: str, *, exclude: bool, bounded: bool) -> str:
    # Identifiers from model metadata, values bound (hence S608). Built once: every
    # start asks, and the ORM takes longer to compile this than the database to run
    # it.
    quote = connection.ops.quote_name
    meta = Run._meta
    pk = quote(meta.pk.column)
    workflow = quote(meta.get_field("workflow").column)
    state = quote(meta.get_field("state").column)
    states = ", ".join(["%s"] * len(ACTIVE_RUN_STATES))
    rows = (
        f"SELECT {pk} FROM {quote(meta.db_table)} "  # noqa: S608
        f"WHERE {workflow} = %s AND {state} IN ({states})"
    )
    if exclude:
        rows += f" AND {pk} <> %s"
    if bounded:
        rows += " LIMIT %s"
    return f"SELECT COUNT(*) FROM ({rows}) AS active"  # noqa: S608


def active_runs(
    workflow: Workflow, *, exclude: int | None = None, up_to: int | None = None
) -> int:
    """Count the workflow's active runs (running, paused, compensating).

    `exclude`: a stored run not to count; `up_to`: stop counting there (enough to
    compare with a limit no higher, and cheap however many runs are active).
    """
    params: list[int | str] = [workflow.pk, *ACTIVE_RUN_STATES]
    if exclude is not None:
        params.append(exclude)
    if up_to is not None:
        params.append(up_to)
    sql = _active_runs_sql(
        connection.vendor, exclude=exclude is not None, bounded=up_to is not None
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


def has_room(
    workflow: Workflow, version: WorkflowVersion, *, exclude: int | None = None
) -> bool:
    """Say whether one more run of `version` may be active now (`exclude`: a run
    already stored that is not counted, the one asking)."""
    limit = max_concurrent_runs(version)
    return active_runs(workflow, exclude=exclude, up_to=limit) < limit
