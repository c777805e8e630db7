"""What runs records of what other apps announce (connected in RunsConfig.ready)."""

from typing import Any

from designer import selectors as designer_selectors
from designer.models import VersionStatus, WorkflowVersion
from designer.signals import connection_changed, version_created
from runs.events import EventLog, actor_of
from runs.selectors import annotate_last_run


def record_version_created(
    sender: Any, *, version: WorkflowVersion, actor: Any, **kwargs: Any
) -> None:
    """A new draft: its `version_created` event, in the creating transaction."""
    log = EventLog()
    log.add(
        "version_created",
        to_state=VersionStatus.DRAFT,
        actor=actor_of(actor),
        workflow_id=version.workflow_id,
        version_id=version.pk,
        data={"checksum": version.checksum},
    )
    log.flush()


def record_connection_changed(
    sender: Any,
    *,
    connection: Any,
    change: str,
    actor: Any,
    secrets_changed: list[str] | None = None,
    **kwargs: Any,
) -> None:
    """A connection created, updated or deleted: an event naming it (and the names
    of the secrets given, never their values)."""
    data: dict[str, Any] = {
        "connection": connection.name,
        "connection_kind": connection.kind,
    }
    if secrets_changed:
        data["secrets_changed"] = secrets_changed
    # The audit trail (runs/audit.py): the team it belongs to, and what changed.
    if connection.owner_group_id is not None:
        data["team"] = connection.owner_group.name
    data["changes"] = kwargs.get("changes") or {}
    log = EventLog()
    log.add(
        f"connection_{change}",
        actor=actor_of(actor),
        reason=f"connection {connection.name} {change}",
        data=data,
    )
    log.flush()


def connect() -> None:
    from runs import audit, calls, tracing

    calls.connect()
    audit.connect()
    # Run and step spans, written as they finish (a no-op with tracing off).
    tracing.connect()
    version_created.connect(record_version_created, dispatch_uid="runs.version_created")
    connection_changed.connect(
        record_connection_changed, dispatch_uid="runs.connection_changed"
    )
    # The workflow list shows each workflow's last run.
    designer_selectors.register_list_annotation(annotate_last_run)
