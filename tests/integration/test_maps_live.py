"""A map over many items on real workers: never more than 50 in flight, outputs in
item order (bench/map.py runs the acceptance's 10,000 and checks the same)."""

from typing import Any

import pytest

from runs.models import ItemState, MapItem, MapProgress, Run, RunState
from tests.support import wait_for

pytestmark = pytest.mark.integration

ITEMS = 2000
CONCURRENCY = 50


def test_a_map_keeps_its_concurrency_and_item_order(
    live_db: Any, api: Any, workflow_factory: Any
) -> None:
    graph = {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "each",
                "type": "map",
                "items": "input.items",
                "action": "builtin.noop",
                "max_concurrency": CONCURRENCY,
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "each"},
            {"id": "e2", "source": "each", "target": "done"},
        ],
    }
    workflow_factory(graph, slug="fan")
    response = api.post(
        "/api/v1/workflows/fan/runs/",
        {"input": {"items": list(range(ITEMS))}},
        format="json",
    )
    run_id = response.json()["id"]
    peak = 0

    def finished() -> Run | None:
        nonlocal peak
        in_flight = MapItem.objects.filter(
            run_id=run_id, state__in=[ItemState.QUEUED, ItemState.RUNNING]
        ).count()
        peak = max(peak, in_flight)
        run = Run.objects.get(pk=run_id)
        return run if run.is_finished else None

    run = wait_for(finished, timeout=900, what="the map to finish")
    assert run.state == RunState.SUCCEEDED, run.error
    assert 0 < peak <= CONCURRENCY
    progress = MapProgress.objects.get(step__run=run)
    assert (progress.succeeded, progress.failed) == (ITEMS, 0)
    output = run.steps.get(node_id="each").output
    assert output == [{}] * ITEMS
