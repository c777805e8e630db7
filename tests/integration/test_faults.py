"""Faults under load: bench/faults.py in a small configuration, as a CI smoke.

The bench starts its own PostgreSQL cluster and Redis server on free ports (the shared
ones are never restarted), so this test needs their binaries, not the test database.
"""

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from runs.events import EventLog
from runs.relay import EventRelay
from runs.selectors import event_list, event_position
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

SMOKE = [
    "--runs", "60", "--steps", "3",
    # 8 s timers between the steps keep the runs in flight across all five faults
    # (with 5 s, 19 of 60 runs were still open at the last one).
    "--wait-s", "8", "--last", "0.6",
    "--faults", "worker,redis,pg-fast,beat,pg-immediate",
    "--timeout", "150", "--drain-s", "30",
]  # fmt: skip
BOUND_S = 300


def _have_servers() -> bool:
    postgres = list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return bool(postgres or shutil.which("initdb")) and bool(
        shutil.which("redis-server")
    )


@pytest.mark.skipif(not _have_servers(), reason="needs PostgreSQL and Redis binaries")
def test_runs_end_with_no_effect_or_event_lost_through_restarts_and_kills(
    tmp_path: Path,
) -> None:
    """60 runs × 3 ledger steps while Redis and PostgreSQL (fast, then immediate
    shutdown) restart and a worker and the beat are SIGKILLed: every run is terminal,
    one ledger row per step, and the reconnecting board client has every event."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "faults.py"), *SMOKE,
         "--logs", str(tmp_path / "logs")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        output, _ = process.communicate(timeout=BOUND_S)
    except subprocess.TimeoutExpired:
        # SIGTERM, not SIGKILL: the bench stops its servers and processes on exit.
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
        pytest.fail(f"bench/faults.py did not finish in {BOUND_S}s:\n{output[-6000:]}")
    print(output)  # noqa: T201 - the figures, shown with -s or on failure
    summary = re.search(r"^summary: (.*)$", output, re.MULTILINE)
    assert summary, output[-6000:]
    figures = dict(re.findall(r"(\w+)=(\S+)", summary.group(1)))
    assert process.returncode == 0, output[-6000:]
    assert (figures["runs"], figures["kills"], figures["restarts"]) == ("60", "2", "3")
    for name in (
        "not_terminal",
        "lost",
        "doubled",
        "missing_events",
        "duplicate_events",
        "idle_faults",
    ):
        assert figures[name] == "0", f"{name}: {summary.group(0)}"


class _Layer:
    """A channel layer that keeps what the relay sends: [(group, message)]."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.sent.append((group, message))


def _run(coroutine: Any) -> Any:
    """Run a coroutine on a loop of its own thread: the browser tests' Playwright
    may hold an event loop in this thread already."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=30)


def _write_events(count: int) -> None:
    with transaction.atomic():
        log = EventLog()
        for _ in range(count):
            log.add("probe", actor="test")
        log.flush()


def _relay(relay: EventRelay, layer: "_Layer", count: int) -> None:
    """Relay until `count` events were sent (bounded): a transaction of another
    database on the same server, still in flight, holds the stream back a while."""
    sent, deadline = 0, time.monotonic() + 30
    while sent < count:
        assert time.monotonic() < deadline, f"relayed {sent} of {count} events"
        sent += _run(relay.relay_once(layer))
    assert sent == count


@pytest.mark.django_db(transaction=True)
def test_a_relay_that_lost_its_position_makes_consumers_behind_it_refill() -> None:
    """The fault bench found this: Redis restarts, the relay's stored position goes
    with it and the relay starts again at the table's head. Its first message to a
    group carries that head as `prev`, so a consumer that had not seen the
    events up to it refills them from the database instead of skipping them."""
    _write_events(3)  # committed while no relay sent anything (Redis was down)
    relay = EventRelay(redis_url=None, interval_s=0)  # no stored position
    layer = _Layer()
    assert _run(relay.relay_once(layer)) == 0
    head = relay.position
    _write_events(2)
    _relay(relay, layer, 2)
    (group, message), *_ = layer.sent
    assert group == "board"
    assert head is not None
    assert tuple(message["prev"]) == head
    assert tuple(message["positions"][0]) > head
    # Later messages to the group chain on from what it was sent.
    _write_events(1)
    _relay(relay, layer, 1)
    assert layer.sent[-1][1]["prev"] == layer.sent[-2][1]["positions"][-1]


@pytest.mark.django_db(transaction=True)
def test_an_event_committed_late_below_the_relay_position_is_still_sent() -> None:
    """Without a global lock, ids are not in commit order: a transaction can take
    id N and commit after another took and committed N+1. The relay reads only
    events below the oldest transaction in flight, so it waits for the slow one
    and then sends both, the slow one first (its transaction is older)."""
    relay = EventRelay(redis_url=None, interval_s=0)
    layer = _Layer()
    _run(relay.relay_once(layer))
    inserted, release = threading.Event(), threading.Event()

    def slow() -> None:
        try:
            with transaction.atomic():
                log = EventLog()
                log.add("slow", actor="test")
                log.flush()
                inserted.set()
                release.wait(20)
        finally:
            connection.close()

    writer = threading.Thread(target=slow)
    writer.start()
    try:
        assert inserted.wait(20)
        _write_events(1)  # a later id, committed first
        assert _run(relay.relay_once(layer)) == 0  # the slow one may still commit
    finally:
        release.set()
        writer.join(20)
    _relay(relay, layer, 2)
    board = [message for group, message in layer.sent if group == "board"]
    texts = [text for message in board for text in message["texts"]]
    kinds = [json.loads(text)["event"]["kind"] for text in texts]
    assert kinds == ["slow", "probe"]
    ids = [event_id for message in board for _, event_id in message["positions"]]
    assert ids[0] < ids[1]
    # A consumer resuming after the slow event gets the other one, and only it.
    assert [e.kind for e in event_list(after=event_position(ids[0]))] == ["probe"]
