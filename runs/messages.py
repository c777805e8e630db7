"""Messages into waiting runs (the `receive` node), like Temporal signals.

`messages_send` delivers a message (name, correlation key, payload) to every run whose
`receive` step waits for it; when none waits, the message is kept until it expires
(SWITCHYARD_MESSAGE_RETENTION_S), and the first run to reach a matching `receive`
takes it at once. Both sides take a transaction-level lock on the (name, key) pair
(PostgreSQL advisory lock; SQLite serialises writers anyway), so a message and a run
arriving at the same moment cannot miss each other. Lock order: a run entering a
receive holds its run row, then the key; a sender takes the key, then each waiting
run's row.
"""

import json
import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from engine.errors import INVALID, TOO_LARGE, DomainError
from engine.nodes.receive import MAX_KEY_LENGTH, MESSAGE_NAME_PATTERN
from runs.events import EventLog
from runs.models import (
    Message,
    MessageSend,
    MessageState,
    MessageWait,
    Run,
    StepRun,
    StepState,
)
from runs.services.advancing import Advance
from runs.services.graphs import compiled_graph_for
from runs.services.message_steps import key_lock, message_succeeded

logger = logging.getLogger("switchyard.messages")

DEFAULT_RETENTION_S = 86400.0
MAX_PAYLOAD_BYTES = 256 * 1024
MAX_IDEMPOTENCY_KEY = 200


class MessageError(DomainError):
    kind = INVALID

    def error_kind(self) -> str:
        return TOO_LARGE if self.code == TOO_LARGE else INVALID


def retention_s() -> float:
    return float(
        getattr(settings, "SWITCHYARD_MESSAGE_RETENTION_S", DEFAULT_RETENTION_S)
    )


def check_message(name: Any, key: Any, payload: Any) -> tuple[str, str, Any]:
    """Return the message's fields checked; raise MessageError naming a problem."""
    import re

    if not isinstance(name, str) or not re.fullmatch(MESSAGE_NAME_PATTERN, name):
        raise MessageError(
            "bad_name", "name: 1 to 100 letters, digits, '_', '.', ':' or '-'"
        )
    if isinstance(key, int | float) and not isinstance(key, bool):
        key = str(int(key)) if float(key).is_integer() else repr(key)
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH:
        raise MessageError(
            "bad_key", f"key: a string of 1 to {MAX_KEY_LENGTH} characters or a number"
        )
    if len(json.dumps(payload)) > MAX_PAYLOAD_BYTES:
        raise MessageError(TOO_LARGE, f"payload: at most {MAX_PAYLOAD_BYTES} bytes")
    return name, key, payload


# ------------------------------------------------------------ a sender sends


def messages_send(
    *,
    name: Any,
    key: Any,
    payload: Any,
    sent_by: str,
    idempotency_key: str = "",
) -> dict[str, Any]:
    """Deliver a message to the runs waiting for it, or keep it until one comes.

    Return {"delivered_to": [run ids], "kept": bool, "expires_at": iso or None,
    "duplicate": bool}. A send with an `idempotency_key` already used for this (name,
    key) within the retention delivers nothing and answers as the first did, with
    "duplicate": true.
    """
    name, key, payload = check_message(name, key, payload)
    if len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise MessageError(
            "bad_idempotency_key",
            f"idempotency key: at most {MAX_IDEMPOTENCY_KEY} characters",
        )
    now = timezone.now()
    delivered: list[int] = []
    with transaction.atomic():
        key_lock(name, key)
        if idempotency_key:
            earlier = MessageSend.objects.filter(
                name=name, key=key, idempotency_key=idempotency_key, expires_at__gt=now
            ).first()
            if earlier is not None:
                return {**earlier.answer, "duplicate": True}
        waits = list(
            MessageWait.objects.filter(name=name, key=key)
            .select_related("step")
            .order_by("run_id", "id")
        )
        for wait in waits:
            if _deliver(wait, payload, now=now, sent_by=sent_by):
                delivered.append(wait.run_id)
        expires_at = None
        if not delivered:
            expires_at = now + timedelta(seconds=retention_s())
            Message.objects.create(
                name=name,
                key=key,
                payload=payload,
                expires_at=expires_at,
                sent_by=sent_by[:200],
            )
        answer = {
            "delivered_to": delivered,
            "kept": not delivered,
            "expires_at": expires_at.isoformat() if expires_at else None,
        }
        if idempotency_key:
            # An expired answer for the same key may still be there (not swept yet).
            MessageSend.objects.filter(
                name=name, key=key, idempotency_key=idempotency_key
            ).delete()
            MessageSend.objects.create(
                name=name,
                key=key,
                idempotency_key=idempotency_key,
                answer=answer,
                expires_at=now + timedelta(seconds=retention_s()),
            )
    return {**answer, "duplicate": False}


def _deliver(wait: MessageWait, payload: Any, *, now: datetime, sent_by: str) -> bool:
    run = Run.objects.select_for_update(no_key=True).get(pk=wait.run_id)
    step = StepRun.objects.get(pk=wait.step_id)
    wait.delete()
    if step.state != StepState.WAITING or run.is_finished:
        return False  # cancelled meanwhile: the wait was stale
    log = EventLog()
    advance = Advance(
        run, compiled_graph_for(run.version_id), log, now=now, actor=sent_by
    )
    current = next(
        (s for s in advance.steps.get(step.node_id, ()) if s.pk == step.pk), None
    )
    if current is None:
        return False
    message_succeeded(advance, current, payload, reason=f"message {wait.name} received")
    log.flush()
    return True


# ------------------------------------------------------------ expiry


def messages_expire(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Drop kept messages past their retention; record how many per name. The
    answers kept for idempotent sends go after the same retention (not counted)."""
    now = now or timezone.now()
    stale = MessageSend.objects.filter(expires_at__lte=now).values_list(
        "pk", flat=True
    )[:limit]
    MessageSend.objects.filter(pk__in=list(stale)).delete()
    with transaction.atomic():
        expired = list(
            Message.objects.filter(state=MessageState.KEPT, expires_at__lte=now)
            .order_by("expires_at")
            .values_list("pk", "name")[:limit]
        )
        if not expired:
            return 0
        Message.objects.filter(pk__in=[pk for pk, _ in expired]).delete()
        counts = Counter(name for _, name in expired)
        log = EventLog()
        log.add(
            "messages_expired",
            actor="system:sweeper",
            reason=f"{len(expired)} messages no run received were dropped",
            data={"count": len(expired), "by_name": dict(counts)},
        )
        log.flush()
    logger.info("dropped %s expired messages: %s", len(expired), dict(counts))
    return len(expired)
