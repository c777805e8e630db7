"""Starting runs: admission, idempotency and the canary's share; one or many at once."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import IntegrityError, connection, transaction

from config import tracing
from designer.models import VersionStatus, Workflow, WorkflowVersion
from engine.graph.compiled import CompiledGraph
from runs import releases
from runs.business_keys import evaluate_business_key
from runs.errors import BatchItemError, RunError
from runs.events import EventLog
from runs.input_check import BatchInputInvalid, InputInvalid, check_run_input
from runs.models import (
    Run,
    RunState,
)
from runs.rows import insert_row
from runs.services.admission import active_runs, has_room, max_concurrent_runs
from runs.services.advancing import admit
from runs.services.dispatching import retry_budget
from runs.services.graphs import compiled_graph

# The most runs one batch may start (POST …/runs/batch/).
MAX_BATCH_RUNS = 1000
# A batch writes its events when it has queued this many: statements of a bounded
# size (and, for runs of one graph, of few sizes).
_BATCH_FLUSH_EVENTS = 256


@dataclass(frozen=True)
class RunRequest:
    """One run a batch asks for: its input, idempotency key and pinned version."""

    input: Any
    idempotency_key: str | None = None
    version: WorkflowVersion | None = None


def _startable(workflow: Workflow, version: WorkflowVersion | None) -> WorkflowVersion:
    """Return the version a run starts on (the live one by default) or raise."""
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
    if version.status == VersionStatus.TEST:
        raise RunError(
            "version_not_published",
            "a draft's test snapshot runs only as a test run (run from here)",
        )
    return version


@cache
def _lock_sql(vendor: str) -> str:
    # Identifiers from model metadata, the id bound (hence S608). Hand-built: the ORM
    # takes longer to compile this than the database to run it, on every start.
    quote = connection.ops.quote_name
    meta = Workflow._meta
    canary = quote(meta.get_field("canary_version").column)
    sql = (
        f"SELECT {canary} FROM {quote(meta.db_table)} "  # noqa: S608
        f"WHERE {quote(meta.pk.column)} = %s"
    )
    features = connection.features
    if features.has_select_for_no_key_update:
        sql += " FOR NO KEY UPDATE"
    elif features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql


def lock_workflow(workflow: Workflow) -> Workflow | None:
    """Lock the workflow's row for the rest of the transaction.

    Serialises admission per workflow: the running count cannot race, nor the
    canary's share, nor two starts with one idempotency key. Return the locked row
    when the workflow has a canary (the share is picked from it), else None.
    """
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql(connection.vendor), [workflow.pk])
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return None
    return Workflow.objects.get(pk=workflow.pk)


def new_run(
    *,
    workflow: Workflow,
    version: WorkflowVersion,
    input: Any,
    trigger: str,
    created_by: Any,
    idempotency_key: str | None = None,
    trigger_at: datetime | None = None,
    parent_attempt: Any = None,
    parent_item: Any = None,
) -> Run:
    """Return a new run, not inserted yet (`_record` inserts it)."""
    parent = parent_attempt or parent_item
    return Run(
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
        trace_context=tracing.run_context(),
    )


def _record(
    run: Run,
    graph: CompiledGraph,
    log: EventLog,
    *,
    actor: str,
    trigger: str,
    admitted: bool,
) -> None:
    """Insert a new run with its `run_created` event; admit it when it has room.

    One INSERT either way: an admitted run is inserted by its `start` transition,
    already running (runs.events.transition on a row not inserted yet), instead of
    an INSERT as pending and an UPDATE to running.
    """
    data = {"version": run.version.number, "trigger": trigger}
    run.business_key, problem = evaluate_business_key(
        run.workflow.business_key, run.input
    )
    if problem:
        data["business_key_error"] = problem
    log.add("run_created", run=run, to_state=RunState.PENDING, actor=actor, data=data)
    if admitted:
        admit(run, graph, log, actor=actor)
    else:
        insert_row(run)


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
    version = _startable(workflow, version)
    # Before any row or lock: a bad input starts nothing (422 naming the fields).
    check_run_input(workflow.input_schema, input)
    try:
        with transaction.atomic():
            canary = lock_workflow(workflow)
            if idempotency_key:
                existing = _existing(workflow, [idempotency_key])
                if existing:
                    return existing[idempotency_key], False
            if not chosen and canary is not None:
                version = releases.pick_version(canary, live=version)
            log = EventLog()
            run = new_run(
                workflow=workflow,
                version=version,
                input=input,
                idempotency_key=idempotency_key,
                trigger=trigger,
                trigger_at=trigger_at,
                parent_attempt=parent_attempt,
                parent_item=parent_item,
                created_by=created_by,
            )
            _record(
                run,
                compiled_graph(version),
                log,
                actor=actor,
                trigger=trigger,
                admitted=has_room(workflow, version),
            )
            log.flush()
    except IntegrityError:
        if not idempotency_key:
            raise
        existing = _existing(workflow, [idempotency_key])
        if not existing:
            raise
        return existing[idempotency_key], False
    # A web process may start no other run for a while: count this first attempt in
    # the retry budget now rather than leave it in the process's buffer.
    retry_budget().flush()
    return run, True


def runs_start_batch(
    *,
    workflow: Workflow,
    requests: Sequence[RunRequest],
    actor: str,
    created_by: Any = None,
    trigger: str = "api",
) -> list[tuple[Run, bool]]:
    """Start many runs of one workflow in one transaction: all of them or none.

    Each request becomes what `run_start` would make of it, in order: the same
    rows, transitions and events, the same admission (runs past the workflow's
    `max_concurrent_runs` wait as pending, FIFO) and canary share. A request whose
    idempotency key an earlier run has (in the database or earlier in the batch)
    gets that run. Return (run, created) per request, in request order; raise
    `BatchItemError` for the first request that cannot start.
    """
    if len(requests) > MAX_BATCH_RUNS:
        raise RunError(
            "too_large",
            f"a batch starts at most {MAX_BATCH_RUNS} runs; this one has "
            f"{len(requests)}",
        )
    versions = []
    for index, request in enumerate(requests):
        try:
            versions.append(_startable(workflow, request.version))
            check_run_input(workflow.input_schema, request.input)
        except InputInvalid as exc:
            raise BatchInputInvalid(index, exc) from exc
        except RunError as exc:
            raise BatchItemError(index, exc) from exc
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                started = _start_locked(
                    workflow,
                    requests,
                    versions,
                    actor=actor,
                    created_by=created_by,
                    trigger=trigger,
                )
            break
        except IntegrityError:
            # Another writer inserted one of the keys without the workflow's lock
            # (every start here takes it): once more, the keys are now committed.
            if attempt == 2 or not any(r.idempotency_key for r in requests):
                raise
    retry_budget().flush()
    return started


def _start_locked(
    workflow: Workflow,
    requests: Sequence[RunRequest],
    versions: list[WorkflowVersion],
    *,
    actor: str,
    created_by: Any,
    trigger: str,
) -> list[tuple[Run, bool]]:
    """Create the batch's runs inside its transaction (see `runs_start_batch`)."""
    canary = lock_workflow(workflow)
    keys = [r.idempotency_key for r in requests if r.idempotency_key]
    # {idempotency key: run}, the batch's own runs added as they are made.
    known = _existing(workflow, keys) if keys else {}
    # Admission counts once; each admitted run takes one place. A canary's version
    # may have a higher limit than any asked for: then count them all.
    limits = {max_concurrent_runs(v) for v in versions}
    active = active_runs(workflow, up_to=None if canary else max(limits, default=0))
    started: list[tuple[Run, bool]] = []
    log = EventLog()
    for request, version in zip(requests, versions, strict=True):
        key = request.idempotency_key or None
        if key is not None and key in known:
            started.append((known[key], False))
            continue
        if request.version is None and canary is not None:
            # Counts the runs made so far in this transaction too.
            version = releases.pick_version(canary, live=version)
        run = new_run(
            workflow=workflow,
            version=version,
            input=request.input,
            idempotency_key=key,
            trigger=trigger,
            trigger_at=None,
            parent_attempt=None,
            parent_item=None,
            created_by=created_by,
        )
        admitted = active < max_concurrent_runs(version)
        active += admitted
        _record(
            run,
            compiled_graph(version),
            log,
            actor=actor,
            trigger=trigger,
            admitted=admitted,
        )
        if key is not None:
            known[key] = run
        started.append((run, True))
        if len(log.events) >= _BATCH_FLUSH_EVENTS:
            log.flush()
    log.flush()
    return started


def _existing(workflow: Workflow, keys: list[str]) -> dict[str, Run]:
    """Return the workflow's runs that have these idempotency keys, by key.

    Each comes with its workflow and version, so that serializing it reads nothing
    more; each version is read once, not once per run.
    """
    runs = list(Run.objects.filter(workflow=workflow, idempotency_key__in=set(keys)))
    if not runs:
        return {}
    versions = WorkflowVersion.objects.in_bulk({run.version_id for run in runs})
    found = {}
    for run in runs:
        run.workflow = workflow
        run.version = versions[run.version_id]
        found[run.idempotency_key] = run
    return found
