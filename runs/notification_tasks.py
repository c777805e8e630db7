"""The Celery task that sends one notification (runs.notifications does the work)."""

from celery import shared_task

from runs import notification_delivery, notifications


@shared_task(
    name=notifications.DELIVER_TASK,
    queue="default",
    acks_late=True,
    ignore_result=True,
    # The delivery bounds its own time; this only stops a send stuck beyond it
    # (SoftTimeLimitExceeded is recorded as the attempt's error).
    soft_time_limit=90,
    time_limit=100,
)
def deliver_notification(notification_id: int) -> str:
    """Send notification `notification_id` if it is due; record what happened."""
    return notification_delivery.notification_deliver(notification_id=notification_id)
