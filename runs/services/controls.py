"""Operators' controls on a run: cancel, pause, resume and retry."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from designer.models import VersionStatus, WorkflowVersion
from runs.errors import RunError
from runs.events import EventLog, transition
from runs.input_check import check_run_input
from runs.models import (
    Attempt,
    AttemptState,
    Run,
    RunState,
    StepState,
)
from runs.services.advancing import Advance, admit_next
from runs.services.dispatching import publish_on_commit
from runs.services.graphs import compiled_graph, compiled_graph_for


def _locked(run: Run) -> Run:
    return Run.objects.select_for_update(no_key=True).get(pk=run.pk)


def run_cancel(*, run: Run, actor: str, reason: str = "") -> Run:
    """Cancel a run and whatever it has in flight (TransitionNotAllowed if done)."""
    now = timezone.now()
    with transaction.atomic():
        run = _locked(run)
        log = EventLog()
        advance = Advance(
            run, compiled_graph_for(run.version_id), log, now=now, actor=actor
        )
        if not run.is_finished:
            advance.cancel_active(reason=reason or "run cancelled")
        transition(
            log, run, "cancel", actor=actor, reason=reason or "cancelled", at=now
        )
        admit_next(run.workflow_id, log)
        log.flush()
    return run


def run_pause(*, run: Run, actor: str, reason: str = "") -> Run:
    """Pause a running run: attempts in flight finish, nothing new starts."""
    with transaction.atomic():
        run = _locked(run)
        log = EventLog()
        transition(log, run, "pause", actor=actor, reason=reason or "paused")
        log.flush()
    return run


def run_resume(*, run: Run, actor: str) -> Run:
    """Resume a paused run: advance what finished meanwhile, restart what waited."""
    now = timezone.now()
    with transaction.atomic():
        run = _locked(run)
        log = EventLog()
        transition(log, run, "resume", actor=actor, reason="resumed")
        graph = compiled_graph_for(run.version_id)
        # Attempts left queued while paused had their message consumed: publish them
        # again (new ones created below publish themselves).
        waiting = list(
            Attempt.objects.filter(run=run, state=AttemptState.QUEUED).select_related(
                "step"
            )
        )
        advance = Advance(run, graph, log, now=now, actor=actor, steps=None)
        advance.count_arrivals = False
        for visits in list(advance.steps.values()):
            step = visits[-1]
            if run.state != RunState.RUNNING:
                break
            if step.is_finished and step.compensates_id is None:
                advance.follow(step)
            elif (
                step.state == StepState.WAITING
                and step.wake_at is not None
                and step.wake_at <= now
            ):
                advance.wake(step.pk)
        # Tasks that finished while paused freed their slots.
        advance.release_held()
        for attempt in waiting:
            publish_on_commit(
                attempt,
                graph.retry_policy(attempt.step.node_id).timeout_s,
                countdown=None,
            )
        log.flush()
    return run


RERUN_FROM_STATES = (
    RunState.FAILED,
    RunState.CANCELLED,
    RunState.COMPENSATED,
    RunState.COMPENSATION_FAILED,
)


def run_retry(
    *,
    run: Run,
    actor: str,
    version: str | int = "original",
    from_node: str | None = None,
    input: Any = None,
) -> Run:
    """Retry a finished, unsuccessful run from a node, on the version asked.

    `version` is "original" (the version the run last ran on), "live" (the workflow's
    live version) or a published version number. `from_node` defaults to the step that
    failed; steps completed before it are kept, and it and everything after it run
    again. `input` (a JSON object) is merged over the run's input. The choice is
    recorded on the run (`reruns`) and on its `run_running` event.
    """
    now = timezone.now()
    with transaction.atomic():
        run = _locked(run)
        if run.state not in RERUN_FROM_STATES:
            raise RunError(
                "not_retryable",
                f"run {run.pk} is {run.state}; only failed, cancelled or compensated "
                "runs can be retried",
            )
        target = _rerun_version(run, version)
        graph = compiled_graph(target)
        log = EventLog()
        history = Advance(
            run, compiled_graph_for(run.version_id), log, now=now, actor=actor
        )
        node_id = from_node or _failed_node(history)
        if node_id not in graph.nodes:
            raise RunError(
                "unknown_node",
                f"version {target.number} has no node {node_id!r} to retry from",
            )
        if input is not None and not isinstance(input, dict):
            raise RunError("bad_input", "input overrides must be a JSON object")
        merged = run.input
        if input:
            merged = {**(run.input if isinstance(run.input, dict) else {}), **input}
            # Overridden input is checked as at a start; the run's own is not again
            # (the schema may have changed since it started).
            check_run_input(run.workflow.input_schema, merged)
        last_step = run.steps.order_by("-id").values_list("pk", flat=True).first()
        rerun = {
            "version": target.number,
            "version_choice": str(version),
            "from_node": node_id,
            "input": input or {},
            "after_step": last_step or 0,
            "nodes": sorted(graph.descendants(node_id)),
            "actor": actor,
            "at": now.isoformat(),
        }
        transition(
            log,
            run,
            "retry",
            actor=actor,
            reason=f"retry from {node_id} on version {target.number}",
            data={k: v for k, v in rerun.items() if k != "nodes"},
            version=target,
            input=merged,
            rerun=rerun,
        )
        advance = Advance(run, graph, log, now=now, actor=actor, steps=None)
        advance.activate(node_id)
        log.flush()
    return run


def _rerun_version(run: Run, choice: str | int) -> WorkflowVersion:
    if choice in (None, "", "original"):
        return run.version
    if choice == "live":
        version = run.workflow.live_version
        if version is None:
            raise RunError(
                "no_live_version", f"{run.workflow.slug} has no live version"
            )
        return version
    try:
        number = int(choice)
    except (TypeError, ValueError):
        raise RunError(
            "bad_version", "version must be 'original', 'live' or a number"
        ) from None
    version = WorkflowVersion.objects.filter(
        workflow_id=run.workflow_id, number=number
    ).first()
    if version is None or version.status == VersionStatus.DRAFT:
        raise RunError("bad_version", f"version {number} is not a published version")
    return version


def _failed_node(advance: Advance) -> str:
    """Return the node of the run's last failed (or cancelled) task step."""
    steps = [
        s
        for visits in advance.steps.values()
        for s in visits
        if s.compensates_id is None and s.node_type == "task"
    ]
    for states in ((StepState.FAILED,), (StepState.CANCELLED,)):
        found = [s for s in steps if s.state in states]
        if found:
            return max(found, key=lambda s: s.pk).node_id
    raise RunError(
        "no_failed_step", "the run has no failed step; say which node to retry from"
    )
