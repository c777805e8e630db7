"""Wide fan-outs: a branch reaching its join reads O(1) rows, whatever the width."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db.models.signals import post_init

from runs.joins import JoinProgress
from runs.models import (
    Attempt,
    AttemptState,
    Event,
    Run,
    RunState,
    StepRun,
    StepState,
)
from runs.services.attempts import attempt_finish, attempt_start
from runs.services.controls import run_cancel, run_pause, run_resume, run_retry
from runs.services.starting import run_start

pytestmark = pytest.mark.django_db


def _fanout(width: int, *, mode: str = "all", fail: str | None = None) -> dict:
    nodes: list[dict[str, Any]] = [
        {"id": "start", "type": "start"},
        {"id": "fan", "type": "parallel"},
        {"id": "join", "type": "join", "mode": mode},
        {"id": "done", "type": "end"},
    ]
    edges = [
        {"id": "e_fan", "source": "start", "target": "fan"},
        {"id": "e_end", "source": "join", "target": "done"},
    ]
    for i in range(width):
        task: dict[str, Any] = {"id": f"t{i}", "type": "task", "action": "builtin.noop"}
        if f"t{i}" == fail:
            task["action"] = "builtin.fail"
            task["params"] = {"until_attempt": "=input.until"}
        nodes.append(task)
        edges.append({"id": f"out{i}", "source": "fan", "target": f"t{i}"})
        edges.append({"id": f"in{i}", "source": f"t{i}", "target": "join"})
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": nodes,
        "edges": edges,
    }


@contextmanager
def _steps_loaded() -> Iterator[list[int]]:
    """Count StepRun rows turned into objects (read from the database or made)."""
    loaded = [0]

    def count(sender: Any, **kwargs: Any) -> None:
        loaded[0] += 1

    post_init.connect(count, sender=StepRun)
    try:
        yield loaded
    finally:
        post_init.disconnect(count, sender=StepRun)


def _finish_branch(attempt: Attempt) -> None:
    from engine.tasks import execute

    work = attempt_start(attempt_id=attempt.pk, worker="test")
    assert work is not None
    output, error = execute(work)
    attempt_finish(attempt_id=attempt.pk, output=output, error=error)


def _queued(run: Run) -> list[Attempt]:
    return list(
        Attempt.objects.filter(run=run, state=AttemptState.QUEUED).order_by("id")
    )


def test_branch_completion_reads_a_bounded_number_of_steps(
    workflow_factory: Any,
) -> None:
    """Each of 300 branches finishing reads a few step rows, not its 299 siblings."""
    width = 300
    run, _ = run_start(
        workflow=workflow_factory(_fanout(width)), input={}, actor="system"
    )
    per_branch = []
    while attempts := _queued(run):
        with _steps_loaded() as loaded:
            _finish_branch(attempts[0])
        per_branch.append(loaded[0])
    assert len(per_branch) == width
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert run.steps.filter(node_id="join", state=StepState.SUCCEEDED).count() == 1
    # The first arrival counts from the step rows, and the last one finishes the run
    # (its output reads every step); every arrival between reads a handful.
    assert max(per_branch[1:-1]) <= 5, per_branch[:10]
    progress = JoinProgress.objects.get(run=run, node_id="join")
    assert (progress.arrived, progress.taken) == (width, width)


def test_join_any_fires_once_and_cancels_the_rest(workflow_factory: Any) -> None:
    run, _ = run_start(
        workflow=workflow_factory(_fanout(50, mode="any")), input={}, actor="system"
    )
    first, *rest = _queued(run)
    _finish_branch(first)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert run.steps.filter(node_id="join").count() == 1
    assert Attempt.objects.filter(
        pk__in=[a.pk for a in rest], state=AttemptState.CANCELLED
    ).count() == len(rest)


def test_branches_finished_while_paused_are_counted_once_on_resume(
    workflow_factory: Any,
) -> None:
    """Resume follows every finished step again; the join must not count twice."""
    run, _ = run_start(workflow=workflow_factory(_fanout(10)), input={}, actor="system")
    attempts = _queued(run)
    for attempt in attempts[:3]:
        _finish_branch(attempt)
    # Started before the pause, finished while paused: not followed until resume.
    for attempt in attempts[3:6]:
        work = attempt_start(attempt_id=attempt.pk, worker="test")
        assert work is not None
    run_pause(run=Run.objects.get(pk=run.pk), actor="test")
    for attempt in attempts[3:6]:
        attempt_finish(attempt_id=attempt.pk, output={}, error=None)
    run_resume(run=Run.objects.get(pk=run.pk), actor="test")
    progress = JoinProgress.objects.get(run=run, node_id="join")
    assert progress.arrived == 6
    for attempt in _queued(run):
        _finish_branch(attempt)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert run.steps.filter(node_id="join").count() == 1


def test_retry_from_failed_branch_joins_from_the_step_rows(
    workflow_factory: Any,
) -> None:
    run, _ = run_start(
        workflow=workflow_factory(_fanout(5, fail="t2")),
        input={"until": 2},
        actor="system",
    )
    from tests.support import drive

    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.FAILED
    run_retry(run=run, actor="test", input={"until": 1})
    drive(run)
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED, run.error
    assert run.steps.filter(node_id="join", state=StepState.SUCCEEDED).count() == 1


def test_a_fan_out_queues_at_most_its_task_slots(
    workflow_factory: Any, settings: Any
) -> None:
    """Past SWITCHYARD_RUN_MAX_ACTIVE_TASKS, branches wait as held steps and are
    queued one per finished task, so a wide run never floods the queue."""
    settings.SWITCHYARD_RUN_MAX_ACTIVE_TASKS = 8
    run, _ = run_start(workflow=workflow_factory(_fanout(30)), input={}, actor="system")
    held = run.steps.filter(state=StepState.PENDING, node_type="task")
    assert len(_queued(run)) == 8
    assert held.count() == 22
    assert Event.objects.filter(run=run, kind="step_held").count() == 22
    most_queued = 0
    while attempts := _queued(run):
        most_queued = max(most_queued, len(attempts))
        _finish_branch(attempts[0])
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert most_queued == 8
    assert not held.exists()


def test_held_branches_are_cancelled_with_their_run(
    workflow_factory: Any, settings: Any
) -> None:
    settings.SWITCHYARD_RUN_MAX_ACTIVE_TASKS = 4
    run, _ = run_start(workflow=workflow_factory(_fanout(10)), input={}, actor="system")
    run_cancel(run=Run.objects.get(pk=run.pk), actor="test")
    assert not run.steps.filter(state=StepState.PENDING).exists()
    assert run.steps.filter(state=StepState.CANCELLED).count() == 10


def test_held_branches_start_when_a_paused_run_resumes(
    workflow_factory: Any, settings: Any
) -> None:
    """Tasks that finish while the run is paused free slots that resume fills."""
    settings.SWITCHYARD_RUN_MAX_ACTIVE_TASKS = 2
    run, _ = run_start(workflow=workflow_factory(_fanout(5)), input={}, actor="system")
    started = [attempt_start(attempt_id=a.pk, worker="test") for a in _queued(run)]
    run_pause(run=Run.objects.get(pk=run.pk), actor="test")
    for work in started:
        assert work is not None
        attempt_finish(attempt_id=work.attempt_id, output={}, error=None)
    assert not _queued(run)
    run_resume(run=Run.objects.get(pk=run.pk), actor="test")
    assert len(_queued(run)) == 2
    while attempts := _queued(run):
        _finish_branch(attempts[0])
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
