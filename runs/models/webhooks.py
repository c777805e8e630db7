"""Webhook triggers: a per-workflow URL that starts a run on a signed request."""

from django.conf import settings
from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


class WebhookState(models.TextChoices):
    ACTIVE = "active", "Active"
    DISABLED = "disabled", "Disabled"


class Webhook(ConcurrentTransitionMixin, models.Model):
    """`POST /hooks/<token>/` with an HMAC-SHA256 signature starts a run.

    `token` names the URL (not a secret); `secret_encrypted` holds the signing secret
    encrypted (config/crypto.py), shown once when created or rotated.
    """

    workflow = models.ForeignKey(
        "designer.Workflow", on_delete=models.CASCADE, related_name="webhooks"
    )
    name = models.CharField(max_length=200)
    token = models.CharField(max_length=64, unique=True)
    secret_encrypted = models.TextField()
    # A CEL expression over `input` = {"body", "headers", "query"} giving the run's
    # input; empty: the JSON body is the input.
    input_mapping = models.TextField(blank=True, default="")
    # A dotted path into the body whose value identifies a delivery (retries of one
    # delivery start one run), when the sender sends no Idempotency-Key header.
    idempotency_field = models.CharField(max_length=200, blank=True, default="")
    # Set: a delivery sends this message to waiting runs instead of starting one; the
    # input mapping (or the body) gives {"key": ..., "payload": ...}.
    message = models.CharField(max_length=100, blank=True, default="")
    state = FSMField(
        max_length=16,
        choices=WebhookState.choices,
        default=WebhookState.ACTIVE,
        protected=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    last_delivery_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"webhook {self.pk} ({self.name})"

    @property
    def trigger(self) -> str:
        return f"webhook:{self.pk}"

    @transition(field=state, source=WebhookState.ACTIVE, target=WebhookState.DISABLED)
    def disable(self) -> None:
        pass

    @transition(field=state, source=WebhookState.DISABLED, target=WebhookState.ACTIVE)
    def enable(self) -> None:
        pass
