"""Compare an N-step no-op Switchyard workflow with a raw Celery chain of N no-op tasks.

Both run on the same broker (Redis) and the same worker process in one run of this
script; prints ms/step for each and their ratio. Usage: python bench/linear.py [N] [R]
"""

import statistics
import sys
import time
import uuid

sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import linear_graph, setup_django, start_worker, stop  # noqa: E402


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    setup_django()
    from celery import chain

    import bench.tasks as bench_tasks
    from designer import services as designer
    from designer.models import Workflow
    from runs import releases
    from runs.models import Run
    from runs.services.starting import run_start

    slug = f"bench-linear-{steps}"
    workflow = Workflow.objects.filter(slug=slug).first()
    if workflow is None:
        graph = linear_graph(steps)
        workflow = designer.workflow_create(slug=slug, name=slug)
        version, _ = designer.version_create(workflow=workflow, graph=graph)
        releases.version_publish(version=version)
        workflow.refresh_from_db()

    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    worker = start_worker(concurrency=2)
    try:
        # Both timings come from timestamps recorded where the work happens, and the
        # waiting loops poll gently so they do not steal CPU from the worker.
        def run_workflow() -> float:
            began = time.time()
            run, _ = run_start(workflow=workflow, input={}, actor="system:bench")
            while True:
                state, finished = Run.objects.filter(pk=run.pk).values_list(
                    "state", "finished_at"
                )[0]
                if state in ("succeeded", "failed"):
                    break
                time.sleep(0.05)
            assert state == "succeeded", state
            return finished.timestamp() - began

        def run_chain() -> float:
            key = f"bench:done:{uuid.uuid4()}"
            began = time.time()
            links = [bench_tasks.noop.si() for _ in range(steps)]
            chain(*links, bench_tasks.mark.si(key)).apply_async(queue="default")
            while (done := client.get(key)) is None:
                time.sleep(0.05)
            return float(done) - began

        run_workflow(), run_chain()  # warm up both paths
        flows, chains = [], []
        for _ in range(repeats):
            flows.append(run_workflow())
            chains.append(run_chain())
    finally:
        stop(worker)
    flow_ms = statistics.median(flows) * 1000 / steps
    chain_ms = statistics.median(chains) * 1000 / (steps + 1)
    print(f"linear N={steps} repeats={repeats} (median)")
    print(f"switchyard workflow: {flow_ms:.2f} ms/step")
    print(f"raw celery chain:    {chain_ms:.2f} ms/step")
    print(f"ratio:               {flow_ms / chain_ms:.2f}")


if __name__ == "__main__":
    main()
