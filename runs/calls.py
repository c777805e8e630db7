"""Sub-workflows: a `call` step's attempt starts a child run and finishes with it.

A worker that takes a call attempt (action `switchyard.call`) starts the child run in
one transaction with the attempt still `running` (`call_begin`); the child's
idempotency key is the attempt, so a redelivered message starts no second child. When
the child finishes, the parent's attempt finishes after commit with the child's output,
or with its error: the call's retry policy (a new child per attempt) and failure edge
apply as for a task. Cancelling the call's attempt (its parent run cancelled, failed,
or a join `any` going on without it) cancels the child. The sweeper settles call
attempts whose child finished while the after-commit step was lost (`calls_settle`).
"""

import logging
from functools import partial
from typing import Any

from django.db import transaction

from runs import events
from runs.children import ChildNotStarted, child_result, start_child
from runs.maps import map_item_finish
from runs.models import (
    RUN_FINISHED,
    Attempt,
    AttemptState,
    ItemState,
    Run,
    StepState,
)
from runs.services.attempts import attempt_finish
from runs.services.controls import run_cancel
from runs.services.dispatching import AttemptWork
from runs.services.graphs import compiled_graph_for

logger = logging.getLogger("switchyard.calls")


def _fail(attempt_id: int, error: dict[str, Any]) -> None:
    attempt_finish(attempt_id=attempt_id, output=None, error=error, actor="system:call")


def call_begin(work: AttemptWork) -> Run | None:
    """Start the child run of a running call attempt; None if it cannot start (the
    attempt is then failed, naming why)."""
    attempt = (
        Attempt.objects.select_related("run", "step").filter(pk=work.attempt_id).first()
    )
    if attempt is None or attempt.state != AttemptState.RUNNING:
        return None
    node = compiled_graph_for(attempt.run.version_id).node(attempt.step.node_id)
    try:
        child = start_child(
            attempt.run,
            node,
            work.params,
            idempotency_key=f"call:{attempt.pk}",
            parent_attempt=attempt,
        )
    except ChildNotStarted as exc:
        _fail(attempt.pk, exc.error)
        return None
    if child.is_finished:
        child_finished(child.pk)  # finished within its start (no task in it)
    return child


def child_finished(child_id: int) -> bool:
    """Hand a finished child's result to its parent: the call attempt or the map
    item that started it (idempotent)."""
    child = Run.objects.filter(pk=child_id).first()
    if child is None or not child.is_finished:
        return False
    output, error = child_result(child)
    if child.parent_item_id is not None:
        return map_item_finish(child.parent_item_id, output=output, error=error)
    if child.parent_attempt_id is None:
        return False
    return attempt_finish(
        attempt_id=child.parent_attempt_id,
        output=output,
        error=error,
        actor="system:call",
    )


def cancel_children(attempt_id: int) -> int:
    """Cancel the unfinished child runs of a cancelled call attempt."""
    return _cancel(Run.objects.filter(parent_attempt_id=attempt_id))


def cancel_item_children(step_id: int) -> int:
    """Cancel the unfinished child runs of a cancelled map step's items."""
    return _cancel(Run.objects.filter(parent_item__step_id=step_id))


def _cancel(children: Any) -> int:
    cancelled = 0
    for child in children.exclude(state__in=RUN_FINISHED):
        try:
            run_cancel(
                run=child, actor="system:call", reason="its caller was cancelled"
            )
            cancelled += 1
        except Exception:  # noqa: BLE001 - finished meanwhile
            logger.info("child run %s ended before it could be cancelled", child.pk)
    return cancelled


def calls_settle(*, limit: int = 500) -> int:
    """Finish running call attempts whose child finished (a lost after-commit step)."""
    children = list(
        Run.objects.filter(
            parent_attempt__state=AttemptState.RUNNING,
            parent_attempt__step__state=StepState.RUNNING,
            state__in=RUN_FINISHED,
        ).values_list("pk", flat=True)[:limit]
    ) + list(
        Run.objects.filter(
            parent_item__state=ItemState.RUNNING, state__in=RUN_FINISHED
        ).values_list("pk", flat=True)[:limit]
    )
    return sum(1 for child_id in children if child_finished(child_id))


# ------------------------------------------------------------------- hooks


def _on_child_finished(run: Run) -> None:
    transaction.on_commit(partial(_after_commit, child_finished, run.pk))


def _on_attempt_cancelled(attempt: Attempt) -> None:
    step = getattr(attempt, "step", None)
    if step is not None and step.node_type == "call":
        transaction.on_commit(partial(_after_commit, cancel_children, attempt.pk))


def _on_map_cancelled(step: Any) -> None:
    transaction.on_commit(partial(_after_commit, cancel_item_children, step.pk))


def _after_commit(func: Any, object_id: int) -> None:
    try:
        func(object_id)
    except Exception:  # noqa: BLE001 - the sweeper settles what this missed
        logger.exception("%s(%s) failed; the sweeper retries", func.__name__, object_id)


def connect() -> None:
    if _on_child_finished not in events.CHILD_RUN_FINISHED:
        events.CHILD_RUN_FINISHED.append(_on_child_finished)
    if _on_attempt_cancelled not in events.ATTEMPT_CANCELLED:
        events.ATTEMPT_CANCELLED.append(_on_attempt_cancelled)
    if _on_map_cancelled not in events.MAP_CANCELLED:
        events.MAP_CANCELLED.append(_on_map_cancelled)
