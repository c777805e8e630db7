"""Notification rules: check, create, change and delete them (each an event), and
read the rules and messages a user may see. Matching and delivery are in
runs/notifications.py and runs/notification_delivery.py."""

import logging
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet

from designer import access
from designer.connections import usable_by
from designer.models import Connection, Workflow
from engine.errors import INVALID, DomainError
from runs import audit
from runs.events import EventLog, actor_of
from runs.models import (
    Notification,
    NotificationEvent,
    NotificationRule,
)
from runs.models.notifications import MAX_PER_HOUR_LIMIT, MAX_RECIPIENTS
from runs.notifications import (
    NOTIFY_KINDS,
)

logger = logging.getLogger("switchyard.notifications")


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


def _audited(rule: NotificationRule) -> dict[str, Any]:
    """What the audit trail compares of a rule (runs/audit.py)."""
    values = {key: getattr(rule, key) for key in RULE_FIELDS if key != "connection"}
    values["connection"] = rule.connection.name if rule.connection else None
    return values


def _rule_event(
    log: EventLog,
    rule: NotificationRule,
    kind: str,
    user: Any,
    changes: dict[str, Any] | None = None,
) -> None:
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
            "changes": changes or {},
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
        _rule_event(
            log,
            rule,
            "notification_rule_created",
            user,
            audit.changes(None, _audited(rule)),
        )
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
    before = _audited(rule)
    with transaction.atomic():
        for key in RULE_FIELDS:
            setattr(rule, key, cleaned[key])
        rule.save()
        log = EventLog()
        _rule_event(
            log,
            rule,
            "notification_rule_changed",
            user,
            audit.changes(before, _audited(rule)),
        )
        log.flush()
    return rule


def notification_rule_delete(*, rule: NotificationRule, user: Any = None) -> None:
    """Delete a rule and its notifications (their events stay)."""
    with transaction.atomic():
        log = EventLog()
        _rule_event(
            log,
            rule,
            "notification_rule_deleted",
            user,
            audit.changes(_audited(rule), None),
        )
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
