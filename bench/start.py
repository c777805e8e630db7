"""Time run starts through the HTTP API: single starts and batches, beside raw Celery.

Starts daphne on the bench database with `bench.server_timing` (a `Server-Timing`
header on every answer: Django's middleware chain and view, the Celery publishes after
commit included) and a token of an admin. No worker: the runs stay queued, and the
script deletes them (and empties its Redis database) when it ends. The workflow is
start → 3 no-op tasks → end, its `max_concurrent_runs` above every run started here, so
each start is admitted (the costly path: run, steps, attempt, events, a publish).

1. SINGLE sequential `POST …/runs/` on one kept-alive connection, without and then with
   an idempotency key: median server time (Server-Timing) and round trip per start,
   and starts/s over the whole sequence.
2. BATCHES sequential `POST …/runs/batch/` of SIZE runs, each with its idempotency key:
   starts/s over the whole sequence, median server time per batch.
3. Raw Celery: `apply_async` of SIZE `bench.noop` tasks to a queue no worker reads:
   sends/s, the broker floor of a start (each start publishes one message).

Daphne runs each request's Django code in a thread of its own, and Django's database
connections are per thread, so each request opens a new connection: `--db-pool` serves
with psycopg's pool instead (Django's `OPTIONS["pool"]`; `pip install psycopg-pool`).

Usage: python bench/start.py [--single 200] [--batches 10] [--size 1000] [--db-pool]
"""

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import ROOT, ensure_workflow, linear_graph, setup_django, stop  # noqa: E402

SLUG = "bench-start"
# Targets of issue 17.
SINGLE_TARGET_MS = 5.0
BATCH_TARGET_PER_S = 300.0


class Api:
    """One kept-alive HTTP connection posting JSON with a token."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
        }
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def post(self, path: str, body: Any) -> tuple[float, float, int, Any]:
        """Return (round trip ms, server ms, status, answer)."""
        data = json.dumps(body).encode()
        began = time.perf_counter()
        self.conn.request("POST", path, body=data, headers=self.headers)
        response = self.conn.getresponse()
        content = response.read()
        round_trip = (time.perf_counter() - began) * 1000
        timing = response.getheader("Server-Timing") or "app;dur=nan"
        server = float(timing.split("dur=", 1)[1])
        return round_trip, server, response.status, json.loads(content)

    def close(self) -> None:
        self.conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_web(port: int, *, pool: bool = False) -> Any:
    """Start daphne with the Server-Timing settings; wait until it listens."""
    from config.processes import web_command

    log = ROOT / "var" / "bench-start-daphne.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.server_timing"}
    if pool:
        env["BENCH_DB_POOL"] = "1"
    process = subprocess.Popen(
        web_command(host="127.0.0.1", port=port),
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise SystemExit(f"daphne did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def clear_runs(workflow: Any) -> int:
    """Delete the bench workflow's runs (with their steps, attempts and events)."""
    from runs.models import Run

    deleted, _ = Run.objects.filter(workflow=workflow).delete()
    return deleted


def singles(api: Api, count: int, *, keyed: bool) -> dict[str, float]:
    """POST `count` single starts one after the other; return their figures."""
    path = f"/api/v1/workflows/{SLUG}/runs/"
    tag = uuid.uuid4().hex[:8]
    round_trips, servers = [], []
    began = time.perf_counter()
    for i in range(count):
        body: dict[str, Any] = {"input": {"i": i}}
        if keyed:
            body["idempotency_key"] = f"single-{tag}-{i}"
        round_trip, server, status, answer = api.post(path, body)
        if status != 201:
            raise SystemExit(f"single start answered {status}: {answer}")
        round_trips.append(round_trip)
        servers.append(server)
    wall = time.perf_counter() - began
    return {
        "server_ms": statistics.median(servers),
        "server_p95_ms": sorted(servers)[int(0.95 * (len(servers) - 1))],
        "round_trip_ms": statistics.median(round_trips),
        "per_s": count / wall,
        "wall_s": wall,
    }


def batches(api: Api, count: int, size: int) -> dict[str, float]:
    """POST `count` batches of `size` keyed starts one after the other."""
    path = f"/api/v1/workflows/{SLUG}/runs/batch/"
    tag = uuid.uuid4().hex[:8]
    round_trips, servers = [], []
    began = time.perf_counter()
    for b in range(count):
        body = {
            "runs": [
                {"input": {"i": i}, "idempotency_key": f"batch-{tag}-{b}-{i}"}
                for i in range(size)
            ]
        }
        round_trip, server, status, answer = api.post(path, body)
        if status != 201 or len(answer["runs"]) != size:
            raise SystemExit(f"batch answered {status}: {str(answer)[:500]}")
        if {run["state"] for run in answer["runs"]} != {"running"}:
            raise SystemExit("a batch left runs pending: raise max_concurrent_runs")
        round_trips.append(round_trip)
        servers.append(server)
    wall = time.perf_counter() - began
    return {
        "server_ms": statistics.median(servers),
        "round_trip_ms": statistics.median(round_trips),
        "per_s": count * size / wall,
        "wall_s": wall,
    }


def celery_sends(size: int) -> dict[str, float]:
    """apply_async `size` bench.noop tasks to a queue nobody reads; sends/s."""
    import bench.tasks as bench_tasks

    queue = "bench-start-sink"
    bench_tasks.noop.apply_async(queue=queue)  # warm up: connection, pools
    began = time.perf_counter()
    for _ in range(size):
        bench_tasks.noop.apply_async(queue=queue)
    wall = time.perf_counter() - began
    return {"per_s": size / wall, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--single", type=int, default=200, help="single starts each")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--size", type=int, default=1000, help="runs per batch")
    parser.add_argument(
        "--db-pool",
        action="store_true",
        help="serve with psycopg's connection pool (needs psycopg-pool installed)",
    )
    args = parser.parse_args()

    setup_django()
    import redis
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    workflow = ensure_workflow(SLUG, linear_graph(3, 100_000))
    cleared = clear_runs(workflow)  # left by an interrupted earlier run
    if cleared:
        print(f"deleted {cleared} rows left by an earlier run")
    user, _ = get_user_model().objects.get_or_create(username="bench-start")
    user.groups.add(Group.objects.get(name="admin"))
    token, _ = Token.objects.get_or_create(user=user)

    port = free_port()
    web = start_web(port, pool=args.db_pool)
    api = Api(port, token.key)
    try:
        # Warm up the server: imports, connections, the compiled graph, the broker.
        singles(api, 20, keyed=True)
        if args.batches:
            batches(api, 1, min(args.size, 100))
        single = singles(api, args.single, keyed=False)
        keyed = singles(api, args.single, keyed=True)
        batch = batches(api, args.batches, args.size) if args.batches else None
    finally:
        api.close()
        stop(web)
    celery = celery_sends(args.size)
    cleared = clear_runs(workflow)
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    pooled = "with a connection pool" if args.db_pool else "a connection per request"
    print(
        f"start: daphne on :{port} ({pooled}), no worker ({cleared} rows deleted after)"
    )
    for name, figures in (("single", single), ("single+key", keyed)):
        print(
            f"{name + ':':<12} server {figures['server_ms']:.2f} ms median "
            f"(p95 {figures['server_p95_ms']:.2f}), round trip "
            f"{figures['round_trip_ms']:.2f} ms; {figures['per_s']:.0f} starts/s "
            f"({args.single} in {figures['wall_s']:.2f} s)  < {SINGLE_TARGET_MS:g} ms "
            f"{verdict(figures['server_ms'] < SINGLE_TARGET_MS)}"
        )
    if batch is not None:
        fast = batch["per_s"] >= BATCH_TARGET_PER_S
        print(
            f"{'batch:':<12} {batch['per_s']:.0f} starts/s ({args.batches} x "
            f"{args.size} in {batch['wall_s']:.2f} s; server {batch['server_ms']:.0f} "
            f"ms, round trip {batch['round_trip_ms']:.0f} ms per batch, median)  "
            f">= {BATCH_TARGET_PER_S:g}/s {verdict(fast)}"
        )
    print(
        f"{'raw celery:':<12} {celery['per_s']:.0f} sends/s (apply_async of "
        f"{args.size} bench.noop in {celery['wall_s']:.2f} s)"
    )
    ratios = f"single {celery['per_s'] / single['per_s']:.1f}"
    if batch is not None:
        ratios += f", batch {celery['per_s'] / batch['per_s']:.1f}"
    print(f"{'ratio:':<12} {ratios} (celery sends/s ÷ starts/s)")
    summary = (
        f"summary: start single {single['server_ms']:.1f} ms server "
        f"({single['per_s']:.0f}/s), with key {keyed['server_ms']:.1f} ms"
    )
    if batch is not None:
        summary += f"; batch {args.batches}x{args.size} {batch['per_s']:.0f} starts/s"
    summary += f"; celery {celery['per_s']:.0f} sends/s"
    print(summary)


if __name__ == "__main__":
    main()
