"""Canary rollout and automatic rollback.

Publishing a version as a canary leaves the live version live and routes
`canary_percent` of new runs to the canary. The split is exact, not random: the n-th run
started since the canary began goes to it when floor(n·p/100) grows, so 30 % means
3 runs in every 10, in order. Starting runs already lock the workflow row, so
concurrent starts count correctly.

Promote makes the canary live; abort stops routing to it. Both are one call, and each
writes an Event. Every minute (Celery beat) `evaluate_rollbacks` checks each workflow
with rollback criteria: a canary, or a version made live within the criteria's window,
that breaks a threshold over at least `min_runs` finished runs is rolled back (the
canary aborted, or the previous live version restored), with the reason and the
figures in the Event, so the board shows why.
"""

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from designer.models import VersionStatus, Workflow, WorkflowVersion
from runs.events import EventLog, actor_of

logger = logging.getLogger("switchyard.rollout")

CRITERIA_KEYS = {
    "min_success_rate": float,
    "max_retry_burden": float,
    "max_queue_delay_p95_s": float,
    "min_runs": int,
    "window_s": float,
}
DEFAULT_WINDOW_S = 3600.0
DEFAULT_MIN_RUNS = 20


class RolloutError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _event(
    kind: str,
    workflow: Workflow,
    version: WorkflowVersion | None,
    *,
    actor: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    log = EventLog()
    log.add(
        kind,
        actor=actor,
        reason=reason,
        workflow_id=workflow.pk,
        version_id=version.pk if version is not None else None,
        data=data or {},
    )
    log.flush()


def pick_version(workflow: Workflow, live: WorkflowVersion) -> WorkflowVersion:
    """Return the version a new run starts on (call with the workflow row locked)."""
    percent = workflow.canary_percent
    if not workflow.canary_version_id or not percent:
        return live
    from runs.models import Run

    started = Run.objects.filter(
        workflow_id=workflow.pk, created_at__gte=workflow.canary_started_at
    ).count()
    if (started + 1) * percent // 100 > started * percent // 100:
        return WorkflowVersion.objects.get(pk=workflow.canary_version_id)
    return live


def canary_start(
    *, workflow: Workflow, version: WorkflowVersion, percent: int, actor: Any
) -> Workflow:
    """Route `percent` of new runs to a published version (inside the caller's
    transaction, with the workflow locked)."""
    if not 1 <= percent <= 99:
        raise RolloutError("bad_percent", "canary_percent must be from 1 to 99")
    if workflow.live_version_id is None:
        raise RolloutError(
            "no_live_version", "a first version goes live directly, not as a canary"
        )
    workflow.canary_version = version
    workflow.canary_percent = percent
    workflow.canary_started_at = timezone.now()
    workflow.save(
        update_fields=[
            "canary_version",
            "canary_percent",
            "canary_started_at",
            "updated_at",
        ]
    )
    _event(
        "canary_started",
        workflow,
        version,
        actor=actor_of(actor),
        reason=f"v{version.number} gets {percent} % of new runs",
        data={"version": version.number, "percent": percent},
    )
    return workflow


def _locked(workflow: Workflow) -> Workflow:
    return Workflow.objects.select_for_update(no_key=True).get(pk=workflow.pk)


def canary_promote(*, workflow: Workflow, actor: Any) -> Workflow:
    """Make the canary the live version."""
    with transaction.atomic():
        locked = _locked(workflow)
        if locked.canary_version_id is None:
            raise RolloutError("no_canary", f"{locked.slug} has no canary")
        canary = WorkflowVersion.objects.get(pk=locked.canary_version_id)
        previous = locked.live_version
        _make_live(locked, canary)
        _event(
            "canary_promoted",
            locked,
            canary,
            actor=actor_of(actor),
            reason=f"v{canary.number} is live",
            data={"from": previous.number if previous else None, "to": canary.number},
        )
    return locked


def canary_abort(
    *, workflow: Workflow, actor: Any, reason: str = "", data: Any = None
) -> Workflow:
    """Stop routing runs to the canary; runs already on it finish on it."""
    with transaction.atomic():
        locked = _locked(workflow)
        if locked.canary_version_id is None:
            raise RolloutError("no_canary", f"{locked.slug} has no canary")
        canary = WorkflowVersion.objects.get(pk=locked.canary_version_id)
        _clear_canary(locked)
        _event(
            "canary_aborted",
            locked,
            canary,
            actor=actor if isinstance(actor, str) else actor_of(actor),
            reason=reason or "aborted",
            data={"version": canary.number, **(data or {})},
        )
    return locked


def _clear_canary(workflow: Workflow) -> None:
    workflow.canary_version = None
    workflow.canary_percent = 0
    workflow.canary_started_at = None
    workflow.save(
        update_fields=[
            "canary_version",
            "canary_percent",
            "canary_started_at",
            "updated_at",
        ]
    )


def _make_live(workflow: Workflow, version: WorkflowVersion) -> None:
    """Make a published version live, remembering the one it replaces."""
    if workflow.live_version_id != version.pk:
        workflow.previous_live_version_id = workflow.live_version_id
    workflow.live_version = version
    workflow.live_since = timezone.now()
    workflow.canary_version = None
    workflow.canary_percent = 0
    workflow.canary_started_at = None
    workflow.save(
        update_fields=[
            "live_version",
            "previous_live_version",
            "live_since",
            "canary_version",
            "canary_percent",
            "canary_started_at",
            "updated_at",
        ]
    )


def restore_live(workflow: Workflow, version: WorkflowVersion) -> None:
    """Make an earlier version live again. A rollback is not a new version to watch,
    so nothing is remembered to roll back to."""
    workflow.live_version = version
    workflow.previous_live_version = None
    workflow.live_since = timezone.now()
    workflow.save(
        update_fields=[
            "live_version",
            "previous_live_version",
            "live_since",
            "updated_at",
        ]
    )


# ------------------------------------------------------------------ criteria


def clean_criteria(value: Any) -> dict[str, Any]:
    """Validate rollback criteria; raise RolloutError naming the problem."""
    if value in (None, {}):
        return {}
    if not isinstance(value, dict):
        raise RolloutError("bad_criteria", "rollback_criteria must be an object")
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        kind = CRITERIA_KEYS.get(key)
        if kind is None:
            raise RolloutError(
                "bad_criteria",
                f"unknown criterion {key!r}; use {', '.join(CRITERIA_KEYS)}",
            )
        if isinstance(item, bool) or not isinstance(item, int | float) or item < 0:
            raise RolloutError("bad_criteria", f"{key} must be a number ≥ 0")
        if key in ("min_success_rate", "max_retry_burden") and item > 1:
            raise RolloutError("bad_criteria", f"{key} is a ratio from 0 to 1")
        cleaned[key] = kind(item)
    return cleaned


def breaches(criteria: dict[str, Any], card: dict[str, Any]) -> list[str]:
    """Return the criteria a scorecard breaks (empty with too few runs)."""
    finished = card["runs"]["finished"]
    if finished < criteria.get("min_runs", DEFAULT_MIN_RUNS):
        return []
    broken = []
    rate = card["success_rate"]
    if "min_success_rate" in criteria and rate is not None:
        if rate < criteria["min_success_rate"]:
            broken.append(
                f"success rate {rate:.0%} < {criteria['min_success_rate']:.0%}"
            )
    burden = card["retry_burden"]
    if "max_retry_burden" in criteria and burden is not None:
        if burden > criteria["max_retry_burden"]:
            broken.append(
                f"retry burden {burden:.0%} > {criteria['max_retry_burden']:.0%}"
            )
    p95 = card["queue_delay"]["p95"]
    if "max_queue_delay_p95_s" in criteria and p95 is not None:
        if p95 > criteria["max_queue_delay_p95_s"]:
            broken.append(
                f"queue delay p95 {p95:.1f} s > {criteria['max_queue_delay_p95_s']} s"
            )
    return broken


def evaluate_rollbacks(*, now: Any = None) -> list[str]:
    """Roll back canaries and newly live versions that break their workflow's
    criteria; return what was rolled back ("slug vN: reason")."""
    now = now or timezone.now()
    done = []
    for workflow in Workflow.objects.exclude(rollback_criteria={}).select_related(
        "live_version"
    ):
        # One workflow's broken criteria or metrics must not stop the others; its
        # savepoint also keeps a failed query from breaking an enclosing transaction.
        try:
            with transaction.atomic():
                rolled_back = _evaluate_rollback(workflow, now)
        except Exception:  # noqa: BLE001
            logger.exception(
                "rollback check of workflow %s (id %s) failed and was skipped",
                workflow.slug,
                workflow.pk,
            )
            continue
        if rolled_back:
            done.append(rolled_back)
    return done


def _evaluate_rollback(workflow: Workflow, now: Any) -> str | None:
    """Roll back one workflow's candidate if it breaks its criteria; say why."""
    from runs import metrics

    criteria = workflow.rollback_criteria
    window_s = criteria.get("window_s", DEFAULT_WINDOW_S)
    if workflow.canary_version_id:
        candidate = WorkflowVersion.objects.get(pk=workflow.canary_version_id)
        since = workflow.canary_started_at
    elif (
        workflow.live_version_id
        and workflow.previous_live_version_id
        and workflow.live_since
        and (now - workflow.live_since).total_seconds() <= window_s
    ):
        candidate = workflow.live_version
        since = workflow.live_since
    else:
        return None
    card = metrics.scorecard(
        window=metrics.Window(since=since, until=now + timedelta(seconds=1)),
        workflow=workflow,
        version=candidate,
    )
    broken = breaches(criteria, card)
    if not broken:
        return None
    reason = "; ".join(broken)
    figures = {
        "finished": card["runs"]["finished"],
        "success_rate": card["success_rate"],
        "retry_burden": card["retry_burden"],
        "queue_delay_p95_s": card["queue_delay"]["p95"],
        "criteria": criteria,
    }
    if workflow.canary_version_id:
        canary_abort(
            workflow=workflow,
            actor="system:rollback",
            reason=f"automatic rollback: {reason}",
            data={**figures, "automatic": True},
        )
    else:
        _rollback_live(workflow, candidate, reason, figures)
    return f"{workflow.slug} v{candidate.number}: {reason}"


def _rollback_live(
    workflow: Workflow, broken: WorkflowVersion, reason: str, figures: dict[str, Any]
) -> None:
    with transaction.atomic():
        locked = _locked(workflow)
        if locked.live_version_id != broken.pk or not locked.previous_live_version_id:
            return  # someone changed it meanwhile
        previous = WorkflowVersion.objects.get(pk=locked.previous_live_version_id)
        if previous.status != VersionStatus.PUBLISHED:
            return
        restore_live(locked, previous)
        _event(
            "auto_rollback",
            locked,
            previous,
            actor="system:rollback",
            reason=f"v{broken.number} rolled back to v{previous.number}: {reason}",
            data={
                "from": broken.number,
                "to": previous.number,
                "automatic": True,
                **figures,
            },
        )
