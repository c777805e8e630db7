"""Publish attempt messages to Celery by task name (ids only, never payloads)."""

from config.celery import app

RUN_ATTEMPT_TASK = "engine.run_attempt"


def publish_attempt(
    attempt_id: int,
    *,
    queue: str,
    priority: int,
    timeout_s: float | None = None,
    countdown: float | None = None,
) -> None:
    """Send one message asking a worker on `queue` to run the attempt."""
    app.send_task(
        RUN_ATTEMPT_TASK,
        args=[attempt_id],
        queue=queue,
        priority=priority,
        countdown=countdown,
    )
