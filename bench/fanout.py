"""Time a fan-out of N no-op tasks and their join (mode all) on two worker processes.

The workflow is start → parallel → N `builtin.noop` tasks → join → end. Each run is
timed from just before `run_start` to the join step's `finished_at`, written by the
worker in the transaction that finished the last branch. Prints the median and the
maximum over R runs. Usage: python bench/fanout.py [N] [R]
"""

import statistics
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import ensure_workflow, setup_django, start_worker, stop  # noqa: E402


def fanout_graph(width: int) -> dict:
    """Return start → parallel → `width` noop tasks → join (all) → end."""
    nodes = [
        {"id": "start", "type": "start"},
        {"id": "fan", "type": "parallel"},
        {"id": "join", "type": "join", "mode": "all"},
        {"id": "done", "type": "end"},
    ]
    edges = [
        {"id": "e_fan", "source": "start", "target": "fan"},
        {"id": "e_end", "source": "join", "target": "done"},
    ]
    for i in range(width):
        nodes.append({"id": f"t{i}", "type": "task", "action": "builtin.noop"})
        edges.append({"id": f"out{i}", "source": "fan", "target": f"t{i}"})
        edges.append({"id": f"in{i}", "source": f"t{i}", "target": "join"})
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": nodes,
        "edges": edges,
    }


def main() -> None:
    width = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    setup_django()
    from runs.models import Run, StepRun
    from runs.services.starting import run_start

    workflow = ensure_workflow(f"bench-fanout-{width}", fanout_graph(width))
    worker = start_worker(concurrency=2)
    try:

        def run_fanout() -> tuple[float, float]:
            """Return seconds from start to the join finishing and to the run's end."""
            began = time.time()
            run, _ = run_start(workflow=workflow, input={}, actor="system:bench")
            deadline = time.monotonic() + 120
            while True:
                state, finished = Run.objects.filter(pk=run.pk).values_list(
                    "state", "finished_at"
                )[0]
                if state not in ("pending", "running"):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"run {run.pk} still {state} after 120 s")
                # Poll gently so the loop does not steal CPU from the worker.
                time.sleep(0.05)
            if state != "succeeded":
                raise SystemExit(f"run {run.pk} ended {state}: {run_error(run.pk)}")
            joined = StepRun.objects.get(run=run, node_id="join").finished_at
            return joined.timestamp() - began, finished.timestamp() - began

        def run_error(run_id: int) -> object:
            return Run.objects.filter(pk=run_id).values_list("error", flat=True)[0]

        run_fanout()  # warm up
        joins, ends = [], []
        for _ in range(repeats):
            join_s, end_s = run_fanout()
            joins.append(join_s)
            ends.append(end_s)
    finally:
        stop(worker)
    join_ms = [s * 1000 for s in joins]
    print(f"fanout N={width} repeats={repeats} workers=2")
    print(
        f"start → join finished: median {statistics.median(join_ms):.0f} ms, "
        f"max {max(join_ms):.0f} ms"
    )
    print(
        f"start → run finished:  median {statistics.median(ends) * 1000:.0f} ms, "
        f"max {max(ends) * 1000:.0f} ms"
    )
    per_branch = statistics.median(join_ms) / width
    print(
        f"per branch:            {per_branch:.2f} ms "
        f"({width / statistics.median(joins):.0f} branches/s)"
    )
    print(
        f"summary: fanout N={width}: join after "
        f"{statistics.median(join_ms):.0f} ms median, {max(join_ms):.0f} ms max"
    )


if __name__ == "__main__":
    main()
