"""The database's floor for one durable step, against a raw Celery chain link.

Runs the statements an eager step of `linear.py` sends (lock the run; finish the
attempt and the step; insert the next step and attempt; insert the six events;
commit), with no engine code around them: psycopg directly, each statement prepared,
the same tables and indexes, on the bench database. What is left between this and
`linear.py`'s ms/step is the engine's Python; what is left between this and the raw
Celery chain is what a durable, audited step costs on this server.
Usage: python bench/step_floor.py [STEPS=2000]
"""

import statistics
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import ensure_workflow, linear_graph, setup_django  # noqa: E402


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    setup_django()
    import psycopg
    from django.db import connection
    from psycopg.types.json import Jsonb

    from runs.models import Run
    from runs.services.starting import run_start

    workflow = ensure_workflow("bench-floor", linear_graph(1, 10_000))
    run, _ = run_start(workflow=workflow, input={}, actor="system:bench")
    run = Run.objects.get(pk=run.pk)
    step_id, attempt_id = run.steps.get(node_id="s0").pk, run.attempts.get().pk
    connection.close()
    dsn = connection.settings_dict
    conn = psycopg.connect(
        host=dsn["HOST"],
        port=dsn["PORT"] or 5432,
        user=dsn["USER"],
        dbname=dsn["NAME"],
        password=dsn["PASSWORD"] or None,
    )
    lock = "SELECT * FROM runs_run WHERE id = %s FOR NO KEY UPDATE"
    finish_attempt = (
        "UPDATE runs_attempt SET state = %s, finished_at = now() "
        "WHERE id = %s AND state = %s"
    )
    finish_step = (
        "UPDATE runs_steprun SET state = %s, output = %s, taken_edges = %s, "
        "finished_at = now() WHERE id = %s AND state = %s"
    )
    new_step = (
        "INSERT INTO runs_steprun (run_id, node_id, seq, node_type, state, output, "
        "error, taken_edges, created_at, started_at) SELECT run_id, node_id, "
        "seq + 1, node_type, 'running', NULL, NULL, '[]', now(), now() "
        "FROM runs_steprun WHERE id = %s RETURNING id"
    )
    new_attempt = (
        "INSERT INTO runs_attempt (step_id, run_id, number, state, queue, priority, "
        "due_at, enqueued_at, started_at, heartbeat_at, deadline_at, worker, error, "
        "publish_count) SELECT %s, run_id, 1, 'running', queue, priority, now(), "
        "now(), now(), now(), now() + interval '1 hour', 'floor', NULL, 0 "
        "FROM runs_attempt WHERE id = %s RETURNING id"
    )
    event = "(%s, %s, %s, %s, %s, NULL, %s, %s, %s, %s, %s, '', %s, now())"
    events = (
        "INSERT INTO runs_event (workflow_id, version_id, run_id, step_id, "  # noqa: S608
        "attempt_id, handoff_id, node_id, kind, from_state, to_state, actor, reason, "
        "data, created_at) VALUES " + ", ".join([event] * 6)
    )
    kinds = [
        ("attempt_succeeded", "running", "succeeded"),
        ("step_succeeded", "running", "succeeded"),
        ("step_pending", "", "pending"),
        ("attempt_queued", "", "queued"),
        ("attempt_running", "queued", "running"),
        ("step_running", "queued", "running"),
    ]
    times = []
    with conn:
        for _ in range(steps):
            began = time.perf_counter()
            with conn.transaction():
                conn.execute(lock, [run.pk], prepare=True).fetchone()
                conn.execute(
                    finish_attempt, ["succeeded", attempt_id, "running"], prepare=True
                )
                conn.execute(
                    finish_step,
                    ["succeeded", Jsonb(None), Jsonb(["e"]), step_id, "running"],
                    prepare=True,
                )
                step_id = conn.execute(new_step, [step_id], prepare=True).fetchone()[0]
                attempt_id = conn.execute(
                    new_attempt, [step_id, attempt_id], prepare=True
                ).fetchone()[0]
                params = []
                for kind, from_state, to_state in kinds:
                    params += [
                        run.workflow_id,
                        run.version_id,
                        run.pk,
                        step_id,
                        attempt_id,
                        "s0",
                        kind,
                        from_state,
                        to_state,
                        "worker:floor",
                        Jsonb({}),
                    ]
                conn.execute(events, params, prepare=True)
            times.append(time.perf_counter() - began)
    floor_ms = statistics.median(times) * 1000
    print(
        f"step floor: {floor_ms:.2f} ms/step median of {steps} (p90 "
        f"{statistics.quantiles(times, n=10)[-1] * 1000:.2f}): 6 statements, "
        "6 events, 1 commit"
    )
    print(f"summary: durable step floor {floor_ms:.2f} ms/step")


if __name__ == "__main__":
    main()
