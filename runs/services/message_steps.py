"""A `receive` step takes or waits for its message (inside the run's transaction).

Called by `Advance` when a run reaches a receive node, and by the timer when its
timeout passes; `runs.messages` sends messages and calls `message_succeeded`.
"""

import hashlib
from datetime import timedelta
from typing import Any

from django.db import connection

from runs.events import transition
from runs.models import Message, MessageState, MessageWait, StepRun


def key_lock(name: str, key: str) -> None:
    """Serialise everything about one (name, key) until the transaction ends."""
    if connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(f"{name}\0{key}".encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)",
            [int.from_bytes(digest, "big", signed=True)],
        )


def receive_start(
    advance: Any,
    step: StepRun,
    *,
    name: str,
    key: str,
    timeout_s: float | None,
) -> None:
    """Take a kept message at once, or put the step in `waiting` for it (inside the
    run's transaction)."""
    key_lock(name, key)
    now = advance.now
    kept = (
        Message.objects.select_for_update(no_key=True)
        .filter(name=name, key=key, state=MessageState.KEPT, expires_at__gt=now)
        .order_by("id")
        .first()
    )
    if kept is not None:
        kept.deliver(run_id=advance.run.pk, at=now)
        kept.save()
        advance.log.add(
            "message_delivered",
            run=advance.run,
            from_state=MessageState.KEPT,
            to_state=kept.state,
            actor=advance.actor,
            reason=f"message {name} with key {key} was waiting",
            data={"message": kept.pk, "name": name, "key": key},
        )
        message_succeeded(
            advance, step, kept.payload, reason=f"message {name} was waiting"
        )
        return
    until = now + timedelta(seconds=timeout_s) if timeout_s else None
    transition(
        advance.log,
        step,
        "wait",
        actor=advance.actor,
        until=until,
        reason=f"waits for message {name} with key {key}",
        data={"message": name, "key": key, "timeout_at": until and until.isoformat()},
    )
    advance.remember(step)
    MessageWait.objects.create(run=advance.run, step=step, name=name, key=key)


def message_succeeded(
    advance: Any, step: StepRun, payload: Any, *, reason: str
) -> None:
    """Finish a receive step with the payload as its output; follow its edge."""
    taken = [e["id"] for e in advance.graph.normal_outgoing(step.node_id)]
    transition(
        advance.log,
        step,
        "succeed",
        actor=advance.actor,
        output=payload,
        taken_edges=taken,
        at=advance.now,
        reason=reason,
    )
    if not any(s is step for s in advance.steps.get(step.node_id, ())):
        advance.remember(step)
    advance.took(taken)
    advance.follow(step)


def receive_timeout(advance: Any, step: StepRun) -> None:
    """A receive whose timeout passed: take its `on: timeout` edge."""
    MessageWait.objects.filter(step=step).delete()
    taken = [e["id"] for e in advance.graph.timeout_outgoing(step.node_id)]
    transition(
        advance.log,
        step,
        "succeed",
        actor=advance.actor,
        output=None,
        taken_edges=taken,
        at=advance.now,
        reason="no message came before the timeout",
    )
    advance.took(taken)
    advance.follow(step)
