"""Time a 1,000-branch parallel and its join, and a small run's latency beside it.

The wide workflow is start → parallel → N `builtin.noop` tasks → join (all) → end.
While it runs, a 3-step linear no-op workflow is started every 0.2 s; its latency
(start to `finished_at`) shows whether one wide run starves other teams' runs.
Prints the time from `run_start` to the join step's `finished_at`, and p50/p95/max of
the small runs' latency. Usage: python bench/parallel_wide.py [N=1000] [R=1]
"""

import statistics
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import ensure_workflow, setup_django, start_worker, stop  # noqa: E402
from fanout import fanout_graph  # noqa: E402

SMALL_GRAPH = {
    "format": 1,
    "defaults": {"retry": {"max_attempts": 1}},
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "a", "type": "task", "action": "builtin.noop"},
        {"id": "b", "type": "task", "action": "builtin.noop"},
        {"id": "c", "type": "task", "action": "builtin.noop"},
        {"id": "done", "type": "end"},
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "a"},
        {"id": "e2", "source": "a", "target": "b"},
        {"id": "e3", "source": "b", "target": "c"},
        {"id": "e4", "source": "c", "target": "done"},
    ],
}
TIMEOUT_S = 600


def main() -> None:
    width = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    setup_django()
    from runs.models import Run, StepRun
    from runs.services.starting import run_start

    graph = fanout_graph(width)
    graph["max_concurrent_runs"] = 10
    wide = ensure_workflow(f"bench-wide-{width}", graph)
    small = ensure_workflow("bench-wide-small", SMALL_GRAPH)
    worker = start_worker(concurrency=2)
    joins: list[float] = []
    latencies: list[float] = []
    try:
        for _ in range(repeats):
            began = time.time()
            run, _ = run_start(workflow=wide, input={}, actor="system:bench")
            smalls: list[tuple[int, float]] = []
            deadline = time.monotonic() + TIMEOUT_S
            next_small = 0.0
            while True:
                state = Run.objects.filter(pk=run.pk).values_list("state", flat=True)[0]
                if state not in ("pending", "running"):
                    break
                if time.monotonic() > deadline:
                    raise SystemExit(f"run {run.pk} still {state} after {TIMEOUT_S} s")
                if time.monotonic() >= next_small:
                    small_run, _ = run_start(
                        workflow=small, input={}, actor="system:bench"
                    )
                    smalls.append((small_run.pk, time.time()))
                    next_small = time.monotonic() + 0.2
                time.sleep(0.05)
            if state != "succeeded":
                raise SystemExit(f"run {run.pk} ended {state}")
            joined = StepRun.objects.get(run=run, node_id="join").finished_at
            joins.append(joined.timestamp() - began)
            # The small runs started while the wide one ran: wait for them to end.
            wait_until = time.monotonic() + TIMEOUT_S
            ids = [pk for pk, _ in smalls]
            while Run.objects.filter(
                pk__in=ids, state__in=["pending", "running"]
            ).exists():
                if time.monotonic() > wait_until:
                    raise SystemExit("small runs did not finish")
                time.sleep(0.1)
            finished = dict(
                Run.objects.filter(pk__in=ids).values_list("pk", "finished_at")
            )
            latencies.extend(
                finished[pk].timestamp() - started for pk, started in smalls
            )
    finally:
        stop(worker)
    lat_ms = sorted(s * 1000 for s in latencies)
    p95 = lat_ms[min(len(lat_ms) - 1, int(len(lat_ms) * 0.95))] if lat_ms else 0.0
    print(f"parallel_wide N={width} repeats={repeats} workers=2")
    print(f"start → join finished: median {statistics.median(joins):.1f} s")
    print(
        f"3-step runs alongside ({len(lat_ms)}): p50 "
        f"{statistics.median(lat_ms) if lat_ms else 0:.0f} ms, p95 {p95:.0f} ms, "
        f"max {max(lat_ms, default=0):.0f} ms"
    )
    print(
        f"summary: parallel_wide N={width}: join after "
        f"{statistics.median(joins):.1f} s, small-run p95 {p95:.0f} ms"
    )


if __name__ == "__main__":
    main()
