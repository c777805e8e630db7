"""Restart Redis and PostgreSQL, kill workers and the beat under load; count losses.

Starts a private PostgreSQL cluster and Redis server on free ports (never the shared
ones), two Celery workers, one beat and daphne, then RUNS runs of a STEPS-step
`builtin.ledger` workflow (a timer between two steps keeps every run in flight). While
they run it injects the faults in order, each once the ledger holds its share of the
work: SIGKILL a worker (its process group, as when its machine dies) and start a
replacement, SIGKILL the beat and start another, stop Redis and start it again, stop
PostgreSQL (fast or immediate shutdown, the signals of `pg_ctl stop -m
fast|immediate`) and start it again. Like the systemd units of docs/deploy.md, a
supervisor restarts a process that exits on its own (a crash, reported). A board
WebSocket client records every event id and reconnects with `{"after": last}`
whenever its connection drops.

Then it waits until every run is terminal and prints: runs, faults, crashes, terminal
states, lost effects (succeeded ledger steps without their ledger row), doubled
effects (a (run, node) with more than one ledger row or more than one succeeded
attempt), re-executions absorbed by the idempotency key, events missing from (or
duplicated on) the client, and the time from the end of the last fault until every
run was terminal. Exits 1 if a run is not terminal, if lost, doubled, missing or
duplicated is not zero, or if a fault found no run open (it tested nothing).

Usage: .venv/bin/python bench/faults.py [--runs 500] [--steps 5]
       [--faults worker,redis,pg-fast,beat,pg-immediate,worker]
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))
from common import ROOT, ensure_workflow, setup_django  # noqa: E402
from fault_rig import (  # noqa: E402
    DEFAULT_FAULTS,
    FAULTS,
    TERMINAL,
    BoardClient,
    Postgres,
    Processes,
    Redis,
    db,
    free_port,
    wait_until,
)


def ledger_graph(steps: int, wait_s: float) -> dict[str, Any]:
    """Return start → s1 → (wait) → s2 → … → sN → end, each s a `builtin.ledger`.

    The waits keep every run in flight for a while (their timers are fired by beat,
    so a dead beat holds them up) without holding a worker.
    """
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
    edges: list[dict[str, Any]] = []
    previous = "start"
    for i in range(1, steps + 1):
        if i > 1 and wait_s > 0:
            nodes.append({"id": f"w{i}", "type": "wait", "seconds": wait_s})
            edges.append({"id": f"ew{i}", "source": previous, "target": f"w{i}"})
            previous = f"w{i}"
        nodes.append({"id": f"s{i}", "type": "task", "action": "builtin.ledger"})
        edges.append({"id": f"e{i}", "source": previous, "target": f"s{i}"})
        previous = f"s{i}"
    nodes.append({"id": "done", "type": "end"})
    edges.append({"id": "e_end", "source": previous, "target": "done"})
    return {
        "format": 1,
        # Every run is admitted at once: all of them are running during the faults.
        "max_concurrent_runs": 100_000,
        "defaults": {
            "queue": "default",
            "retry": {
                "max_attempts": 5,
                "initial_interval_s": 0.2,
                "backoff": 2.0,
                "jitter": "none",
            },
        },
        "nodes": nodes,
        "edges": edges,
    }


# -------------------------------------------------------------------------- main


def _remove_stale_dirs() -> None:
    """Remove the directories of earlier benches that were killed (SIGKILL leaves
    them: their servers died with them, by the parent-death signal)."""
    for path in Path(tempfile.gettempdir()).glob("switchyard-faults-*-*"):
        pid = path.name.split("-")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(path, ignore_errors=True)


class Bench:
    """One fault run: services, processes, the runs, the faults, the report."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        _remove_stale_dirs()
        self.base = Path(tempfile.mkdtemp(prefix=f"switchyard-faults-{os.getpid()}-"))
        # The postgres account must reach its directory inside.
        self.base.chmod(0o755)  # noqa: S103
        self.logs = Path(args.logs).resolve()
        shutil.rmtree(self.logs, ignore_errors=True)
        self.logs.mkdir(parents=True)
        self.pg = Postgres(self.base, free_port(), self.logs / "postgres.log")
        self.redis = Redis(self.base, free_port(), self.logs / "redis.log")
        self.procs = Processes(self.logs, args.concurrency, args.restart_s)
        self.client: BoardClient | None = None
        self.began = time.monotonic()
        # [(fault, began, ended, runs not terminal when it began)], monotonic times
        self.done: list[tuple[str, float, float, int]] = []
        self.run_ids: list[int] = []

    def cleanup(self) -> None:
        """Stop everything this bench started; safe to call twice."""
        if self.client is not None:
            self.client.stop()
            self.client = None
        self.procs.stop_all()
        self.redis.stop()
        self.pg.stop("fast")
        shutil.rmtree(self.base, ignore_errors=True)

    def wait(self, predicate: Callable[[], Any], *, timeout: float, what: str) -> None:
        """Wait for a condition while supervising the Switchyard processes."""

        def check() -> Any:
            self.procs.supervise()
            return predicate()

        wait_until(check, timeout=timeout, what=what, interval=0.25)

    def progress(self) -> tuple[int, int]:
        """Return (ledger rows, runs not terminal) of this bench's runs."""
        from runs.models import LedgerEntry, Run

        def read() -> tuple[int, int]:
            effects = LedgerEntry.objects.filter(run_id__in=self.run_ids).count()
            open_runs = (
                Run.objects.filter(pk__in=self.run_ids)
                .exclude(state__in=TERMINAL)
                .count()
            )
            return effects, open_runs

        return db(read)

    def fault(self, kind: str) -> None:
        if kind == "worker":
            # Alternate between the workers.
            victim = sum(1 for k, *_ in self.done if k == "worker") % self.args.workers
            self.procs.kill(f"worker-{victim + 1}")
        elif kind == "beat":
            self.procs.kill("beat")
        elif kind == "redis":
            self.redis.stop()
            time.sleep(self.args.down_s)
            self.redis.start()
        else:
            self.pg.stop("immediate" if kind == "pg-immediate" else "fast")
            time.sleep(self.args.down_s)
            self.pg.start()

    def run(self) -> int:
        args = self.args
        self.pg.init()
        self.pg.start()
        self.redis.start()
        os.environ["DATABASE_URL"] = self.pg.url("switchyard_faults")
        os.environ["REDIS_URL"] = self.redis.url()
        os.environ["PYTHONUNBUFFERED"] = "1"
        setup_django()
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from rest_framework.authtoken.models import Token

        from engine.budget import get_budget
        from runs.services.starting import run_start

        user, _ = get_user_model().objects.get_or_create(username="faults-board")
        user.groups.add(Group.objects.get(name="admin"))
        token = Token.objects.get_or_create(user=user)[0].key
        workflow = ensure_workflow(
            f"faults-{args.steps}", ledger_graph(args.steps, args.wait_s)
        )
        port = free_port()
        self.procs.add("web", lambda: self.procs.web(port, token))
        self.client = BoardClient(port, token)
        self.client.start()
        for n in range(1, args.workers + 1):
            self.procs.add(f"worker-{n}", self.procs.worker)
        self.procs.add("beat", self.procs.beat)

        total = args.runs * args.steps
        plan = [f for f in args.faults.split(",") if f]
        print(
            f"faults: {args.runs} runs × {args.steps} ledger steps ({args.wait_s:g} s "
            f"timers between), {args.workers} workers × {args.concurrency}, one beat, "
            f"daphne; faults {', '.join(plan) or 'none'}; PostgreSQL "
            f":{self.pg.port}, Redis :{self.redis.port}, logs {self.logs}",
            flush=True,
        )
        self.began = time.monotonic()
        for i in range(args.runs):
            run, _ = run_start(workflow=workflow, input={"i": i}, actor="system:bench")
            self.run_ids.append(run.pk)
        get_budget().flush()

        last_end = self.began
        for index, kind in enumerate(plan):
            # Each fault once the ledger holds its share of the effects: they land
            # while runs are in flight, however fast the machine.
            share = args.first + (args.last - args.first) * index / max(
                1, len(plan) - 1
            )

            def reached(share: float = share) -> bool:
                effects, open_runs = self.progress()
                return effects >= share * total or not open_runs

            def rested(since: float = last_end) -> bool:
                return time.monotonic() - since >= args.gap_s

            self.wait(reached, timeout=args.timeout, what=f"{share:.0%} of effects")
            self.wait(rested, timeout=args.gap_s + 1, what="the gap between faults")
            effects, open_runs = self.progress()
            start = time.monotonic()
            self.fault(kind)
            last_end = time.monotonic()
            self.done.append((kind, start, last_end, open_runs))
            print(
                f"  t={start - self.began:6.1f}s {kind:<13} at {effects}/{total} "
                f"effects, {open_runs} runs open, back after {last_end - start:.1f}s",
                flush=True,
            )
        self.wait(
            lambda: self.progress()[1] == 0,
            timeout=args.timeout,
            what="every run to be terminal",
        )
        return self.report(finished=time.monotonic(), last_end=last_end)

    def report(self, *, finished: float, last_end: float) -> int:
        from django.db.models import Count

        from runs.models import Attempt, Event, LedgerEntry, Run, StepRun

        args, client, run_ids = self.args, self.client, self.run_ids
        assert client is not None
        newest = Event.objects.order_by("-id").values_list("id", flat=True).first()
        # The client catches up with the table (bounded), reconnecting if it must.
        deadline = time.monotonic() + args.drain_s
        while client.last < (newest or 0) and time.monotonic() < deadline:
            self.procs.supervise()
            time.sleep(0.2)
        caught_up = time.monotonic()

        states = Counter(
            Run.objects.filter(pk__in=run_ids).values_list("state", flat=True)
        )
        not_terminal = sum(n for s, n in states.items() if s not in TERMINAL)
        # Effects: one ledger row per succeeded ledger step, keyed run:node:visit.
        succeeded_keys = {
            f"{run_id}:{node_id}:{seq}"
            for run_id, node_id, seq in StepRun.objects.filter(
                run_id__in=run_ids, state="succeeded", node_type="task"
            ).values_list("run_id", "node_id", "seq")
        }
        ledger = list(
            LedgerEntry.objects.filter(run_id__in=run_ids).values_list(
                "key", "run_id", "node_id"
            )
        )
        keys = {k for k, _, _ in ledger}
        lost = len(succeeded_keys - keys)
        unrecorded = len(keys - succeeded_keys)
        # Doubled: a node whose effect was made twice (a second visit, a second key)
        # or whose step succeeded twice. Equal keys cannot repeat (unique index).
        per_node = Counter((run_id, node_id) for _, run_id, node_id in ledger)
        doubled = sum(n - 1 for n in per_node.values() if n > 1)
        doubled += (
            Attempt.objects.filter(run_id__in=run_ids, state="succeeded")
            .values("step_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        started = Counter(
            Attempt.objects.filter(
                run_id__in=run_ids, started_at__isnull=False
            ).values_list("step_id", flat=True)
        )
        replays = sum(n - 1 for n in started.values())
        errors = Counter(
            (error or {}).get("type", "?")
            for error in Attempt.objects.filter(
                run_id__in=run_ids, state="failed"
            ).values_list("error", flat=True)
        )
        republished = Event.objects.filter(
            run_id__in=run_ids, kind="attempt_republished"
        ).count()
        event_ids = set(Event.objects.values_list("id", flat=True))
        received = set(client.ids)
        missing_ids = sorted(event_ids - received)
        duplicates = len(client.ids) - len(received)
        kills = sum(1 for k, *_ in self.done if k in ("worker", "beat"))
        restarts = len(self.done) - kills
        idle = sum(1 for *_, open_runs in self.done if not open_runs)
        crashes = self.procs.crashes
        recover_s = finished - last_end

        print(
            f"runs: {len(run_ids)} × {args.steps} steps, all terminal "
            f"{finished - self.began:.1f}s after the first start: {dict(states)}"
        )
        print(
            f"faults: {kills} kills, {restarts} restarts; runs open at each: "
            f"{[o for *_, o in self.done]}"
        )
        for role, at, code, line in crashes:
            print(
                f"crash: {role} exited with {code} at t={at - self.began:.1f}s, "
                f"restarted after {args.restart_s:g}s: {line}"
            )
        print(
            f"effects: {len(ledger)} ledger rows, {len(succeeded_keys)} succeeded "
            f"ledger steps; lost {lost}, doubled {doubled}, without a succeeded step "
            f"{unrecorded}; {replays} re-executions absorbed by the idempotency key"
        )
        print(
            f"recovery: failed attempts {dict(errors)}, {republished} attempts "
            "republished by the sweeper"
        )
        print(
            f"board client: {len(client.ids)} of {len(event_ids)} events, missing "
            f"{len(missing_ids)}, duplicates {duplicates}, out of order "
            f"{client.out_of_order}; {client.connections} sessions, "
            f"{client.drops} dropped; caught up {caught_up - finished:.1f}s after "
            "the runs"
        )
        if missing_ids:
            print(f"missing event ids: {_ranges(missing_ids)}")
            for opened, after, first, last, ended, reason in client.sessions:
                print(
                    f"  session t={opened - self.began:.1f}-{ended - self.began:.1f}"
                    f"s after={after} first={first} last={last}: {reason}"
                )
        print(
            f"time to recover (end of the last fault → every run terminal): "
            f"{recover_s:.1f}s"
        )
        bad = (
            not_terminal
            or lost
            or doubled
            or unrecorded
            or missing_ids
            or duplicates
            or idle
        )
        print(
            f"summary: runs={len(run_ids)} steps={args.steps} kills={kills} "
            f"restarts={restarts} crashes={len(crashes)} not_terminal={not_terminal} "
            f"lost={lost} doubled={doubled} missing_events={len(missing_ids)} "
            f"duplicate_events={duplicates} idle_faults={idle} "
            f"recover_s={recover_s:.1f} ({'FAIL' if bad else 'PASS'})"
        )
        return 1 if bad else 0


def _ranges(ids: list[int]) -> str:
    """Return '3-7, 9' for [3, 4, 5, 6, 7, 9]."""
    spans: list[list[int]] = []
    for i in ids:
        if spans and i == spans[-1][1] + 1:
            spans[-1][1] = i
        else:
            spans.append([i, i])
    return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in spans)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument(
        "--wait-s", type=float, default=1.0, help="timer between two ledger steps"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2, help="per worker")
    parser.add_argument(
        "--faults",
        default=DEFAULT_FAULTS,
        help=f"comma-separated, of {', '.join(FAULTS)}",
    )
    parser.add_argument(
        "--first",
        type=float,
        default=0.1,
        help="share of the effects before the first fault",
    )
    parser.add_argument(
        "--last",
        type=float,
        default=0.7,
        help="share of the effects before the last fault",
    )
    parser.add_argument(
        "--gap-s", type=float, default=2.0, help="at least this long between faults"
    )
    parser.add_argument(
        "--down-s",
        type=float,
        default=3.0,
        help="how long Redis and PostgreSQL stay down",
    )
    parser.add_argument(
        "--restart-s",
        type=float,
        default=2.0,
        help="the supervisor restarts a process that exits on its own after this",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="for each wait")
    parser.add_argument(
        "--drain-s", type=float, default=60.0, help="for the client to catch up"
    )
    parser.add_argument("--logs", default=str(ROOT / "var" / "faults"))
    args = parser.parse_args(argv)
    unknown = [f for f in args.faults.split(",") if f and f not in FAULTS]
    if unknown:
        parser.error(f"unknown faults {unknown}; choose from {FAULTS}")
    return args


def main() -> None:
    bench = Bench(parse())
    import atexit

    atexit.register(bench.cleanup)

    def on_signal(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    code = bench.run()
    bench.cleanup()
    sys.exit(code)


if __name__ == "__main__":
    main()
