"""Attempts: starting them (params evaluated, rows moved to running), publishing them
after commit, and the per-queue retry budget that paces retries."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction

from engine.actions import ActionContext
from engine.dispatch import publish_attempt
from engine.expressions import param_expressions
from engine.retry import bounded_seconds
from runs.events import EventLog, transition
from runs.models import (
    Attempt,
    Run,
    RunState,
    StepRun,
    StepState,
)

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
    mark_started(
        advance.log, step, attempt, worker=worker, now=now, timeout_s=policy.timeout_s
    )
    return AttemptWork(
        attempt_id=attempt.pk,
        run_id=run.pk,
        action=node["action"],
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
