"""Webhook triggers: create and rotate them, verify a delivery, start its run.

A sender signs each delivery like Stripe does: header
`X-Switchyard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with
the webhook's secret. A delivery is refused (401, no detail) when the signature is
missing, wrong, or its timestamp is more than REPLAY_WINDOW_S away from now; so a
captured delivery cannot be replayed later. Within the window, retried deliveries
start one run: the run's idempotency key is the `Idempotency-Key` header, else the
webhook's `idempotency_field` of the body, else the signature itself (a byte-identical
replay). The input mapping is a CEL expression over
`input = {"body", "headers", "query"}`, evaluated within a budget, and its result is
checked as strictly as an input sent to the API.
"""

import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from config.crypto import SecretUnreadable, decrypt, encrypt, reencrypt_rows
from designer.models import Workflow
from engine.errors import INVALID, TOO_LARGE, UNPROCESSABLE, DomainError
from engine.evaluation_budget import BudgetExceeded, EvaluationBudget, spending
from engine.expressions import ExpressionError, compile_expression
from engine.nodes.receive import MESSAGE_NAME_PATTERN
from runs import audit
from runs.events import EventLog, actor_of
from runs.messages import messages_send
from runs.models import Run, Webhook, WebhookState
from runs.services.starting import run_start

SIGNATURE_HEADER = "X-Switchyard-Signature"
REPLAY_WINDOW_S = 300
MAX_BODY_BYTES = 256 * 1024
MAX_INPUT_BYTES = 256 * 1024
MAX_MAPPING_LENGTH = 2000
MAX_KEY_LENGTH = 150
# What one delivery's input mapping may spend.
MAPPING_STEPS = 100_000
MAPPING_SECONDS = 0.5
# Request headers the mapping can read (lowercased); never Authorization or cookies.
READABLE_HEADERS = frozenset(
    {"content-type", "user-agent", "x-request-id", "x-github-event", "x-event-type"}
)


class WebhookError(DomainError):
    """A webhook request or delivery that cannot be carried out."""

    kind = INVALID

    def __init__(self, code: str, message: str, *, kind: str = INVALID) -> None:
        super().__init__(code, message)
        self._kind = kind

    def error_kind(self) -> str:
        return self._kind


class Unauthorized(Exception):
    """A delivery that is not signed right (answered 401 with no detail)."""


def _record(
    log: EventLog,
    webhook: Webhook,
    kind: str,
    *,
    actor: str,
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> None:
    data: dict[str, Any] = {"webhook": webhook.pk, "name": webhook.name}
    if changes is not None:
        data["changes"] = changes
    log.add(
        kind,
        actor=actor,
        reason=reason,
        workflow_id=webhook.workflow_id,
        data=data,
    )


# What the audit trail compares of a webhook (its secret never: runs/audit.py).
AUDITED = ("name", "input_mapping", "idempotency_field", "message")


def _audited(webhook: Webhook) -> dict[str, Any]:
    return {key: getattr(webhook, key) for key in AUDITED}


# ----------------------------------------------------------------- management


def clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    mapping = fields.get("input_mapping", "") or ""
    if len(mapping) > MAX_MAPPING_LENGTH:
        raise WebhookError(
            "bad_mapping", f"input_mapping: at most {MAX_MAPPING_LENGTH} characters"
        )
    if mapping:
        try:
            compile_expression(mapping)
        except ExpressionError as exc:
            raise WebhookError("bad_mapping", f"input_mapping: {exc.message}") from exc
    field = fields.get("idempotency_field", "") or ""
    if field and not all(part.isidentifier() for part in field.split(".")):
        raise WebhookError(
            "bad_idempotency_field",
            "idempotency_field: a dotted path of names, e.g. delivery.id",
        )
    message = fields.get("message", "") or ""
    if message and not re.fullmatch(MESSAGE_NAME_PATTERN, message):
        raise WebhookError(
            "bad_message", "message: 1 to 100 letters, digits, '_', '.', ':' or '-'"
        )
    return {
        key: fields[key]
        for key in ("name", "input_mapping", "idempotency_field", "message")
        if key in fields
    }


def webhook_create(
    *, workflow: Workflow, fields: dict[str, Any], user: Any = None
) -> tuple[Webhook, str]:
    """Create a webhook; return it and its secret (shown this once)."""
    cleaned = clean_fields(fields)
    secret = "whsec_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        webhook = Webhook.objects.create(
            workflow=workflow,
            token=secrets.token_urlsafe(24),
            secret_encrypted=encrypt(secret),
            created_by=user if getattr(user, "pk", None) else None,
            **cleaned,
        )
        log = EventLog()
        _record(
            log,
            webhook,
            "webhook_created",
            actor=actor_of(user),
            changes=audit.changes(None, _audited(webhook)),
        )
        log.flush()
    return webhook, secret


def webhook_update(
    *, webhook: Webhook, fields: dict[str, Any], user: Any = None
) -> Webhook:
    cleaned = clean_fields(fields)
    before = _audited(webhook)
    with transaction.atomic():
        for key, value in cleaned.items():
            setattr(webhook, key, value)
        webhook.save()
        log = EventLog()
        _record(
            log,
            webhook,
            "webhook_changed",
            actor=actor_of(user),
            changes=audit.changes(before, _audited(webhook)),
        )
        log.flush()
    return webhook


def webhooks_reencrypt() -> int:
    """Encrypt every webhook's signing secret again with the newest key (after a key
    rotation); return how many."""
    return reencrypt_rows(Webhook, "secret_encrypted")


def webhook_rotate(*, webhook: Webhook, user: Any = None) -> tuple[Webhook, str]:
    """Give the webhook a new secret (the old one stops working at once)."""
    secret = "whsec_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        webhook.secret_encrypted = encrypt(secret)
        webhook.rotated_at = timezone.now()
        webhook.save(update_fields=["secret_encrypted", "rotated_at", "updated_at"])
        log = EventLog()
        _record(log, webhook, "webhook_secret_rotated", actor=actor_of(user))
        log.flush()
    return webhook, secret


def webhook_set_state(*, webhook: Webhook, enabled: bool, user: Any = None) -> Webhook:
    with transaction.atomic():
        if enabled:
            webhook.enable()
        else:
            webhook.disable()
        webhook.save()
        log = EventLog()
        kind = "webhook_enabled" if enabled else "webhook_disabled"
        _record(log, webhook, kind, actor=actor_of(user))
        log.flush()
    return webhook


def webhook_delete(*, webhook: Webhook, user: Any = None) -> None:
    with transaction.atomic():
        log = EventLog()
        _record(
            log,
            webhook,
            "webhook_deleted",
            actor=actor_of(user),
            changes=audit.changes(_audited(webhook), None),
        )
        log.flush()
        webhook.delete()


# ----------------------------------------------------------------- deliveries


def sign(secret: str, body: bytes, *, at: int | None = None) -> str:
    """Return the signature header value a sender puts on `body` (for clients and
    tests)."""
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(
        secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return f"t={stamp},v1={digest}"


def _parse_signature(header: str) -> tuple[int, list[str]]:
    stamp: int | None = None
    digests: list[str] = []
    for part in header.split(",")[:10]:
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            stamp = int(value)
        elif name == "v1" and len(value) == 64:
            digests.append(value)
    if stamp is None or not digests:
        raise Unauthorized
    return stamp, digests


def verify(webhook: Webhook, body: bytes, header: str, *, now: float) -> str:
    """Check a delivery's signature and age; return the matching digest."""
    if webhook.state != WebhookState.ACTIVE:
        raise Unauthorized
    stamp, digests = _parse_signature(header or "")
    if abs(now - stamp) > REPLAY_WINDOW_S:
        raise Unauthorized
    try:
        secret = decrypt(webhook.secret_encrypted)
    except SecretUnreadable:
        raise Unauthorized from None
    expected = hmac.new(
        secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    for digest in digests:
        if hmac.compare_digest(expected, digest):
            return digest
    raise Unauthorized


@dataclass(frozen=True)
class Delivery:
    run: Run | None
    created: bool
    # For a message webhook: what messages_send answered.
    message: dict[str, Any] | None = None


def _field(payload: Any, path: str) -> Any:
    value = payload
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def run_input(
    webhook: Webhook, payload: Any, headers: dict[str, str], query: Any
) -> Any:
    """Return the run input a delivery maps to; raise WebhookError (422) if the
    mapping fails or gives something that is not a JSON object within bounds."""
    if webhook.input_mapping:
        request = {
            "body": payload,
            "headers": {k: v for k, v in headers.items() if k in READABLE_HEADERS},
            "query": query,
        }
        budget = EvaluationBudget(steps=MAPPING_STEPS, seconds=MAPPING_SECONDS)
        try:
            with spending(budget):
                value = compile_expression(webhook.input_mapping).evaluate(
                    {"input": request}
                )
        except (ExpressionError, BudgetExceeded) as exc:
            raise WebhookError(
                "bad_mapping",
                f"input_mapping could not be evaluated: {exc.message}",
                kind=UNPROCESSABLE,
            ) from exc
    else:
        value = payload
    if not isinstance(value, dict):
        raise WebhookError(
            "bad_input",
            "the run input must be a JSON object (send one, or map the body to one)",
            kind=UNPROCESSABLE,
        )
    if _json_size(value) > MAX_INPUT_BYTES:
        raise WebhookError(
            "too_large",
            f"the run input is over {MAX_INPUT_BYTES} bytes",
            kind=TOO_LARGE,
        )
    return value


def deliver(
    webhook: Webhook,
    body: bytes,
    *,
    headers: dict[str, str],
    query: dict[str, Any],
    digest: str,
) -> Delivery:
    """Start the run of a verified delivery (or return the one a retry started)."""
    try:
        payload = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookError("bad_json", f"the body is not JSON: {exc}") from exc
    key = headers.get("idempotency-key", "")
    if not key and webhook.idempotency_field:
        found = _field(payload, webhook.idempotency_field)
        key = "" if found is None else f"field:{json.dumps(found)}"
    key = key or f"sig:{digest}"
    if len(key) > MAX_KEY_LENGTH:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    value = run_input(webhook, payload, headers, query)
    if webhook.message:
        if "key" not in value:
            raise WebhookError(
                "bad_input",
                'a message webhook needs {"key": ..., "payload": ...} (map the body '
                "to it)",
                kind=UNPROCESSABLE,
            )
        sent = messages_send(
            name=webhook.message,
            key=value["key"],
            payload=value.get("payload", {}),
            sent_by=f"system:{webhook.trigger}",
            idempotency_key=f"{webhook.trigger}:{key}",
        )
        Webhook.objects.filter(pk=webhook.pk).update(last_delivery_at=timezone.now())
        return Delivery(run=None, created=False, message=sent)
    run, created = run_start(
        workflow=webhook.workflow,
        input=value,
        actor=f"system:{webhook.trigger}",
        idempotency_key=f"{webhook.trigger}:{key}",
        trigger=webhook.trigger,
    )
    Webhook.objects.filter(pk=webhook.pk).update(last_delivery_at=timezone.now())
    return Delivery(run=run, created=created)
