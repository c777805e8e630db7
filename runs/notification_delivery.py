"""Notifications sent: a worker claims a message for a lease, sends it through its
rule's connection outside any transaction, and records sent, a retry with backoff, or
failed; the sweeper republishes messages no worker took and notifies stuck runs.
Matching and the settings are in runs/notifications.py."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from designer.connections import ConnectionInvalid, connection_resolve
from engine.connections import redact_text
from engine.connectors.deliver import deliver
from runs.events import EventLog, actor_of
from runs.models import (
    RUN_ACTIVE,
    Attempt,
    AttemptState,
    Event,
    Notification,
    NotificationEvent,
    NotificationRule,
    NotificationState,
    Run,
    RunState,
    StepRun,
    StepState,
)
from runs.notifications import (
    MAX_ERROR,
    REQUEUE_AFTER_S,
    SWEEP_LIMIT,
    Occurrence,
    lease_s,
    move_notification,
    notify,
    publish_on_commit,
    retry_policy,
    timeout_s,
)
from runs.services.recovery import HEARTBEAT_TIMEOUT_S, stuck_after_s
from runs.sweeping import each_isolated

logger = logging.getLogger("switchyard.notifications")


# ------------------------------------------------------------------ delivery


def notification_deliver(*, notification_id: int, now: datetime | None = None) -> str:
    """Send one due notification and record the outcome; return it: "sent", "retry",
    "failed", or "skipped" (not due, taken by another worker, already finished)."""
    claimed = _claim(notification_id, now=now or timezone.now())
    if claimed is None:
        return "skipped"
    failure = _send(claimed)
    return _finish(
        notification_id,
        attempt=claimed.attempts,
        failure=failure,
        now=now or timezone.now(),
    )


def _claim(notification_id: int, *, now: datetime) -> Notification | None:
    """Lease a due pending notification for one attempt (a short transaction)."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("rule__connection")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.state != NotificationState.PENDING:
            return None
        if notification.leased_until is not None and notification.leased_until > now:
            return None
        # A countdown may fire a little early.
        if notification.next_attempt_at > now + timedelta(seconds=1):
            return None
        if notification.attempts >= retry_policy().max_attempts:
            log = EventLog()
            move_notification(
                log,
                notification,
                "fail",
                kind="notification_failed",
                reason="its last attempt was lost",
                error=notification.last_error or "its last attempt was lost",
                at=now,
            )
            log.flush()
            return None
        notification.attempts += 1
        notification.leased_until = now + timedelta(seconds=lease_s())
        notification.save(update_fields=["attempts", "leased_until"])
    return notification


@dataclass(frozen=True)
class Failure:
    """Why an attempt did not send: the redacted error, and whether trying again
    may help (a refused request, a missing connection or no recipients will not)."""

    error: str
    retryable: bool = True


def _send(notification: Notification) -> Failure | None:
    """Send it through the rule's connection; return why it failed, or None."""
    connection = notification.rule.connection
    if connection is None:
        return Failure("ConnectionMissing: the rule's connection was deleted", False)
    secrets: list[str] = []
    try:
        resolved = connection_resolve(
            name=connection.name, workflow_id=notification.workflow_id
        )
        secrets = resolved.secret_values()
        deliver(
            resolved,
            subject=notification.subject,
            text=notification.text,
            link=notification.link,
            data=notification.data,
            to=list(notification.rule.to) or None,
            timeout_s=timeout_s(),
        )
    except ConnectionInvalid as exc:
        return Failure(describe_error(exc, secrets), retryable=False)
    except Exception as exc:  # noqa: BLE001 - whatever the target did is recorded
        return Failure(
            describe_error(exc, secrets), retryable=getattr(exc, "retryable", True)
        )
    return None


def describe_error(exc: BaseException, secrets: list[str]) -> str:
    """Return an error as kept on the row: its type and message, secrets redacted."""
    kind = getattr(exc, "error_type", None) or type(exc).__name__
    text = f"{kind}: {exc}" if str(exc) else kind
    return redact_text(text, secrets)[:MAX_ERROR]


def _finish(
    notification_id: int, *, attempt: int, failure: Failure | None, now: datetime
) -> str:
    """Record one attempt's outcome, unless the row moved on meanwhile."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .filter(pk=notification_id)
            .first()
        )
        if (
            notification is None
            or notification.state != NotificationState.PENDING
            or notification.attempts != attempt
        ):
            return "skipped"
        log = EventLog()
        policy = retry_policy()
        if failure is None:
            move_notification(
                log, notification, "sent", kind="notification_sent", at=now
            )
            outcome = "sent"
        elif not failure.retryable or notification.attempts >= policy.max_attempts:
            move_notification(
                log,
                notification,
                "fail",
                kind="notification_failed",
                reason=failure.error,
                error=failure.error,
                at=now,
            )
            outcome = "failed"
        else:
            delay = policy.delay_s(notification.attempts)
            move_notification(
                log,
                notification,
                "retry_later",
                kind="notification_retry",
                reason=failure.error,
                error=failure.error,
                at=now + timedelta(seconds=delay),
            )
            publish_on_commit(notification.pk, countdown=delay)
            outcome = "retry"
        log.flush()
    return outcome


def notification_resend(*, notification: Notification, user: Any) -> Notification:
    """Send a failed notification again, with a fresh set of attempts."""
    with transaction.atomic():
        locked = Notification.objects.select_for_update().get(pk=notification.pk)
        log = EventLog()
        move_notification(
            log,
            locked,
            "resend",
            kind="notification_resent",
            actor=actor_of(user),
            at=timezone.now(),
        )
        log.flush()
        publish_on_commit(locked.pk)
    return locked


# ------------------------------------------------------------------ the sweeper


def notifications_sweep(*, now: datetime | None = None) -> int:
    """The sweeper's job: publish again due messages no worker took, and notify about
    runs that look stuck. Return how many rows it handled."""
    now = now or timezone.now()
    return notifications_requeue_due(now=now) + notifications_detect_stuck(now=now)


def notifications_requeue_due(
    *, now: datetime | None = None, limit: int = SWEEP_LIMIT
) -> int:
    """Publish again pending notifications that are due, not leased, and whose last
    message is older than REQUEUE_AFTER_S; one bad row does not stop the rest."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=REQUEUE_AFTER_S)
    due = list(
        Notification.objects.filter(
            state=NotificationState.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lte=stale))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return each_isolated(
        "notifications",
        due,
        partial(_requeue, now=now),
        mark=_mark_failed,
        describe=lambda pk: f"notification {pk}",
    )


def _requeue(notification_id: int, *, now: datetime) -> bool:
    notification = (
        Notification.objects.select_for_update(skip_locked=True)
        .filter(pk=notification_id, state=NotificationState.PENDING)
        .first()
    )
    if notification is None:
        return False
    notification.queued_at = now
    notification.save(update_fields=["queued_at"])
    publish_on_commit(notification.pk)
    return True


def _mark_failed(notification_id: int, reason: str) -> None:
    notification = (
        Notification.objects.select_for_update()
        .filter(pk=notification_id, state=NotificationState.PENDING)
        .first()
    )
    if notification is None:
        return
    log = EventLog()
    move_notification(
        log,
        notification,
        "fail",
        kind="notification_failed",
        reason=reason,
        error=reason,
        at=timezone.now(),
    )
    log.flush()


def notifications_detect_stuck(
    *, now: datetime | None = None, limit: int = SWEEP_LIMIT
) -> int:
    """Notify once about each running run of a watched workflow that has recorded
    nothing for longer than its steps may take (runs.services.recovery
    `stuck_after_s`, the run list's `stuck`). Runs waiting on purpose (a handoff,
    a timer, a message, a retry's due time, a child run) are not stuck."""
    now = now or timezone.now()
    watching = [
        rule
        for rule in NotificationRule.objects.only(
            "pk", "workflow_id", "owner_group_id", "events", "enabled"
        )
        if NotificationEvent.RUN_STUCK in rule.events
    ]
    own = {r.workflow_id for r in watching if r.workflow_id is not None}
    workflows = {r.workflow_id for r in watching if r.workflow_id and r.enabled}
    teams = {r.owner_group_id for r in watching if r.workflow_id is None and r.enabled}
    if not workflows and not teams:
        return 0
    last_event = Event.objects.filter(run=OuterRef("pk")).order_by("-id")
    candidates = list(
        Run.objects.filter(state=RunState.RUNNING)
        .filter(
            Q(workflow_id__in=workflows)
            | (Q(workflow__owner_group_id__in=teams) & ~Q(workflow_id__in=own))
        )
        .exclude(
            Exists(
                Notification.objects.filter(
                    run=OuterRef("pk"), event=NotificationEvent.RUN_STUCK
                )
            )
        )
        .exclude(
            Exists(StepRun.objects.filter(run=OuterRef("pk"), state=StepState.WAITING))
        )
        .exclude(
            Exists(
                Attempt.objects.filter(run=OuterRef("pk"), state=AttemptState.SCHEDULED)
            )
        )
        .exclude(
            Exists(Run.objects.filter(parent_run=OuterRef("pk"), state__in=RUN_ACTIVE))
        )
        .annotate(last_event_at=Subquery(last_event.values("created_at")[:1]))
        .filter(last_event_at__lt=now - timedelta(seconds=HEARTBEAT_TIMEOUT_S))
        .order_by("last_event_at")
        .values_list("pk", "workflow_id", "version_id", "last_event_at")[:limit]
    )
    stuck = [
        (run_id, workflow_id, last)
        for run_id, workflow_id, version_id, last in candidates
        if (now - last).total_seconds() > stuck_after_s(version_id)
    ]
    return each_isolated(
        "notifications_stuck",
        stuck,
        partial(_notify_stuck, now=now),
        mark=lambda item, reason: None,
        describe=lambda item: f"run {item[0]}",
    )


def _notify_stuck(item: tuple[int, int, datetime], *, now: datetime) -> bool:
    run_id, workflow_id, last = item
    occurrence = Occurrence(
        event=NotificationEvent.RUN_STUCK,
        source_kind="run_stuck",
        key=f"{NotificationEvent.RUN_STUCK}:run:{run_id}",
        workflow_id=workflow_id,
        run_id=run_id,
        facts={
            "last_event_at": last.isoformat(),
            "silent_s": round((now - last).total_seconds()),
        },
    )
    return bool(notify([occurrence], now=now))
