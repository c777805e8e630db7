"""Search and retention figures of bench/scale.py: history runs up to a total (1M),
the search endpoints to time, and the pruning rate with and without archive.

History runs are rows of `runs_run` only (a finished run's row, business key and
input; no steps or events), inserted with generate_series into the workflow
`scale-history`, so the run table holds `--total-runs` rows while the 100k scale runs
keep their full steps, attempts and events. The pruning runs are seeded apart (runs,
four steps and attempts, ten events and two log chunks each) into `scale-prune`
and pruned with `runs.retention.prune_tick`, as the beat job does.
"""

import tempfile
import time
from collections.abc import Callable
from typing import Any

HISTORY_SLUG = "scale-history"
PRUNE_SLUG = "scale-prune"
# Rows inserted per transaction while topping up.
HISTORY_CHUNK = 100_000


def _workflow(slug: str, graph: dict[str, Any]) -> tuple[Any, Any]:
    from designer import services as designer
    from designer.models import Workflow
    from runs import releases

    workflow = Workflow.objects.filter(slug=slug).first()
    if workflow is None:
        workflow = designer.workflow_create(slug=slug, name=slug.replace("-", " "))
    version = workflow.versions.order_by("number").first()
    if version is None:
        version, _ = designer.version_create(workflow=workflow, graph=graph)
        version = releases.version_publish(version=version)
    # A plain UPDATE: save() of a copy read before the publish is a stale FSM copy.
    Workflow.objects.filter(pk=workflow.pk).update(business_key="=input.order_id")
    workflow.refresh_from_db()
    return workflow, version


def top_up_history(total: int, graph: dict[str, Any]) -> int:
    """Insert history runs until the run table holds `total` rows; return how many."""
    from django.db import connection, transaction

    from runs.models import Run

    workflow, version = _workflow(HISTORY_SLUG, graph)
    missing = total - Run.objects.count()
    if missing <= 0:
        return 0
    began = time.monotonic()
    first = Run.objects.filter(workflow=workflow).count()
    done = 0
    while done < missing:
        size = min(HISTORY_CHUNK, missing - done)
        with transaction.atomic(), connection.cursor() as cursor:
            # Runs of the 30 days before the scale runs' window, one every few s.
            cursor.execute(
                """
                INSERT INTO runs_run (workflow_id, version_id, state, input, output,
                  error, trigger, call_depth, reruns, business_key, created_at,
                  started_at, finished_at)
                SELECT %(w)s, %(v)s,
                  CASE WHEN g %% 25 = 0 THEN 'failed' ELSE 'succeeded' END,
                  jsonb_build_object('order_id', 'HIS-' || lpad(g::text, 8, '0'),
                    'customer', jsonb_build_object('country',
                      'C' || lpad((g %% 20)::text, 2, '0')),
                    'amount', g %% 1000),
                  NULL,
                  CASE WHEN g %% 25 = 0 THEN jsonb_build_object('type',
                    (ARRAY['Timeout', 'HTTPError', 'WorkerLost'])[1 + g %% 3],
                    'message', 'seeded') END,
                  CASE WHEN g %% 10 = 0 THEN 'schedule:1' ELSE 'api' END, 0,
                  '[]'::jsonb, 'HIS-' || lpad(g::text, 8, '0'),
                  t, t, t + interval '2 seconds'
                FROM (
                  SELECT g, now() - interval '60 days'
                    + g * interval '1 second' * (2592000.0 / %(n)s) AS t
                  FROM generate_series(%(a)s, %(b)s) g
                ) s
                """,
                {
                    "w": workflow.pk,
                    "v": version.pk,
                    "a": first + done + 1,
                    "b": first + done + size,
                    "n": max(missing + first, 1),
                },
            )
        done += size
        print(
            f"  {done:>8} history runs inserted ({time.monotonic() - began:.0f} s)",
            flush=True,
        )
    print("vacuum analyze runs_run ...", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) runs_run")
    return done


def search_endpoints(
    run_ids: list[int], country_of: Callable[[int], str]
) -> list[tuple[str, Callable[[int], str]]]:
    """Return the search endpoints to time: (name, path for request i)."""

    def key(i: int) -> str:
        return f"ORD-{run_ids[i]:07d}"

    return [
        ("search key=<business key>", lambda i: f"/api/v1/runs/?limit=50&key={key(i)}"),
        (
            "search q=<key prefix>",
            lambda i: f"/api/v1/runs/?limit=50&q={key(i)[:-1]}",
        ),
        ("search q=<run id>", lambda i: f"/api/v1/runs/?limit=50&q={run_ids[i]}"),
        (
            "search input.order_id=<id>",
            lambda i: f"/api/v1/runs/?limit=50&input.order_id={key(i)}",
        ),
        (
            "search input.customer.country (5%)",
            lambda i: f"/api/v1/runs/?limit=50&input.customer.country={country_of(i)}",
        ),
        (
            "search error_type=Timeout",
            lambda i: "/api/v1/runs/?limit=50&error_type=Timeout",
        ),
        (
            "search trigger=schedule",
            lambda i: "/api/v1/runs/?limit=50&trigger=schedule",
        ),
        (
            "search started 40-50 days ago",
            lambda i: (
                "/api/v1/runs/?limit=50"
                f"&started_after={_days_ago(50)}&started_before={_days_ago(40)}"
            ),
        ),
    ]


def _days_ago(days: int) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seed_prunable(workflow: Any, version: Any, count: int) -> None:
    """Insert `count` finished runs 40 days old with their rows (bulk SQL)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO runs_run (workflow_id, version_id, state, input, output,
              trigger, call_depth, reruns, business_key, created_at, started_at,
              finished_at)
            SELECT %s, %s, 'succeeded', jsonb_build_object('order_id', 'P-' || g),
              '{"ok": true}'::jsonb, 'api', 0, '[]'::jsonb, 'P-' || g,
              now() - interval '40 days', now() - interval '40 days',
              now() - interval '40 days'
            FROM generate_series(1, %s) g
            """,
            [workflow.pk, version.pk, count],
        )
        cursor.execute(
            """
            CREATE TEMP TABLE prune_seed ON COMMIT DROP AS
            SELECT id FROM runs_run WHERE workflow_id = %s
            """,
            [workflow.pk],
        )
        cursor.execute(
            """
            INSERT INTO runs_steprun (run_id, node_id, seq, node_type, state, output,
              taken_edges, created_at, started_at, finished_at)
            SELECT r.id, 's' || s, 1, 'task', 'succeeded', '{"ok": true}'::jsonb,
              '[]'::jsonb, now() - interval '40 days', now() - interval '40 days',
              now() - interval '40 days'
            FROM prune_seed r CROSS JOIN generate_series(1, 4) s
            """
        )
        cursor.execute(
            """
            INSERT INTO runs_attempt (step_id, run_id, number, state, queue, priority,
              due_at, finished_at, publish_count, worker)
            SELECT st.id, st.run_id, 1, 'succeeded', 'default', 5, st.created_at,
              st.finished_at, 1, 'bench'
            FROM runs_steprun st JOIN prune_seed r ON r.id = st.run_id
            """
        )
        cursor.execute(
            """
            INSERT INTO runs_event (workflow_id, version_id, run_id, node_id, kind,
              from_state, to_state, actor, reason, data, created_at)
            SELECT %s, %s, r.id, '', 'seeded', '', '', 'system:bench', '',
              '{}'::jsonb, now() - interval '40 days'
            FROM prune_seed r CROSS JOIN generate_series(1, 10) k
            """,
            [workflow.pk, version.pk],
        )
        cursor.execute(
            """
            INSERT INTO runs_steplog (run_id, attempt_id, number, node_id, seq,
              first_line, lines, bytes, text, truncated, created_at)
            SELECT a.run_id, a.id, 1, 's1', 1, 1, 1, 12, 'hello, bench', false,
              a.finished_at
            FROM runs_attempt a JOIN prune_seed r ON r.id = a.run_id
            WHERE a.id % 2 = 0
            """
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE runs_run, runs_steprun, runs_attempt, runs_event")


def _relay_caught_up() -> None:
    """Set the relay's position to the newest event, as a relay that sent them all.

    The bench's web server is stopped by now; its relay's position, left in Redis,
    would keep the events just seeded from pruning (they are after it).
    """
    import redis
    from django.conf import settings

    from runs.selectors import last_event_position

    tx, event_id = last_event_position()
    client = redis.Redis.from_url(settings.SWITCHYARD_REDIS_URL)
    client.set("switchyard:relay:position", f"{tx}:{event_id}", ex=86400)
    client.close()


def measure_pruning(count: int, graph: dict[str, Any]) -> list[dict[str, Any]]:
    """Seed and prune `count` runs without, then with archive; return the rates."""
    from django.conf import settings

    from runs import retention
    from runs.models import Run

    workflow, version = _workflow(PRUNE_SLUG, graph)
    Run.objects.filter(workflow=workflow).delete()
    results = []
    for archive in (False, True):
        type(workflow).objects.filter(pk=workflow.pk).update(
            retention_days=30, retention_archive=archive
        )
        print(f"seeding {count} runs to prune ...", flush=True)
        _seed_prunable(workflow, version, count)
        _relay_caught_up()
        with tempfile.TemporaryDirectory() as folder:
            settings.SWITCHYARD_ARCHIVE_DIR = folder
            began = time.monotonic()
            pruned = 0
            for _ in range(10_000):
                done = retention.prune_tick()
                pruned += done
                if not done:
                    break
            seconds = time.monotonic() - began
        left = Run.objects.filter(workflow=workflow).count()
        results.append(
            {
                "archive": archive,
                "runs": pruned,
                "seconds": seconds,
                "rate": pruned / seconds if seconds else 0.0,
                "left": left,
            }
        )
        print(
            f"pruned {pruned} runs {'with' if archive else 'without'} archive in "
            f"{seconds:.1f} s: {pruned / max(seconds, 1e-9):.0f} runs/s"
            f" ({left} left)",
            flush=True,
        )
    type(workflow).objects.filter(pk=workflow.pk).update(retention_days=None)
    return results
