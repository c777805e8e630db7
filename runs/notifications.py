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
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Subquery
from django.utils import timezone

from config.celery import app
from designer.models import Workflow
from runs.events import EventLog
from runs.models import (
    TEST_TRIGGER,
    Event,
    Notification,
    NotificationEvent,
    NotificationRule,
    NotificationState,
)

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
        if event.run is not None and event.run.trigger == TEST_TRIGGER:
            return None  # a draft's test run: its author is watching it
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


def move_notification(
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
