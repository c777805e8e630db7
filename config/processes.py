"""Command lines of the processes Switchyard runs: web server and Celery worker."""

import sys
from collections.abc import Sequence
from pathlib import Path


def worker_command(
    *,
    queues: Sequence[str],
    concurrency: int,
    name: str,
    beat_schedule: Path | None = None,
    include: Sequence[str] = (),
    loglevel: str = "WARNING",
) -> list[str]:
    """Return the argv of a Celery worker (with embedded beat when given a schedule)."""
    argv = [sys.executable, "-m", "celery", "-A", "config", "worker"]
    argv += ["-Q", ",".join(queues), "--concurrency", str(concurrency)]
    argv += ["--loglevel", loglevel, "-n", f"{name}@%h"]
    if beat_schedule is not None:
        argv += ["-B", "-s", str(beat_schedule)]
    if include:
        argv += ["--include", ",".join(include)]
    return argv


def web_command(*, host: str, port: int) -> list[str]:
    """Return the argv of the ASGI web server."""
    return [
        sys.executable, "-m", "daphne", "-b", host, "-p", str(port),
        "config.asgi:application",
    ]  # fmt: skip
