"""An attempt's life on a worker: start, finish, and eager continuation."""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition

from engine.expressions import ExpressionError, param_expressions
from runs.events import EventLog, transition
from runs.models import (
    Attempt,
    AttemptState,
    Run,
    RunState,
    StepRun,
)
from runs.rows import select_attempt, select_run_locked
from runs.services import handoff_steps
from runs.services.advancing import Advance
from runs.services.dispatching import (
    AttemptWork,
    EagerSlot,
    create_attempt,
    mark_started,
    may_start,
    start_attempt,
)
from runs.services.graphs import compiled_graph_for


def attempt_start(*, attempt_id: int, worker: str) -> AttemptWork | None:
    """Move a queued attempt to running; None when it must not run (duplicate etc.)."""
    try:
        return _attempt_start(attempt_id=attempt_id, worker=worker)
    except ConcurrentTransition:
        # Someone else (a duplicate delivery, a cancel) moved it first.
        return None


def _attempt_start(*, attempt_id: int, worker: str) -> AttemptWork | None:
    now = timezone.now()
    error: dict | None = None
    with transaction.atomic():
        # The run row is locked, as by every writer of a run's steps: a cancel or a
        # finishing branch of the same run waits for this start, not the reverse.
        found = select_attempt(attempt_id, lock_run=True)
        if found is None or found[0].state != AttemptState.QUEUED:
            return None
        attempt, step, run = found
        if not may_start(run, step):
            # Paused runs keep their attempts queued; resume publishes them again.
            return None
        log = EventLog()
        steps: list[StepRun] | None = None if _needs_context(run, step) else []
        advance = Advance(
            run,
            compiled_graph_for(run.version_id),
            log,
            now=now,
            actor="system",
            steps=steps,
        )
        try:
            work = start_attempt(advance, step, attempt, worker=worker)
        except ExpressionError as exc:
            work = None
            error = {"type": "ExpressionError", "message": str(exc), "retryable": False}
        log.flush()
    if error is not None:
        _attempt_start_failed(attempt_id, worker, error)
    return work


def _needs_context(run: Run, step: StepRun) -> bool:
    node = compiled_graph_for(run.version_id).node(step.node_id)
    return bool(param_expressions(node.get("params", {})))


def _attempt_start_failed(attempt_id: int, worker: str, error: dict) -> None:
    """Start and fail an attempt whose params cannot be evaluated."""
    now = timezone.now()
    with transaction.atomic():
        attempt = Attempt.objects.select_related("step", "run").get(pk=attempt_id)
        attempt.step.run = attempt.run
        log = EventLog()
        graph = compiled_graph_for(attempt.run.version_id)
        policy = graph.retry_policy(attempt.step.node_id)
        mark_started(
            log,
            attempt.step,
            attempt,
            worker=worker,
            now=now,
            timeout_s=policy.timeout_s,
        )
        log.flush()
    attempt_finish(attempt_id=attempt_id, output=None, error=error)


def attempt_finish(
    *,
    attempt_id: int,
    output: Any,
    error: dict | None,
    actor: str = "system",
) -> bool:
    """Record an attempt's result and advance the run in one transaction.

    Return False when the attempt was already finished (a duplicate delivery or a
    result that arrives after the sweeper gave up on it): nothing changes then.
    """
    try:
        finished, _ = _attempt_finish(
            attempt_id=attempt_id, output=output, error=error, actor=actor, eager=None
        )
    except ConcurrentTransition:
        return False
    return finished


def attempt_finish_and_continue(
    *,
    attempt_id: int,
    output: Any,
    error: dict | None,
    slot: EagerSlot,
    rows: tuple[Attempt, StepRun] | None = None,
) -> AttemptWork | None:
    """Finish an attempt; if the run's next attempt is due now on the slot's queue,
    start it in the same transaction and return it for this worker to run.

    This is eager dispatch: a sequential run skips one broker round trip and one
    transaction per step. Only one attempt is taken; the rest are published.
    `rows` are the attempt and step as the eager start left them (`AttemptWork.rows`).
    """
    try:
        _, work = _attempt_finish(
            attempt_id=attempt_id,
            output=output,
            error=error,
            actor=f"worker:{slot.worker}",
            eager=slot,
            rows=rows,
        )
    except ConcurrentTransition:
        return None
    return work


def _attempt_finish(
    *,
    attempt_id: int,
    output: Any,
    error: dict | None,
    actor: str,
    eager: EagerSlot | None,
    rows: tuple[Attempt, StepRun] | None = None,
) -> tuple[bool, AttemptWork | None]:
    now = timezone.now()
    with transaction.atomic():
        # One query: the attempt, its step, and its run locked (only the run row:
        # concurrent branches of one run advance one at a time, other runs do not
        # wait). With the rows from an eager start, only the run is read again.
        found = _locked_rows(attempt_id, rows)
        if found is None or found[0].state != AttemptState.RUNNING:
            return False, None
        attempt, step, run = found
        graph = compiled_graph_for(run.version_id)
        log = EventLog()
        advance = Advance(run, graph, log, now=now, actor=actor, eager=eager)
        advance.remember(step)
        if error is None:
            _attempt_succeeded(advance, attempt, step, output)
        else:
            _attempt_failed(advance, attempt, step, error)
        if step.is_finished and step.compensates_id is None:
            advance.release_held()
        log.flush()
    return True, advance.eager_work


def _locked_rows(
    attempt_id: int, rows: tuple[Attempt, StepRun] | None
) -> tuple[Attempt, StepRun, Run] | None:
    """Lock the attempt's run and return (attempt, step, run)."""
    if rows is None:
        return select_attempt(attempt_id, lock_run=True)
    attempt, step = rows
    run = select_run_locked(attempt.run_id)
    if run is None:
        return None
    step.run = run
    attempt.step = step
    attempt.run = run
    return attempt, step, run


def _attempt_succeeded(
    advance: Advance, attempt: Attempt, step: StepRun, output: Any
) -> None:
    log, now, actor = advance.log, advance.now, advance.actor
    spec = None
    if step.compensates_id is None:
        try:
            spec = handoff_steps.task_handoff_spec(output)
        except ValueError as exc:
            error = {"type": "BadHandoff", "message": str(exc), "retryable": False}
            _attempt_failed(advance, attempt, step, error)
            return
    transition(log, attempt, "succeed", actor=actor, at=now)
    if step.compensates_id is not None:
        if advance.run.state == RunState.COMPENSATING:
            transition(
                log, step, "succeed", actor=actor, output=output, taken_edges=[], at=now
            )
            advance.compensate_next()
        return
    if advance.run.state not in (RunState.RUNNING, RunState.PAUSED):
        return
    if spec is not None:
        # The action asked a person or an agent to decide: the step waits on it.
        handoff_steps.open_handoff(
            advance=advance,
            step=step,
            spec=spec,
            context=spec.get("context") or {},
            context_errors={},
        )
        return
    # A task's normal edges carry no conditions, so routing cannot fail here.
    taken = advance.graph.route(step.node_id, succeeded=True, context={})
    transition(
        log, step, "succeed", actor=actor, output=output, taken_edges=taken, at=now
    )
    advance.took(taken)
    if advance.run.state == RunState.RUNNING:
        advance.follow(step)


def _attempt_failed(
    advance: Advance, attempt: Attempt, step: StepRun, error: dict
) -> None:
    log, now, actor = advance.log, advance.now, advance.actor
    transition(
        log,
        attempt,
        "fail",
        actor=actor,
        error=error,
        at=now,
        reason=error.get("message", ""),
    )
    compensation = step.compensates_id is not None
    if compensation:
        if advance.run.state != RunState.COMPENSATING:
            return
    elif advance.run.state not in (RunState.RUNNING, RunState.PAUSED):
        return
    graph = advance.graph
    policy = graph.retry_policy(step.node_id)
    retryable = error.get("retryable", True) and policy.should_retry(
        attempt.number, error.get("type", "Error")
    )
    if retryable:
        delay = policy.delay(attempt.number)
        transition(log, step, "fail", actor=actor, error=error, taken_edges=[], at=now)
        transition(
            log,
            step,
            "schedule_retry",
            actor=actor,
            reason=f"retry {attempt.number + 1}/{policy.max_attempts} in {delay:.2f}s",
            data={"delay_s": delay, "next_attempt": attempt.number + 1},
        )
        create_attempt(
            advance,
            step,
            number=attempt.number + 1,
            due_at=now + timedelta(seconds=delay),
        )
        return
    if compensation:
        transition(log, step, "fail", actor=actor, error=error, taken_edges=[], at=now)
        advance.compensation_failed(step)
        return
    failure_edges = [e["id"] for e in graph.failure_outgoing(step.node_id)]
    transition(
        log,
        step,
        "fail",
        actor=actor,
        error=error,
        taken_edges=failure_edges,
        at=now,
    )
    advance.took(failure_edges)
    if failure_edges:
        if advance.run.state == RunState.RUNNING:
            advance.follow(step)
        return
    advance.fail_run({**error, "node_id": step.node_id})
