"""Time the board, metrics and run APIs and the live event stream at 100k runs.

Loads 100k runs of 5 workflows × 2 versions over the last 30 days (10 steps each, about
1M attempts and 700k events) into the bench database with COPY, once: a rerun finds
them and skips the load (`--reload` deletes and loads again). Then starts daphne on
that database and prints p50/p95/max of each API endpoint against 200 ms, the queries
behind each endpoint with EXPLAIN ANALYZE of those over `--slow-ms`, and p50/p95/max of
commit → WebSocket delivery while events flow to many board clients, against 100 ms.

Usage: python bench/scale.py [--reload] [--runs 100000] [--requests 50]
       [--ws-clients 50] [--ws-rate 200] [--ws-seconds 20] [--no-ws] [--no-http]
       [--slow-ms 200]
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
from datetime import UTC, datetime
from typing import Any

sys.path.insert(0, __import__("os").path.dirname(__file__))
from common import ROOT, setup_django, stop  # noqa: E402

WORKFLOWS = 5
TASKS = 8
DAYS = 30
BATCH = 10_000
HTTP_TARGET_MS = 200.0
WS_TARGET_MS = 100.0
# An endpoint stops sampling after this long (at least MIN_SAMPLES requests), so a
# slow endpoint cannot stretch the run past a few minutes.
ENDPOINT_BUDGET_S = 40.0
MIN_SAMPLES = 5

# Columns written by COPY, per table; checked against the models before loading.
RUN_COLUMNS = (
    "id", "workflow_id", "version_id", "state", "input", "output", "error",
    "idempotency_key", "created_by_id", "created_at", "started_at", "finished_at",
    "reruns",
)  # fmt: skip
STEP_COLUMNS = (
    "id", "run_id", "node_id", "seq", "node_type", "state", "output", "error",
    "taken_edges", "created_at", "started_at", "finished_at", "wake_at",
    "compensates_id",
)  # fmt: skip
ATTEMPT_COLUMNS = (
    "id", "step_id", "run_id", "number", "state", "queue", "priority", "due_at",
    "enqueued_at", "started_at", "finished_at", "heartbeat_at", "deadline_at",
    "publish_count", "worker", "error",
)  # fmt: skip
EVENT_COLUMNS = (
    "id", "workflow_id", "version_id", "run_id", "step_id", "attempt_id", "node_id",
    "kind", "from_state", "to_state", "actor", "reason", "data", "created_at",
)  # fmt: skip
TABLES = ("runs_run", "runs_steprun", "runs_attempt", "runs_event")

ATTEMPT_ERROR = json.dumps(
    {"type": "StepFailed", "message": "Unavailable", "retryable": True}
)


def scale_graph(version: int) -> dict[str, Any]:
    """Return start → t0 … t7 → done; version 2 retries more (a different graph)."""
    nodes = [{"id": "start", "type": "start"}]
    nodes += [
        {"id": f"t{i}", "type": "task", "action": "builtin.noop"} for i in range(TASKS)
    ]
    nodes.append({"id": "done", "type": "end"})
    ids = [n["id"] for n in nodes]
    edges = [
        {"id": f"e{i}", "source": a, "target": b}
        for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False))
    ]
    retry = {"max_attempts": 3 if version == 1 else 4}
    return {"format": 1, "defaults": {"retry": retry}, "nodes": nodes, "edges": edges}


def ensure_scale_workflows() -> list[tuple[Any, Any, Any]]:
    """Return [(workflow, version 1, version 2)] of `scale-0` … `scale-4`."""
    from designer import services as designer
    from designer.models import Workflow, WorkflowVersion
    from runs import releases

    found = []
    for index in range(WORKFLOWS):
        slug = f"scale-{index}"
        workflow = Workflow.objects.filter(slug=slug).first()
        if workflow is None:
            workflow = designer.workflow_create(slug=slug, name=f"Scale {index}")
        for number in (1, 2):
            if not workflow.versions.filter(number=number).exists():
                version, _ = designer.version_create(
                    workflow=workflow, graph=scale_graph(number)
                )
                releases.version_publish(version=version)
        v1, v2 = (
            WorkflowVersion.objects.get(workflow=workflow, number=n) for n in (1, 2)
        )
        found.append((workflow, v1, v2))
    return found


# ------------------------------------------------------------------ data


class Generator:
    """Make the rows of runs in time order: runs, their steps, attempts and events.

    Times are epoch seconds until the row is written. Runs of the last 10 minutes are
    still pending or running; older ones mostly succeeded. Version 2 goes live on day
    15 and takes half of the runs from then, failing twice as often as version 1.
    """

    def __init__(
        self, *, total: int, now: float, workflows: list[tuple[int, int, int]]
    ) -> None:
        self.rng = random.Random(20261124)
        self.now = now
        self.start = now - DAYS * 86400
        self.spacing = DAYS * 86400 / total
        self.v2_from = now - DAYS * 86400 / 2
        self.workflows = workflows
        self.ids = {table: 0 for table in TABLES}
        self.runs: list[tuple] = []
        self.steps: list[tuple] = []
        self.attempts: list[tuple] = []
        self.events: list[tuple] = []

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def take(self) -> tuple[list[tuple], ...]:
        """Return the rows made since the last call, by table."""
        rows = self.runs, self.steps, self.attempts, self.events
        self.runs, self.steps, self.attempts, self.events = [], [], [], []
        return rows

    def queue_delay(self) -> float:
        r = self.rng.random()
        if r < 0.94:
            return 0.002 + self.rng.random() * 0.03
        if r < 0.995:
            return 0.1 + self.rng.random() * 2
        return 5 + self.rng.random() * 55

    def event(
        self,
        kind: str,
        at: float,
        run: tuple[int, int, int],
        *,
        step_id: int | None = None,
        attempt_id: int | None = None,
        node_id: str = "",
        from_state: str = "",
        to_state: str = "",
    ) -> None:
        run_id, workflow_id, version_id = run
        self.events.append(
            (
                self.next_id("runs_event"), workflow_id, version_id, run_id, step_id,
                attempt_id, node_id, kind, from_state, to_state, "system:bench", "",
                "{}", _dt(at),
            )
        )  # fmt: skip

    def run(self, index: int) -> None:
        rng = self.rng
        created = self.start + (index + rng.random()) * self.spacing
        workflow_id, v1, v2 = self.workflows[rng.randrange(len(self.workflows))]
        second = created >= self.v2_from and rng.random() < 0.5
        version_id = v2 if second else v1
        r = rng.random()
        if self.now - created < 600:
            state = "running" if r < 0.6 else "pending"
        else:
            failing = 0.08 if second else 0.04
            state = "succeeded"
            for name, share in (
                ("failed", failing),
                ("cancelled", 0.01),
                ("running", 0.01),
                ("pending", 0.005),
            ):
                if r < share:
                    state = name
                    break
                r -= share
        run_id = self.next_id("runs_run")
        key = (run_id, workflow_id, version_id)
        self.event("run_created", created, key, to_state="pending")
        if state == "pending":
            self.runs.append(_run_row(key, state, created, None, None, None))
            return
        started = created + 0.005 + rng.random() * 0.05
        self.event(
            "run_running", started, key, from_state="pending", to_state="running"
        )
        stop_task = rng.randrange(TASKS) if state != "succeeded" else -1
        t = started
        self.steps.append(
            _step_row(self.next_id("runs_steprun"), run_id, "start", "start",
                      "succeeded", t, t, t, "e0")
        )  # fmt: skip
        error = None
        for task in range(TASKS):
            t = self.task(key, task, t, state if task == stop_task else "succeeded")
            if task == stop_task:
                if state == "failed":
                    error = {
                        "type": "StepFailed",
                        "message": "Unavailable",
                        "node_id": f"t{task}",
                    }
                break
        finished = None
        if state == "succeeded":
            t += 0.003
            self.steps.append(
                _step_row(self.next_id("runs_steprun"), run_id, "done", "end",
                          "succeeded", t, t, t, None)
            )  # fmt: skip
        if state in ("succeeded", "failed", "cancelled"):
            finished = t + 0.002
            self.event(f"run_{state}", finished, key, from_state="running",
                       to_state=state)  # fmt: skip
        self.runs.append(_run_row(key, state, created, started, finished, error))

    def task(self, run: tuple[int, int, int], task: int, t: float, state: str) -> float:
        """Add step t<task> ending in `state` and its attempts; return when it ended."""
        rng = self.rng
        run_id = run[0]
        node_id = f"t{task}"
        step_id = self.next_id("runs_steprun")
        if state == "failed":
            tries = 3
        elif state in ("running", "cancelled"):
            tries = rng.choice((1, 1, 2))
        else:
            r = rng.random()
            tries = 1 if r < 0.8 else 2 if r < 0.95 else 3
        due = created = t
        first_start = None
        for number in range(1, tries + 1):
            attempt_id = self.next_id("runs_attempt")
            last = number == tries
            began = due + self.queue_delay()
            started: float | None = began
            ended: float | None = began + 0.01 + rng.expovariate(1 / 0.05)
            outcome = "failed"
            if last and state == "succeeded":
                outcome = "succeeded"
            elif last and state == "running":
                outcome, ended = "running", None
            elif last and state == "cancelled":
                outcome, started, ended = "cancelled", None, due + 1.0
            first_start = first_start or started
            self.attempts.append(
                (
                    attempt_id, step_id, run_id, number, outcome, "default", 5,
                    _dt(due), _dt(due), _dt(started), _dt(ended), _dt(started),
                    _dt(started + 300 if started else None), 1, "bench@scale",
                    ATTEMPT_ERROR if outcome == "failed" else None,
                )
            )  # fmt: skip
            if outcome == "failed":
                assert ended is not None
                self.event("attempt_failed", ended, run, step_id=step_id,
                           attempt_id=attempt_id, node_id=node_id,
                           from_state="running", to_state="failed")  # fmt: skip
                if not last:
                    due = ended + 0.5 * 2 ** (number - 1)
                    self.event("attempt_scheduled", ended, run, step_id=step_id,
                               node_id=node_id, to_state="scheduled")  # fmt: skip
            t = ended if ended is not None else due
        edge = f"e{task + 1}" if state == "succeeded" else None
        finished = t if state != "running" else None
        self.steps.append(
            _step_row(step_id, run_id, node_id, "task", state, created, first_start,
                      finished, edge)
        )  # fmt: skip
        return t


def _dt(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _run_row(
    key: tuple[int, int, int],
    state: str,
    created: float,
    started: float | None,
    finished: float | None,
    error: dict[str, Any] | None,
) -> tuple:
    run_id, workflow_id, version_id = key
    output = '{"ok": true}' if state == "succeeded" else None
    return (
        run_id, workflow_id, version_id, state, "{}", output,
        json.dumps(error) if error else None, None, None, _dt(created), _dt(started),
        _dt(finished), "[]",
    )  # fmt: skip


def _step_row(
    step_id: int,
    run_id: int,
    node_id: str,
    node_type: str,
    state: str,
    created: float,
    started: float | None,
    finished: float | None,
    edge: str | None,
) -> tuple:
    return (
        step_id, run_id, node_id, 1, node_type, state, None, None,
        json.dumps([edge] if edge else []), _dt(created), _dt(started),
        _dt(finished), None, None,
    )  # fmt: skip


def check_columns() -> None:
    """Refuse to load when the models have columns this script does not write."""
    from runs.models import Attempt, Event, Run, StepRun

    for model, columns in (
        (Run, RUN_COLUMNS),
        (StepRun, STEP_COLUMNS),
        (Attempt, ATTEMPT_COLUMNS),
        (Event, EVENT_COLUMNS),
    ):
        actual = {str(f.column) for f in model._meta.concrete_fields}
        if actual != set(columns):
            raise SystemExit(
                f"{model._meta.db_table} changed: add {sorted(actual - set(columns))}"
                f", drop {sorted(set(columns) - actual)} in bench/scale.py"
            )


def scale_run_count(workflow_ids: list[int]) -> int:
    from runs.models import Run

    return Run.objects.filter(workflow_id__in=workflow_ids).count()


def delete_scale_data(conn: Any, workflow_ids: list[int]) -> None:
    """Delete the runs of the scale workflows with their steps, attempts, events.

    Foreign-key triggers are off for this transaction (the rows go children first):
    `runs_steprun.compensates_id` has no index, so checking it costs a scan of the
    step table per deleted step, and 10k runs took 16 minutes to delete with them on.
    """
    runs = "SELECT id FROM runs_run WHERE workflow_id = ANY(%s)"
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        for sql in (
            f"DELETE FROM runs_event WHERE run_id IN ({runs})",  # noqa: S608
            f"DELETE FROM runs_attempt WHERE run_id IN ({runs})",  # noqa: S608
            f"DELETE FROM runs_steprun WHERE run_id IN ({runs})",  # noqa: S608
            f"UPDATE runs_ledgerentry SET run_id = NULL WHERE run_id IN ({runs})",  # noqa: S608
            "DELETE FROM runs_run WHERE workflow_id = ANY(%s)",
        ):
            conn.execute(sql, [workflow_ids])


def load(total: int, scale: list[tuple[Any, Any, Any]]) -> None:
    """COPY `total` runs with their rows, one transaction per BATCH runs."""
    import psycopg

    check_columns()
    workflow_ids = [w.pk for w, _, _ in scale]
    generator = Generator(
        total=total,
        now=time.time(),
        workflows=[(w.pk, v1.pk, v2.pk) for w, v1, v2 in scale],
    )
    counts = dict.fromkeys(TABLES, 0)
    began = time.monotonic()
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        if scale_run_count(workflow_ids):
            print("deleting the previous scale data ...", flush=True)
            delete_scale_data(conn, workflow_ids)
        for first in range(0, total, BATCH):
            with conn.transaction():
                # Ids come from the sequences; the lock keeps other writers out of
                # the range until the sequences are moved past it.
                conn.execute(
                    f"LOCK TABLE {', '.join(TABLES)} IN SHARE ROW EXCLUSIVE MODE"
                )
                for table in TABLES:
                    (generator.ids[table],) = conn.execute(
                        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) - 1",
                        [table],
                    ).fetchone() or (0,)
                for index in range(first, min(first + BATCH, total)):
                    generator.run(index)
                rows = generator.take()
                columns = (RUN_COLUMNS, STEP_COLUMNS, ATTEMPT_COLUMNS, EVENT_COLUMNS)
                with conn.cursor() as cursor:
                    for table, cols, batch in zip(TABLES, columns, rows, strict=True):
                        copy_sql = f"COPY {table} ({', '.join(cols)}) FROM STDIN"
                        with cursor.copy(copy_sql) as copy:
                            for row in batch:
                                copy.write_row(row)
                        counts[table] += len(batch)
                for table in TABLES:
                    conn.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                        [table, generator.ids[table]],
                    )
            done = min(first + BATCH, total)
            print(
                f"  {done:>7} runs loaded ({time.monotonic() - began:.0f} s)",
                flush=True,
            )
    print("vacuum analyze ...", flush=True)
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
    print(
        f"loaded {counts['runs_run']} runs, {counts['runs_steprun']} steps, "
        f"{counts['runs_attempt']} attempts, {counts['runs_event']} events "
        f"in {time.monotonic() - began:.0f} s"
    )


# ------------------------------------------------------------------ web server


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

    print(f"\nsummary ({scale_runs.count()} scale runs)")
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
