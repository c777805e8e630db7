"""What runs records of what other apps announce (connected in RunsConfig.ready)."""

from typing import Any

from designer import selectors as designer_selectors
from designer.models import VersionStatus, WorkflowVersion
from designer.signals import version_created
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


def connect() -> None:
    from runs import calls

    calls.connect()
    version_created.connect(record_version_created, dispatch_uid="runs.version_created")
    # The workflow list shows each workflow's last run.
    designer_selectors.register_list_annotation(annotate_last_run)
