"""Step logs: what an action writes through `context.log` while it runs.

Placeholder until step-log capture lands: lines are passed to the engine logger,
redacted, and not stored.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from engine.connections import redact_text

logger = logging.getLogger("switchyard.steps")


@contextmanager
def capture(work: Any, *, secrets: list[str]) -> Iterator[Any]:
    def log(message: str) -> None:
        logger.info("%s", redact_text(str(message), secrets))

    yield log
