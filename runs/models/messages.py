"""Messages into waiting runs: kept until a `receive` step takes them, and who waits."""

from datetime import datetime

from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


class MessageState(models.TextChoices):
    KEPT = "kept", "Kept until a run receives it"
    DELIVERED = "delivered", "Delivered"


class Message(ConcurrentTransitionMixin, models.Model):
    """A message no run was waiting for when it came, kept until `expires_at`."""

    name = models.CharField(max_length=100)
    key = models.CharField(max_length=200)
    payload = models.JSONField(default=dict, blank=True)
    state = FSMField(
        max_length=16,
        choices=MessageState.choices,
        default=MessageState.KEPT,
        protected=True,
    )
    run = models.ForeignKey(
        "runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_by = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["name", "key", "id"],
                condition=models.Q(state="kept"),
                name="message_kept",
            ),
            models.Index(
                fields=["expires_at"],
                condition=models.Q(state="kept"),
                name="message_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"message {self.name}:{self.key}"

    @transition(field=state, source=MessageState.KEPT, target=MessageState.DELIVERED)
    def deliver(self, *, run_id: int, at: datetime) -> None:
        self.run_id = run_id
        self.delivered_at = at


class MessageSend(models.Model):
    """The answer to a send that carried an idempotency key, kept for the message
    retention: a retried send (a webhook delivered again) gets the same answer
    instead of delivering the message twice. Written once, never changed."""

    name = models.CharField(max_length=100)
    key = models.CharField(max_length=200)
    idempotency_key = models.CharField(max_length=200)
    answer = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["name", "key", "idempotency_key"], name="message_send_once"
            )
        ]
        indexes = [models.Index(fields=["expires_at"], name="message_send_expiry")]

    def __str__(self) -> str:
        return f"send {self.name}:{self.key} ({self.idempotency_key})"


class MessageWait(models.Model):
    """A `receive` step waiting for (name, key); removed when the step moves on."""

    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="+")
    step = models.OneToOneField(
        "runs.StepRun", on_delete=models.CASCADE, related_name="message_wait"
    )
    name = models.CharField(max_length=100)
    key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["name", "key"], name="message_wait_key")]

    def __str__(self) -> str:
        return f"step {self.step_id} waits for {self.name}:{self.key}"
