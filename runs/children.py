"""Child runs, shared by a `call` step and a `map` over a workflow: start one for a
parent (an attempt or a map item), and turn its end into a result."""

from typing import Any

from django.conf import settings

from designer.models import Workflow, WorkflowVersion
from runs.errors import RunError
from runs.models import Run, RunState
from runs.services.starting import run_start

DEFAULT_MAX_CALL_DEPTH = 10


class ChildNotStarted(Exception):
    """A child run that cannot start: its error for the parent's attempt or item."""

    def __init__(self, kind: str, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.error = {"type": kind, "message": message, "retryable": retryable}


def max_call_depth() -> int:
    return int(getattr(settings, "SWITCHYARD_MAX_CALL_DEPTH", DEFAULT_MAX_CALL_DEPTH))


def start_child(
    parent_run: Run,
    node: dict[str, Any],
    params: Any,
    *,
    idempotency_key: str,
    parent_attempt: Any = None,
    parent_item: Any = None,
) -> Run:
    """Start the run of `node["workflow"]` (its pinned `version`, else its live one)
    with `params` as input; raise ChildNotStarted naming why it cannot."""
    if parent_run.call_depth + 1 > max_call_depth():
        raise ChildNotStarted(
            "CallDepthExceeded",
            f"calls nest at most {max_call_depth()} deep",
            retryable=False,
        )
    if not isinstance(params, dict):
        raise ChildNotStarted(
            "InvalidParams",
            "a call's params are the child's input: a JSON object",
            retryable=False,
        )
    workflow = Workflow.objects.filter(slug=node["workflow"]).first()
    if workflow is None:
        raise ChildNotStarted(
            "CallTargetMissing",
            f"there is no workflow {node['workflow']!r}",
            retryable=False,
        )
    version = None
    if node.get("version") is not None:
        version = WorkflowVersion.objects.filter(
            workflow=workflow, number=node["version"]
        ).first()
        if version is None:
            raise ChildNotStarted(
                "CallTargetMissing",
                f"{node['workflow']} has no version {node['version']}",
                retryable=False,
            )
    try:
        child, _ = run_start(
            workflow=workflow,
            version=version,
            input=params,
            actor=f"system:call:{parent_run.pk}",
            idempotency_key=idempotency_key,
            trigger=f"call:{parent_run.pk}",
            parent_attempt=parent_attempt,
            parent_item=parent_item,
        )
    except RunError as exc:
        # A child's input that its input schema refuses fails the same way again.
        if exc.code == "input_invalid":
            raise ChildNotStarted("InvalidInput", exc.message, retryable=False) from exc
        raise ChildNotStarted("CallNotStarted", exc.message, retryable=True) from exc
    return child


def child_result(child: Run) -> tuple[Any, dict[str, Any] | None]:
    """Return (output, None) for a succeeded child, else (None, its error)."""
    if child.state == RunState.SUCCEEDED:
        return child.output, None
    error = child.error or {}
    message = f"child run {child.pk} {child.state}"
    if error.get("message"):
        message += f": {error['message']}"
    return None, {
        "type": "ChildRunFailed",
        "message": message[:2000],
        "child_run": child.pk,
        "child_error": error.get("type", ""),
        "retryable": child.state != RunState.CANCELLED,
    }
