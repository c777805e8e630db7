"""Bulk jobs: create one over a filter or hand-picked runs, cancel it, read them.

Creating a job resolves its selection to a frozen, ascending list of run ids (at most
MAX_BULK_RUNS) of workflows the user sees, checks the version a retry or re-run asks
for against every workflow of the selection, and asks a worker to process it
(runs/bulk_processing.py). Every state change of a job is an FSM transition with its
Event row (`bulk_created`, `bulk_running`, `bulk_succeeded`, `bulk_failed`,
`bulk_cancelled`).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from config.celery import app
from designer import access
from designer.models import VersionStatus, Workflow, WorkflowVersion
from engine.errors import (
    CONFLICT,
    FORBIDDEN,
    INVALID,
    TOO_LARGE,
    UNPROCESSABLE,
    DomainError,
)
from runs.events import EventLog, actor_of
from runs.models import (
    MAX_BULK_RUNS,
    BulkAction,
    BulkJob,
    BulkState,
)
from runs.run_filters import RunFilter, runs_matching

PROCESS_TASK = "engine.bulk_process"
DEFAULT_RATE = 200.0
# How many ids an error message names at most.
NAMED_IDS = 10


class BulkError(DomainError):
    """A bulk request that cannot be carried out; its code decides the status."""

    STATUS = {
        "too_many_runs": TOO_LARGE,
        "empty_selection": UNPROCESSABLE,
        "unknown_runs": UNPROCESSABLE,
        "bad_version": UNPROCESSABLE,
        "no_live_version": UNPROCESSABLE,
        "job_finished": CONFLICT,
        "not_yours": FORBIDDEN,
    }

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(code, message)
        self.field = field

    def error_kind(self) -> str:
        return self.STATUS.get(self.code, INVALID)

    def errors(self) -> list[dict[str, Any]]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        return [error]


def bulk_rate() -> float:
    """Runs per second a job processes at most (SWITCHYARD_BULK_RATE)."""
    return max(1.0, float(getattr(settings, "SWITCHYARD_BULK_RATE", DEFAULT_RATE)))


def bulk_queue() -> str:
    return str(getattr(settings, "SWITCHYARD_BULK_QUEUE", "default"))


# ------------------------------------------------------------------ selection


@dataclass(frozen=True)
class Selection:
    run_ids: list[int]
    # {workflow id, ...} of the selected runs
    workflow_ids: set[int]
    filter: dict[str, str]


def _filter_params(raw: Mapping[str, Any]) -> dict[str, str]:
    """Return a JSON filter object as query parameters (text values)."""
    params: dict[str, str] = {}
    for key, value in raw.items():
        name = str(key)[:80]
        if isinstance(value, bool) or value is None:
            text = "" if value is None else str(value).lower()
        elif isinstance(value, str | int | float):
            text = str(value)
        elif isinstance(value, list) and all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in value
        ):
            text = ",".join(str(v) for v in value)
        else:
            raise BulkError(
                "bad_filter",
                f"{name}: a filter value is text, a number or a list of them",
                field=f"filter.{name}",
            )
        params[name] = text
    return params


def select_runs(
    *, user: Any, filter: Mapping[str, Any] | None, ids: list[int] | None
) -> Selection:
    """Resolve a filter or hand-picked ids to the runs the user may act on."""
    if (filter is None) == (ids is None):
        raise BulkError(
            "filter_or_ids", "send either a filter or the ids of the runs, not both"
        )
    if ids is not None:
        if len(ids) > MAX_BULK_RUNS:
            raise BulkError(
                "too_many_runs",
                f"a bulk job takes at most {MAX_BULK_RUNS} runs; {len(ids)} were sent",
                field="ids",
            )
        if not ids:
            raise BulkError("empty_selection", "pick at least one run", field="ids")
        run_filter = RunFilter(ids=tuple(dict.fromkeys(ids)))
    else:
        assert filter is not None
        params = _filter_params(filter)
        picked = [p for p in params.get("ids", "").split(",") if p]
        if len(picked) > MAX_BULK_RUNS:
            raise BulkError(
                "too_many_runs",
                f"a bulk job takes at most {MAX_BULK_RUNS} runs; {len(picked)} ids "
                "were sent",
                field="filter.ids",
            )
        run_filter = RunFilter.from_query(params)
        known = set(run_filter.to_query())
        for name, value in params.items():
            if value and name not in known:
                raise BulkError(
                    "bad_filter",
                    f"{name}: not a run filter parameter",
                    field=f"filter.{name}",
                )
        if run_filter.is_empty():
            raise BulkError(
                "empty_filter",
                "name at least one filter (workflow, state, …) or pick runs by id",
                field="filter",
            )
    rows = list(
        runs_matching(run_filter, user=user)
        .order_by("pk")
        .values_list("pk", "workflow_id")[: MAX_BULK_RUNS + 1]
    )
    if len(rows) > MAX_BULK_RUNS:
        raise BulkError(
            "too_many_runs",
            f"the filter matches more than {MAX_BULK_RUNS} runs; narrow it down",
            field="filter",
        )
    if ids is not None:
        found = {pk for pk, _ in rows}
        missing = [pk for pk in run_filter.ids if pk not in found]
        if missing:
            named = ", ".join(str(pk) for pk in missing[:NAMED_IDS])
            extra = len(missing) - NAMED_IDS
            more = f" and {extra} more" if extra > 0 else ""
            raise BulkError(
                "unknown_runs",
                f"no run {named}{more} (or you may not see it)",
                field="ids",
            )
    if not rows:
        raise BulkError("empty_selection", "the filter matches no runs", field="filter")
    return Selection(
        run_ids=[pk for pk, _ in rows],
        workflow_ids={workflow_id for _, workflow_id in rows},
        filter=run_filter.to_query(),
    )


def _check_version(action: str, version: str, workflow_ids: set[int]) -> None:
    """Refuse a version some workflow of the selection cannot run (422)."""
    if action == BulkAction.CANCEL or version in ("", "original"):
        return
    workflows = Workflow.objects.filter(pk__in=workflow_ids).order_by("slug")
    if version == "live":
        lacking = [w.slug for w in workflows if w.live_version_id is None]
        if lacking:
            raise BulkError(
                "no_live_version",
                f"no live version: {', '.join(lacking[:NAMED_IDS])}",
                field="version",
            )
        return
    number = int(version)
    having = set(
        WorkflowVersion.objects.filter(workflow_id__in=workflow_ids, number=number)
        .exclude(status=VersionStatus.DRAFT)
        .values_list("workflow_id", flat=True)
    )
    lacking = [w.slug for w in workflows if w.pk not in having]
    if lacking:
        raise BulkError(
            "bad_version",
            f"no published version {number}: {', '.join(lacking[:NAMED_IDS])}",
            field="version",
        )


# ------------------------------------------------------------------ create, cancel


def record(
    log: EventLog,
    job: BulkJob,
    kind: str,
    *,
    from_state: str,
    actor: str,
    reason: str = "",
) -> None:
    """Queue the Event of a job's change (its totals in the data)."""
    log.add(
        kind,
        from_state=from_state,
        to_state=job.state,
        actor=actor,
        reason=reason,
        workflow_id=job.workflow_id,
        data={
            "bulk_job": job.pk,
            "action": job.action,
            "total": job.total,
            "done": job.done,
            "skipped": job.skipped,
            "failed": job.failed,
        },
    )


def move(
    log: EventLog,
    job: BulkJob,
    name: str,
    *,
    actor: str,
    reason: str = "",
    **kwargs: Any,
) -> None:
    """Run a job's transition, save the row and record its Event."""
    from_state = job.state
    getattr(job, name)(**kwargs)
    job.save()
    record(
        log, job, f"bulk_{job.state}", from_state=from_state, actor=actor, reason=reason
    )


def bulk_create(
    *,
    user: Any,
    action: str,
    filter: Mapping[str, Any] | None = None,
    ids: list[int] | None = None,
    version: str | int | None = None,
    reason: str = "",
) -> BulkJob:
    """Create a queued job over the runs selected; a worker processes it."""
    if action not in BulkAction.values:
        raise BulkError(
            "bad_action", f"action must be one of {', '.join(BulkAction.values)}"
        )
    chosen = "" if version is None else str(version)
    if action == BulkAction.CANCEL and chosen:
        raise BulkError(
            "no_version", "only retry and rerun take a version", field="version"
        )
    if action == BulkAction.RERUN and not chosen:
        chosen = "live"
    if action == BulkAction.RETRY and not chosen:
        chosen = "original"
    selection = select_runs(user=user, filter=filter, ids=ids)
    _check_version(action, chosen, selection.workflow_ids)
    now = timezone.now()
    with transaction.atomic():
        job = BulkJob.objects.create(
            action=action,
            version=chosen,
            reason=reason[:500],
            filter=selection.filter,
            run_ids=selection.run_ids,
            total=len(selection.run_ids),
            workflow_id=(
                next(iter(selection.workflow_ids))
                if len(selection.workflow_ids) == 1
                else None
            ),
            actor=actor_of(user),
            created_by=user if getattr(user, "pk", None) else None,
            queued_at=now,
        )
        log = EventLog()
        record(
            log,
            job,
            "bulk_created",
            from_state="",
            actor=job.actor,
            reason=job.reason,
        )
        log.flush()
        publish_on_commit(job.pk)
    return job


def bulk_cancel(*, job: BulkJob, user: Any) -> BulkJob:
    """Stop a queued or running job; runs it already changed stay changed."""
    with transaction.atomic():
        locked = BulkJob.objects.select_for_update(no_key=True).get(pk=job.pk)
        if locked.is_finished:
            raise BulkError("job_finished", f"bulk job {job.pk} is {locked.state}")
        log = EventLog()
        move(
            log,
            locked,
            "cancel",
            actor=actor_of(user),
            reason=f"cancelled at {locked.position} of {locked.total}",
            at=timezone.now(),
        )
        log.flush()
    return locked


# ------------------------------------------------------------------ read


def bulk_list(*, user: Any) -> QuerySet[BulkJob]:
    """Return the jobs the user may see, newest first: their own, or every job for
    those who see every workflow."""
    qs = BulkJob.objects.defer("run_ids").order_by("-id")
    if access.sees_all(user):
        return qs
    return qs.filter(created_by=user)


def bulk_get(*, job_id: int, user: Any) -> BulkJob:
    """Return one job the user may see (404 otherwise)."""
    return get_object_or_404(bulk_list(user=user), pk=job_id)


# ------------------------------------------------------------------ publishing


def publish(job_id: int, *, countdown: float | None = None) -> None:
    """Ask a worker to process a job (its id only)."""
    app.send_task(PROCESS_TASK, args=[job_id], queue=bulk_queue(), countdown=countdown)


def publish_on_commit(job_id: int, *, countdown: float | None = None) -> None:
    # robust: a broker that cannot take it now is logged; the sweeper publishes again.
    transaction.on_commit(partial(publish, job_id, countdown=countdown), robust=True)


def touch_queued(job_id: int, now: datetime) -> None:
    """Note that a message for the job was just published (not a state change)."""
    BulkJob.objects.filter(
        pk=job_id, state__in=[BulkState.QUEUED, BulkState.RUNNING]
    ).update(queued_at=now)
