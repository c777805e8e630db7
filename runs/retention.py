"""Retention: delete finished runs past their workflow's window, archiving them first.

A periodic job (`engine.prune_runs`, on Celery beat) takes the workflows with
`retention_days` set, oldest runs first, in batches of at most `BATCH_RUNS` runs, each
batch in its own transaction, at most `TICK_BATCHES` batches per tick (with the
test snapshots no run runs on any more); a workflow
whose batch fails is logged, gets a `runs_prune_failed` event and is skipped until
the next tick, and the others go on (runs.sweeping.each_isolated).

A batch deletes its runs with every row that references them: their events and log
chunks (references without constraints, deleted by run), then the runs through
Django's collector (steps, attempts, handoffs, map items, joins, message waits,
notifications, whatever a later model adds with CASCADE; SET_NULL references, such
as a child run's parent, are cleared). With `retention_archive`, the batch's runs are
first written as gzip JSON Lines (one line per run with all those rows), fsynced and
renamed into place before the delete runs; if the delete fails the file is removed.

The live stream is never left short: a run is pruned only when all its events are at
or before the stream horizon, the relay's position (kept in Redis) or, without one,
the newest final event, and older than the stream grace (`SWITCHYARD_RETENTION_STREAM_
GRACE_S`, an hour by default): a consumer resuming from a position the relay gave
it in that time gets every event after it (docs/engine.md, "Retention").
"""

import gzip
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from designer.models import Workflow, WorkflowVersion
from runs.events import EventLog
from runs.models import (
    RUN_ACTIVE,
    RUN_FINISHED,
    Event,
    PruneTally,
    Run,
    StepLog,
    StepRun,
)
from runs.selectors import Position, last_event_position
from runs.sweeping import each_isolated

logger = logging.getLogger("switchyard.retention")

# Runs per transaction, batches per tick (bounded work per beat).
BATCH_RUNS = 500
TICK_BATCHES = 40
# `due` counts stop here (GET /api/v1/retention/).
DUE_CAP = 10_000
_RELAY_POSITION_KEY = "switchyard:relay:position"  # runs.relay keeps it


def archive_dir() -> Path:
    """Return where archives go (SWITCHYARD_ARCHIVE_DIR, by default var/archive/)."""
    configured = getattr(settings, "SWITCHYARD_ARCHIVE_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "archive"


def stream_grace() -> timedelta:
    return timedelta(
        seconds=getattr(settings, "SWITCHYARD_RETENTION_STREAM_GRACE_S", 3600)
    )


def relay_position() -> Position | None:
    """Return the relay's position from Redis, or None when there is none."""
    url = getattr(settings, "SWITCHYARD_REDIS_URL", "")
    if not url:
        return None
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        stored = client.get(_RELAY_POSITION_KEY)
    finally:
        client.close()
    if stored is None:
        return None
    text = stored.decode() if isinstance(stored, bytes) else str(stored)
    tx, _, event_id = text.partition(":")
    if not (tx.isdigit() and event_id.isdigit()):
        return None
    return (int(tx), int(event_id))


def stream_horizon() -> Position:
    """Return the newest event position pruning may delete up to (inclusive)."""
    final = last_event_position()
    relay = relay_position()
    return min(final, relay) if relay is not None else final


def cutoff_of(workflow: Workflow, now: datetime) -> datetime | None:
    if workflow.retention_days is None:
        return None
    return now - timedelta(days=workflow.retention_days)


def due_runs(workflow: Workflow, now: datetime) -> "models.QuerySet[Run]":
    """Return the workflow's finished runs past its window (oldest first)."""
    cutoff = cutoff_of(workflow, now)
    if cutoff is None:
        return Run.objects.none()
    # created_at <= finished_at: the bound on created_at lets the (workflow,
    # created_at) index find them from the oldest.
    return Run.objects.filter(
        workflow=workflow,
        created_at__lt=cutoff,
        finished_at__lt=cutoff,
        state__in=RUN_FINISHED,
    ).order_by("created_at", "id")


def due_count(workflow: Workflow, now: datetime) -> int:
    """Count due runs, stopping at DUE_CAP."""
    return due_runs(workflow, now).values("pk")[:DUE_CAP].count()


@dataclass
class Tick:
    """What one tick of the job did."""

    now: datetime
    horizon: Position
    batches_left: int
    # {workflow id: runs pruned this tick}
    pruned: dict[int, int] = field(default_factory=dict)
    # {workflow id: (created_at, id) of the last run its previous batch looked at}:
    # runs the stream still needs are passed over, not read again by every batch.
    cursor: dict[int, tuple[datetime, int]] = field(default_factory=dict)
    # {workflow id: how many due runs its last batch looked at}
    looked_at: dict[int, int] = field(default_factory=dict)


def prune_tick(*, now: datetime | None = None, max_batches: int | None = None) -> int:
    """Prune due runs of every workflow with a window; return how many were deleted."""
    tick = Tick(
        now=now or timezone.now(),
        horizon=stream_horizon(),
        batches_left=TICK_BATCHES if max_batches is None else max_batches,
    )
    workflows = Workflow.objects.filter(retention_days__isnull=False).order_by("pk")

    def batches() -> Any:
        for workflow in workflows.iterator():
            while tick.batches_left > 0:
                tick.batches_left -= 1
                tick.looked_at[workflow.pk] = 0
                yield workflow
                # A failed batch, or one that found fewer than a full batch: done.
                if tick.looked_at[workflow.pk] < BATCH_RUNS:
                    break

    def process(workflow: Workflow) -> int:
        count = prune_batch(workflow, tick=tick)
        tick.pruned[workflow.pk] = tick.pruned.get(workflow.pk, 0) + count
        return count

    each_isolated(
        "retention",
        batches(),
        process,
        mark=_mark_failed,
        describe=lambda w: f"workflow {w.slug}",
    )
    return sum(tick.pruned.values())


def _mark_failed(workflow: Workflow, error: str) -> None:
    log = EventLog()
    log.add(
        "runs_prune_failed",
        actor="system:retention",
        reason=error,
        workflow_id=workflow.pk,
    )
    log.flush()


def _prunable(workflow: Workflow, tick: Tick) -> list[int]:
    """Return up to BATCH_RUNS due run ids the stream no longer needs, locked."""
    active_child = Run.objects.filter(parent_run=OuterRef("pk"), state__in=RUN_ACTIVE)
    due = due_runs(workflow, tick.now).filter(~Exists(active_child))
    cursor = tick.cursor.get(workflow.pk)
    if cursor is not None:
        due = due.filter(
            Q(created_at__gt=cursor[0]) | Q(created_at=cursor[0], pk__gt=cursor[1])
        )
    rows = list(due.values_list("created_at", "pk")[:BATCH_RUNS])
    tick.looked_at[workflow.pk] = len(rows)
    if not rows:
        return []
    tick.cursor[workflow.pk] = rows[-1]
    candidates = [pk for _, pk in rows]
    tx, event_id = tick.horizon
    fresh = set(
        Event.objects.filter(run_id__in=candidates)
        .filter(
            Q(tx__gt=tx)
            | Q(tx=tx, id__gt=event_id)
            | Q(created_at__gte=tick.now - stream_grace())
        )
        .values_list("run_id", flat=True)
        .distinct()
    )
    ids = [pk for pk in candidates if pk not in fresh]
    # Lock them (a retry, the only way out of a finished state, waits or fails),
    # and keep only those still finished.
    return list(
        Run.objects.select_for_update()
        .filter(pk__in=ids, state__in=RUN_FINISHED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def prune_batch(workflow: Workflow, *, tick: Tick) -> int:
    """Delete (archiving first if asked) one batch of the workflow's due runs.

    Call inside a transaction: the archive is on disk before the delete commits.
    """
    ids = _prunable(workflow, tick)
    if not ids:
        return 0
    path = (
        write_archive(workflow, ids, tick.now) if workflow.retention_archive else None
    )
    try:
        deleted = delete_runs(ids)
        deleted += _drop_idle_snapshots(workflow)
        _record(workflow, ids, deleted, path, tick.now)
    except BaseException:
        if path is not None:
            path.unlink(missing_ok=True)
        raise
    if path is not None:
        transaction.on_commit(lambda: logger.info("archived %s", path))
    return len(ids)


def _drop_idle_snapshots(workflow: Workflow) -> int:
    """Delete the workflow's test snapshots no run runs on any more (the frozen
    drafts of pruned test runs, runs.services.test_runs); return how many."""
    idle = WorkflowVersion.snapshots.filter(workflow=workflow).filter(
        ~Exists(Run.objects.filter(version_id=OuterRef("pk")))
    )
    deleted, _ = idle.delete()
    return deleted


# The rows that go with a run: its own, its steps', attempts', map items' and
# handoffs'. A reference to any of them either goes too (CASCADE, or a reference
# without a constraint: events and log chunks, deleted by their run) or is cleared
# (SET_NULL: a child run's parent, a ledger entry, a message, a schedule fire).
_OWNED = ("runs.StepRun", "runs.Attempt", "runs.MapItem", "runs.Handoff")


def _owned_rows(model: type[models.Model], ids: list[int]) -> Q:
    """Return the filter of `model`'s rows that belong to the runs `ids`."""
    if model is Run:
        return Q(pk__in=ids)
    return Q(run_id__in=ids)


def delete_runs(ids: list[int]) -> int:
    """Delete runs and every row that references them; return rows deleted.

    One statement per table by run id (no row read into Python): foreign keys are
    checked at commit (Django makes them deferred), so the order does not matter.
    A reference that is not covered (a new model's) raises at commit, and the
    batch, rolled back, is logged and left: nothing is orphaned.
    """
    targets: list[type[models.Model]] = [Run] + [apps_model(n) for n in _OWNED]
    deleted = 0
    done: set[str] = set()
    for target in targets:
        for relation in _references(target):
            model = relation.related_model
            column = relation.field.attname
            owners = target._default_manager.filter(_owned_rows(target, ids))
            if relation.on_delete is models.SET_NULL:
                model._default_manager.filter(
                    **{f"{column}__in": owners.values("pk")}
                ).exclude(**_own_filter(model, ids)).update(**{column: None})
            elif relation.on_delete in (models.CASCADE, models.DO_NOTHING):
                label = model._meta.label
                if label in done or model is Run:
                    continue
                done.add(label)
                if any(f.name == "run" for f in model._meta.concrete_fields):
                    rows = model._default_manager.filter(run_id__in=ids)
                else:
                    rows = model._default_manager.filter(
                        **{f"{column}__in": owners.values("pk")}
                    )
                deleted += rows._raw_delete(rows.db)
    runs = Run.objects.filter(pk__in=ids)
    return deleted + runs._raw_delete(runs.db)


def _references(model: type[models.Model]) -> list[Any]:
    """Return every reference to `model`'s rows, hidden ones (related_name="+")
    included: `_meta.related_objects` leaves those out."""
    return [
        f
        for f in model._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one)
    ]


def _cascaded_models() -> list[type[models.Model]]:
    """Models whose rows go with a run through a `run` reference (CASCADE)."""
    found = []
    for relation in _references(Run):
        if relation.on_delete is models.CASCADE and relation.field.name == "run":
            found.append(relation.related_model)
    return sorted(found, key=lambda m: m._meta.label)


def apps_model(label: str) -> type[models.Model]:
    from django.apps import apps

    return apps.get_model(label)


def _own_filter(model: type[models.Model], ids: list[int]) -> dict[str, Any]:
    """Rows of the batch itself are deleted, not cleared (a run's own parent)."""
    return {"pk__in": ids} if model is Run else {"pk__in": []}


def _record(
    workflow: Workflow,
    ids: list[int],
    rows: int,
    path: Path | None,
    now: datetime,
) -> None:
    tally, _ = PruneTally.objects.get_or_create(workflow=workflow)
    PruneTally.objects.filter(pk=tally.pk).update(
        pruned_total=F("pruned_total") + len(ids),
        archived_total=F("archived_total") + (len(ids) if path is not None else 0),
        last_pruned_at=now,
    )
    log = EventLog()
    log.add(
        "runs_pruned",
        actor="system:retention",
        workflow_id=workflow.pk,
        data={
            "runs": len(ids),
            "rows": rows,
            "first_run": ids[0],
            "last_run": ids[-1],
            "retention_days": workflow.retention_days,
            "archive": str(path.relative_to(archive_dir())) if path else None,
        },
    )
    log.flush()


def _archive_tables() -> list[tuple[type[models.Model], str]]:
    """Return (model, column) of the rows archived with a run: `run_id`, or the
    column referencing a step for rows that reach their run through a step."""
    tables = [(model, "run_id") for model in _cascaded_models()]
    tables += [(Event, "run_id"), (StepLog, "run_id")]
    for relation in _references(StepRun):
        model = relation.related_model
        if relation.on_delete is models.CASCADE and not any(
            f.name == "run" for f in model._meta.concrete_fields
        ):
            tables.append((model, relation.field.attname))
    return list({m._meta.label_lower: (m, c) for m, c in tables}.values())


def archive_lines(ids: list[int]) -> list[dict[str, Any]]:
    """Return one record per run: its row and every row that goes with it."""
    records: dict[int, dict[str, Any]] = {
        row["id"]: {"run": row, "rows": {}}
        for row in Run.objects.filter(pk__in=ids).order_by("pk").values()
    }
    step_of: dict[int, int] = dict(
        StepRun.objects.filter(run_id__in=ids).values_list("pk", "run_id")
    )
    for model, column in _archive_tables():
        keys = ids if column == "run_id" else list(step_of)
        for row in (
            model._default_manager.filter(**{f"{column}__in": keys})
            .order_by("pk")
            .values()
        ):
            run_id = row[column] if column == "run_id" else step_of[row[column]]
            label = model._meta.label_lower
            records[run_id]["rows"].setdefault(label, []).append(row)
    return list(records.values())


def archive_text(ids: list[int]) -> Iterator[str]:
    """Yield one JSON line per run (archive_lines' records as text).

    On PostgreSQL the database writes the JSON (row_to_json, json_agg per run and
    table) and the lines are put together as text: 2.6 times the rate of reading
    the rows into Python and encoding them again (bench/README.md).
    """
    if connection.vendor != "postgresql":
        for record in archive_lines(ids):
            yield json.dumps(record, cls=DjangoJSONEncoder, separators=(",", ":"))
        return
    quote = connection.ops.quote_name
    steps = quote(StepRun._meta.db_table)
    # Identifiers from model metadata, the ids bound (hence S608).
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.id, row_to_json(r)::text FROM {quote(Run._meta.db_table)} r "  # noqa: S608
            "WHERE r.id = ANY(%s) ORDER BY r.id",
            [ids],
        )
        runs = cursor.fetchall()
        parts: dict[int, list[str]] = {run_id: [] for run_id, _ in runs}
        for model, column in _archive_tables():
            table = quote(model._meta.db_table)
            order = f"t.{quote(str(model._meta.pk.column))}"
            if column == "run_id":
                source, run_of = f"{table} t", "t.run_id"
            else:
                source = f"{table} t JOIN {steps} s ON s.id = t.{quote(column)}"
                run_of = "s.run_id"
            cursor.execute(
                f"SELECT {run_of}, json_agg(row_to_json(t) ORDER BY {order})::text "  # noqa: S608
                f"FROM {source} WHERE {run_of} = ANY(%s) GROUP BY {run_of}",
                [ids],
            )
            label = json.dumps(model._meta.label_lower)
            for run_id, rows in cursor.fetchall():
                parts[run_id].append(f"{label}:{rows}")
    for run_id, run_json in runs:
        yield '{"run":' + run_json + ',"rows":{' + ",".join(parts[run_id]) + "}}"


def write_archive(workflow: Workflow, ids: list[int], now: datetime) -> Path:
    """Write the runs as gzip JSON Lines, durably; return the file's path.

    One file per batch: <dir>/<workflow>/<YYYY-MM-DD>/<time>-<first>-<last>.jsonl.gz
    """
    folder = archive_dir() / workflow.slug / now.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now.strftime('%H%M%S')}-{ids[0]}-{ids[-1]}.jsonl.gz"
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as out:
            for line in archive_text(ids):
                out.write(line.encode() + b"\n")
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(partial, path)
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return path


def retention_rows(
    workflows: "models.QuerySet[Workflow]", now: datetime
) -> list[dict[str, Any]]:
    """Return retention counts of the workflows that have a window or a tally."""
    tallies = {
        t.workflow_id: t for t in PruneTally.objects.filter(workflow__in=workflows)
    }
    rows = []
    for workflow in workflows.filter(
        Q(retention_days__isnull=False) | Q(pk__in=list(tallies))
    ).order_by("slug")[:500]:
        tally = tallies.get(workflow.pk)
        due = due_count(workflow, now)
        rows.append(
            {
                "workflow": workflow.slug,
                "workflow_name": workflow.name,
                "retention_days": workflow.retention_days,
                "archive": workflow.retention_archive,
                "due": due,
                "due_capped": due >= DUE_CAP,
                "pruned_total": tally.pruned_total if tally else 0,
                "archived_total": tally.archived_total if tally else 0,
                "last_pruned_at": tally.last_pruned_at if tally else None,
            }
        )
    return rows
