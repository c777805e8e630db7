"""Time the board, metrics and run APIs and the live event stream at 100k runs.

Loads 100k runs of 5 workflows × 2 versions over the last 30 days (10 steps each, about
1M attempts and 700k events) into the bench database with COPY, once: a rerun finds
them and skips the load (`--reload` deletes and loads again). Then starts daphne on
that database and prints p50/p95/max of each API endpoint against 200 ms, the queries
behind each endpoint with EXPLAIN ANALYZE of those over `--slow-ms`, and p50/p95/max of
commit → WebSocket delivery while events flow to many board clients, against 100 ms.

Search (business key, key prefix, run id, input fields, error type, trigger, time)
is timed the same way; `--total-runs 1000000` first tops the run table up with
history runs (bench/scale_search.py), and `--prune 20000` measures the pruning rate
with and without archive after the rest.

Usage: python bench/scale.py [--reload] [--runs 100000] [--requests 50]
       [--ws-clients 50] [--ws-rate 200] [--ws-seconds 20] [--no-ws] [--no-http]
       [--slow-ms 200] [--total-runs 1000000] [--prune 20000]
"""

import argparse
import asyncio
import http.client
import json
import math
import multiprocessing
import os
import random
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import ROOT, setup_django, stop  # noqa: E402
from scale_data import (  # noqa: E402
    COUNTRIES,
    ENDPOINT_BUDGET_S,
    HTTP_TARGET_MS,
    MIN_SAMPLES,
    WS_TARGET_MS,
    ensure_scale_workflows,
    load,
    scale_graph,
    scale_run_count,
)
from scale_search import measure_pruning, search_endpoints, top_up_history  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_web(port: int, token: str) -> Any:
    """Start daphne on the bench database; wait until the API answers."""
    from config.processes import web_command

    log = ROOT / "var" / "bench-daphne.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        web_command(host="127.0.0.1", port=port),
        cwd=ROOT,
        env=dict(os.environ),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            _, status, _ = Http(port, token).get("/api/v1/runs/?limit=1")
            if status == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise SystemExit(f"daphne did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


class Http:
    """One kept-alive HTTP connection sending token-authenticated GETs."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Token {token}"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, path: str) -> tuple[float, int, bytes]:
        """Return (ms, status, body); reconnect once if the server closed."""
        for retry in (False, True):
            try:
                began = time.perf_counter()
                self.conn.request("GET", path, headers=self.headers)
                response = self.conn.getresponse()
                body = response.read()
                return (time.perf_counter() - began) * 1000, response.status, body
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port)
                if retry:
                    raise
        raise AssertionError("unreachable")


def percentile(values: list[float], p: float) -> float:
    """Return the nearest-rank percentile (p in 0..1)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def measure(
    http_: Http, name: str, path_for: Callable[[int], str], requests: int
) -> dict[str, Any]:
    """GET path_for(i) up to `requests` times (one warm-up first); return figures."""
    ms, status, body = http_.get(path_for(-1))
    if status != 200:
        raise SystemExit(f"{name}: {path_for(-1)} answered {status}: {body[:300]!r}")
    times = []
    began = time.monotonic()
    for i in range(requests):
        ms, status, body = http_.get(path_for(i))
        if status != 200:
            raise SystemExit(f"{name}: {path_for(i)} answered {status}: {body[:300]!r}")
        times.append(ms)
        if i + 1 >= MIN_SAMPLES and time.monotonic() - began > ENDPOINT_BUDGET_S:
            break
    return {
        "name": name,
        "path": path_for(0),
        "n": len(times),
        "p50": percentile(times, 0.5),
        "p95": percentile(times, 0.95),
        "max": max(times),
        "bytes": len(body),
        "target": HTTP_TARGET_MS,
    }


# ------------------------------------------------------------------ queries


def profile(path: str, user: Any) -> list[dict[str, Any]]:
    """Serve `path` in this process and return its queries with their times."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    client.get(path)  # the first request of a process makes one-time queries
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return [
        {"sql": q["sql"], "ms": float(q["time"]) * 1000}
        for q in captured.captured_queries
    ]


def shape(sql: str) -> str:
    """Return the SQL with literals blanked, to print each slow query once."""
    return re.sub(r"'[^']*'|\b\d+\b", "?", sql)


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def report_queries(
    results: list[dict[str, Any]], user: Any, slow_ms: float
) -> list[dict[str, Any]]:
    """Print each endpoint's queries; EXPLAIN ANALYZE those over slow_ms.

    Return the slow queries (one per shape) for the summary.
    """
    print(
        f"\nqueries per endpoint (served in this process; slow = over {slow_ms:g} ms)"
    )
    seen: set[str] = set()
    slow: list[dict[str, Any]] = []
    for result in results:
        queries = profile(result["path"], user)
        total = sum(q["ms"] for q in queries)
        top = sorted(queries, key=lambda q: q["ms"], reverse=True)
        print(
            f"- {result['name']}: {len(queries)} queries, {total:.0f} ms in SQL, "
            f"slowest {top[0]['ms']:.0f} ms"
        )
        if result["p95"] > result["target"]:
            # {shape: [count, total ms, an example]}, by total time
            shapes: dict[str, list[Any]] = {}
            for q in queries:
                entry = shapes.setdefault(shape(q["sql"]), [0, 0.0, q["sql"]])
                entry[0] += 1
                entry[1] += q["ms"]
            ranked = sorted(shapes.values(), key=lambda e: e[1], reverse=True)
            for n, ms, sql in ranked[:6]:
                print(f"    {n:3}× {ms:6.0f} ms  {sql[:120]}")
        for q in top:
            if q["ms"] <= slow_ms:
                break
            key = shape(q["sql"])
            if key in seen:
                continue
            seen.add(key)
            slow.append({"endpoint": result["name"], **q})
    for q in slow:
        print(f"\nslow query ({q['endpoint']}, {q['ms']:.0f} ms):\n{q['sql']}")
        print(explain(q["sql"]))
    return slow


# ------------------------------------------------------------------ live events


def ws_clients(
    url: str, origin: str, token: str, after: int, count: int, conn: Any, ready: Any
) -> None:
    """Child process: hold `count` board connections, report what each received.

    A probe also joins the `board` group on the channel layer itself: its receive
    times split the delay into the relay's part (commit → channel layer) and the
    consumers' part (channel layer → WebSocket client).
    """
    asyncio.run(_ws_clients(url, origin, token, after, count, conn, ready))


async def _ws_clients(
    url: str, origin: str, token: str, after: int, count: int, conn: Any, ready: Any
) -> None:
    from channels_redis.core import RedisChannelLayer
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    # [client][(bench_seq, receive time)]; the probe's list comes last.
    received: list[list[tuple[int, float]]] = [[] for _ in range(count + 1)]
    joined = 0
    all_joined = asyncio.Event()
    # The same layer settings as config.settings.base.channel_layer_config.
    layer = RedisChannelLayer(hosts=[os.environ["REDIS_URL"]], capacity=2000, expiry=30)
    probe_channel = await layer.new_channel()
    await layer.group_add("board", probe_channel)

    async def probe() -> None:
        while True:
            message = await layer.receive(probe_channel)
            now = time.time()
            for text in message["texts"]:
                seq = json.loads(text)["event"]["data"].get("bench_seq")
                if seq is not None:
                    received[count].append((seq, now))

    async def client(index: int) -> None:
        nonlocal joined
        async with connect(
            url,
            origin=Origin(origin),
            additional_headers={"Authorization": f"Token {token}"},
            proxy=None,
            max_queue=None,
            ping_interval=None,
            open_timeout=60,
        ) as ws:
            await ws.send(json.dumps({"after": after}))
            async for raw in ws:
                now = time.time()
                message = json.loads(raw)
                if message.get("type") == "event":
                    seq = message["event"]["data"].get("bench_seq")
                    if seq is not None:
                        received[index].append((seq, now))
                elif message.get("type") == "ready":
                    joined += 1
                    if joined == count:
                        all_joined.set()
                else:
                    raise RuntimeError(f"unexpected message {message}")

    tasks = [asyncio.create_task(client(i)) for i in range(count)]
    tasks.append(asyncio.create_task(probe()))
    waiter = asyncio.create_task(all_joined.wait())
    await asyncio.wait([waiter, *tasks], timeout=60, return_when="FIRST_COMPLETED")
    failed = [t for t in tasks if t.done()]
    if not all_joined.is_set() or failed:
        error = repr(failed[0].exception()) if failed else "timeout"
        conn.send({"error": f"{joined}/{count} clients joined: {error}"})
        return
    ready.set()
    while not conn.poll():
        await asyncio.sleep(0.05)
    expected, drain_s = conn.recv()
    deadline = time.monotonic() + drain_s
    while time.monotonic() < deadline and any(len(r) < expected for r in received):
        await asyncio.sleep(0.05)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await layer.group_discard("board", probe_channel)
    conn.send({"received": received})


def _spread(values: list[float]) -> str:
    if not values:
        return "none"
    return (
        f"p50 {percentile(values, 0.5):.0f} ms, p95 {percentile(values, 0.95):.0f} "
        f"ms, max {max(values):.0f} ms"
    )


def cpu_seconds(pid: int) -> float:
    """Return user + system CPU seconds a process has used."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def produce(runs: list[Any], rate: float, seconds: float) -> list[float]:
    """Write one event per transaction at `rate`/s; return each commit's time."""
    from django.db import transaction

    from runs.events import EventLog

    commits: list[float] = []
    began = time.time()
    for seq in range(int(rate * seconds)):
        pause = began + seq / rate - time.time()
        if pause > 0:
            time.sleep(pause)
        with transaction.atomic():
            log = EventLog()
            log.add(
                "bench_probe",
                run=runs[seq % len(runs)],
                actor="system:bench",
                data={"bench_seq": seq, "sent": time.time()},
            )
            log.flush()
        commits.append(time.time())
    return commits


def measure_live(
    *,
    port: int,
    token: str,
    web_pid: int,
    workflow_ids: list[int],
    clients: int,
    rate: float,
    seconds: float,
) -> dict[str, Any]:
    """Stream events to `clients` board connections; return delivery latencies."""
    from runs.models import Run
    from runs.selectors import last_event_id

    runs = list(
        Run.objects.filter(workflow_id__in=workflow_ids, state="running")
        .only("id", "workflow_id", "version_id", "state")
        .order_by("-id")[:200]
    )
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    ready = context.Event()
    after = last_event_id()
    process = context.Process(
        target=ws_clients,
        args=(
            f"ws://127.0.0.1:{port}/ws/board/",
            f"http://127.0.0.1:{port}",
            token,
            after,
            clients,
            child,
            ready,
        ),
    )
    process.start()
    try:
        began = time.monotonic()
        while not ready.wait(0.2):
            if parent.poll():
                raise SystemExit(f"WebSocket clients failed: {parent.recv()['error']}")
            if time.monotonic() - began > 90:
                raise SystemExit("WebSocket clients did not join in 90 s")
        connect_s = time.monotonic() - began
        time.sleep(0.5)
        assert process.pid is not None
        cpu_before = cpu_seconds(web_pid), cpu_seconds(process.pid)
        wall = time.monotonic()
        commits = produce(runs, rate, seconds)
        produce_s = time.monotonic() - wall
        parent.send((len(commits), 15.0))
        if not parent.poll(60):
            raise SystemExit("WebSocket clients did not report")
        cpu_after = cpu_seconds(web_pid), cpu_seconds(process.pid)
        wall = time.monotonic() - wall
        answer = parent.recv()
    finally:
        process.join(10)
        if process.is_alive():
            process.terminate()
    if "error" in answer:
        raise SystemExit(f"WebSocket clients failed: {answer['error']}")
    *per_client, probed = answer["received"]
    delivered: list[float] = []
    duplicates = missing = 0
    for messages in per_client:
        seqs = {seq for seq, _ in messages}
        duplicates += len(messages) - len(seqs)
        missing += len(commits) - len(seqs)
        delivered += [(at - commits[seq]) * 1000 for seq, at in messages]
    relay = [(at - commits[seq]) * 1000 for seq, at in probed]
    # For the verdict a delivery that never came counts as infinitely late.
    latencies = delivered + [math.inf] * missing
    return {
        "name": f"live: commit → {clients} board clients",
        "path": "/ws/board/",
        "n": len(latencies),
        "p50": percentile(latencies, 0.5),
        "p95": percentile(latencies, 0.95),
        "max": max(latencies),
        "target": WS_TARGET_MS,
        "events": len(commits),
        "rate": len(commits) / produce_s,
        "missing": missing,
        "duplicates": duplicates,
        "delivered": _spread(delivered),
        "relayed": len({seq for seq, _ in probed}),
        "relay": _spread(relay),
        "connect_s": connect_s,
        "web_cpu": (cpu_after[0] - cpu_before[0]) / wall,
        "client_cpu": (cpu_after[1] - cpu_before[1]) / wall,
    }


# ------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--reload", action="store_true", help="delete and load again")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50, help="per endpoint")
    parser.add_argument("--ws-clients", type=int, default=50)
    parser.add_argument("--ws-rate", type=float, default=200.0, help="events/s")
    parser.add_argument("--ws-seconds", type=float, default=20.0)
    parser.add_argument("--no-ws", action="store_true", help="skip the live test")
    parser.add_argument("--no-http", action="store_true", help="skip the API test")
    parser.add_argument("--slow-ms", type=float, default=200.0)
    parser.add_argument("--total-runs", type=int, default=0, help="top up to this")
    parser.add_argument("--prune", type=int, default=0, help="runs to prune, twice")
    args = parser.parse_args()

    setup_django()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db.models import Max, Min
    from rest_framework.authtoken.models import Token

    from runs.models import Run

    scale = ensure_scale_workflows()
    workflow_ids = [w.pk for w, _, _ in scale]
    slugs = [w.slug for w, _, _ in scale]
    count = scale_run_count(workflow_ids)
    if args.reload or count != args.runs:
        load(args.runs, scale)
    else:
        print(f"{count} scale runs already loaded (--reload to load again)")
    if args.total_runs:
        top_up_history(args.total_runs, scale_graph(1))
    scale_runs = Run.objects.filter(workflow_id__in=workflow_ids)
    span = scale_runs.aggregate(
        first=Min("id"), last=Max("id"), newest=Max("created_at")
    )
    age_days = (time.time() - span["newest"].timestamp()) / 86400
    if age_days > 1:
        print(
            f"note: the newest scale run is {age_days:.1f} days old, so the 7-day "
            "metrics window holds fewer runs than at load time; --reload to renew"
        )

    user, _ = get_user_model().objects.get_or_create(username="bench-scale")
    # An admin sees every workflow: the figures are for the unfiltered board.
    user.groups.add(Group.objects.get(name="admin"))
    token, _ = Token.objects.get_or_create(user=user)
    rng = random.Random(7)
    run_ids = [rng.randint(span["first"], span["last"]) for _ in range(args.requests)]
    endpoints: list[tuple[str, Callable[[int], str]]] = [
        ("board", lambda i: "/api/v1/runs/?limit=50"),
        ("board state=running", lambda i: "/api/v1/runs/?limit=50&state=running"),
        ("board state=failed", lambda i: "/api/v1/runs/?limit=50&state=failed"),
        (
            "board workflow=<slug>",
            lambda i: f"/api/v1/runs/?limit=50&workflow={slugs[i % len(slugs)]}",
        ),
        ("board sort=started", lambda i: "/api/v1/runs/?limit=50&sort=started"),
        ("board sort=finished", lambda i: "/api/v1/runs/?limit=50&sort=finished"),
        ("board sort=workflow", lambda i: "/api/v1/runs/?limit=50&sort=workflow"),
        ("board queue=default", lambda i: "/api/v1/runs/?limit=50&queue=default"),
        ("board counts", lambda i: "/api/v1/runs/counts/"),
        ("run detail", lambda i: f"/api/v1/runs/{run_ids[i]}/"),
        ("metrics (all workflows)", lambda i: "/api/v1/metrics/"),
        (
            "metrics workflow v1 vs v2",
            lambda i: (
                f"/api/v1/metrics/?workflow={slugs[i % len(slugs)]}&version=1&compare=2"
            ),
        ),
    ]

    endpoints += search_endpoints(run_ids, lambda i: COUNTRIES[i % len(COUNTRIES)])
    port = free_port()
    web = start_web(port, token.key)
    results: list[dict[str, Any]] = []
    live: dict[str, Any] | None = None
    try:
        client = Http(port, token.key)
        if not args.no_http:
            print(f"\nHTTP, daphne on :{port}, up to {args.requests} requests each")
            for name, path_for in endpoints:
                result = measure(client, name, path_for, args.requests)
                results.append(result)
                print(_line(result), flush=True)
        slow = report_queries(results, user, args.slow_ms)
        if not args.no_ws:
            print(
                f"\nlive: {args.ws_clients} clients on /ws/board/, "
                f"{args.ws_rate:g} events/s for {args.ws_seconds:g} s",
                flush=True,
            )
            live = measure_live(
                port=port,
                token=token.key,
                web_pid=web.pid,
                workflow_ids=workflow_ids,
                clients=args.ws_clients,
                rate=args.ws_rate,
                seconds=args.ws_seconds,
            )
            print(
                f"{live['events']} events at {live['rate']:.0f}/s; clients joined in "
                f"{live['connect_s']:.1f} s; {live['n']} deliveries expected, "
                f"{live['missing']} missing 15 s after the last commit, "
                f"{live['duplicates']} duplicates\n"
                f"delivered: {live['delivered']}\n"
                f"relay stage (commit → channel layer, a probe in the board group): "
                f"{live['relayed']} of {live['events']} events, {live['relay']}\n"
                f"CPU: daphne {live['web_cpu']:.0%}, clients "
                f"{live['client_cpu']:.0%} of one core (averaged to the end of the "
                "drain)"
            )
            print(_line(live))
    finally:
        stop(web)

    pruning = measure_pruning(args.prune, scale_graph(1)) if args.prune else []
    print(f"\nsummary ({scale_runs.count()} scale runs, {Run.objects.count()} runs)")
    print(f"{'measure':<40} {'n':>5} {'p50':>8} {'p95':>8} {'max':>8}  target")
    rows = results + ([live] if live else [])
    for result in rows:
        print(_line(result))
    failed = [r["name"] for r in rows if r["p95"] >= r["target"]]
    if slow:
        print(
            "slow queries: "
            + "; ".join(f"{q['endpoint']} {q['ms']:.0f} ms" for q in slow)
        )
    for p in pruning:
        how = "with" if p["archive"] else "without"
        print(f"pruning {how} archive: {p['runs']} runs, {p['rate']:.0f} runs/s")
    parts = [f"{r['name']} p95 {r['p95']:.0f} ms" for r in rows]
    verdict = "all PASS" if not failed else f"FAIL: {', '.join(failed)}"
    print(f"summary: {'; '.join(parts)} ({verdict})")


def _line(result: dict[str, Any]) -> str:
    verdict = "PASS" if result["p95"] < result["target"] else "FAIL"
    return (
        f"{result['name']:<40} {result['n']:>5} {result['p50']:>6.0f}ms "
        f"{result['p95']:>6.0f}ms {result['max']:>6.0f}ms  "
        f"< {result['target']:.0f} ms {verdict}"
    )


if __name__ == "__main__":
    main()
