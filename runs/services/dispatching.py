"""Attempts: creating them, starting them (params evaluated, rows moved to running),
publishing them after commit, and the per-queue retry budget that paces retries."""

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction

from engine.actions import ActionContext
from engine.dispatch import publish_attempt
from engine.expressions import ExpressionError, param_expressions
from engine.nodes.call import CALL_ACTION
from engine.retry import MAX_DELAY_S, bounded_seconds
from runs.events import EventLog, transition
from runs.models import (
    Attempt,
    AttemptState,
    Run,
    RunState,
    StepRun,
    StepState,
)
from runs.rows import insert_row

# Retries due sooner than this are published with a short countdown; later ones wait in
# the database (`scheduled`) until the scheduler publishes them at `due_at`.
SHORT_RETRY_S = 2.0


def may_start(run: Run, step: StepRun) -> bool:
    """Say whether an attempt of this step may start now given its run's state."""
    if run.state == RunState.RUNNING:
        return step.compensates_id is None
    return run.state == RunState.COMPENSATING and step.compensates_id is not None


def publish_on_commit(
    attempt: Attempt, timeout_s: float, countdown: float | None
) -> None:
    transaction.on_commit(
        partial(
            publish_attempt,
            attempt.pk,
            queue=attempt.queue,
            priority=attempt.priority,
            timeout_s=timeout_s,
            countdown=countdown,
        )
    )


# ---------------------------------------------------------------------- retry budget

_JITTER = random.Random()  # noqa: S311 - spreads load; not a secret


def retry_budget() -> Any:
    """Return this process's retry budget (per queue token buckets)."""
    from engine.budget import get_budget

    return get_budget()


def defer_s(queue: str) -> float:
    """Return how long a refused retry waits: at least one scheduler tick, spread
    over part of the budget window so deferred retries do not come back in lockstep.
    """
    budget = retry_budget()
    window = float(budget.config_for(queue).window_s)
    return max(1.0, float(budget.defer_s(queue))) + _JITTER.uniform(0, window / 2)


# ----------------------------------------------------------------- attempt lifecycle


@dataclass(frozen=True)
class AttemptWork:
    """What a worker needs to call the action of a started attempt."""

    attempt_id: int
    run_id: int
    action: str
    params: Any
    context: ActionContext
    # Set for a map item's work, whose `attempt_id` is then the MapItem's id (its
    # step log belongs to the item, not to an Attempt).
    map_item_id: int | None = None
    # The attempt and step rows as this worker's transaction left them (eager
    # dispatch): finishing the attempt reads only its run again. Anyone who moved
    # them meanwhile (a cancel, the sweeper) fails the finish's guarded UPDATE.
    rows: "tuple[Attempt, StepRun] | None" = field(
        default=None, compare=False, repr=False
    )


@dataclass(frozen=True)
class EagerSlot:
    """A worker's offer to run the next attempt itself: its queue and its name."""

    queue: str
    worker: str


def mark_started(
    log: EventLog,
    step: StepRun,
    attempt: Attempt,
    *,
    worker: str,
    now: datetime,
    timeout_s: float,
) -> None:
    """Move an attempt (and its step, if queued) to running on `worker`.

    Rows not inserted yet (an eager start) are left for the caller's single INSERT.
    """
    transition(
        log,
        attempt,
        "start",
        actor=f"worker:{worker}",
        at=now,
        worker=worker[:200],
        deadline=now + timedelta(seconds=bounded_seconds(timeout_s)),
        data={"number": attempt.number},
        save=attempt.pk is not None,
    )
    if step.state == StepState.QUEUED:
        transition(
            log,
            step,
            "start",
            actor=f"worker:{worker}",
            at=now,
            save=step.pk is not None,
        )


def start_attempt(
    advance: Any, step: StepRun, attempt: Attempt, *, worker: str
) -> AttemptWork:
    """Evaluate params, move attempt and step to running; raise ExpressionError."""
    run, graph, now = advance.run, advance.graph, advance.now
    node = graph.node(step.node_id)
    params: Any = node.get("params", {})
    if param_expressions(params):
        params = graph.params(step.node_id, advance.context(attempt=attempt.number))
    policy = graph.retry_policy(step.node_id)
    # A call waits for its child run, which its own deadline bounds.
    call = node["type"] == "call"
    timeout_s = MAX_DELAY_S if call else policy.timeout_s
    mark_started(
        advance.log, step, attempt, worker=worker, now=now, timeout_s=timeout_s
    )
    return AttemptWork(
        attempt_id=attempt.pk,
        run_id=run.pk,
        action=CALL_ACTION if call else node["action"],
        params=params,
        context=ActionContext(
            run_id=run.pk,
            node_id=step.node_id,
            attempt=attempt.number,
            idempotency_key=step.idempotency_key,
            input=run.input,
            timeout_s=policy.timeout_s,
        ),
    )


def create_attempt(
    advance: Any,
    step: StepRun,
    *,
    number: int,
    due_at: datetime,
    eager: bool = True,
) -> None:
    """Create the step's attempt `number`, due at `due_at`, as an `Advance` decided.

    Due within SHORT_RETRY_S it is queued (published after commit with a countdown,
    or started at once on the finishing worker: eager dispatch); later, or when the
    queue's retry budget is spent, it waits as `scheduled` for the scheduler.
    """
    graph = advance.graph
    policy = graph.retry_policy(step.node_id)
    queue = graph.queue(step.node_id)
    delay = max(0.0, (due_at - advance.now).total_seconds())
    scheduled = delay > SHORT_RETRY_S
    deferred = False
    if number == 1:
        retry_budget().deposit(queue)
    elif not scheduled and not retry_budget().try_withdraw(queue):
        # The queue's retry budget is spent: wait instead of adding load to a
        # dependency that is already failing.
        due_at = max(due_at, advance.now + timedelta(seconds=defer_s(queue)))
        scheduled = deferred = True
    attempt = Attempt(
        step=step,
        run=advance.run,
        number=number,
        queue=queue,
        priority=graph.priority(step.node_id),
        due_at=due_at,
        state=AttemptState.SCHEDULED if scheduled else AttemptState.QUEUED,
    )
    if scheduled:
        if step.pk is None:
            insert_row(step)
        insert_row(attempt)
        advance.log.add(
            "attempt_scheduled",
            run=advance.run,
            step=step,
            attempt=attempt,
            to_state=AttemptState.SCHEDULED,
            actor=advance.actor,
            data={"number": number, "due_at": due_at.isoformat()},
        )
        if deferred:
            advance.log.add(
                "retry_deferred",
                run=advance.run,
                step=step,
                attempt=attempt,
                from_state=AttemptState.SCHEDULED,
                to_state=AttemptState.SCHEDULED,
                actor=advance.actor,
                reason=f"retry budget of queue {queue!r} is spent",
                data={"number": number, "due_at": due_at.isoformat()},
            )
        return
    attempt.enqueued_at = advance.now
    if step.state == StepState.RETRY_WAIT:
        transition(advance.log, step, "enqueue", actor=advance.actor)
    advance.log.add(
        "attempt_queued",
        run=advance.run,
        step=step,
        attempt=attempt,
        to_state=AttemptState.QUEUED,
        actor=advance.actor,
        data={"number": number, "queue": attempt.queue},
    )
    eager = eager and delay == 0 and _start_eagerly(advance, step, attempt)
    # One INSERT each, in whatever state the transitions above left them.
    if step.pk is None:
        insert_row(step)
    insert_row(attempt)
    if eager and advance.eager_work is not None:
        advance.eager_work = replace(
            advance.eager_work, attempt_id=attempt.pk, rows=(attempt, step)
        )
    else:
        publish_on_commit(attempt, policy.timeout_s, countdown=delay or None)


def _start_eagerly(advance: Any, step: StepRun, attempt: Attempt) -> bool:
    """Start the attempt on the finishing worker; False to publish it instead."""
    slot = advance.eager
    if (
        slot is None
        or advance.eager_work is not None
        or attempt.queue != slot.queue
        or not may_start(advance.run, step)
    ):
        return False
    try:
        work = start_attempt(advance, step, attempt, worker=slot.worker)
    except ExpressionError:
        return False  # the normal start path records the failure
    advance.eager_work = work
    return True
