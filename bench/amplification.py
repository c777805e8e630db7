"""Measure retry amplification during a 100 % outage, without and with a retry budget.

One task, `builtin.fail` (always raises "Unavailable"), retried up to 10 times every
0.05 s. RUNS runs go to queue `amp-off` (budget disabled), then RUNS runs to queue
`amp-on` (default budget: ratio 0.2, 10 retries/s floor, 10 s window). Each phase is
observed for WINDOW_S seconds (default 20) from its first `run_start`; runs still
retrying then are cancelled. Prints the attempts started per first attempt (the
amplification), the attempts per second the failing dependency saw, and the
`retry_deferred` events of each phase. The worker embeds beat, which re-publishes
deferred retries (`engine.enqueue_due`).

20 s rather than 10: with two worker processes on a small machine the unbudgeted
phase needs 12-20 s to make its 1,000 attempts, and a shorter window measures the
worker's capacity instead of the amplification.
Usage: python bench/amplification.py [RUNS] [WINDOW_S]
"""

import json
import os
import sys
import time
from datetime import datetime, timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))
from common import ensure_workflow, setup_django, start_worker, stop  # noqa: E402

QUEUE_OFF = "amp-off"
QUEUE_ON = "amp-on"
RETRY = {
    "max_attempts": 10,
    "initial_interval_s": 0.05,
    "backoff": 1.0,
    "max_interval_s": 0.05,
    "jitter": "none",
}


def outage_graph(queue: str) -> dict:
    """Return start → one always-failing task on `queue` → end."""
    return {
        "format": 1,
        "max_concurrent_runs": 10_000,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "call",
                "type": "task",
                "action": "builtin.fail",
                "params": {"error": "Unavailable"},
                "queue": queue,
                "retry": RETRY,
            },
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e_call", "source": "start", "target": "call"},
            {"id": "e_done", "source": "call", "target": "done"},
        ],
    }


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    window_s = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
    # The bench process (which makes the first attempts, so the deposits) and the
    # worker (which asks for retries) must read the same budget config.
    os.environ["SWITCHYARD_RETRY_BUDGET"] = json.dumps(
        {"queues": {QUEUE_OFF: {"enabled": False}, QUEUE_ON: {}}}
    )
    setup_django()
    import redis
    from django.conf import settings

    from engine.budget import BudgetConfig, RedisBudgetStore, get_budget
    from runs.models import RUN_ACTIVE, Run
    from runs.services.starting import run_start

    client = redis.Redis.from_url(str(settings.SWITCHYARD_REDIS_URL))
    client.delete(*(RedisBudgetStore.key(q) for q in (QUEUE_OFF, QUEUE_ON)))
    config = BudgetConfig.from_settings()
    worker = start_worker(
        concurrency=2, queues=f"default,{QUEUE_OFF},{QUEUE_ON}", beat=True
    )
    results: dict[str, dict[str, Any]] = {}
    try:
        for queue in (QUEUE_OFF, QUEUE_ON):
            workflow = ensure_workflow(f"bench-amp-{queue}", outage_graph(queue))
            newest = Run.objects.order_by("-id").values_list("id", flat=True).first()
            first_id = (newest or 0) + 1
            began = time.monotonic()
            for _ in range(runs):
                run_start(workflow=workflow, input={}, actor="system:bench")
            start_s = time.monotonic() - began
            # Deposits are buffered for up to 0.25 s per process; a web process would
            # send them with its next first attempt, this one sends them now.
            get_budget().flush()
            batch = Run.objects.filter(workflow=workflow, id__gte=first_id)
            opened = batch.order_by("id").values_list("created_at", flat=True)[0]
            time.sleep(max(0.0, window_s - (time.monotonic() - began)))
            closed = opened + timedelta(seconds=window_s)
            results[queue] = observe(batch, closed, start_s)
            results[queue]["cancel_conflicts"] = cancel_all(
                batch.filter(state__in=RUN_ACTIVE)
            )
            # Let the worker drop the cancelled runs' queued messages.
            time.sleep(1.0)
    finally:
        stop(worker)

    print(f"amplification runs={runs} window={window_s:g} s retry={json.dumps(RETRY)}")
    for queue, result in results.items():
        budget = config.config_for(queue)
        label = (
            f"budget on (ratio {budget.ratio}, floor {budget.min_retries_per_s}/s, "
            f"window {budget.window_s} s)"
            if budget.enabled
            else "budget off"
        )
        print(f"{queue}: {label}")
        print(
            f"  attempts {result['attempts']}, first attempts {result['first']}, "
            f"retries {result['attempts'] - result['first']}"
        )
        print(
            f"  amplification {result['amplification']:.2f} attempts per first attempt "
            f"(the policy allows {RETRY['max_attempts']})"
        )
        print(
            f"  the failing dependency saw {result['rate']:.0f} attempts/s "
            f"(first to last attempt, {result['busy_s']:.1f} s)"
        )
        print(
            f"  retry_deferred events {result['deferred']}; runs failed "
            f"{result['failed']}, still retrying (cancelled) {result['active']}; "
            f"starting took {result['start_s']:.2f} s"
        )
        if result["cancel_conflicts"]:
            print(
                f"  run_cancel raised ConcurrentTransition "
                f"{result['cancel_conflicts']} times (retried)"
            )
    off, on = results[QUEUE_OFF], results[QUEUE_ON]
    print(
        f"summary: amplification off {off['amplification']:.2f}, "
        f"on {on['amplification']:.2f} ({on['deferred']} retry_deferred)"
    )


def cancel_all(active: Any) -> int:
    """Cancel the runs still retrying; return how many cancels hit a conflict.

    A worker starting or finishing an attempt of the run at the same moment makes
    `run_cancel` raise ConcurrentTransition (409 at the API); try again, like a client.
    """
    from django_fsm import ConcurrentTransition, TransitionNotAllowed

    from runs.services.controls import run_cancel

    conflicts = 0
    for run in active:
        for _ in range(20):
            try:
                run_cancel(run=run, actor="system:bench", reason="observation over")
                break
            except TransitionNotAllowed:
                break  # it failed for good since the query: nothing to cancel
            except ConcurrentTransition:
                conflicts += 1
                time.sleep(0.01)
        else:
            raise SystemExit(f"run {run.pk} could not be cancelled")
    return conflicts


def observe(batch: Any, closed: datetime, start_s: float) -> dict[str, Any]:
    """Count what the runs of `batch` did until `closed`."""
    from django.db.models import Max, Min

    from runs.models import RUN_ACTIVE, Attempt, Event

    started = Attempt.objects.filter(
        run__in=batch, started_at__isnull=False, started_at__lte=closed
    )
    attempts = started.count()
    first = started.filter(number=1).count()
    span = started.aggregate(first=Min("started_at"), last=Max("started_at"))
    busy_s = (span["last"] - span["first"]).total_seconds() if attempts > 1 else 0.0
    return {
        "attempts": attempts,
        "rate": attempts / busy_s if busy_s else 0.0,
        "busy_s": busy_s,
        "first": first,
        "amplification": attempts / first if first else 0.0,
        "deferred": Event.objects.filter(
            run__in=batch, kind="retry_deferred", created_at__lte=closed
        ).count(),
        "failed": batch.filter(state="failed").count(),
        "active": batch.filter(state__in=RUN_ACTIVE).count(),
        "start_s": start_s,
    }


if __name__ == "__main__":
    main()
