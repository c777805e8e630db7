"""Publish attempt messages to Celery by task name (ids only, never payloads)."""

from config.celery import app

RUN_ATTEMPT_TASK = "engine.run_attempt"
RUN_MAP_ITEM_TASK = "engine.run_map_item"


def publish_attempt(
    attempt_id: int,
    *,
    queue: str,
    priority: int,
    timeout_s: float | None = None,
    countdown: float | None = None,
) -> None:
    """Send one message asking a worker on `queue` to run the attempt.

    A node's priority runs 0-9 with higher first (as on RabbitMQ and in Airflow);
    Redis's priority queues serve 0 first, so it is inverted on the way out. Beat's
    own tasks use Redis priority 0, ahead of every attempt.
    """
    app.send_task(
        RUN_ATTEMPT_TASK,
        args=[attempt_id],
        queue=queue,
        priority=broker_priority(priority),
        countdown=countdown,
    )


def broker_priority(priority: int) -> int:
    """Return the Redis message priority (0 first) of a node priority (9 first)."""
    return 9 - max(0, min(9, priority))


def publish_map_item(
    item_id: int, *, queue: str, priority: int, countdown: float | None = None
) -> None:
    """Send one message asking a worker on `queue` to run a map item."""
    app.send_task(
        RUN_MAP_ITEM_TASK,
        args=[item_id],
        queue=queue,
        priority=broker_priority(priority),
        countdown=countdown,
    )
