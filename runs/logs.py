"""Step logs: capture what an action writes while it runs, bounded and in chunks.

`capture(work, secrets=...)` wraps one call of an action (engine/tasks.py `execute`).
It yields the `context.log` function and, for the same time, takes the standard
`logging` records of the action's module. Every line is redacted, cut to a line
bound and counted against the attempt's byte bound (SWITCHYARD_MAX_LOG_BYTES); past
it, lines are only counted and one marker line says how many were not kept.

Lines wait in memory and are stored as `StepLog` chunks (~64 KB of consecutive lines
each) in short transactions of their own: by a writer thread of the worker process
every SWITCHYARD_LOG_FLUSH_S while the action runs (so the run page sees them live),
and by the worker itself when the action returns. A failed write drops its chunk and
is counted; it never fails the attempt. Reading them back (a page of an attempt's
chunks, a search within a run, an export) is at the end of this module.
"""

import contextvars
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min

from engine.actions import get_action
from engine.connections import redact_text
from runs.models import MapItem, StepLog

logger = logging.getLogger("switchyard.steps")

DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_FLUSH_S = 0.5
# A chunk is closed at this many bytes of lines (one row, one TOASTed value).
CHUNK_BYTES = 64 * 1024
# Longer lines are cut (a JSON dump on one line would otherwise take the whole bound).
DEFAULT_MAX_LINE_CHARS = 4000
# How long the end of an attempt waits for a write the writer thread has begun.
FINAL_FLUSH_WAIT_S = 10.0
RECORD_FORMAT = "%(levelname)s %(name)s: %(message)s"


def max_bytes() -> int:
    """Return the bound of one attempt's stored log, in bytes of UTF-8 lines."""
    return int(getattr(settings, "SWITCHYARD_MAX_LOG_BYTES", DEFAULT_MAX_BYTES))


def max_line_chars() -> int:
    """Return how many characters of one line are kept."""
    chars = getattr(settings, "SWITCHYARD_MAX_LOG_LINE_CHARS", DEFAULT_MAX_LINE_CHARS)
    return int(chars)


def flush_s() -> float:
    """Return how often lines of a running action are stored."""
    return float(getattr(settings, "SWITCHYARD_LOG_FLUSH_S", DEFAULT_FLUSH_S))


def truncation_marker(lines: int, size: int) -> str:
    """Return the line that stands for what the bound dropped."""
    return f"… log truncated: {lines} more lines ({size} bytes) not kept"


def _storable(text: str) -> str:
    """Return text without what PostgreSQL refuses: NUL, lone surrogate halves."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True)
class LogOwner:
    """Whose log a capture writes: an attempt, or one attempt of a map item."""

    run_id: int
    node_id: str
    number: int
    attempt_id: int | None = None
    map_item_id: int | None = None


class Capture:
    """One attempt's log while its action runs: the pending lines and the counts.

    `write` may be called from any thread (the action's own threads log too); chunks
    are stored by one flusher at a time, in order.
    """

    def __init__(
        self, owner: LogOwner, *, secrets: list[str], limit: int, line_chars: int
    ) -> None:
        self.owner = owner
        self.secrets = secrets
        self.limit = limit
        self.line_chars = line_chars
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: list[str] = []
        self._pending_bytes = 0
        # Bytes of lines kept (stored or pending), and what the bound dropped.
        self.kept_bytes = 0
        self.dropped_lines = 0
        self.dropped_bytes = 0
        # Chunks a failed write lost.
        self.failed_chunks = 0
        self._next_seq = 1
        self._next_line = 1

    def write(self, message: str) -> None:
        """Take one message (one line or several) for the log."""
        text = _storable(redact_text(str(message), self.secrets))
        lines = text.splitlines() or [""]
        full = False
        with self._lock:
            for line in lines:
                if len(line) > self.line_chars:
                    cut = len(line) - self.line_chars
                    line = f"{line[: self.line_chars]}… ({cut} more characters)"
                size = len(line.encode()) + 1
                if self.dropped_lines or self.kept_bytes + size > self.limit:
                    # Past the bound nothing more is kept, not even a short line.
                    self.dropped_lines += 1
                    self.dropped_bytes += size
                    continue
                self._pending.append(line)
                self._pending_bytes += size
                self.kept_bytes += size
            full = self._pending_bytes >= CHUNK_BYTES
        if full:
            WRITER.wake()

    def flush(self, *, final: bool, wait_s: float | None = None) -> None:
        """Store the pending lines as chunks (and, at the end, the marker line).

        Never raises: a chunk that cannot be written is dropped and counted.
        """
        if not self._flush_lock.acquire(timeout=-1 if wait_s is None else wait_s):
            logger.warning("step log of %s not stored: a write hangs", self.owner)
            return
        try:
            rows = self._take(final=final)
            if not rows:
                return
            try:
                with transaction.atomic():
                    StepLog.objects.bulk_create(rows)
            except Exception:  # noqa: BLE001 - a log write never fails the attempt
                self.failed_chunks += len(rows)
                logger.warning(
                    "dropped %d step log chunk(s) of %s", len(rows), self.owner,
                    exc_info=True,
                )  # fmt: skip
                if not connection.in_atomic_block:
                    connection.close()
        finally:
            self._flush_lock.release()

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def _take(self, *, final: bool) -> list[StepLog]:
        """Return the pending lines as unsaved chunks, numbered on from the last."""
        with self._lock:
            pending, self._pending = self._pending, []
            self._pending_bytes = 0
            dropped = (self.dropped_lines, self.dropped_bytes) if final else None
        rows: list[StepLog] = []
        start = 0
        size = 0
        for index, line in enumerate(pending):
            size += len(line.encode()) + 1
            if size >= CHUNK_BYTES or index == len(pending) - 1:
                rows.append(self._chunk(pending[start : index + 1], size))
                start, size = index + 1, 0
        if dropped is not None and dropped[0]:
            marker = truncation_marker(*dropped)
            rows.append(self._chunk([marker], len(marker.encode()), truncated=True))
        return rows

    def _chunk(self, lines: list[str], size: int, truncated: bool = False) -> StepLog:
        owner = self.owner
        row = StepLog(
            run_id=owner.run_id,
            attempt_id=owner.attempt_id,
            map_item_id=owner.map_item_id,
            number=owner.number,
            node_id=owner.node_id[:64],
            seq=self._next_seq,
            first_line=self._next_line,
            lines=len(lines),
            bytes=size,
            text="\n".join(lines),
            truncated=truncated,
        )
        self._next_seq += 1
        self._next_line += len(lines)
        return row


class LogWriter:
    """A daemon thread per worker process that stores the lines of running actions.

    It works on its own database connection, so a log write is never part of a
    transaction the action or the engine holds. It takes only captures that have
    run for one interval: short steps are stored once, by the worker, at their end.
    With nothing to watch it closes its connection.
    """

    def __init__(self) -> None:
        self._captures: set[Capture] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, capture: Capture) -> None:
        with self._lock:
            self._captures.add(capture)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="switchyard-step-logs", daemon=True
                )
                self._thread.start()

    def remove(self, capture: Capture) -> None:
        with self._lock:
            self._captures.discard(capture)
            idle = not self._captures
        if idle:
            self.wake()  # to close its connection now

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while True:
            try:
                self._round()
            except Exception:  # noqa: BLE001 - keep storing the next rounds
                logger.warning("step log writer round failed", exc_info=True)
                connection.close()

    def _round(self) -> None:
        interval = flush_s()
        self._wake.wait(interval)
        self._wake.clear()
        now = time.monotonic()
        with self._lock:
            due = [
                c
                for c in self._captures
                if c.has_pending and now - c.started >= interval
            ]
        for capture in due:
            capture.flush(final=False)
        with self._lock:
            idle = not self._captures
        if idle:
            connection.close()


WRITER = LogWriter()


def _reset_writer_after_fork() -> None:
    global WRITER
    WRITER = LogWriter()


os.register_at_fork(after_in_child=_reset_writer_after_fork)


# ---------------------------------------------------------------- module logging

# The capture of the code running in this context (a worker thread, the action).
_ACTIVE: contextvars.ContextVar[Capture | None] = contextvars.ContextVar(
    "switchyard_step_log", default=None
)
_LEVELS_LOCK = threading.Lock()
# {logger name: (its own level before, captures lowering it)}
_LOWERED: dict[str, tuple[int, int]] = {}


class _RecordHandler(logging.Handler):
    """Send the records of an action's module to its capture."""

    def __init__(self, capture: Capture) -> None:
        super().__init__()
        self.capture = capture
        self.setFormatter(logging.Formatter(RECORD_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        # Another attempt running the same module in this process (a thread pool)
        # has its own handler; threads the action starts have no capture of theirs.
        active = _ACTIVE.get()
        if active is not None and active is not self.capture:
            return
        try:
            self.capture.write(self.format(record))
        except Exception:  # noqa: BLE001 - logging never raises into the action
            self.handleError(record)


def _lower_level(name: str) -> None:
    """Let INFO records of the module through while it runs, unless its logger
    has a level of its own (the worker's WARNING would hide an action's INFO)."""
    log = logging.getLogger(name)
    with _LEVELS_LOCK:
        if name in _LOWERED:
            level, count = _LOWERED[name]
            _LOWERED[name] = (level, count + 1)
        elif log.level == logging.NOTSET and log.getEffectiveLevel() > logging.INFO:
            _LOWERED[name] = (log.level, 1)
            log.setLevel(logging.INFO)


def _restore_level(name: str) -> None:
    with _LEVELS_LOCK:
        if name not in _LOWERED:
            return
        level, count = _LOWERED[name]
        if count > 1:
            _LOWERED[name] = (level, count - 1)
        else:
            del _LOWERED[name]
            logging.getLogger(name).setLevel(level)


def _module_of(action_name: str) -> str:
    """Return the module the action is defined in ("" when unknown)."""
    try:
        return str(getattr(get_action(action_name).func, "__module__", "") or "")
    except KeyError:
        return ""


def owner_of(work: Any) -> LogOwner:
    """Return whose log an AttemptWork (an attempt's or a map item's) writes."""
    map_item_id = getattr(work, "map_item_id", None)
    return LogOwner(
        run_id=work.run_id,
        node_id=work.context.node_id,
        number=work.context.attempt,
        attempt_id=None if map_item_id is not None else work.attempt_id,
        map_item_id=map_item_id,
    )


@contextmanager
def capture(work: Any, *, secrets: list[str]) -> Iterator[Callable[[str], None]]:
    """Capture the step log of one call of `work`'s action; yield `context.log`."""
    current = Capture(
        owner_of(work), secrets=secrets, limit=max_bytes(), line_chars=max_line_chars()
    )
    module = _module_of(work.action)
    handler = _RecordHandler(current) if module else None
    if handler is not None:
        _lower_level(module)
        logging.getLogger(module).addHandler(handler)
    token = _ACTIVE.set(current)
    # Inside a transaction (a test's), rows the writer's connection cannot see yet
    # would hold its inserts: everything is stored at the end, on this connection.
    live = not connection.in_atomic_block
    if live:
        WRITER.add(current)
    try:
        yield current.write
    finally:
        _ACTIVE.reset(token)
        if handler is not None:
            logging.getLogger(module).removeHandler(handler)
            _restore_level(module)
        if live:
            WRITER.remove(current)
        current.flush(final=True, wait_s=FINAL_FLUSH_WAIT_S)


# ------------------------------------------------------------------------ reading

# Chunks per page: the default bound (1 MiB) in one answer.
PAGE_CHUNKS = 16
# A search looks at this many chunks per request and answers this many lines.
SEARCH_CHUNKS = 200
SEARCH_MATCHES = 500
EXPORT_BATCH = 32


def step_log_page(
    *, owner: dict[str, int], after: int = 0
) -> tuple[list[StepLog], bool]:
    """Return an owner's chunks after `seq` (a page) and whether more follow.

    `owner` is {"run_id", "attempt_id"} or {"run_id", "map_item_id", "number"}.
    """
    rows = list(
        StepLog.objects.filter(**owner, seq__gt=after).order_by("seq")[
            : PAGE_CHUNKS + 1
        ]
    )
    return rows[:PAGE_CHUNKS], len(rows) > PAGE_CHUNKS


@dataclass(frozen=True)
class LogMatch:
    """A line of a run's log that a search found."""

    chunk: StepLog
    line: int
    text: str


@dataclass(frozen=True)
class SearchPage:
    """What one search request found, and where the next one starts."""

    matches: list[LogMatch]
    # The chunk id to search after next, or None when the run's log is done.
    next_after: int | None
    # Matches of the last chunk were left out (more than one answer holds).
    clipped: bool


def step_log_search(
    *, run_id: int, text: str, attempt_id: int | None = None, after: int = 0
) -> SearchPage:
    """Find lines containing `text` (any case) in a run's log, chunk id order.

    Bounded work: SEARCH_CHUNKS chunks are looked at per request, the database
    picks those holding the text, and at most SEARCH_MATCHES lines come back.
    """
    window = StepLog.objects.filter(run_id=run_id, id__gt=after)
    if attempt_id is not None:
        window = window.filter(attempt_id=attempt_id)
    ids = list(window.order_by("id").values_list("id", flat=True)[:SEARCH_CHUNKS])
    if not ids:
        return SearchPage([], None, False)
    found = StepLog.objects.filter(id__in=ids, text__icontains=text).order_by("id")
    needle = text.lower()
    matches: list[LogMatch] = []
    for chunk in found:
        lines = [
            LogMatch(chunk, chunk.first_line + index, line)
            for index, line in enumerate(chunk.text.split("\n"))
            if needle in line.lower()
        ]
        if len(matches) + len(lines) > SEARCH_MATCHES:
            if not matches:  # one chunk holds more than an answer: its first ones
                return SearchPage(lines[:SEARCH_MATCHES], chunk.id, True)
            return SearchPage(matches, matches[-1].chunk.id, False)
        matches.extend(lines)
    more = len(ids) == SEARCH_CHUNKS
    return SearchPage(matches, ids[-1] if more else None, False)


def _export_header(owner: dict[str, Any], items: dict[int, int]) -> str:
    if owner["map_item_id"] is not None:
        index = items.get(owner["map_item_id"], "?")
        return f"=== {owner['node_id']} · item {index} · attempt {owner['number']} ==="
    return (
        f"=== {owner['node_id']} · attempt {owner['number']}"
        f" (attempt id {owner['attempt_id']}) ==="
    )


def step_log_export(run_id: int) -> Iterator[str]:
    """Yield a run's whole log as text, attempt by attempt in the order they began
    to log, each under a header; a few chunks per query."""
    owners: list[dict[str, Any]] = [
        dict(row)
        for row in StepLog.objects.filter(run_id=run_id)
        .values("attempt_id", "map_item_id", "number", "node_id")
        .annotate(first=Min("id"))
        .order_by("first")
    ]
    if not owners:
        yield f"Run {run_id} has no step logs.\n"
        return
    items = dict(
        MapItem.objects.filter(
            pk__in=[o["map_item_id"] for o in owners if o["map_item_id"] is not None]
        ).values_list("pk", "index")
    )
    for owner in owners:
        yield _export_header(owner, items) + "\n"
        chunks = StepLog.objects.filter(
            run_id=run_id,
            attempt_id=owner["attempt_id"],
            map_item_id=owner["map_item_id"],
            number=owner["number"],
        ).order_by("seq")
        after = 0
        while True:
            batch = list(
                chunks.filter(seq__gt=after).values_list("seq", "text")[:EXPORT_BATCH]
            )
            if not batch:
                break
            after = batch[-1][0]
            yield "".join(text + "\n" for _, text in batch)
        yield "\n"
