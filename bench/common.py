"""Set up a benchmark: PostgreSQL + Redis settings, a migrated database, a worker."""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/switchyard_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/8"


def setup_django() -> dict[str, str]:
    """Point Django at the bench database and broker, create and migrate it."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    sys.path.insert(0, str(ROOT))
    import psycopg

    name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    admin_url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname=%s", [name]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    return dict(os.environ)


def start_worker(
    *,
    concurrency: int = 2,
    queues: str = "default",
    name: str = "bench",
    beat: bool = False,
) -> Any:
    """Start a Celery worker that also knows the bench tasks; wait until it is ready.

    With `beat`, the worker embeds Celery beat (due retries, timers, the sweeper).
    """
    log = ROOT / "var" / f"{name}-worker.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    from config.processes import worker_command

    schedule = None
    if beat:
        schedule = ROOT / "var" / f"{name}-beat-schedule"
        # A stale schedule would remember last runs of a previous worker.
        for stale in schedule.parent.glob(f"{schedule.name}*"):
            stale.unlink()
    argv = worker_command(
        queues=queues.split(","),
        concurrency=concurrency,
        name=f"{name}-{os.getpid()}",
        beat_schedule=schedule,
        include=["bench.tasks"],
        loglevel="INFO",
    )
    process = subprocess.Popen(
        [*argv, "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    return process


def stop(process: Any) -> None:
    """Stop a child process and wait for it."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def linear_graph(steps: int, max_concurrent_runs: int | None = None) -> dict[str, Any]:
    """Return start → `steps` `builtin.noop` tasks in a row → end, one attempt each.

    With `max_concurrent_runs`, that many runs are admitted at once.
    """
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
    edges = []
    previous = "start"
    for i in range(steps):
        nodes.append({"id": f"s{i}", "type": "task", "action": "builtin.noop"})
        edges.append({"id": f"e{i}", "source": previous, "target": f"s{i}"})
        previous = f"s{i}"
    nodes.append({"id": "done", "type": "end"})
    edges.append({"id": "e_end", "source": previous, "target": "done"})
    graph: dict[str, Any] = {"format": 1}
    if max_concurrent_runs is not None:
        graph["max_concurrent_runs"] = max_concurrent_runs
    graph.update(
        {"defaults": {"retry": {"max_attempts": 1}}, "nodes": nodes, "edges": edges}
    )
    return graph


def ensure_workflow(slug: str, graph: dict[str, Any]) -> Any:
    """Return the workflow `slug` with `graph` live: create and publish it if missing.

    A workflow whose live graph differs (an older version of the benchmark) gets the
    graph as a new published version.
    """
    from designer import services as designer
    from designer.models import Workflow
    from runs import releases

    workflow = Workflow.objects.filter(slug=slug).select_related("live_version").first()
    if workflow is None:
        workflow = designer.workflow_create(slug=slug, name=slug)
    live = workflow.live_version
    if live is None or live.graph != graph:
        version, _ = designer.version_create(workflow=workflow, graph=graph)
        releases.version_publish(version=version)
        workflow.refresh_from_db()
    return workflow
