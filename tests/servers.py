"""Processes and servers tests start: a local HTTP server in a thread, a Celery worker
in a process of its own (its queues, settings and log), and stopping either."""

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from config.processes import worker_command
from tests.support import wait_for

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on a free loopback port in a thread; yield its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def start_worker(
    log: Path, *, env: dict[str, str], what: str = "worker", **command: Any
) -> subprocess.Popen[bytes]:
    """Start a Celery worker (`config.processes.worker_command(**command)`) in a
    session of its own, writing to `log`; return it once it is ready. A worker
    that exits first fails the test with the end of its log."""
    process = subprocess.Popen(
        worker_command(**command),
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited:\n{log.read_text()[-4000:]}")
        return "ready." in log.read_text()

    try:
        wait_for(ready, timeout=60, what=f"{what} ready")
    except BaseException:
        stop_process(process)
        raise
    return process


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process and its children, SIGKILL after 20 s."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()
        process.wait()
