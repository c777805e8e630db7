"""The audit trail: changes to settings, triggers, connections and access, as Events.

Every audited change is one Event row, written in the transaction that made it,
with the actor and `data.changes` ({field: {"from", "to"}}, bounded; a secret only
as {"changed": true}). Workflow settings and connections are announced by designer
(`designer.audit.settings_changed`, `designer.signals.connection_changed`);
schedules, webhooks and notification rules write theirs in their services; group
memberships (roles and teams) are recorded here from Django's m2m signal.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from designer import audit as designer_audit
from runs.events import EventLog, actor_of
from runs.models import Event

# Kinds that are changes people made to how things run (newest first in the lists).
AUDIT_KINDS = (
    "settings_changed",
    "schedule_created",
    "schedule_changed",
    "schedule_paused",
    "schedule_resumed",
    "schedule_deleted",
    "webhook_created",
    "webhook_changed",
    "webhook_secret_rotated",
    "webhook_enabled",
    "webhook_disabled",
    "webhook_deleted",
    "notification_rule_created",
    "notification_rule_changed",
    "notification_rule_deleted",
    "connection_created",
    "connection_updated",
    "connection_deleted",
    "membership_changed",
)
# Team-wide or global kinds (no workflow on the event).
_TEAM_KINDS = ("connection_created", "connection_updated", "connection_deleted")
# A team's default notification rules (no workflow; `data.owner_group` names it).
_TEAM_RULE_KINDS = (
    "notification_rule_created",
    "notification_rule_changed",
    "notification_rule_deleted",
)
# Lifecycle kinds whose change is their name: the diff the list shows for them.
_IMPLIED = {
    "schedule_paused": {"state": {"from": "active", "to": "paused"}},
    "schedule_resumed": {"state": {"from": "paused", "to": "active"}},
    "webhook_enabled": {"state": {"from": "disabled", "to": "enabled"}},
    "webhook_disabled": {"state": {"from": "enabled", "to": "disabled"}},
    "webhook_secret_rotated": {"secret": dict(designer_audit.SECRET_CHANGED)},
}


def changes(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> dict[str, Any]:
    """Return the bounded diff of two snapshots (None: created or deleted)."""
    return designer_audit.diff(before or {}, after or {})


def record_settings_changed(
    sender: Any,
    *,
    kind: str,
    actor: Any,
    changes: dict[str, Any],
    subject: str,
    workflow: Any = None,
    team: Any = None,
    **kwargs: Any,
) -> None:
    """Record what designer announced, in its transaction."""
    data: dict[str, Any] = {"subject": subject, "changes": changes}
    if team is not None:
        data["team"] = team.name
    log = EventLog()
    log.add(
        kind,
        actor=actor_of(actor),
        reason=subject,
        workflow_id=workflow.pk if workflow is not None else None,
        data=data,
    )
    log.flush()


def _memberships_changed(
    sender: Any,
    instance: Any,
    action: str,
    reverse: bool,
    model: Any,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    """A user's groups (roles and teams) changed, from either side."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    from django.contrib.auth.models import Group

    user_model = get_user_model()
    if action == "pre_clear":
        if reverse:  # group.user_set.clear()
            pairs = [(u, instance.name) for u in instance.user_set.all()]
        else:
            pairs = [(instance, g.name) for g in instance.groups.all()]
        verb = "removed"
    else:
        verb = "added" if action == "post_add" else "removed"
        if reverse:
            users = user_model.objects.filter(pk__in=pk_set or ())
            pairs = [(u, instance.name) for u in users]
        else:
            names = Group.objects.filter(pk__in=pk_set or ()).values_list(
                "name", flat=True
            )
            pairs = [(instance, name) for name in names]
    if not pairs:
        return
    actor = actor_of(designer_audit.current_actor.get())
    log = EventLog()
    for user, group in pairs:
        log.add(
            "membership_changed",
            actor=actor,
            reason=f"{user.get_username()} {verb} {group}",
            data={
                "subject": f"user {user.get_username()}",
                "user": user.get_username(),
                "changes": {
                    f"group {group}": {
                        "from": verb == "removed",
                        "to": verb == "added",
                    }
                },
            },
        )
    log.flush()


def connect() -> None:
    """Connect the receivers (runs.receivers.connect)."""
    from django.db.models.signals import m2m_changed

    designer_audit.settings_changed.connect(
        record_settings_changed, dispatch_uid="runs.audit.settings_changed"
    )
    m2m_changed.connect(
        _memberships_changed,
        sender=get_user_model().groups.through,
        dispatch_uid="runs.audit.memberships",
    )


# ------------------------------------------------------------------------- reading


def audit_list(*, workflow: Any = None) -> QuerySet[Event]:
    """Return audit events, newest first: a workflow's (with its team's and the
    shared connections), or every one."""
    qs = Event.objects.filter(kind__in=AUDIT_KINDS)
    if workflow is not None:
        team = workflow.owner_group.name if workflow.owner_group else None
        # Connections of its team or of none; its team's default notification rules.
        connections = Q(kind__in=_TEAM_KINDS) & (
            Q(data__team__isnull=True) | Q(data__team=team)
        )
        team_rules = Q(kind__in=_TEAM_RULE_KINDS, data__owner_group=team)
        team_wide = Q(workflow_id__isnull=True) & (
            connections | team_rules if team else connections
        )
        qs = qs.filter(Q(workflow_id=workflow.pk) | team_wide)
    return qs.order_by("-id")


def audit_dict(event: Event, slugs: dict[int, str]) -> dict[str, Any]:
    """Return an audit event as the API shows it."""
    data = event.data if isinstance(event.data, dict) else {}
    found = data.get("changes")
    shown = found if isinstance(found, dict) else _IMPLIED.get(event.kind, {})
    subject = data.get("subject") or _subject(event.kind, data)
    return {
        "id": event.pk,
        "kind": event.kind,
        "actor": event.actor,
        "created_at": event.created_at.isoformat(),
        "workflow": slugs.get(event.workflow_id) if event.workflow_id else None,
        "subject": subject,
        "team": data.get("team"),
        "changes": shown,
    }


def _subject(kind: str, data: dict[str, Any]) -> str:
    """Name what an event changed, from its kind and data."""
    thing = "notification rule" if kind.startswith("notification_rule") else ""
    thing = thing or kind.split("_", 1)[0]
    name = data.get("name") or data.get("connection") or data.get("user") or ""
    return f"{thing} {name}".strip()
