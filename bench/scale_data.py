"""The bench data of bench/scale.py: its workflows and 100k generated runs, loaded with
COPY (runs, steps, attempts, events) and deleted again."""

import json
import os
import random
import sys
import time
from datetime import UTC, datetime
from typing import Any

sys.path.insert(0, __import__("os").path.dirname(__file__))


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
    "reruns", "trigger", "trigger_at", "deadline_at", "parent_run_id",
    "parent_attempt_id", "parent_item_id", "call_depth", "business_key",
    "trace_context",
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
    "handoff_id",
)  # fmt: skip
# Twenty countries, one per run in turn: `input.customer.country=` matches 5%.
COUNTRIES = [f"C{i:02d}" for i in range(20)]
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
                "{}", _dt(at), None,
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
    # An order per run: its business key and input fields are what search finds.
    order = f"ORD-{run_id:07d}"
    run_input = {"order_id": order, "customer": {"country": COUNTRIES[run_id % 20]}}
    return (
        run_id, workflow_id, version_id, state, json.dumps(run_input), output,
        json.dumps(error) if error else None, None, None, _dt(created), _dt(started),
        _dt(finished), "[]", "api", None, None, None, None, None, 0, order, None,
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
    from django.db import models

    from runs.models import Attempt, Event, Run, StepRun

    for model, columns in (
        (Run, RUN_COLUMNS),
        (StepRun, STEP_COLUMNS),
        (Attempt, ATTEMPT_COLUMNS),
        (Event, EVENT_COLUMNS),
    ):
        # Columns the database fills (Event.tx) are left to it.
        actual = {
            str(f.column)
            for f in model._meta.concrete_fields
            if f.db_default is models.NOT_PROVIDED
        }
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
