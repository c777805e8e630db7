"""Celery tasks: run attempts, publish due retries. Ids in, services do the work."""

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from celery import shared_task
from django.conf import settings

from config.parsers import storable_problem
from designer.connections import (
    CONNECTION_PARAM,
    ConnectionInvalid,
    connection_resolve,
)
from engine.actions import ActionError, error_type_of, get_action, params_problems
from engine.connections import ResolvedConnection, redact, redact_text
from engine.nodes.call import CALL_ACTION
from runs import (
    bulk_processing,
    calls,
    handoffs,
    maps,
    messages,
    notification_delivery,
    schedules,
)
from runs import logs as step_logs
from runs import tracing as run_tracing
from runs.models import Run
from runs.services import recovery
from runs.services.attempts import (
    attempt_finish,
    attempt_finish_and_continue,
    attempt_start,
)
from runs.services.dispatching import AttemptWork, EagerSlot, retry_budget

logger = logging.getLogger("switchyard.engine")

# How many attempts one message may run back to back through eager dispatch before the
# worker goes back to the broker (keeps queues fair and task durations bounded).
EAGER_LIMIT = 100


class AttemptTimeout(Exception):
    """Raised inside an action that ran past its attempt's `timeout_s`."""

    error_type = "Timeout"


@contextmanager
def attempt_deadline(seconds: float) -> Iterator[None]:
    """Raise AttemptTimeout in this thread after `seconds` (prefork/solo workers).

    Per attempt, not per message: one message can run several attempts eagerly. In
    pools where this is not the main thread, the sweeper's deadline still applies.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise AttemptTimeout(f"attempt exceeded {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def execute(work: AttemptWork) -> tuple[Any, dict[str, Any] | None]:
    """Call the attempt's action; return (output, None) or (None, error)."""
    try:
        action = get_action(work.action)
    except KeyError:
        return None, {
            "type": "UnknownAction",
            "message": f"no action {work.action!r} is registered on this worker",
            "retryable": False,
        }
    # Expressions were evaluated just now: their values are as hostile as anything
    # an author saves, so they meet the action's schema again (a URL built at run
    # time is still only http or https).
    problems = params_problems(action, work.params)
    if problems:
        return None, {
            "type": "InvalidParams",
            "message": _storable_text(
                f"evaluated params do not fit action {work.action!r}: "
                + "; ".join(problems)
            ),
            "retryable": False,
        }
    secrets: list[str] = []
    try:
        context = work.context
        if isinstance(work.params, dict) and CONNECTION_PARAM in work.params:
            # Decrypted here, on the worker, for this call only; never stored.
            connection = connection_for(work)
            secrets = connection.secret_values()
            context = replace(context, connection=connection)
        with step_logs.capture(work, secrets=secrets) as log:
            with attempt_deadline(work.context.timeout_s):
                output = action.func(work.params, replace(context, log=log))
    except Exception as exc:  # noqa: BLE001 - any action failure is the step's failure
        return None, {
            "type": error_type_of(exc),
            "message": _storable_text(redact_text(str(exc)[:2000], secrets))
            or type(exc).__name__,
            "retryable": bool(getattr(exc, "retryable", True)),
        }
    # An action that echoes a secret does not get it stored.
    output = redact(output, secrets)
    try:
        # PostgreSQL's jsonb has no NaN or Infinity.
        encoded = json.dumps(output, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        return None, {
            "type": "BadOutput",
            "message": _storable_text(f"output is not JSON: {exc}"),
            "retryable": False,
        }
    # ASCII (json.dumps escapes the rest), so characters are bytes. Too large is not
    # stored: the attempt fails, and a retry would return the same output.
    limit = settings.SWITCHYARD_MAX_OUTPUT_BYTES
    if len(encoded) > limit:
        return None, {
            "type": "OutputTooLarge",
            "message": f"output is {len(encoded)} bytes as JSON; the limit is {limit}",
            "retryable": False,
        }
    problem = storable_problem(output, settings.SWITCHYARD_MAX_JSON_DEPTH)
    if problem:
        return None, {
            "type": "BadOutput",
            "message": f"output cannot be stored: {problem}",
            "retryable": False,
        }
    return output, None


def connection_for(work: AttemptWork) -> ResolvedConnection:
    """The connection the attempt's `connection` param names, with its secrets."""
    workflow_id = (
        Run.objects.filter(pk=work.run_id).values_list("workflow_id", flat=True).first()
    )
    try:
        return connection_resolve(
            name=work.params[CONNECTION_PARAM], workflow_id=workflow_id
        )
    except ConnectionInvalid as exc:
        raise ActionError(exc.message, error_type="ConnectionError", retryable=False)


def _storable_text(text: str) -> str:
    """Return text without what PostgreSQL refuses: NUL, lone surrogate halves."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


@shared_task(
    name="engine.run_attempt",
    queue="default",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def run_attempt(self: Any, attempt_id: int) -> None:
    """Run one attempt, then any next attempts of its run handed back eagerly."""
    worker = self.request.hostname or "worker"
    queue = (self.request.delivery_info or {}).get("routing_key") or "default"
    slot = EagerSlot(queue=queue, worker=worker)
    work = attempt_start(attempt_id=attempt_id, worker=worker)
    budget = EAGER_LIMIT
    while work is not None:
        if work.action == CALL_ACTION:
            # A sub-workflow: start the child run; it finishes this attempt. In
            # the attempt's span, so the child run joins the parent's trace.
            with run_tracing.attempt_span(work, queue=queue):
                calls.call_begin(work)
            return
        with run_tracing.attempt_span(work, queue=queue) as span:
            HEARTBEAT.track(work.attempt_id)
            try:
                output, error = execute(work)
            finally:
                HEARTBEAT.untrack(work.attempt_id)
            run_tracing.attempt_outcome(span, error)
            if budget > 0:
                work = attempt_finish_and_continue(
                    attempt_id=work.attempt_id,
                    output=output,
                    error=error,
                    slot=slot,
                    rows=work.rows,
                )
                budget -= 1
            else:
                attempt_finish(
                    attempt_id=work.attempt_id,
                    output=output,
                    error=error,
                    actor=f"worker:{worker}",
                )
                work = None


@shared_task(
    name="engine.run_map_item",
    queue="default",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def run_map_item(self: Any, item_id: int) -> None:
    """Run one item of a map step and record its result."""
    worker = self.request.hostname or "worker"
    queue = (self.request.delivery_info or {}).get("routing_key") or "default"
    work = maps.map_item_work(item_id, worker=worker)
    if work is None:
        return
    with run_tracing.attempt_span(work, queue=queue) as span:
        output, error = execute(work)
        run_tracing.attempt_outcome(span, error)
        maps.map_item_finish(item_id, output=output, error=error)


@shared_task(name="engine.enqueue_due", queue="default", ignore_result=True)
def enqueue_due() -> int:
    """Publish retries whose due time has come, fire due wait timers, and start
    the runs of schedules whose slot has come."""
    return sum(
        _job(name, func)
        for name, func in (
            ("enqueue_due", recovery.attempts_enqueue_due),
            ("timers", recovery.steps_wake_due),
            ("schedules", schedules.schedules_fire_due),
        )
    )


@shared_task(name="engine.evaluate_rollbacks", queue="default", ignore_result=True)
def evaluate_rollbacks() -> list[str]:
    """Roll back canaries and new live versions that break their criteria."""
    from runs import releases

    return releases.evaluate_rollbacks()


@shared_task(name="engine.prune_runs", queue="default", ignore_result=True)
def prune_runs() -> int:
    """Delete finished runs past their workflow's retention (runs/retention.py)."""
    from runs import retention

    return _job("retention", retention.prune_tick)


@shared_task(name="engine.sweep", queue="default", ignore_result=True)
def sweep() -> dict[str, int]:
    """Recover attempts whose worker died and re-publish ones whose message was lost."""
    return {
        "recovered": _job("recover_lost", recovery.attempts_recover_lost),
        "republished": _job("republish", recovery.attempts_republish_stuck),
        "handoffs_escalated": _job("handoff_sla", handoffs.handoffs_expire_due),
        "runs_timed_out": _job("deadlines", recovery.runs_expire_deadlines),
        "messages_expired": _job("messages", messages.messages_expire),
        "calls_settled": _job("calls", calls.calls_settle),
        "map_items_republished": _job("map_items", maps.map_items_republish),
        "notifications": _job(
            "notifications", notification_delivery.notifications_sweep
        ),
        "bulk_jobs": _job("bulk_jobs", bulk_processing.bulk_jobs_sweep),
    }


@shared_task(
    name="engine.bulk_process",
    queue="default",
    acks_late=True,
    ignore_result=True,
)
def bulk_process(job_id: int) -> str:
    """Process the next slice of bulk job `job_id` (it publishes itself again)."""
    return bulk_processing.bulk_process(job_id=job_id)


def _job(name: str, func: Any) -> int:
    """Run one periodic job; a failure is logged and does not stop the others."""
    try:
        return int(func())
    except Exception:  # noqa: BLE001 - the next job and the next beat must run
        logger.exception("periodic job %s failed", name)
        return 0


class Heartbeat:
    """Refresh `heartbeat_at` of the attempts this process is running, every few s.

    A daemon thread per worker process (started on first use, so after the prefork
    fork). It writes only for attempts that have run longer than one interval, so
    short steps cost nothing; the sweeper treats a stale heartbeat as a dead worker.
    """

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        # {attempt_id: monotonic start}
        self.running: dict[int, float] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def track(self, attempt_id: int) -> None:
        with self._lock:
            self.running[attempt_id] = time.monotonic()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="switchyard-heartbeat", daemon=True
                )
                self._thread.start()

    def untrack(self, attempt_id: int) -> None:
        with self._lock:
            self.running.pop(attempt_id, None)

    def _loop(self) -> None:
        from django.db import connection

        while True:
            time.sleep(self.interval_s)
            now = time.monotonic()
            with self._lock:
                due = [a for a, began in self.running.items() if now - began >= 1.0]
            try:
                # Also hand buffered first attempts to the shared retry budget.
                retry_budget().flush()
            except Exception:  # noqa: BLE001 - the budget fails open
                logger.warning("retry budget flush failed", exc_info=True)
            if not due:
                continue
            try:
                recovery.attempts_heartbeat(attempt_ids=due)
            except Exception:  # noqa: BLE001 - keep beating through DB hiccups
                logger.warning("heartbeat failed", exc_info=True)
                connection.close()


HEARTBEAT = Heartbeat(recovery.HEARTBEAT_S)


def _reset_heartbeat_after_fork() -> None:
    global HEARTBEAT
    HEARTBEAT = Heartbeat(recovery.HEARTBEAT_S)


os.register_at_fork(after_in_child=_reset_heartbeat_after_fork)
