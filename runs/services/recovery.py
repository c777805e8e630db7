"""The sweeper's jobs: due retries, timers, and lost or stuck attempts."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from runs.events import EventLog, transition
from runs.models import (
    Attempt,
    AttemptState,
    Run,
    RunState,
    StepRun,
    StepState,
)
from runs.services.advancing import Advance
from runs.services.attempts import attempt_finish
from runs.services.dispatching import defer_s, publish_on_commit, retry_budget
from runs.services.graphs import compiled_graph_for
from runs.sweeping import each_isolated, mark_attempt, mark_timer


def attempts_enqueue_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Publish scheduled attempts whose due time has come; return how many."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            # Skips attempts whose run another writer holds (a cancel, say); they
            # are picked up on the next tick.
            Attempt.objects.select_for_update(
                skip_locked=True, of=("self", "run"), no_key=True
            )
            .filter(state=AttemptState.SCHEDULED, due_at__lte=now)
            .select_related("step", "run")
            .order_by("due_at")[:limit]
        )
        return each_isolated(
            "enqueue_due",
            due,
            partial(_enqueue_due, now=now),
            mark=lambda attempt, reason: mark_attempt(attempt.pk, reason),
            describe=_attempt_name,
        )


def _enqueue_due(attempt: Attempt, *, now: datetime) -> bool:
    step = attempt.step
    step.run = attempt.run
    graph = compiled_graph_for(attempt.run.version_id)
    log = EventLog()
    if attempt.number > 1 and not retry_budget().try_withdraw(attempt.queue):
        until = now + timedelta(seconds=defer_s(attempt.queue))
        transition(
            log,
            attempt,
            "defer",
            kind="retry_deferred",
            actor="system:scheduler",
            reason=f"retry budget of queue {attempt.queue!r} is spent",
            data={"number": attempt.number, "due_at": until.isoformat()},
            until=until,
        )
        log.flush()
        return False
    transition(log, attempt, "enqueue", actor="system:scheduler", at=now)
    if step.state == StepState.RETRY_WAIT:
        transition(log, step, "enqueue", actor="system:scheduler")
    publish_on_commit(
        attempt, graph.retry_policy(step.node_id).timeout_s, countdown=None
    )
    log.flush()
    return True


def _attempt_name(attempt: Attempt) -> str:
    return f"attempt {attempt.pk} (run {attempt.run_id})"


# {version id: seconds}
_STUCK_AFTER: dict[int, float] = {}


def stuck_after_s(version_id: int) -> float:
    """Return how long a run of this version may go without an event before it looks
    stuck: its longest attempt timeout plus the sweeper's heartbeat allowance."""
    cached = _STUCK_AFTER.get(version_id)
    if cached is None:
        graph = compiled_graph_for(version_id)
        timeouts = [
            graph.retry_policy(node_id).timeout_s
            for node_id, node in graph.nodes.items()
            if node["type"] == "task"
        ]
        cached = max(timeouts, default=0.0) + HEARTBEAT_TIMEOUT_S
        if len(_STUCK_AFTER) > 4096:
            _STUCK_AFTER.clear()
        _STUCK_AFTER[version_id] = cached
    return cached


# ------------------------------------------------------------------------- timers


def steps_wake_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Finish wait steps whose time has come and advance their runs; return how many."""
    now = now or timezone.now()
    due = list(
        StepRun.objects.filter(
            state=StepState.WAITING,
            node_type__in=["wait", "receive"],
            wake_at__lte=now,
        )
        .order_by("wake_at")
        .values_list("pk", "run_id")[:limit]
    )
    return each_isolated(
        "timers",
        due,
        lambda ids: _step_wake(step_id=ids[0], run_id=ids[1], now=now),
        mark=lambda ids, reason: mark_timer(ids[0], reason),
        describe=lambda ids: f"wait step {ids[0]} (run {ids[1]})",
    )


def _step_wake(*, step_id: int, run_id: int, now: datetime) -> bool:
    with transaction.atomic():
        run = Run.objects.select_for_update(no_key=True).get(pk=run_id)
        if run.state != RunState.RUNNING:
            return False  # a paused run's timers fire on resume
        log = EventLog()
        advance = Advance(
            run,
            compiled_graph_for(run.version_id),
            log,
            now=now,
            actor="system:timer",
            steps=None,
        )
        woken = advance.wake(step_id)
        log.flush()
    return woken


# A queued attempt whose message has not started after this long is published again
# (doubling the wait each time: a deep backlog is not flooded with copies).
QUEUED_GRACE_S = 10.0
# Workers refresh `heartbeat_at` of running attempts every HEARTBEAT_S; an attempt
# whose heartbeat is older than HEARTBEAT_TIMEOUT_S lost its worker.
HEARTBEAT_S = 5.0
HEARTBEAT_TIMEOUT_S = 20.0
# Past its deadline (start + timeout_s) by this much, the worker's own timer failed.
DEADLINE_SLACK_S = 10.0


def attempts_heartbeat(
    *, attempt_ids: Iterable[int], now: datetime | None = None
) -> int:
    """Record that this worker is still running these attempts (not a state change)."""
    ids = list(attempt_ids)
    if not ids:
        return 0
    return Attempt.objects.filter(pk__in=ids, state=AttemptState.RUNNING).update(
        heartbeat_at=now or timezone.now()
    )


def attempts_republish_stuck(*, now: datetime | None = None, limit: int = 500) -> int:
    """Publish again queued attempts whose message seems lost; return how many."""
    now = now or timezone.now()
    with transaction.atomic():
        stuck = list(
            Attempt.objects.select_for_update(
                skip_locked=True, of=("self",), no_key=True
            )
            .filter(
                state=AttemptState.QUEUED,
                due_at__lt=now - timedelta(seconds=QUEUED_GRACE_S),
                run__state__in=[RunState.RUNNING, RunState.COMPENSATING],
            )
            .select_related("step", "run")
            .order_by("due_at")[:limit]
        )
        return each_isolated(
            "republish",
            stuck,
            partial(_republish, now=now),
            mark=lambda attempt, reason: mark_attempt(attempt.pk, reason),
            describe=_attempt_name,
        )


def _republish(attempt: Attempt, *, now: datetime) -> bool:
    since = attempt.enqueued_at or attempt.due_at
    wait = QUEUED_GRACE_S * (2 ** min(attempt.publish_count, 20))
    if (now - since).total_seconds() < wait:
        return False
    Attempt.objects.filter(pk=attempt.pk).update(
        publish_count=attempt.publish_count + 1
    )
    log = EventLog()
    log.add(
        "attempt_republished",
        run=attempt.run,
        step=attempt.step,
        attempt=attempt,
        from_state=attempt.state,
        to_state=attempt.state,
        actor="system:sweeper",
        reason=f"not started {int((now - since).total_seconds())}s after it was queued",
        data={"publish_count": attempt.publish_count + 1},
    )
    graph = compiled_graph_for(attempt.run.version_id)
    publish_on_commit(
        attempt,
        graph.retry_policy(attempt.step.node_id).timeout_s,
        countdown=None,
    )
    log.flush()
    return True


def attempts_recover_lost(*, now: datetime | None = None, limit: int = 500) -> int:
    """Fail running attempts whose worker died or hung, so their steps retry."""
    now = now or timezone.now()
    lost = list(
        Attempt.objects.filter(state=AttemptState.RUNNING)
        .filter(
            Q(heartbeat_at__lt=now - timedelta(seconds=HEARTBEAT_TIMEOUT_S))
            | Q(deadline_at__lt=now - timedelta(seconds=DEADLINE_SLACK_S))
        )
        .values_list("pk", "heartbeat_at", "deadline_at")[:limit]
    )
    return each_isolated(
        "recover_lost",
        lost,
        partial(_recover, now=now),
        mark=lambda row, reason: mark_attempt(row[0], reason),
        describe=lambda row: f"attempt {row[0]}",
    )


def _recover(row: tuple[int, Any, Any], *, now: datetime) -> bool:
    attempt_id, heartbeat_at, deadline_at = row
    if deadline_at is not None and deadline_at < now - timedelta(
        seconds=DEADLINE_SLACK_S
    ):
        error = {
            "type": "Timeout",
            "message": "the attempt ran past its timeout and its worker did not "
            "report back",
            "retryable": True,
        }
    else:
        error = {
            "type": "WorkerLost",
            "message": f"no heartbeat from the worker since {heartbeat_at}",
            "retryable": True,
        }
    return attempt_finish(
        attempt_id=attempt_id, output=None, error=error, actor="system:sweeper"
    )


# ----------------------------------------------------------------- run deadlines


def runs_expire_deadlines(*, now: datetime | None = None, limit: int = 500) -> int:
    """Fail running or paused runs past their deadline (RunTimeout); they compensate
    as any failed run does. Return how many."""
    now = now or timezone.now()
    due = list(
        Run.objects.filter(
            state__in=[RunState.RUNNING, RunState.PAUSED],
            deadline_at__isnull=False,
            deadline_at__lt=now,
        )
        .order_by("deadline_at")
        .values_list("pk", flat=True)[:limit]
    )
    return each_isolated(
        "deadlines",
        due,
        lambda run_id: _expire_run(run_id, now=now),
        mark=_drop_deadline,
        describe=lambda run_id: f"run {run_id}",
    )


def _drop_deadline(run_id: int, reason: str) -> None:
    """A run that cannot be failed (a bad row) leaves the job's query: its deadline
    is dropped (not a state change) and the failure is logged by each_isolated."""
    Run.objects.filter(pk=run_id).update(deadline_at=None)


def _expire_run(run_id: int, *, now: datetime) -> bool:
    with transaction.atomic():
        run = Run.objects.select_for_update(no_key=True).get(pk=run_id)
        if run.state not in (RunState.RUNNING, RunState.PAUSED):
            return False
        log = EventLog()
        advance = Advance(
            run,
            compiled_graph_for(run.version_id),
            log,
            now=now,
            actor="system:deadline",
            steps=None,
        )
        timeout = advance.graph.graph.get("timeout_s")
        advance.fail_run(
            {
                "type": "RunTimeout",
                "message": f"the run passed its deadline ({timeout} s from its start)",
                "retryable": False,
            }
        )
        log.flush()
    return True
