"""Notifications: match watched events against rules, keep one message per rule and
subject, and deliver it through a connection on a worker, retrying with backoff.

docs/notifications.md is the user's side of this. In short:

- **Matching** runs inside the transaction that writes the events (the `EventLog`
  hook `runs.events.EVENTS_WRITTEN`), in a savepoint: a notification exists exactly
  when its event commits, and a failure here is logged, never raised into the run.
  A run that has looked stuck for a while has no event: the sweeper's job
  `notifications_sweep` finds it.
- **Precedence**: for each event, a workflow's own rules that watch it (enabled or
  not) replace its team's default rules; a disabled workflow rule thus silences a
  team default for that event.
- **Deduplication**: one `Notification` per (rule, key). The key names the event and
  its subject: a run (failed, stuck: once per run, also when a retried run fails
  again), a handoff (overdue and escalated are one message), a canary abort or a
  rollback (each one), a queue's spent retry budget (once per UTC hour).
- **Rate limit**: once a rule has `max_per_hour` messages in the last hour, new ones
  are created `suppressed` (listed, never sent). Matching runs after the events'
  insert, which holds the event order lock (runs.rows), so the count is exact.
- **Delivery**: a Celery task claims the row for a lease, sends it with
  `engine.connectors.deliver.deliver` outside any transaction, then records `sent`,
  a retry (backoff, bounded attempts) or `failed`, each with an Event. The error kept
  has the connection's secrets redacted. The run never waits for any of it.
"""

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from config.celery import app
from designer import access
from designer.connections import ConnectionInvalid, connection_resolve, usable_by
from designer.models import Connection, Workflow
from engine.connections import redact_text
from engine.connectors.deliver import deliver
from engine.errors import INVALID, DomainError
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
from runs.models.notifications import MAX_PER_HOUR_LIMIT, MAX_RECIPIENTS
from runs.services.recovery import HEARTBEAT_TIMEOUT_S, stuck_after_s
from runs.sweeping import each_isolated

logger = logging.getLogger("switchyard.notifications")

DELIVER_TASK = "runs.deliver_notification"
ACTOR = "system:notifications"
# The connection kinds a message can go through.
NOTIFY_KINDS = ("slack", "webhook", "smtp")
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_RETRY = {"max_attempts": 5, "initial_s": 10.0, "backoff": 4.0, "max_s": 600.0}
# A worker sends a claimed message within this (the delivery's own timeout is
# shorter); past it the message counts as lost and is sent again.
DEFAULT_LEASE_S = 120.0
# A due message no worker claimed this long after it was published is published
# again (a lost broker message, a worker that died before taking it).
REQUEUE_AFTER_S = 60.0
RATE_WINDOW = timedelta(hours=1)
MAX_TEXT = 2000
MAX_ERROR = 500
SWEEP_LIMIT = 200

# Event kind → the notification event it is.
WATCHED: dict[str, str] = {
    "run_failed": NotificationEvent.RUN_FAILED,
    "handoff_expired": NotificationEvent.HANDOFF_OVERDUE,
    "handoff_escalated": NotificationEvent.HANDOFF_OVERDUE,
    "canary_aborted": NotificationEvent.CANARY_ABORTED,
    "auto_rollback": NotificationEvent.ROLLED_BACK,
    "live_version_changed": NotificationEvent.ROLLED_BACK,
    "retry_deferred": NotificationEvent.RETRY_BUDGET_EXHAUSTED,
}


# ------------------------------------------------------------------ settings


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    initial_s: float
    backoff: float
    max_s: float

    def delay_s(self, attempts: int) -> float:
        """Return the wait before the attempt after `attempts` failed ones."""
        return min(self.max_s, self.initial_s * self.backoff ** max(0, attempts - 1))


def retry_policy() -> RetryPolicy:
    """SWITCHYARD_NOTIFICATION_RETRY over the defaults, bounded."""
    given = {**DEFAULT_RETRY, **getattr(settings, "SWITCHYARD_NOTIFICATION_RETRY", {})}
    return RetryPolicy(
        max_attempts=max(1, min(20, int(given["max_attempts"]))),
        initial_s=max(0.0, min(3600.0, float(given["initial_s"]))),
        backoff=max(1.0, min(10.0, float(given["backoff"]))),
        max_s=max(0.0, min(3600.0, float(given["max_s"]))),
    )


def base_url() -> str:
    return str(getattr(settings, "SWITCHYARD_BASE_URL", DEFAULT_BASE_URL)).rstrip("/")


def delivery_queue() -> str:
    return str(getattr(settings, "SWITCHYARD_NOTIFICATION_QUEUE", "default"))


def timeout_s() -> float:
    """How long one attempt may take to send (below the lease and the task's limit)."""
    value = float(getattr(settings, "SWITCHYARD_NOTIFICATION_TIMEOUT_S", 10.0))
    return max(1.0, min(60.0, value))


def lease_s() -> float:
    return float(getattr(settings, "SWITCHYARD_NOTIFICATION_LEASE_S", DEFAULT_LEASE_S))


# ------------------------------------------------------------------ matching


@dataclass(frozen=True)
class Occurrence:
    """One watched happening: what every rule that matches it sends a message about."""

    event: str
    source_kind: str
    key: str
    workflow_id: int
    run_id: int | None
    # JSON-safe facts for the text and the webhook's data.
    facts: dict[str, Any]


def _clip(value: Any, limit: int = 300) -> str:
    return str(value)[:limit]


def occurrence_of(event: Event) -> Occurrence | None:
    """Return what a written event is to the rules, or None when it is nothing."""
    kind = WATCHED.get(event.kind)
    if kind is None or event.workflow_id is None:
        return None
    run_id = event.run_id
    facts: dict[str, Any] = {"reason": _clip(event.reason, 500)}
    data = event.data or {}
    if kind == NotificationEvent.RUN_FAILED:
        if run_id is None:
            return None
        error = event.run.error if event.run is not None else None
        if isinstance(error, dict):
            facts["error"] = {
                "type": _clip(error.get("type", ""), 100),
                "message": _clip(error.get("message", ""), 500),
                "node_id": _clip(error.get("node_id", ""), 64),
            }
        subject = f"run:{run_id}"
    elif kind == NotificationEvent.HANDOFF_OVERDUE:
        handoff = event.handoff
        if handoff is None or run_id is None:
            return None
        facts |= {
            "handoff_id": handoff.pk,
            "title": _clip(handoff.title or handoff.node_id, 200),
            "node_id": handoff.node_id,
            "due_at": handoff.due_at.isoformat() if handoff.due_at else None,
            "assignee": f"{handoff.assignee_kind} {handoff.assignee}",
        }
        subject = f"handoff:{handoff.pk}"
    elif kind == NotificationEvent.RETRY_BUDGET_EXHAUSTED:
        queue = getattr(event.attempt, "queue", "") or "default"
        facts["queue"] = _clip(queue, 100)
        hour = timezone.now().astimezone(UTC).strftime("%Y-%m-%dT%H")
        subject = f"queue:{facts['queue']}:{hour}"
    else:
        # A canary abort or a rollback: each one is news. The insert set created_at.
        at = event.created_at or timezone.now()
        facts |= {
            key: data[key]
            for key in ("version", "from", "to", "automatic")
            if key in data and isinstance(data[key], int | bool | None)
        }
        subject = f"v{event.version_id}:{at.timestamp():.6f}"
    return Occurrence(
        event=kind,
        source_kind=event.kind,
        key=f"{kind}:{subject}"[:200],
        workflow_id=event.workflow_id,
        run_id=run_id,
        facts=facts,
    )


def on_events_written(events: list[Event]) -> None:
    """EventLog hook: notify about the watched events of a batch, in a savepoint of
    its transaction. Never raises: a notification must not break what it reports."""
    found = [
        occurrence
        for event in events
        if event.kind in WATCHED and (occurrence := occurrence_of(event)) is not None
    ]
    if not found:
        return
    try:
        with transaction.atomic():
            notify(found)
    except Exception:  # noqa: BLE001 - logged; the run's own transaction goes on
        logger.exception("could not create notifications for %s", found[0].key)


def connect() -> None:
    """Register the EventLog hook (from RunsConfig.ready)."""
    from runs import events

    if on_events_written not in events.EVENTS_WRITTEN:
        events.EVENTS_WRITTEN.append(on_events_written)


def rules_for(workflow_id: int) -> list[NotificationRule]:
    """A workflow's own rules and its team's defaults, in one query."""
    team = Workflow.objects.filter(pk=workflow_id).values("owner_group_id")[:1]
    return list(
        NotificationRule.objects.filter(
            Q(workflow_id=workflow_id)
            | Q(workflow__isnull=True, owner_group_id=Subquery(team))
        )
    )


def applicable(
    rules: Iterable[NotificationRule], workflow_id: int, event: str
) -> list[NotificationRule]:
    """The enabled rules for `event`: the workflow's own if any watch it, else the
    team's defaults."""
    watching = [r for r in rules if event in r.events]
    own = [r for r in watching if r.workflow_id == workflow_id]
    chosen = own or [r for r in watching if r.workflow_id is None]
    return [r for r in chosen if r.enabled]


def notify(
    occurrences: list[Occurrence], *, now: datetime | None = None
) -> list[Notification]:
    """Create the notifications these occurrences call for (inside the caller's
    transaction); publish each new pending one after commit. Return the new ones."""
    now = now or timezone.now()
    created: list[Notification] = []
    by_workflow: dict[int, list[Occurrence]] = {}
    for occurrence in occurrences:
        by_workflow.setdefault(occurrence.workflow_id, []).append(occurrence)
    log = EventLog()
    for workflow_id, found in by_workflow.items():
        rules = rules_for(workflow_id)
        pairs = [
            (rule, occurrence)
            for occurrence in found
            for rule in applicable(rules, workflow_id, occurrence.event)
        ]
        if not pairs:
            continue
        rule_ids = {rule.pk for rule, _ in pairs}
        seen = set(
            Notification.objects.filter(
                rule_id__in=rule_ids, key__in={o.key for _, o in pairs}
            ).values_list("rule_id", "key")
        )
        counts = _recent_counts(rule_ids, now)
        workflow = Workflow.objects.only("pk", "slug", "name").get(pk=workflow_id)
        for rule, occurrence in pairs:
            if (rule.pk, occurrence.key) in seen:
                continue
            seen.add((rule.pk, occurrence.key))
            notification = _create(
                log, rule, occurrence, workflow, counts=counts, now=now
            )
            if notification is not None:
                created.append(notification)
    log.flush()
    return created


def _recent_counts(rule_ids: set[int], now: datetime) -> Counter[int]:
    rows = (
        Notification.objects.filter(
            rule_id__in=rule_ids, created_at__gte=now - RATE_WINDOW
        )
        .exclude(state=NotificationState.SUPPRESSED)
        .values("rule_id")
        .annotate(n=Count("id"))
    )
    return Counter({row["rule_id"]: row["n"] for row in rows})


def _create(
    log: EventLog,
    rule: NotificationRule,
    occurrence: Occurrence,
    workflow: Workflow,
    *,
    counts: Counter[int],
    now: datetime,
) -> Notification | None:
    within_limit = counts[rule.pk] < rule.max_per_hour
    if within_limit:
        counts[rule.pk] += 1
    subject, text, link, data = compose(occurrence, workflow, rule=rule)
    if within_limit and counts[rule.pk] == rule.max_per_hour:
        text += (
            f"\n\nThis rule has now sent its {rule.max_per_hour} messages for the "
            "hour; more are suppressed until fewer were sent in the last hour."
        )
    notification = Notification(
        rule=rule,
        workflow_id=occurrence.workflow_id,
        run_id=occurrence.run_id,
        event=occurrence.event,
        source_kind=occurrence.source_kind,
        key=occurrence.key,
        subject=subject[:200],
        text=text[:MAX_TEXT],
        link=link[:500],
        data=data,
        next_attempt_at=now,
        queued_at=now,
    )
    if not within_limit:
        notification.suppress(at=now)
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        return None  # another transaction made it first: one message per key
    _record(log, notification, "notification_created", from_state="", to="pending")
    if within_limit:
        publish_on_commit(notification.pk)
    else:
        _record(
            log,
            notification,
            "notification_suppressed",
            from_state=NotificationState.PENDING,
            reason=f"rate limit of {rule.max_per_hour} an hour reached",
        )
    return notification


def compose(
    occurrence: Occurrence, workflow: Workflow, *, rule: NotificationRule
) -> tuple[str, str, str, dict[str, Any]]:
    """Return the subject, text, link and webhook data of a message."""
    facts = occurrence.facts
    run_id = occurrence.run_id
    name = workflow.name or workflow.slug
    link = f"{base_url()}/runs/{run_id}/" if run_id else ""
    event = occurrence.event
    if event == NotificationEvent.RUN_FAILED:
        subject = f"{name}: run {run_id} failed"
        error = facts.get("error") or {}
        text = f"Run {run_id} of {name} failed."
        if error:
            where = f" at step {error['node_id']}" if error.get("node_id") else ""
            text += f"\n{error['type']}{where}: {error['message']}"
    elif event == NotificationEvent.RUN_STUCK:
        minutes = round(facts.get("silent_s", 0) / 60)
        subject = f"{name}: run {run_id} looks stuck"
        text = (
            f"Run {run_id} of {name} is running but has recorded nothing for about "
            f"{minutes} min (since {facts.get('last_event_at')})."
        )
    elif event == NotificationEvent.HANDOFF_OVERDUE:
        subject = f"{name}: handoff {facts['title']} is overdue"
        text = (
            f"The handoff {facts['title']} of run {run_id} was due at "
            f"{facts['due_at']} and is now with {facts['assignee']}."
        )
    elif event == NotificationEvent.CANARY_ABORTED:
        subject = f"{name}: canary v{facts.get('version')} aborted"
        text = f"The canary v{facts.get('version')} of {name} was aborted: " + (
            facts.get("reason") or "no reason given"
        )
        link = f"{base_url()}/workflows/{workflow.slug}/edit/"
    elif event == NotificationEvent.ROLLED_BACK:
        subject = f"{name}: rolled back to v{facts.get('to')}"
        text = f"{name} went from v{facts.get('from')} back to v{facts.get('to')}: " + (
            facts.get("reason") or "no reason given"
        )
        link = f"{base_url()}/workflows/{workflow.slug}/edit/"
    else:
        queue = facts.get("queue")
        subject = f"Retry budget of queue {queue} is spent"
        text = (
            f"Retries on queue {queue} now wait instead of adding load to a failing "
            f"dependency (seen first in run {run_id} of {name})."
        )
    data = {
        "event": event,
        "source_kind": occurrence.source_kind,
        "workflow": workflow.slug,
        "run_id": run_id,
        "rule_id": rule.pk,
        "link": link,
        **{k: v for k, v in facts.items() if k != "reason" or v},
    }
    return subject, text, link, data


def _record(
    log: EventLog,
    notification: Notification,
    kind: str,
    *,
    from_state: str,
    to: str | None = None,
    reason: str = "",
    actor: str = ACTOR,
) -> None:
    log.add(
        kind,
        from_state=from_state,
        to_state=to or notification.state,
        actor=actor,
        reason=reason,
        workflow_id=notification.workflow_id,
        data={
            "notification": notification.pk,
            "rule": notification.rule_id,
            "event": notification.event,
            "run_id": notification.run_id,
            "attempts": notification.attempts,
        },
    )


def _move(
    log: EventLog,
    notification: Notification,
    name: str,
    *,
    kind: str,
    reason: str = "",
    actor: str = ACTOR,
    **kwargs: Any,
) -> None:
    """Run a transition, save the row and record its Event."""
    from_state = notification.state
    getattr(notification, name)(**kwargs)
    notification.save()
    _record(log, notification, kind, from_state=from_state, reason=reason, actor=actor)


# ------------------------------------------------------------------ publishing


def publish(notification_id: int, *, countdown: float | None = None) -> None:
    """Ask a worker to send one notification (its id only)."""
    app.send_task(
        DELIVER_TASK,
        args=[notification_id],
        queue=delivery_queue(),
        countdown=countdown,
    )


def publish_on_commit(notification_id: int, *, countdown: float | None = None) -> None:
    # robust: a broker that cannot take it now is logged; the sweeper publishes again.
    transaction.on_commit(
        partial(publish, notification_id, countdown=countdown), robust=True
    )


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
            _move(
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
            _move(log, notification, "sent", kind="notification_sent", at=now)
            outcome = "sent"
        elif not failure.retryable or notification.attempts >= policy.max_attempts:
            _move(
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
            _move(
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
        _move(
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
    _move(
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


# ------------------------------------------------------------------ rules


class NotificationRuleInvalid(DomainError):
    """A rule the request describes wrongly (400, one error per problem)."""

    kind = INVALID

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__(problems[0]["code"], problems[0]["message"])
        self.problems = problems

    def errors(self) -> list[dict[str, Any]]:
        return list(self.problems)


RULE_FIELDS = ("name", "events", "connection", "to", "enabled", "max_per_hour")


def _problem(code: str, field: str, message: str) -> dict[str, str]:
    return {"code": code, "field": field, "message": message}


def rule_clean(
    fields: dict[str, Any], *, workflow: Workflow | None, team: Group | None
) -> dict[str, Any]:
    """Check a rule's whole set of fields; return them with `connection` as a row.

    Raise NotificationRuleInvalid listing every problem.
    """
    problems = []
    events = fields.get("events")
    choices = set(NotificationEvent.values)
    if (
        not isinstance(events, list)
        or not events
        or any(not isinstance(e, str) or e not in choices for e in events)
        or len(set(events)) != len(events)
    ):
        problems.append(
            _problem(
                "bad_events",
                "events",
                "one or more of " + ", ".join(NotificationEvent.values) + ", once each",
            )
        )
    name = fields.get("connection")
    connection = (
        Connection.objects.filter(name=name).first() if isinstance(name, str) else None
    )
    if connection is None:
        problems.append(
            _problem(
                "connection_missing",
                "connection",
                f"there is no connection {str(name)[:64]!r}"
                if name
                else "name the connection to send through",
            )
        )
    elif connection.kind not in NOTIFY_KINDS:
        problems.append(
            _problem(
                "connection_kind",
                "connection",
                f"connection {connection.name!r} is {connection.kind}; a notification "
                f"goes through {', '.join(NOTIFY_KINDS)}",
            )
        )
    elif not _usable(connection, workflow=workflow, team=team):
        problems.append(
            _problem(
                "connection_not_allowed",
                "connection",
                f"connection {connection.name!r} belongs to another team",
            )
        )
    to = fields.get("to") or []
    if connection is not None and connection.kind == "smtp":
        if not to:
            problems.append(
                _problem("bad_recipients", "to", "an smtp connection needs recipients")
            )
        problems += _recipient_problems(to)
    elif to:
        problems.append(
            _problem("bad_recipients", "to", "recipients go with an smtp connection")
        )
    per_hour = fields.get("max_per_hour")
    if (
        not isinstance(per_hour, int)
        or isinstance(per_hour, bool)
        or not 1 <= per_hour <= MAX_PER_HOUR_LIMIT
    ):
        problems.append(
            _problem(
                "bad_rate", "max_per_hour", f"from 1 to {MAX_PER_HOUR_LIMIT} an hour"
            )
        )
    if problems:
        raise NotificationRuleInvalid(problems)
    return {**fields, "connection": connection, "to": list(to)}


def _usable(connection: Connection, *, workflow: Workflow | None, team: Any) -> bool:
    if workflow is not None:
        return usable_by(connection, workflow)
    return connection.owner_group_id in (None, getattr(team, "pk", None))


def _recipient_problems(to: Any) -> list[dict[str, str]]:
    if not isinstance(to, list) or len(to) > MAX_RECIPIENTS:
        return [_problem("bad_recipients", "to", f"a list of at most {MAX_RECIPIENTS}")]
    problems = []
    for address in to:
        try:
            validate_email(address)
        except ValidationError:
            problems.append(
                _problem(
                    "bad_recipients",
                    "to",
                    f"{str(address)[:100]!r} is not an email address",
                )
            )
    return problems


def _rule_event(log: EventLog, rule: NotificationRule, kind: str, user: Any) -> None:
    log.add(
        kind,
        actor=actor_of(user),
        workflow_id=rule.workflow_id,
        reason=rule.name,
        data={
            "rule": rule.pk,
            "events": rule.events,
            "connection": rule.connection.name if rule.connection else None,
            "owner_group": rule.owner_group.name if rule.owner_group else None,
            "enabled": rule.enabled,
        },
    )


def notification_rule_create(
    *,
    fields: dict[str, Any],
    workflow: Workflow | None = None,
    owner_group: Group | None = None,
    user: Any = None,
) -> NotificationRule:
    """Create a workflow's rule, or a team's default rule (exactly one of them)."""
    if (workflow is None) == (owner_group is None):
        raise ValueError("a rule belongs to a workflow or to a team")
    given = {"enabled": True, "max_per_hour": 10, "name": "", "to": [], **fields}
    cleaned = rule_clean(given, workflow=workflow, team=owner_group)
    with transaction.atomic():
        rule = NotificationRule.objects.create(
            workflow=workflow,
            owner_group=owner_group,
            created_by=user if getattr(user, "pk", None) else None,
            **{key: cleaned[key] for key in RULE_FIELDS},
        )
        log = EventLog()
        _rule_event(log, rule, "notification_rule_created", user)
        log.flush()
    return rule


def notification_rule_update(
    *, rule: NotificationRule, fields: dict[str, Any], user: Any = None
) -> NotificationRule:
    """Change some fields of a rule; the result is checked as a whole."""
    current = {key: getattr(rule, key) for key in RULE_FIELDS}
    current["connection"] = rule.connection.name if rule.connection else None
    cleaned = rule_clean(
        {**current, **fields}, workflow=rule.workflow, team=rule.owner_group
    )
    with transaction.atomic():
        for key in RULE_FIELDS:
            setattr(rule, key, cleaned[key])
        rule.save()
        log = EventLog()
        _rule_event(log, rule, "notification_rule_changed", user)
        log.flush()
    return rule


def notification_rule_delete(*, rule: NotificationRule, user: Any = None) -> None:
    """Delete a rule and its notifications (their events stay)."""
    with transaction.atomic():
        log = EventLog()
        _rule_event(log, rule, "notification_rule_deleted", user)
        log.flush()
        rule.delete()


# ------------------------------------------------------------------ reading


def rules_visible(user: Any) -> QuerySet[NotificationRule]:
    """Rules of workflows the user sees, and default rules of the user's teams (all
    teams for a manager)."""
    qs = NotificationRule.objects.select_related(
        "workflow", "owner_group", "connection"
    )
    if access.sees_all(user):
        return qs
    if not user.has_perm(access.VIEW):
        return qs.none()
    return qs.filter(
        (Q(workflow__isnull=False) & access.visible_q(user, "workflow__"))
        | Q(workflow__isnull=True, owner_group_id__in=access.team_ids(user))
    )


def team_defaults(owner_group_id: int | None) -> QuerySet[NotificationRule]:
    """A team's default rules (none for a workflow of no team)."""
    return NotificationRule.objects.filter(
        workflow__isnull=True, owner_group_id=owner_group_id
    ).select_related("owner_group", "connection")


def notifications_visible(user: Any) -> QuerySet[Notification]:
    """Notifications of workflows the user sees, newest first."""
    return (
        Notification.objects.filter(access.visible_q(user, "workflow__"))
        .select_related("workflow")
        .order_by("-id")
    )
