"""The audit trail of settings: bounded diffs, and the signal announcing a change.

Designer works out what changed and announces it (`settings_changed`, sent inside
the transaction that made the change); runs records it as an Event
(runs/audit.py), as it does `version_created`. Values are bounded: a large one is
replaced by a summary (its size and a digest), and a secret's value never enters a
diff, only the fact that it changed.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any

from django.dispatch import Signal
from django.utils.decorators import sync_and_async_middleware

# kwargs: `kind` (the event kind, e.g. "settings_changed"), `actor` (a user or
# None), `changes` ({field: {"from": …, "to": …}} or {field: {"changed": True}} for a
# secret), `subject` (what changed, for people: "settings", "schedule nightly"),
# `workflow` (or None) and `team` (a Group, for team-wide things, or None).
settings_changed = Signal()

# A value larger than this (as JSON) is summarised in a diff.
MAX_VALUE_BYTES = 2000
# At most this many fields in one diff; the rest are counted.
MAX_FIELDS = 40
SECRET_CHANGED = {"changed": True}

# The user acting in this request, for changes whose code does not know it (group
# memberships changed in the admin); set by AuditActorMiddleware.
current_actor: ContextVar[Any] = ContextVar("switchyard_audit_actor", default=None)


def summarised(value: Any) -> Any:
    """Return the value, or a summary of it when it is large as JSON."""
    try:
        encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        return {"summary": f"a {type(value).__name__}"}
    if len(encoded) <= MAX_VALUE_BYTES:
        return value
    if isinstance(value, dict):
        shape = f"an object of {len(value)} keys"
    elif isinstance(value, list):
        shape = f"a list of {len(value)} items"
    else:
        shape = f"a {type(value).__name__}"
    return {
        "summary": f"{shape}, {len(encoded)} bytes",
        "sha256": hashlib.sha256(encoded.encode()).hexdigest()[:16],
    }


def diff(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    fields: Iterable[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Return {field: {"from": old, "to": new}} for the fields whose values differ.

    A field absent on one side is None there. Bounded: values summarised, at most
    MAX_FIELDS fields (then "…": {"more": n}).
    """
    names = sorted(set(before) | set(after)) if fields is None else list(fields)
    changed = [name for name in names if before.get(name) != after.get(name)]
    changes = {
        name: {"from": summarised(before.get(name)), "to": summarised(after.get(name))}
        for name in changed[:MAX_FIELDS]
    }
    if len(changed) > MAX_FIELDS:
        changes["…"] = {"more": len(changed) - MAX_FIELDS}
    return changes


def secrets_changed(names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Return the diff entries of secrets: their names, never their values."""
    return {f"secret {name}": dict(SECRET_CHANGED) for name in sorted(names)}


def announce(
    *,
    kind: str,
    actor: Any,
    changes: dict[str, Any],
    subject: str,
    workflow: Any = None,
    team: Any = None,
) -> None:
    """Announce a change (nothing when nothing changed); call inside its transaction."""
    if not changes:
        return
    settings_changed.send(
        sender=kind,
        kind=kind,
        actor=actor,
        changes=changes,
        subject=subject[:200],
        workflow=workflow,
        team=team,
    )


@sync_and_async_middleware
def AuditActorMiddleware(get_response: Any) -> Any:  # noqa: N802 - Django's style
    """Remember the request's user for audit records made without one."""
    from asgiref.sync import iscoroutinefunction

    if iscoroutinefunction(get_response):

        async def middleware_async(request: Any) -> Any:
            token = current_actor.set(getattr(request, "user", None))
            try:
                return await get_response(request)
            finally:
                current_actor.reset(token)

        return middleware_async

    def middleware(request: Any) -> Any:
        token = current_actor.set(getattr(request, "user", None))
        try:
            return get_response(request)
        finally:
            current_actor.reset(token)

    return middleware
