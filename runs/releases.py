"""Releases: publishing a version (behind the publish gate), canary rollout, and
rollback, by hand or automatic.

A workflow's release is explicit: `Workflow.release_state` (unreleased, live,
canary) changes only through its FSM transitions (`go_live`, `start_canary`,
`abort_canary`, `restore_live`), each called here with its Event.

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
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from designer import criteria as criteria_rules
from designer import testing
from designer.models import (
    PublishGate,
    ReleaseState,
    VersionStatus,
    Workflow,
    WorkflowVersion,
)
from designer.services import VersionConflict, validated
from engine.errors import DomainError
from runs import metrics
from runs.events import EventLog, actor_of
from runs.models import Run

logger = logging.getLogger("switchyard.rollout")


class ReleaseError(DomainError):
    """A release request the workflow's release state does not allow now (409)."""


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
    if workflow.release_state != ReleaseState.CANARY or not percent:
        return live
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
        raise ReleaseError("bad_percent", "canary_percent must be from 1 to 99")
    if workflow.release_state == ReleaseState.UNRELEASED:
        raise ReleaseError(
            "no_live_version", "a first version goes live directly, not as a canary"
        )
    workflow.start_canary(version, percent=percent, at=timezone.now())
    workflow.save(
        update_fields=[
            "release_state",
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
        if locked.release_state != ReleaseState.CANARY:
            raise ReleaseError("no_canary", f"{locked.slug} has no canary")
        canary = WorkflowVersion.objects.get(pk=locked.canary_version_id)
        previous = locked.live_version
        make_live(locked, canary)
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
        if locked.release_state != ReleaseState.CANARY:
            raise ReleaseError("no_canary", f"{locked.slug} has no canary")
        canary = WorkflowVersion.objects.get(pk=locked.canary_version_id)
        locked.abort_canary()
        locked.save(
            update_fields=[
                "release_state",
                "canary_version",
                "canary_percent",
                "canary_started_at",
                "updated_at",
            ]
        )
        _event(
            "canary_aborted",
            locked,
            canary,
            actor=actor if isinstance(actor, str) else actor_of(actor),
            reason=reason or "aborted",
            data={"version": canary.number, **(data or {})},
        )
    return locked


_RELEASE_FIELDS = [
    "release_state",
    "live_version",
    "previous_live_version",
    "live_since",
    "canary_version",
    "canary_percent",
    "canary_started_at",
    "updated_at",
]


def make_live(workflow: Workflow, version: WorkflowVersion) -> None:
    """Make a published version live, remembering the one it replaces."""
    workflow.go_live(version, at=timezone.now())
    workflow.save(update_fields=_RELEASE_FIELDS)


def restore_live(workflow: Workflow, version: WorkflowVersion) -> None:
    """Make an earlier version live again (nothing remembered to roll back to)."""
    workflow.restore_live(version, at=timezone.now())
    workflow.save(update_fields=_RELEASE_FIELDS)


# ------------------------------------------------------------------ criteria


def breaches(criteria: dict[str, Any], card: dict[str, Any]) -> list[str]:
    """Return the criteria a scorecard breaks (empty with too few runs)."""
    finished = card["runs"]["finished"]
    if finished < criteria.get("min_runs", criteria_rules.DEFAULT_MIN_RUNS):
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
    criteria = workflow.rollback_criteria
    window_s = criteria.get("window_s", criteria_rules.DEFAULT_WINDOW_S)
    since: datetime | None
    if workflow.release_state == ReleaseState.CANARY:
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
    if since is None or candidate is None:
        return None  # a release without its start time: nothing to measure
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
    if workflow.release_state == ReleaseState.CANARY:
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


# ------------------------------------------------------------------ publishing


def publish_gate_check(*, version: WorkflowVersion) -> dict[str, Any] | None:
    """Run the workflow's publish gate on a draft: its test cases must pass and reach
    the coverage threshold. Return None when the gate is off, else {mode, ok,
    problems, passed, failed, coverage}."""
    workflow = version.workflow
    if workflow.publish_gate == PublishGate.OFF:
        return None
    cases = list(workflow.test_cases.order_by("name"))
    report = testing.run_cases(version, cases)
    problems = []
    if not cases:
        problems.append("the workflow has no test cases")
    failing = [r["name"] for r in report["results"] if not r["passed"]]
    if failing:
        problems.append(
            f"{len(failing)} of {len(cases)} test cases fail: {', '.join(failing)}"
        )
    percent = report["coverage"]["percent"] or 0.0
    if percent < workflow.coverage_threshold:
        problems.append(
            f"test coverage {percent:g} % is below the threshold "
            f"{workflow.coverage_threshold} %"
        )
    return {
        "mode": workflow.publish_gate,
        "ok": not problems,
        "problems": problems,
        "passed": report["passed"],
        "failed": report["failed"],
        "coverage": report["coverage"],
    }


def check_calls(version: WorkflowVersion) -> None:
    """Refuse to publish a version calling a workflow it may not run: one that does not
    exist, a pinned version that is not published, or another team's workflow (a
    workflow of no team may call only workflows of no team)."""
    caller = version.workflow
    for node in version.graph.get("nodes", []):
        if node.get("type") != "call":
            continue
        callee = Workflow.objects.filter(slug=node.get("workflow")).first()
        where = f"call {node['id']!r}"
        if callee is None:
            raise VersionConflict(
                "bad_call", f"{where}: there is no workflow {node.get('workflow')!r}"
            )
        if callee.owner_group_id not in (None, caller.owner_group_id):
            raise VersionConflict(
                "call_not_allowed",
                f"{where}: {callee.slug} belongs to another team; a workflow may call "
                "only its own team's workflows and those of no team",
            )
        number = node.get("version")
        if (
            number is not None
            and not callee.versions.filter(
                number=number, status=VersionStatus.PUBLISHED
            ).exists()
        ):
            raise VersionConflict(
                "bad_call", f"{where}: {callee.slug} v{number} is not published"
            )


def version_publish(
    *, version: WorkflowVersion, actor: Any = None, canary_percent: int = 0
) -> WorkflowVersion:
    """Publish a draft with the next number and make it the live version, or route
    `canary_percent` of new runs to it while the live version keeps the rest.

    Under a `block` publish gate a draft whose test cases fail (or fall short of the
    coverage threshold) is refused with VersionConflict("publish_gate_failed").
    """
    validated(version.graph)
    check_calls(version)
    gate = publish_gate_check(version=version)
    if gate is not None and not gate["ok"] and gate["mode"] == PublishGate.BLOCK:
        raise VersionConflict(
            "publish_gate_failed",
            "publishing is blocked: " + "; ".join(gate["problems"]),
        )
    with transaction.atomic():
        workflow = Workflow.objects.select_for_update(no_key=True).get(
            pk=version.workflow_id
        )
        locked = WorkflowVersion.objects.select_for_update(no_key=True).get(
            pk=version.pk
        )
        if locked.status != VersionStatus.DRAFT:
            raise VersionConflict(
                "not_draft", f"version {locked.number} is already {locked.status}"
            )
        previous_live = workflow.live_version_id
        locked.publish(at=timezone.now())
        locked.save()
        if canary_percent:
            canary_start(
                workflow=workflow, version=locked, percent=canary_percent, actor=actor
            )
        else:
            make_live(workflow, locked)
        log = EventLog()
        log.add(
            "version_published",
            from_state=VersionStatus.DRAFT,
            to_state=VersionStatus.PUBLISHED,
            actor=actor_of(actor),
            workflow_id=workflow.pk,
            version_id=locked.pk,
            data={
                "number": locked.number,
                "previous_live_version_id": previous_live,
                "canary_percent": canary_percent,
                "gate": gate,
            },
        )
        log.flush()
    return locked


def workflow_rollback(
    *, workflow: Workflow, number: int, actor: Any = None, reason: str = ""
) -> Workflow:
    """Point the live version at an earlier published version in one step."""
    with transaction.atomic():
        locked = Workflow.objects.select_for_update(no_key=True).get(pk=workflow.pk)
        target = locked.versions.filter(number=number).first()
        if target is None:
            raise VersionConflict("unknown_version", f"version {number} does not exist")
        if target.status != VersionStatus.PUBLISHED:
            raise VersionConflict(
                "version_not_published", f"version {number} is {target.status}"
            )
        previous = locked.live_version
        restore_live(locked, target)
        log = EventLog()
        log.add(
            "live_version_changed",
            actor=actor_of(actor),
            reason=reason or "rollback",
            workflow_id=locked.pk,
            version_id=target.pk,
            data={
                "from": previous.number if previous else None,
                "to": target.number,
            },
        )
        log.flush()
    return locked
