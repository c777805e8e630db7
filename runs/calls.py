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

from django.conf import settings
from django.db import transaction

from designer.models import Workflow, WorkflowVersion
from runs import events
from runs.errors import RunError
from runs.models import (
    RUN_FINISHED,
    Attempt,
    AttemptState,
    Run,
    RunState,
    StepState,
)
from runs.services.attempts import attempt_finish
from runs.services.controls import run_cancel
from runs.services.dispatching import AttemptWork
from runs.services.starting import run_start

logger = logging.getLogger("switchyard.calls")

DEFAULT_MAX_CALL_DEPTH = 10


def max_call_depth() -> int:
    return int(getattr(settings, "SWITCHYARD_MAX_CALL_DEPTH", DEFAULT_MAX_CALL_DEPTH))


def _fail(attempt_id: int, kind: str, message: str, *, retryable: bool) -> None:
    attempt_finish(
        attempt_id=attempt_id,
        output=None,
        error={"type": kind, "message": message, "retryable": retryable},
        actor="system:call",
    )


def call_begin(work: AttemptWork) -> Run | None:
    """Start the child run of a running call attempt; None if it cannot start (the
    attempt is then failed, naming why)."""
    attempt = (
        Attempt.objects.select_related("run", "step").filter(pk=work.attempt_id).first()
    )
    if attempt is None or attempt.state != AttemptState.RUNNING:
        return None
    node = _node(attempt)
    if attempt.run.call_depth + 1 > max_call_depth():
        _fail(
            attempt.pk,
            "CallDepthExceeded",
            f"calls nest at most {max_call_depth()} deep",
            retryable=False,
        )
        return None
    if not isinstance(work.params, dict):
        _fail(
            attempt.pk,
            "InvalidParams",
            "a call's params are the child's input: a JSON object",
            retryable=False,
        )
        return None
    workflow = Workflow.objects.filter(slug=node["workflow"]).first()
    version = None
    if workflow is not None and node.get("version") is not None:
        version = WorkflowVersion.objects.filter(
            workflow=workflow, number=node["version"]
        ).first()
        if version is None:
            _fail(
                attempt.pk,
                "CallTargetMissing",
                f"{node['workflow']} has no version {node['version']}",
                retryable=False,
            )
            return None
    if workflow is None:
        _fail(
            attempt.pk,
            "CallTargetMissing",
            f"there is no workflow {node['workflow']!r}",
            retryable=False,
        )
        return None
    try:
        child, _ = run_start(
            workflow=workflow,
            version=version,
            input=work.params,
            actor=f"system:call:{attempt.run_id}",
            idempotency_key=f"call:{attempt.pk}",
            trigger=f"call:{attempt.run_id}",
            parent_attempt=attempt,
        )
    except RunError as exc:
        _fail(attempt.pk, "CallNotStarted", exc.message, retryable=True)
        return None
    if child.is_finished:
        child_finished(child.pk)  # finished within its start (no task in it)
    return child


def _node(attempt: Attempt) -> dict[str, Any]:
    from runs.services.graphs import compiled_graph_for

    return compiled_graph_for(attempt.run.version_id).node(attempt.step.node_id)


def child_finished(child_id: int) -> bool:
    """Finish the parent's call attempt with the child's result (idempotent)."""
    child = Run.objects.filter(pk=child_id).first()
    if child is None or not child.is_finished or child.parent_attempt_id is None:
        return False
    if child.state == RunState.SUCCEEDED:
        return attempt_finish(
            attempt_id=child.parent_attempt_id,
            output=child.output,
            error=None,
            actor="system:call",
        )
    error = child.error or {}
    message = f"child run {child.pk} {child.state}"
    if error.get("message"):
        message += f": {error['message']}"
    return attempt_finish(
        attempt_id=child.parent_attempt_id,
        output=None,
        error={
            "type": "ChildRunFailed",
            "message": message[:2000],
            "child_run": child.pk,
            "child_error": error.get("type", ""),
            "retryable": child.state != RunState.CANCELLED,
        },
        actor="system:call",
    )


def cancel_children(attempt_id: int) -> int:
    """Cancel the unfinished child runs of a cancelled call attempt."""
    cancelled = 0
    for child in Run.objects.filter(parent_attempt_id=attempt_id).exclude(
        state__in=RUN_FINISHED
    ):
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
    )
    return sum(1 for child_id in children if child_finished(child_id))


# ------------------------------------------------------------------- hooks


def _on_child_finished(run: Run) -> None:
    transaction.on_commit(partial(_after_commit, child_finished, run.pk))


def _on_attempt_cancelled(attempt: Attempt) -> None:
    step = getattr(attempt, "step", None)
    if step is not None and step.node_type == "call":
        transaction.on_commit(partial(_after_commit, cancel_children, attempt.pk))


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
