"""Celery tasks: run one attempt, publish due retries. Ids in, services do the work."""

import json
import logging
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from engine.actions import error_type_of, get_action
from runs import services

logger = logging.getLogger("switchyard.engine")

MAX_OUTPUT_BYTES = 256 * 1024


@shared_task(
    name="engine.run_attempt",
    queue="default",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def run_attempt(self: Any, attempt_id: int) -> None:
    """Run one attempt of a task step: start it, call its action, record the result."""
    worker = self.request.hostname or "worker"
    work = services.attempt_start(attempt_id=attempt_id, worker=worker)
    if work is None:
        return
    output: Any = None
    error: dict[str, Any] | None = None
    try:
        action = get_action(work.action)
        output = action.func(work.params, work.context)
        encoded = json.dumps(output)
        if len(encoded) > MAX_OUTPUT_BYTES:
            output, error = None, {
                "type": "OutputTooLarge",
                "message": f"output is {len(encoded)} bytes; the limit is "
                f"{MAX_OUTPUT_BYTES}",
                "retryable": False,
            }
    except SoftTimeLimitExceeded:
        error = {
            "type": "Timeout",
            "message": f"attempt exceeded {work.context.timeout_s}s",
            "retryable": True,
        }
    except KeyError:
        error = {
            "type": "UnknownAction",
            "message": f"no action {work.action!r} is registered on this worker",
            "retryable": False,
        }
    except (TypeError, ValueError) as exc:
        if output is not None:
            output, error = None, {
                "type": "BadOutput",
                "message": f"output is not JSON: {exc}",
                "retryable": False,
            }
        else:
            error = _error_of(exc)
    except Exception as exc:  # noqa: BLE001 - any action failure is the step's failure
        error = _error_of(exc)
    services.attempt_finish(
        attempt_id=attempt_id,
        output=output if error is None else None,
        error=error,
        actor=f"worker:{worker}",
    )


def _error_of(exc: BaseException) -> dict[str, Any]:
    return {
        "type": error_type_of(exc),
        "message": str(exc)[:2000] or type(exc).__name__,
        "retryable": bool(getattr(exc, "retryable", True)),
    }


@shared_task(name="engine.enqueue_due", queue="default", ignore_result=True)
def enqueue_due() -> int:
    """Publish retries whose due time has come."""
    return services.attempts_enqueue_due()
