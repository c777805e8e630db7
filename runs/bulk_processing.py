"""Process bulk jobs: each run through its own service, paced, resumable.

A worker leases the job (`lease_token`, `leased_until`), then changes one run at a
time from `position`: the run's service call (run_cancel, run_retry, run_start, which
record the run's own events) and the job's progress are one transaction, so a worker
that dies loses nothing and repeats nothing: the next worker resumes at `position`.
The progress update is guarded by the lease: a job cancelled (or taken over) meanwhile
rolls the run's change back and the worker stops. One run's failure is counted
against that run; it never stops the job. A slice lasts at most SLICE_S seconds, then
the job is published again, so no task runs long; the sweeper publishes jobs whose
message or worker was lost.
"""

import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from designer import access
from designer.models import VersionStatus, WorkflowVersion
from engine.errors import DomainError
from runs.bulk import bulk_rate, move, publish, publish_on_commit, touch_queued
from runs.events import EventLog
from runs.models import (
    BULK_ACTIVE,
    MAX_BULK_ERRORS,
    BulkAction,
    BulkJob,
    BulkState,
    Run,
)
from runs.services.controls import RERUN_FROM_STATES, run_cancel, run_retry
from runs.services.starting import run_start

logger = logging.getLogger("switchyard.bulk")

LEASE_S = 30.0
SLICE_S = 5.0
# A lease that expired this many times at the same position (its worker died each
# time): the run there is counted as failed and the job moves on.
MAX_STALLS = 3
# The sweeper publishes a job again when no message went out for it this long.
REQUEUE_AFTER_S = 10.0
SWEEP_LIMIT = 100
ACTOR = "system:bulk"


class _LeaseLost(Exception):
    """The job was cancelled or taken over while a run was being changed."""


class _Refused(DomainError):
    """A run the job cannot act on (counted as failed with the code)."""


@dataclass(frozen=True)
class Outcome:
    outcome: str  # done | skipped | failed
    code: str = ""
    message: str = ""


DONE = Outcome("done")


@dataclass
class _Context:
    """What a slice reads once: who may act, and the versions asked for."""

    # Workflow ids the job's creator may still operate (None: all).
    allowed: set[int] | None
    refusal: str = ""
    # {workflow id: version} for re-runs
    versions: dict[int, WorkflowVersion | None] = field(default_factory=dict)


# ------------------------------------------------------------------ the task


def bulk_process(*, job_id: int) -> str:
    """Process a slice of a job; return what happened ("succeeded", "continued",
    "skipped" when it is finished or another worker holds it, "lost", "retry",
    "failed")."""
    token = secrets.token_hex(8)
    job = _claim(job_id, token, now=timezone.now())
    if job is None:
        return "skipped"
    try:
        return _slice(job, token)
    except (OperationalError, InterfaceError):
        # The database, not the job: the lease expires and the sweeper publishes
        # the job again.
        logger.warning("bulk job %s: database error; left for the sweeper", job_id)
        return "retry"
    except Exception as exc:  # noqa: BLE001 - the job's own error ends the job
        logger.exception("bulk job %s failed", job_id)
        _fail(job_id, token, f"{type(exc).__name__}: {str(exc)[:300]}")
        return "failed"


def _slice(job: BulkJob, token: str) -> str:
    rate = bulk_rate()
    began = time.monotonic()
    processed = 0
    context = _context(job)
    while job.position < job.total:
        if time.monotonic() - began >= SLICE_S:
            _release(job.pk, token, again=True)
            return "continued"
        wait = began + processed / rate - time.monotonic()
        if wait > 0:
            time.sleep(min(wait, 1.0))
        run_id = int(job.run_ids[job.position])
        try:
            with transaction.atomic():
                outcome = _apply_isolated(job, run_id, context)
                _count(job, run_id, outcome)
                if not _save_progress(job, token):
                    raise _LeaseLost
        except _LeaseLost:
            return "lost"
        except (OperationalError, InterfaceError):
            # A deadlock victim or a lost connection: try the same run again soon.
            logger.warning("bulk job %s: run %s left for later", job.pk, run_id)
            _release(job.pk, token, again=True, countdown=1.0)
            return "retry"
        processed += 1
    _finish(job.pk, token)
    return "succeeded"


# ------------------------------------------------------------------ one run


def _apply_isolated(job: BulkJob, run_id: int, context: _Context) -> Outcome:
    """Change one run in a savepoint; its failure is its outcome, not the job's."""
    try:
        with transaction.atomic():
            return _apply(job, run_id, context)
    except (OperationalError, InterfaceError):
        raise
    except TransitionNotAllowed as exc:
        return Outcome("skipped", "not_allowed_now", str(exc)[:300])
    except ConcurrentTransition:
        return Outcome("failed", "concurrent", "the run was changed by someone else")
    except DomainError as exc:
        return Outcome("failed", exc.code, exc.message[:300])
    except Exception as exc:  # noqa: BLE001 - one bad run must not stop the job
        logger.exception("bulk job %s: run %s failed", job.pk, run_id)
        return Outcome("failed", "error", f"{type(exc).__name__}: {str(exc)[:300]}")


def _apply(job: BulkJob, run_id: int, context: _Context) -> Outcome:
    run = Run.objects.select_related("workflow", "version").filter(pk=run_id).first()
    if run is None:
        return Outcome("skipped", "gone", "the run no longer exists")
    if context.allowed is not None and run.workflow_id not in context.allowed:
        return Outcome("skipped", "not_allowed", context.refusal)
    reason = f"bulk job {job.pk}" + (f": {job.reason}" if job.reason else "")
    if job.action == BulkAction.CANCEL:
        if run.is_finished:
            return Outcome("skipped", "already_finished", f"the run is {run.state}")
        run_cancel(run=run, actor=job.actor, reason=reason)
        return DONE
    if job.action == BulkAction.RETRY:
        if run.state not in RERUN_FROM_STATES:
            return Outcome(
                "skipped",
                "not_retryable",
                f"the run is {run.state}; only failed, cancelled or compensated "
                "runs can be retried",
            )
        run_retry(run=run, actor=job.actor, version=job.version or "original")
        return DONE
    version = _rerun_version(job, run, context)
    started, _ = run_start(
        workflow=run.workflow,
        version=version,
        input=run.input,
        actor=job.actor,
        # Stable per job and run: a repeated attempt finds the run it started.
        idempotency_key=f"bulk:{job.pk}:{run.pk}",
        created_by=job.created_by,
        trigger=f"bulk:{job.pk}",
    )
    return Outcome("done", "started", f"started run {started.pk}")


def _rerun_version(job: BulkJob, run: Run, context: _Context) -> WorkflowVersion:
    if job.version in ("", "original"):
        return run.version
    if run.workflow_id not in context.versions:
        if job.version == "live":
            found = run.workflow.live_version
        else:
            found = (
                WorkflowVersion.objects.filter(
                    workflow_id=run.workflow_id, number=int(job.version)
                )
                .exclude(status=VersionStatus.DRAFT)
                .first()
            )
        context.versions[run.workflow_id] = found
    version = context.versions[run.workflow_id]
    if version is None:
        raise _Refused(
            "bad_version", f"{run.workflow.slug} has no version {job.version}"
        )
    return version


def _context(job: BulkJob) -> _Context:
    """Read whether the job's creator may still operate runs, and where."""
    user = (
        get_user_model().objects.filter(pk=job.created_by_id, is_active=True).first()
        if job.created_by_id is not None
        else None
    )
    if user is None:
        return _Context(allowed=set(), refusal="the job's creator no longer exists")
    if not user.has_perm(access.OPERATE):
        return _Context(
            allowed=set(), refusal="the job's creator may no longer operate runs"
        )
    ids = access.visible_workflow_ids(user)
    return _Context(
        allowed=None if ids is None else set(ids),
        refusal="the job's creator may no longer see this workflow",
    )


# ------------------------------------------------------------------ progress


def _count(job: BulkJob, run_id: int, outcome: Outcome) -> None:
    """Count one run's outcome on the job (in memory; saved by _save_progress)."""
    job.position += 1
    if outcome.outcome == "done":
        job.done += 1
        return
    if outcome.outcome == "skipped":
        job.skipped += 1
    else:
        job.failed += 1
    job.reasons = {**job.reasons, outcome.code: job.reasons.get(outcome.code, 0) + 1}
    if len(job.errors) < MAX_BULK_ERRORS:
        job.errors = [
            *job.errors,
            {
                "run_id": run_id,
                "outcome": outcome.outcome,
                "code": outcome.code,
                "message": outcome.message,
            },
        ]


def _save_progress(job: BulkJob, token: str) -> bool:
    """Write the job's progress if this worker still holds it; renew the lease."""
    # Counters and the lease only (no state): guarded by the lease token, so a
    # cancel or a takeover in between makes this write nothing.
    return (
        BulkJob.objects.filter(
            pk=job.pk, state=BulkState.RUNNING, lease_token=token
        ).update(
            position=job.position,
            done=job.done,
            skipped=job.skipped,
            failed=job.failed,
            reasons=job.reasons,
            errors=job.errors,
            stalls=0,
            leased_until=timezone.now() + timedelta(seconds=LEASE_S),
        )
        == 1
    )


def _claim(job_id: int, token: str, *, now: datetime) -> BulkJob | None:
    """Lease an active job for a slice; start it if queued (a short transaction)."""
    with transaction.atomic():
        job = (
            BulkJob.objects.select_for_update(skip_locked=True)
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.is_finished:
            return None
        if job.lease_token and job.leased_until and job.leased_until > now:
            return None  # another worker holds it
        log = EventLog()
        if job.lease_token:
            # Its last holder died (the lease ran out) without moving on.
            job.stalls += 1
        if job.state == BulkState.QUEUED:
            move(log, job, "start", actor=ACTOR, at=now)
        if job.stalls >= MAX_STALLS and job.position < job.total:
            _count(
                job,
                int(job.run_ids[job.position]),
                Outcome(
                    "failed",
                    "worker_lost",
                    f"the worker processing this run was lost {job.stalls} times",
                ),
            )
            job.stalls = 0
        job.lease_token = token
        job.leased_until = now + timedelta(seconds=LEASE_S)
        job.save()
        log.flush()
    return job


def _release(
    job_id: int, token: str, *, again: bool, countdown: float | None = None
) -> None:
    """Give the lease back and publish the job for its next slice."""
    with transaction.atomic():
        released = BulkJob.objects.filter(
            pk=job_id, state=BulkState.RUNNING, lease_token=token
        ).update(lease_token="", leased_until=None, queued_at=timezone.now())
        if released and again:
            publish_on_commit(job_id, countdown=countdown)


def _finish(job_id: int, token: str) -> None:
    with transaction.atomic():
        job = BulkJob.objects.select_for_update(no_key=True).get(pk=job_id)
        if job.state != BulkState.RUNNING or job.lease_token != token:
            return
        log = EventLog()
        move(
            log,
            job,
            "succeed",
            actor=ACTOR,
            reason=f"{job.done} done, {job.skipped} skipped, {job.failed} failed",
            at=timezone.now(),
        )
        log.flush()


def _fail(job_id: int, token: str, error: str) -> None:
    try:
        with transaction.atomic():
            job = BulkJob.objects.select_for_update(no_key=True).get(pk=job_id)
            if job.is_finished or job.lease_token != token:
                return
            log = EventLog()
            move(
                log,
                job,
                "fail",
                actor=ACTOR,
                reason=error,
                error=error,
                at=timezone.now(),
            )
            log.flush()
    except Exception:  # noqa: BLE001 - the lease expires; the sweeper tries again
        logger.exception("bulk job %s: could not record its failure", job_id)


# ------------------------------------------------------------------ sweeper


def bulk_jobs_sweep(*, now: datetime | None = None) -> int:
    """Publish active jobs that nobody holds and no recent message asked for: a
    lost message, or a worker that died mid-slice (its lease ran out)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=REQUEUE_AFTER_S)
    due = list(
        BulkJob.objects.filter(state__in=BULK_ACTIVE)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lte=stale))
        .order_by("id")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    for job_id in due:
        touch_queued(job_id, now)
        try:
            publish(job_id)
        except Exception:  # noqa: BLE001 - the next sweep tries again
            logger.warning("bulk job %s: could not publish", job_id, exc_info=True)
    return len(due)


def process_now(job_id: int) -> str:
    """Process a job in this process, slice after slice, until it ends or another
    worker holds it (tests and bench/bulk.py; workers get one slice per message)."""
    result = "continued"
    for _ in range(10_000):
        result = bulk_process(job_id=job_id)
        if result not in ("continued", "retry"):
            return result
    return result
