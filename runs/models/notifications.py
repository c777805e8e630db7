"""Notification rules (what to tell whom, per workflow or team) and each message."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField

from config.fsm import transition

# How many notifications of one rule may go out per hour, at most.
MAX_PER_HOUR_LIMIT = 1000
MAX_RECIPIENTS = 20


class NotificationEvent(models.TextChoices):
    """What a rule can watch (runs.notifications maps event kinds onto these)."""

    RUN_FAILED = "run_failed", "Run failed"
    RUN_STUCK = "run_stuck", "Run stuck"
    HANDOFF_OVERDUE = "handoff_overdue", "Handoff overdue or escalated"
    CANARY_ABORTED = "canary_aborted", "Canary aborted"
    ROLLED_BACK = "rolled_back", "Live version rolled back"
    RETRY_BUDGET_EXHAUSTED = "retry_budget_exhausted", "Retry budget of a queue spent"


class NotificationRule(models.Model):
    """Send a message through a connection when a watched event happens.

    A rule belongs to one workflow, or to a team (`owner_group`) as the default for
    the team's workflows; never both. For an event kind, a workflow's own rules
    (enabled or not) replace its team's defaults (runs.notifications).
    """

    workflow = models.ForeignKey(
        "designer.Workflow",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_rules",
    )
    owner_group = models.ForeignKey(
        "auth.Group",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    name = models.CharField(max_length=200, blank=True, default="")
    # [NotificationEvent value, ...], at least one, no repeats.
    events = models.JSONField(default=list)
    # Deleted with the connection: the rule stays and its messages fail, visibly.
    connection = models.ForeignKey(
        "designer.Connection",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Mail recipients, for an smtp connection only.
    to = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    max_per_hour = models.PositiveIntegerField(default=10)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(workflow__isnull=False, owner_group__isnull=True)
                    | models.Q(workflow__isnull=True, owner_group__isnull=False)
                ),
                name="notification_rule_one_owner",
            ),
            models.CheckConstraint(
                condition=models.Q(max_per_hour__gte=1)
                & models.Q(max_per_hour__lte=MAX_PER_HOUR_LIMIT),
                name="notification_rule_rate_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"notification rule {self.pk} ({self.name or ', '.join(self.events)})"

    @property
    def is_team_default(self) -> bool:
        return self.workflow_id is None


class NotificationState(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed after its retries"
    SUPPRESSED = "suppressed", "Suppressed by the rule's rate limit"


NOTIFICATION_FINISHED = (
    NotificationState.SENT,
    NotificationState.FAILED,
    NotificationState.SUPPRESSED,
)


class Notification(ConcurrentTransitionMixin, models.Model):
    """One message of one rule about one subject (a run, a handoff, a canary, a
    queue's hour): the unique (rule, key) is the deduplication."""

    # Indexed by the constraints and indexes below, not one index per column.
    rule = models.ForeignKey(
        NotificationRule,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    workflow = models.ForeignKey(
        "designer.Workflow", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    run = models.ForeignKey(
        "runs.Run",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    event = models.CharField(max_length=32, choices=NotificationEvent.choices)
    # The Event kind that matched, e.g. "handoff_escalated".
    source_kind = models.CharField(max_length=48)
    # "<event>:<subject>", e.g. "run_failed:run:42", "retry_budget_exhausted:queue:
    # payments:2025-01-31T14".
    key = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    text = models.TextField()
    link = models.CharField(max_length=500)
    # The JSON a webhook receives (small: ids, states, the error's type and message).
    data = models.JSONField(default=dict, blank=True)
    state = FSMField(
        max_length=16,
        choices=NotificationState.choices,
        default=NotificationState.PENDING,
        protected=True,
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # Redacted (never a secret of the connection), bounded.
    last_error = models.CharField(max_length=500, blank=True, default="")
    # When the next attempt is due; `queued_at`: when a message asking for it was
    # published; `leased_until`: a worker is sending it until then.
    next_attempt_at = models.DateTimeField()
    queued_at = models.DateTimeField(null=True, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "key"], name="notification_once")
        ]
        indexes = [
            models.Index(fields=["rule", "created_at"], name="notification_rule_time"),
            models.Index(fields=["workflow", "-id"], name="notification_workflow"),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="notification_due",
            ),
            models.Index(
                fields=["run"],
                condition=models.Q(run__isnull=False),
                name="notification_run",
            ),
        ]

    def __str__(self) -> str:
        return f"notification {self.pk} ({self.event}, {self.state})"

    @transition(
        field=state, source=NotificationState.PENDING, target=NotificationState.SENT
    )
    def sent(self, *, at: datetime) -> None:
        self.finished_at = at
        self.leased_until = None
        self.last_error = ""

    @transition(
        field=state,
        source=NotificationState.PENDING,
        target=NotificationState.PENDING,
    )
    def retry_later(self, *, error: str, at: datetime) -> None:
        self.last_error = error[:500]
        self.next_attempt_at = at
        self.queued_at = at
        self.leased_until = None

    @transition(
        field=state, source=NotificationState.PENDING, target=NotificationState.FAILED
    )
    def fail(self, *, error: str, at: datetime) -> None:
        self.last_error = error[:500]
        self.finished_at = at
        self.leased_until = None

    @transition(
        field=state,
        source=NotificationState.PENDING,
        target=NotificationState.SUPPRESSED,
    )
    def suppress(self, *, at: datetime) -> None:
        self.finished_at = at

    @transition(
        field=state, source=NotificationState.FAILED, target=NotificationState.PENDING
    )
    def resend(self, *, at: datetime) -> None:
        self.attempts = 0
        self.next_attempt_at = at
        self.queued_at = at
        self.finished_at = None
