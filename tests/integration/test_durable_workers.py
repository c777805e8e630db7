"""The durable engine on real Celery worker processes, Redis and PostgreSQL."""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count

from config.processes import worker_command
from designer.models import Workflow
from runs.models import (
    Attempt,
    Event,
    LedgerEntry,
    Run,
    RunState,
    StepRun,
)
from runs.services.controls import run_cancel
from runs.services.starting import run_start
from tests.conftest import ROOT, _test_db_env
from tests.support import linear_graph, wait_for

pytestmark = pytest.mark.integration


class Workers:
    """Extra worker processes a test starts, kills and replaces on its own queues."""

    def __init__(self, tmp: Path, queues: list[str]) -> None:
        self.tmp = tmp
        self.queues = queues
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{name}.log"
        process = subprocess.Popen(
            worker_command(
                queues=self.queues,
                concurrency=1,
                name=f"{name}-{os.getpid()}",
                loglevel="INFO",
            ),
            cwd=ROOT,
            env=_test_db_env(),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            # Its own process group, so a kill takes the pool children with it, as
            # when the machine under a worker dies.
            start_new_session=True,
        )
        process.log_path = log  # type: ignore[attr-defined]

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"worker exited:\n{log.read_text()[-3000:]}")
            return "ready." in log.read_text()

        wait_for(ready, timeout=60, what=f"worker {name} ready")
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


@pytest.fixture
def workers(live_db: Any, tmp_path: Path) -> Iterator[Any]:
    made: list[Workers] = []

    def make(queues: list[str]) -> Workers:
        group = Workers(tmp_path, queues)
        made.append(group)
        return group

    yield make
    for group in made:
        group.stop_all()


def _finished_count(workflow: Workflow) -> int:
    return Run.objects.filter(workflow=workflow, finished_at__isnull=False).count()


def test_runs_survive_a_worker_killed_twice_with_exactly_once_effects(
    workers: Any, workflow_factory: Any
) -> None:
    """200 runs of five ledger steps on two workers; one is SIGKILLed twice."""
    graph = linear_graph(5, action="builtin.ledger", queue="faults")
    graph["defaults"]["retry"] = {
        "max_attempts": 5,
        "initial_interval_s": 0.1,
        "jitter": "none",
    }
    workflow = workflow_factory(graph, slug="faults")
    group = workers(["faults"])
    victim = group.start("victim")
    group.start("survivor")
    runs = [
        run_start(workflow=workflow, input={"i": i}, actor="test")[0]
        for i in range(200)
    ]
    total = 200 * 5
    for round_ in (1, 2):
        # Kill mid-run: once some effects are recorded and most are still to come.
        wait_for(
            lambda r=round_: LedgerEntry.objects.count() >= total * r // 5,
            timeout=120,
            what="progress before the kill",
        )
        group.kill(victim)
        killed_at = time.monotonic()
        victim = group.start(f"victim-{round_}")
    wait_for(
        lambda: _finished_count(workflow) == 200,
        timeout=240,
        interval=0.5,
        what="every run to finish after the kills",
    )
    recovered_after = time.monotonic() - killed_at
    states = set(Run.objects.filter(workflow=workflow).values_list("state", flat=True))
    assert states == {RunState.SUCCEEDED}
    per_run = (
        LedgerEntry.objects.filter(run__in=runs)
        .values("run")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    assert sorted(set(per_run)) == [5], "one effect per (run, node), none lost"
    assert LedgerEntry.objects.filter(run__in=runs).count() == total
    keys = set(LedgerEntry.objects.values_list("key", flat=True))
    assert keys == {f"{r.pk}:s{i}:1" for r in runs for i in range(1, 6)}
    print(f"recovered {recovered_after:.1f}s after the second kill")  # noqa: T201


def _storm_workflow(factory: Any, slug: str, queue: str) -> Workflow:
    graph = linear_graph(
        1,
        action="builtin.fail",
        params={"error": "Unavailable"},
        queue=queue,
    )
    graph["max_concurrent_runs"] = 100
    graph["defaults"]["retry"] = {
        "max_attempts": 10,
        "initial_interval_s": 0.05,
        "backoff": 1.0,
        "max_interval_s": 0.05,
        "jitter": "none",
    }
    return factory(graph, slug=slug)


def test_retry_budget_stops_a_retry_storm(workers: Any, workflow_factory: Any) -> None:
    """100 runs against a dependency that always fails, max_attempts 10."""
    unbounded = _storm_workflow(workflow_factory, "storm-off", "storm-unbounded")
    budgeted = _storm_workflow(workflow_factory, "storm-on", "storm-budget")
    workers(["storm-unbounded", "storm-budget"]).start("storm")

    for _ in range(100):
        run_start(workflow=unbounded, input={}, actor="test")
    wait_for(
        lambda: _finished_count(unbounded) == 100,
        timeout=180,
        interval=0.25,
        what="unbounded storm to exhaust its retries",
    )
    off = Attempt.objects.filter(run__workflow=unbounded).count()
    assert off == 100 * 10

    began = time.monotonic()
    runs = [run_start(workflow=budgeted, input={}, actor="test")[0] for _ in range(100)]
    wait_for(
        lambda: (
            Attempt.objects.filter(run__workflow=budgeted, number=1)
            .exclude(finished_at=None)
            .count()
            == 100
        ),
        timeout=120,
        what="every first attempt to fail",
    )
    # Let the storm blow for a few more seconds of retries.
    wait_for(
        lambda: (
            Event.objects.filter(run__workflow=budgeted, kind="retry_deferred").count()
            >= 100
        ),
        timeout=60,
        what="retries to be deferred",
    )
    elapsed = time.monotonic() - began
    first = Attempt.objects.filter(run__workflow=budgeted, number=1).count()
    attempts = Attempt.objects.filter(run__workflow=budgeted).exclude(state="scheduled")
    on = attempts.count()
    floor_allowance = 2 * (int(elapsed) + 2 + 10)
    print(  # noqa: T201
        f"storm: budget off {off} attempts; budget on {on} attempts "
        f"for {first} first attempts in {elapsed:.1f}s (allowance {floor_allowance})"
    )
    assert on <= 1.2 * first + floor_allowance
    assert off > 1.2 * 100 + floor_allowance
    for run in runs:
        run.refresh_from_db()
        if not run.is_finished:
            run_cancel(run=run, actor="test")


def test_flaky_step_succeeds_on_its_third_attempt_with_backoff(
    live_db: Any, workflow_factory: Any
) -> None:
    graph = linear_graph(1, action="builtin.fail", params={"until_attempt": 3})
    graph["defaults"]["retry"] = {
        "max_attempts": 5,
        "initial_interval_s": 0.2,
        "backoff": 2.0,
        "jitter": "none",
    }
    workflow = workflow_factory(graph, slug="flaky")
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    wait_for(
        lambda: Run.objects.get(pk=run.pk).is_finished, timeout=60, what="flaky run"
    )
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    attempts = list(run.attempts.order_by("number"))
    assert [a.state for a in attempts] == ["failed", "failed", "succeeded"]
    retries = Event.objects.filter(run=run, kind="step_retry_wait").order_by("id")
    assert [e.data["delay_s"] for e in retries] == [0.2, 0.4]
    for previous, attempt in zip(attempts, attempts[1:], strict=False):
        waited = (attempt.due_at - previous.finished_at).total_seconds()
        assert waited == pytest.approx(0.2 * 2 ** (previous.number - 1), abs=0.01)
        assert attempt.started_at >= attempt.due_at


def test_parallel_twenty_and_join_any_on_a_worker(
    live_db: Any, workflow_factory: Any
) -> None:
    branches = [f"b{i}" for i in range(20)]
    graph = {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "fan", "type": "parallel"},
            *[{"id": b, "type": "task", "action": "builtin.ledger"} for b in branches],
            {"id": "all", "type": "join", "mode": "all"},
            {"id": "race", "type": "parallel"},
            {"id": "fast", "type": "task", "action": "builtin.noop"},
            {"id": "slow", "type": "wait", "seconds": 600},
            {"id": "any", "type": "join", "mode": "any"},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e0", "source": "start", "target": "fan"},
            *[{"id": f"f{b}", "source": "fan", "target": b} for b in branches],
            *[{"id": f"j{b}", "source": b, "target": "all"} for b in branches],
            {"id": "r0", "source": "all", "target": "race"},
            {"id": "r1", "source": "race", "target": "fast"},
            {"id": "r2", "source": "race", "target": "slow"},
            {"id": "a1", "source": "fast", "target": "any"},
            {"id": "a2", "source": "slow", "target": "any"},
            {"id": "end", "source": "any", "target": "done"},
        ],
    }
    workflow = workflow_factory(graph, slug="fan")
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    wait_for(lambda: Run.objects.get(pk=run.pk).is_finished, timeout=60, what="fan-out")
    run.refresh_from_db()
    assert run.state == RunState.SUCCEEDED
    assert LedgerEntry.objects.filter(run=run).count() == 20
    assert run.attempts.filter(step__node_id__in=branches).count() == 20
    assert StepRun.objects.get(run=run, node_id="slow").state == "cancelled"
    assert StepRun.objects.filter(run=run, node_id="all").count() == 1


def test_max_concurrent_runs_admits_two_at_a_time(
    live_db: Any, workflow_factory: Any
) -> None:
    graph = linear_graph(2, action="builtin.sleep", params={"seconds": 0.05})
    graph["max_concurrent_runs"] = 2
    workflow = workflow_factory(graph, slug="narrow")
    for _ in range(10):
        run_start(workflow=workflow, input={}, actor="test")
    wait_for(lambda: _finished_count(workflow) == 10, timeout=120, what="ten runs")
    # Replay the run events in commit order and track how many were running.
    running = peak = 0
    for kind in Event.objects.filter(
        workflow=workflow, kind__in=["run_running", "run_succeeded", "run_failed"]
    ).values_list("kind", flat=True):
        running += 1 if kind == "run_running" else -1
        peak = max(peak, running)
    assert peak == 2
    assert set(
        Run.objects.filter(workflow=workflow).values_list("state", flat=True)
    ) == {RunState.SUCCEEDED}


def test_saga_compensates_in_reverse_order_on_a_worker(
    live_db: Any, workflow_factory: Any
) -> None:
    graph = linear_graph(4, action="builtin.ledger")
    for node in graph["nodes"]:
        if node["id"] in ("s1", "s2", "s3"):
            node["compensate_with"] = f"undo_{node['id']}"
        if node["id"] == "s4":
            node["action"] = "builtin.fail"
    graph["nodes"] += [
        {"id": f"undo_s{i}", "type": "task", "action": "builtin.ledger"}
        for i in (1, 2, 3)
    ]
    workflow = workflow_factory(graph, slug="saga")
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    wait_for(lambda: Run.objects.get(pk=run.pk).is_finished, timeout=60, what="saga")
    run.refresh_from_db()
    assert run.state == RunState.COMPENSATED
    undone = list(
        Event.objects.filter(run=run, kind="step_succeeded", node_id__startswith="undo")
        .order_by("id")
        .values_list("node_id", flat=True)
    )
    assert undone == ["undo_s3", "undo_s2", "undo_s1"]


def test_rerun_through_the_api_on_original_and_live_versions(
    live_db: Any, api: Any, workflow_factory: Any
) -> None:
    from designer import services as designer
    from runs import releases

    def graph(s2_action: str) -> dict[str, Any]:
        built = linear_graph(3, action="builtin.echo")
        built["nodes"][2]["action"] = s2_action
        if s2_action == "builtin.fail":
            built["nodes"][2]["params"] = {"until_attempt": "=input.until"}
        return built

    workflow = workflow_factory(graph("builtin.fail"), slug="rerun")
    first, _ = run_start(workflow=workflow, input={"until": 9}, actor="t")
    second, _ = run_start(workflow=workflow, input={"until": 9}, actor="t")
    for run in (first, second):
        wait_for(lambda r=run: Run.objects.get(pk=r.pk).is_finished, timeout=60)
        assert Run.objects.get(pk=run.pk).state == RunState.FAILED
    v2, _ = designer.version_create(workflow=workflow, graph=graph("builtin.echo"))
    releases.version_publish(version=v2)

    on_original = api.post(
        f"/api/v1/runs/{first.pk}/retry/",
        {"version": "original", "input": {"until": 1}},
        format="json",
    )
    assert on_original.status_code == 200, on_original.json()
    on_live = api.post(
        f"/api/v1/runs/{second.pk}/retry/",
        {"version": "live", "from_node": "s2", "input": {"note": "v2"}},
        format="json",
    )
    assert on_live.status_code == 200, on_live.json()
    for run, number in ((first, 1), (second, 2)):
        wait_for(lambda r=run: Run.objects.get(pk=r.pk).is_finished, timeout=60)
        run.refresh_from_db()
        assert run.state == RunState.SUCCEEDED
        assert run.version.number == number
        assert run.steps.filter(node_id="s1").count() == 1, "s1 kept, not re-run"
        event = Event.objects.get(run=run, kind="run_running", from_state="failed")
        assert event.data["version"] == number
        assert event.data["from_node"] == "s2"
        events = api.get(f"/api/v1/runs/{run.pk}/events/").json()["results"]
        assert any(
            e["kind"] == "run_running" and e["data"].get("from_node") for e in events
        )


def test_non_retryable_error_takes_the_failure_route_at_once_on_a_worker(
    live_db: Any, workflow_factory: Any
) -> None:
    graph = linear_graph(
        1,
        action="builtin.fail",
        params={"error": "CardDeclined"},
        retry={"max_attempts": 5, "non_retryable": ["CardDeclined"]},
    )
    graph["nodes"] += [
        {"id": "refund_note", "type": "task", "action": "builtin.noop"},
        {"id": "stop", "type": "end", "status": "failed"},
    ]
    graph["edges"] += [
        {"id": "declined", "source": "s1", "target": "refund_note", "on": "failure"},
        {"id": "to_stop", "source": "refund_note", "target": "stop"},
    ]
    workflow = workflow_factory(graph, slug="declined")
    run, _ = run_start(workflow=workflow, input={}, actor="test")
    wait_for(
        lambda: Run.objects.get(pk=run.pk).is_finished, timeout=60, what="declined"
    )
    run.refresh_from_db()
    assert run.attempts.filter(step__node_id="s1").count() == 1
    states = {s.node_id: s.state for s in run.steps.all()}
    assert states["refund_note"] == "succeeded"
    assert states["done"] == "skipped"
    assert (run.state, run.error["type"]) == (RunState.FAILED, "EndFailed")
