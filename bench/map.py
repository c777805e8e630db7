"""Time a map (for-each) over N items against N raw Celery tasks on the same worker.

The map runs `builtin.noop` once per item, `max_concurrency` at a time; raw Celery
sends N no-op tasks at once (no concurrency bound, no durable state), each counting
itself in Redis. Both on one worker process pool (2 processes) and the same broker,
in one run of this script; prints items/s for each and their ratio.

Usage: python bench/map.py [N] [max_concurrency]
"""

import sys
import time
import uuid

sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import ensure_workflow, setup_django, start_worker, stop  # noqa: E402


def main() -> None:
    items = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    setup_django()
    import redis
    from django.conf import settings

    import bench.tasks as bench_tasks
    from runs.models import MapItem, Run
    from runs.services.starting import run_start

    graph = {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "each",
                "type": "map",
                "items": "input.items",
                "action": "builtin.noop",
                "max_concurrency": concurrency,
                "retry": {"max_attempts": 1},
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "each"},
            {"id": "e2", "source": "each", "target": "done"},
        ],
    }
    workflow = ensure_workflow(f"bench-map-{concurrency}", graph)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    worker = start_worker(concurrency=2)
    peak = 0
    try:
        began = time.time()
        run, _ = run_start(
            workflow=workflow, input={"items": list(range(items))}, actor="bench"
        )
        while True:
            state, finished = Run.objects.filter(pk=run.pk).values_list(
                "state", "finished_at"
            )[0]
            in_flight = MapItem.objects.filter(
                run=run, state__in=["queued", "running"]
            ).count()
            peak = max(peak, in_flight)
            if state in ("succeeded", "failed"):
                break
            time.sleep(0.2)
        assert state == "succeeded", state
        map_s = finished.timestamp() - began
        output = run.steps.get(node_id="each").output
        succeeded = MapItem.objects.filter(run=run, state="succeeded").count()
        complete = len(output) == items and succeeded == items

        key = f"bench:map:{uuid.uuid4()}"
        began = time.time()
        for _ in range(items):
            bench_tasks.count.apply_async(args=[key, items], queue="default")
        while (done := client.get(f"{key}:done")) is None:
            time.sleep(0.1)
        raw_s = float(done) - began
    finally:
        stop(worker)
    print(f"map N={items} max_concurrency={concurrency} (2 worker processes)")
    print(f"switchyard map:  {items / map_s:8.1f} items/s  ({map_s:.1f} s)")
    print(f"raw celery:      {items / raw_s:8.1f} tasks/s  ({raw_s:.1f} s)")
    print(f"ratio:           {map_s / raw_s:.2f}  (peak in flight {peak})")
    print(f"every item succeeded, one output each: {'yes' if complete else 'NO'}")


if __name__ == "__main__":
    main()
