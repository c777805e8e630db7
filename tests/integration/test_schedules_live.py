"""A schedule fires each slot once with two beat processes running (a mistake users
make: two schedulers), on real Celery workers against PostgreSQL and Redis."""

import os
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from runs import schedules
from runs.models import FireState, Run, ScheduleFire
from tests.conftest import _test_db_env
from tests.servers import start_worker, stop_process
from tests.support import linear_graph, wait_for

pytestmark = pytest.mark.integration


def _second_beat(tmp_path: Path) -> subprocess.Popen[bytes]:
    """Start another worker with its own embedded beat on the same broker."""
    return start_worker(
        tmp_path / "second-worker.log",
        env=_test_db_env(),
        what="the second worker and beat",
        queues=["default"],
        concurrency=1,
        name=f"second-{os.getpid()}",
        beat_schedule=tmp_path / "second-beat-schedule",
        loglevel="INFO",
    )


def test_each_slot_fires_once_with_two_beats(
    live_db: Any, workflow_factory: Any, tmp_path: Path
) -> None:
    second = _second_beat(tmp_path)
    try:
        workflow = workflow_factory(linear_graph(1), slug="every-2s")
        schedule = schedules.schedule_create(
            workflow=workflow,
            fields={
                "name": "every 2 s",
                "kind": "interval",
                "interval_s": 2,
                "overlap": "allow",
                "catchup": "all",
            },
        )
        wait_for(
            lambda: ScheduleFire.objects.filter(schedule=schedule).count() >= 5,
            timeout=60,
            what="five slots to fire",
        )
    finally:
        stop_process(second)
    schedules.schedule_pause(schedule=schedule)
    fires = list(ScheduleFire.objects.filter(schedule=schedule).order_by("slot_at"))
    slots = [f.slot_at for f in fires]
    # Every slot once, none missing between the first and the last.
    assert len(set(slots)) == len(slots)
    assert all(
        b - a == timedelta(seconds=2) for a, b in zip(slots, slots[1:], strict=False)
    )
    assert all(f.state == FireState.STARTED for f in fires)
    runs = Run.objects.filter(trigger=schedule.trigger)
    assert runs.count() == len(fires)
    assert sorted(r.trigger_at for r in runs) == slots
