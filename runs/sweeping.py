"""Periodic jobs item by item: one bad row is logged, marked and skipped.

The sweeper, the scheduler and the SLA clock serve every team at once. If one row
(a graph stored before a bound existed, a bug that one workflow triggers) raised out
of a batch, the whole job would fail on every beat and nobody's retries, timers or
escalations would move. So each item runs in its own savepoint; a failure rolls back
that item only, is logged with its id, and the row is marked through its state machine
(an attempt failed or cancelled, a timer cancelled, a handoff expired) with the error
as the reason, so it leaves the job's query and the board shows what happened.
"""

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from runs.events import EventLog, transition
from runs.models import (
    Attempt,
    AttemptState,
    Handoff,
    HandoffState,
    Run,
    StepRun,
    StepState,
)

logger = logging.getLogger("switchyard.sweep")

Item = TypeVar("Item")


def each_isolated(
    job: str,
    items: Iterable[Item],
    process: Callable[[Item], Any],
    *,
    mark: Callable[[Item, str], None],
    describe: Callable[[Item], str] = str,
) -> int:
    """Run `process` on each item in its own savepoint; return how many it did.

    An item whose processing raises is logged and then marked by `mark(item, error)`
    (in a transaction of its own, after the savepoint rolled back). A database that
    is unreachable, restarting or chose this transaction as a deadlock's victim
    says nothing about the row: the item is left for the next tick, unmarked, and
    the job stops when the database is gone (the next items would fail alike).
    """
    done = 0
    failed: list[tuple[Item, str]] = []
    for item in items:
        try:
            with transaction.atomic():
                done += int(bool(process(item)))
        except ConcurrentTransition:
            continue  # another writer moved the row first: nothing to do
        except (OperationalError, InterfaceError) as exc:
            logger.warning(
                "%s: %s not processed, left for the next tick: %s",
                job,
                describe(item),
                str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__,
            )
            if not _database_usable():
                break
        except Exception as exc:  # noqa: BLE001 - one row must not stop the job
            logger.exception("%s: %s failed and was skipped", job, describe(item))
            failed.append((item, f"{type(exc).__name__}: {str(exc)[:300]}"))
    for item, error in failed:
        try:
            with transaction.atomic():
                mark(item, f"{job} could not process it: {error}")
        except Exception:  # noqa: BLE001
            logger.exception("%s: could not mark %s", job, describe(item))
    return done


def _database_usable() -> bool:
    """Drop a broken connection; say whether the database answers now."""
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
    try:
        connection.ensure_connection()
    except (OperationalError, InterfaceError):
        return False
    return connection.is_usable()


def mark_attempt(attempt_id: int, reason: str) -> None:
    """Take an attempt out of the periodic jobs: fail or cancel it, with the reason."""
    _lock_run_of(Attempt.objects.filter(pk=attempt_id))
    attempt = Attempt.objects.select_related("step", "run").get(pk=attempt_id)
    attempt.step.run = attempt.run
    log = EventLog()
    error = {"type": "SweepError", "message": reason, "retryable": False}
    try:
        if attempt.state == AttemptState.SCHEDULED:
            transition(
                log, attempt, "cancel", actor="system:sweeper", reason=reason, at=_now()
            )
        else:
            transition(
                log,
                attempt,
                "fail",
                actor="system:sweeper",
                reason=reason,
                error=error,
                at=_now(),
            )
    except TransitionNotAllowed:
        return  # already finished: nothing left to mark
    log.flush()


def _lock_run_of(rows: Any) -> None:
    """Lock the row's run first, in the order every writer of a run locks (run, then
    its steps): locking the step with it in one join took them the other way round
    and deadlocked with a timer firing on the same step."""
    run_id = rows.values_list("run_id", flat=True).first()
    if run_id is not None:
        locked = Run.objects.select_for_update(no_key=True).filter(pk=run_id)
        list(locked.values_list("pk", flat=True))


def mark_timer(step_id: int, reason: str) -> None:
    """Cancel a wait step whose timer could not fire, with the reason."""
    _lock_run_of(StepRun.objects.filter(pk=step_id))
    step = StepRun.objects.select_related("run").get(pk=step_id)
    if step.state != StepState.WAITING:
        return
    log = EventLog()
    transition(log, step, "cancel", actor="system:timer", reason=reason, at=_now())
    log.flush()


def mark_handoff(handoff_id: int, reason: str) -> None:
    """Expire a handoff whose escalation could not run, with the reason."""
    _lock_run_of(Handoff.objects.filter(pk=handoff_id))
    handoff = Handoff.objects.select_related("run", "step").get(pk=handoff_id)
    if handoff.state not in (HandoffState.OPEN, HandoffState.CLAIMED):
        return
    log = EventLog()
    transition(
        log,
        handoff,
        "expire",
        kind="handoff_expired",
        actor="system:sla",
        reason=reason,
    )
    log.flush()


def _now() -> Any:
    return timezone.now()
