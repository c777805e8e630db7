"""The rig of bench/faults.py: private PostgreSQL and Redis servers, the supervised
worker, beat and web processes, a board WebSocket client that reconnects, and helpers
that wait on conditions."""

import asyncio
import ctypes
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, os.path.dirname(__file__))
from common import ROOT  # noqa: E402

T = TypeVar("T")
FAULTS = ("worker", "beat", "redis", "pg-fast", "pg-immediate")
DEFAULT_FAULTS = "worker,redis,pg-fast,beat,pg-immediate,worker"
TERMINAL = (
    "succeeded",
    "failed",
    "cancelled",
    "compensated",
    "compensation_failed",
)
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child_setup(death_signal: int, user: str | None = None) -> Callable[[], None]:
    """Return a preexec_fn: own session, optional user, signal when the bench dies.

    The death signal covers a bench killed with SIGKILL (a CI timeout, say), when
    neither atexit nor a signal handler runs: no server outlives it.
    """
    account = pwd.getpwnam(user) if user and os.geteuid() == 0 else None

    def setup() -> None:
        os.setsid()
        if account is not None:
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
        # After the setuid: changing credentials clears the parent-death signal.
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(
            _PR_SET_PDEATHSIG, death_signal, 0, 0, 0
        )

    return setup


def wait_until(
    predicate: Callable[[], T], *, timeout: float, what: str, interval: float = 0.1
) -> T:
    """Poll until predicate returns something truthy; exit after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


# ---------------------------------------------------------------- private services


class Postgres:
    """A private PostgreSQL cluster in a temporary directory, run as our child."""

    def __init__(self, base: Path, port: int, log: Path) -> None:
        self.dir = base / "pg"
        self.port = port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        self.bin = bins[-1] if bins else Path(shutil.which("postgres") or "").parent
        # initdb and postgres refuse to run as root.
        self.user = "postgres" if os.geteuid() == 0 else None

    def init(self) -> None:
        self.dir.mkdir()
        if self.user:
            account = pwd.getpwnam(self.user)
            os.chown(self.dir, account.pw_uid, account.pw_gid)
        subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres",
             "--auth=trust", "--no-sync", "-E", "UTF8"],
            check=True,
            stdout=subprocess.DEVNULL,
            preexec_fn=_child_setup(signal.SIGKILL, self.user),  # noqa: PLW1509
        )  # fmt: skip

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.dir / "data"),
             "-p", str(self.port), "-k", str(self.dir),
             "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200",
             # The faults kill processes, not the machine: the OS page cache
             # survives, so skipping fsync loses nothing and spares the disk.
             "-c", "fsync=off"],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            # Immediate shutdown if the bench dies.
            preexec_fn=_child_setup(signal.SIGQUIT, self.user),  # noqa: PLW1509
        )  # fmt: skip
        wait_until(self.ready, timeout=60, what="PostgreSQL to accept connections")

    def ready(self) -> bool:
        import psycopg

        if self.process is not None and self.process.poll() is not None:
            raise SystemExit(f"postgres exited:\n{self.log.read_text()[-3000:]}")
        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True

    def stop(self, mode: str = "fast") -> None:
        """Shut down as `pg_ctl stop -m fast|immediate` does (SIGINT | SIGQUIT)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(
            signal.SIGQUIT if mode == "immediate" else signal.SIGINT
        )
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


class Redis:
    """A private Redis server without persistence: a restart loses every message."""

    def __init__(self, base: Path, port: int, log: Path) -> None:
        self.dir = base / "redis"
        self.port = port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.dir.mkdir(exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            preexec_fn=_child_setup(signal.SIGTERM),  # noqa: PLW1509
        )  # fmt: skip
        wait_until(self.ready, timeout=30, what="Redis to answer")

    def ready(self) -> bool:
        import redis

        if self.process is not None and self.process.poll() is not None:
            raise SystemExit(f"redis-server exited:\n{self.log.read_text()[-3000:]}")
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=2).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """Shut down without saving (`SHUTDOWN NOSAVE`)."""
        if self.process is None or self.process.poll() is not None:
            return
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


# ------------------------------------------------------------ Switchyard processes


class Processes:
    """Workers, beat and daphne, each in its own session, under a small supervisor.

    Like the systemd units of docs/deploy.md (`Restart=always`, `RestartSec=2`), a
    process that exits on its own is started again after `restart_s`; each such exit
    is recorded as a crash with the last error line of its log.
    """

    def __init__(self, logs: Path, concurrency: int, restart_s: float) -> None:
        self.logs = logs
        self.concurrency = concurrency
        self.restart_s = restart_s
        self.children: list[subprocess.Popen[bytes]] = []
        self.count: Counter[str] = Counter()
        # {role: (start function, process)}
        self.roles: dict[str, tuple[Callable[[], Any], Any]] = {}
        # {role: monotonic time its restart is due}
        self._down: dict[str, float] = {}
        # [(role, monotonic time of the exit, exit code, last error line)]
        self.crashes: list[tuple[str, float, int, str]] = []

    def add(self, role: str, start: Callable[[], Any]) -> None:
        self.roles[role] = (start, start())

    def kill(self, role: str) -> None:
        """SIGKILL a role's process and its children (the Celery pool too); start a
        replacement at once, as a machine that comes back would."""
        start, process = self.roles[role]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self._down.pop(role, None)
        self.roles[role] = (start, start())

    def supervise(self) -> None:
        """Record processes that exited on their own; restart them when due."""
        now = time.monotonic()
        for role, (start, process) in list(self.roles.items()):
            if process.poll() is None:
                continue
            if role not in self._down:
                self._down[role] = now + self.restart_s
                self.crashes.append(
                    (role, now, process.returncode, _last_error(process.log_path))
                )
            elif now >= self._down[role]:
                del self._down[role]
                self.roles[role] = (start, start())

    def _spawn(
        self, kind: str, argv: list[str], ready: str | Callable[[], bool]
    ) -> Any:
        self.count[kind] += 1
        log = self.logs / f"{kind}-{self.count[kind]}.log"
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=dict(os.environ),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            preexec_fn=_child_setup(signal.SIGTERM),  # noqa: PLW1509
        )
        process.log_path = log  # type: ignore[attr-defined]
        self.children.append(process)

        def started() -> bool:
            if process.poll() is not None:
                raise SystemExit(f"{kind} exited:\n{log.read_text()[-3000:]}")
            if callable(ready):
                return ready()
            return ready in log.read_text(errors="replace")

        wait_until(started, timeout=90, what=f"{kind} to start")
        return process

    def worker(self) -> Any:
        from config.processes import worker_command

        argv = worker_command(
            queues=["default"],
            concurrency=self.concurrency,
            name=f"faults-{self.count['worker'] + 1}-{os.getpid()}",
            loglevel="INFO",
        )
        return self._spawn(
            "worker",
            [*argv, "--without-gossip", "--without-mingle", "--without-heartbeat"],
            "ready.",
        )

    def beat(self) -> Any:
        # The same schedule file for every beat: a successor of a killed beat reads
        # what its predecessor left, as after a crash in production.
        schedule = self.logs / "beat-schedule"
        argv = [sys.executable, "-m", "celery", "-A", "config", "beat"]
        argv += ["-s", str(schedule), "--loglevel", "INFO"]
        return self._spawn("beat", argv, "beat: Starting")

    def web(self, port: int, token: str) -> Any:
        from config.processes import web_command

        # daphne logs nothing at the settings' WARNING level: ask the API instead.
        return self._spawn(
            "web",
            web_command(host="127.0.0.1", port=port),
            lambda: http_ok(port, token),
        )

    def stop_all(self) -> None:
        self.roles.clear()
        alive = [p for p in self.children if p.poll() is None]
        for process in alive:
            os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in alive:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _last_error(log: Path) -> str:
    """Return the last line of a log that names an error (or its last line)."""
    lines = log.read_text(errors="replace").splitlines()
    for line in reversed(lines):
        if "Unrecoverable error" in line or "CRITICAL" in line or "Error" in line:
            return line.strip()[:300]
    return lines[-1][:300] if lines else ""


# ------------------------------------------------------------- board client


class BoardClient:
    """A board WebSocket client in a thread: records event ids, reconnects on drops."""

    def __init__(self, port: int, token: str) -> None:
        self.url = f"ws://127.0.0.1:{port}/ws/board/"
        self.origin = f"http://127.0.0.1:{port}"
        self.token = token
        self.ids: list[int] = []
        # The last event received (what a reconnect resumes after) and its stream
        # position (tx, id): events arrive in that order, not in id order.
        self.last = 0
        self.last_position = (0, 0)
        self.connections = 0  # sessions that got their `ready`
        self.drops = 0  # sessions that ended (any cause) after `ready`
        self.out_of_order = 0
        self.errors: Counter[str] = Counter()
        self.connected = False
        # [(monotonic at open, after, first id, last id, monotonic at end, reason)]
        self.sessions: list[tuple[float, int, int, int, float, str]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)

    def start(self) -> None:
        self._thread.start()
        wait_until(lambda: self.connections, timeout=60, what="the board client")

    def stop(self) -> None:
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=10)

    def _main(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._task = self._loop.create_task(self._follow())
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass

    async def _follow(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException
        from websockets.typing import Origin

        while True:
            ready = False
            opened, after, first = time.monotonic(), self.last, 0
            reason = "closed"
            try:
                async with connect(
                    self.url,
                    origin=Origin(self.origin),
                    additional_headers={"Authorization": f"Token {self.token}"},
                    proxy=None,
                    max_queue=None,
                    open_timeout=10,
                    # Pings notice a server that vanished without closing.
                    ping_interval=5,
                    ping_timeout=10,
                ) as ws:
                    await ws.send(json.dumps({"after": self.last}))
                    async for raw in ws:
                        message = json.loads(raw)
                        if message.get("type") == "event":
                            event_id = message["event"]["id"]
                            position = (message["event"].get("tx", 0), event_id)
                            first = first or event_id
                            if position <= self.last_position:
                                self.out_of_order += 1
                            else:
                                self.last, self.last_position = event_id, position
                            self.ids.append(event_id)
                        elif message.get("type") == "ready":
                            ready = True
                            self.connected = True
                            self.connections += 1
                        else:
                            self.errors[f"message {message.get('type')}"] += 1
            except (OSError, TimeoutError, WebSocketException) as exc:
                self.errors[type(exc).__name__] += 1
                reason = repr(exc)[:120]
            if ready:
                self.sessions.append(
                    (opened, after, first, self.last, time.monotonic(), reason)
                )
            self.connected = False
            self.drops += ready
            await asyncio.sleep(0.5)


# ----------------------------------------------------------------------- helpers


def db(fn: Callable[[], T], *, timeout: float = 120) -> T:
    """Run a read through Django, reconnecting while PostgreSQL restarts."""
    from django.db import DatabaseError, connection

    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except DatabaseError:
            connection.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def http_ok(port: int, token: str) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request(
            "GET", "/api/v1/runs/?limit=1", headers={"Authorization": f"Token {token}"}
        )
        ok = conn.getresponse().status == 200
        conn.close()
    except OSError:
        return False
    return ok
