"""Queue routing: a worker started with `-Q` runs only the steps of its queues."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runs.models import Attempt, AttemptState, LedgerEntry, Run, RunState
from runs.services.starting import run_start
from tests.integration.test_durable_workers import Workers
from tests.support import wait_for

pytestmark = pytest.mark.integration

RUNS = 12
# {node id: queue}; the session worker consumes "default" and "payments" only.
QUEUES = {
    "a1": "alpha",
    "b1": "beta",
    "a2": "alpha",
    "a3": "alpha",
    "b2": "beta",
    "b3": "beta",
}


def _graph() -> dict[str, Any]:
    """Return start → a1 → b1 → a2 → (a3 ∥ b2) → b3 → end, hopping between queues."""
    tasks = [
        {"id": node, "type": "task", "action": "builtin.ledger", "queue": queue}
        for node, queue in QUEUES.items()
    ]
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [
            {"id": "start", "type": "start"},
            *tasks,
            {"id": "fork", "type": "parallel"},
            {"id": "join", "type": "join", "mode": "all"},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "a1"},
            {"id": "e2", "source": "a1", "target": "b1"},
            {"id": "e3", "source": "b1", "target": "a2"},
            {"id": "e4", "source": "a2", "target": "fork"},
            {"id": "e5", "source": "fork", "target": "a3"},
            {"id": "e6", "source": "fork", "target": "b2"},
            {"id": "e7", "source": "a3", "target": "join"},
            {"id": "e8", "source": "b2", "target": "join"},
            {"id": "e9", "source": "join", "target": "b3"},
            {"id": "e10", "source": "b3", "target": "done"},
        ],
    }


@pytest.fixture
def worker_groups(live_db: Any, tmp_path: Path) -> Iterator[dict[str, Workers]]:
    """One group of extra workers per queue (`-Q alpha`, `-Q beta`), stopped after."""
    groups = {queue: Workers(tmp_path, [queue]) for queue in ("alpha", "beta")}
    yield groups
    for group in groups.values():
        group.stop_all()


def test_workers_with_different_queue_sets_run_only_their_queues_steps(
    worker_groups: dict[str, Workers], workflow_factory: Any
) -> None:
    workflow = workflow_factory(_graph(), slug="routing")
    alpha = worker_groups["alpha"].start("alpha")
    runs = [
        run_start(workflow=workflow, input={"i": i}, actor="test")[0]
        for i in range(RUNS)
    ]

    # With only the alpha worker up, every run stops at its first beta step: the
    # idle alpha worker does not take it.
    wait_for(
        lambda: (
            Attempt.objects.filter(
                run__in=runs, step__node_id="b1", state=AttemptState.QUEUED
            ).count()
            == RUNS
        ),
        timeout=60,
        what="every run to reach its first beta step",
    )
    assert (
        not Attempt.objects.filter(run__in=runs, queue="beta")
        .exclude(started_at=None)
        .exists()
    )

    beta = worker_groups["beta"].start("beta")
    wait_for(
        lambda: (
            Run.objects.filter(
                pk__in=[r.pk for r in runs], finished_at__isnull=False
            ).count()
            == RUNS
        ),
        timeout=120,
        what="every run to finish on the two workers",
    )

    states = set(
        Run.objects.filter(pk__in=[r.pk for r in runs]).values_list("state", flat=True)
    )
    assert states == {RunState.SUCCEEDED}
    attempts = list(
        Attempt.objects.filter(run__in=runs).values_list(
            "step__node_id", "queue", "worker", "state", "number"
        )
    )
    assert len(attempts) == RUNS * len(QUEUES)
    # Workers.start names a worker `<name>-<test pid>@<host>`
    # (config.processes.worker_command); the session worker is `test-<pid>@<host>`.
    # {queue: {worker hostname, ...}}
    ran_on: dict[str, set[str]] = {}
    for node_id, queue, worker, state, number in attempts:
        assert queue == QUEUES[node_id]
        assert (state, number) == (AttemptState.SUCCEEDED, 1)
        assert worker.startswith(f"{queue}-{os.getpid()}@"), (node_id, worker)
        ran_on.setdefault(queue, set()).add(worker)
    assert {queue: len(names) for queue, names in ran_on.items()} == {
        "alpha": 1,
        "beta": 1,
    }
    assert alpha.poll() is None and beta.poll() is None
    # Each step's effect happened once.
    assert LedgerEntry.objects.filter(run__in=runs).count() == RUNS * len(QUEUES)
