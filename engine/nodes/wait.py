"""wait: a timer. The step waits `seconds`, or until the time an `until` expression
gives (an ISO 8601 timestamp with its zone, or Unix seconds), then routes on. Either
way at most a year: a stored graph is clamped, an evaluated time past it fails the
step naming the value."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from engine.expression_values import ExpressionError
from engine.nodes.base import Checker, Entry, NodeType, Sleep
from engine.nodes.fields import MAX_DURATION_S
from engine.retry import bounded_seconds

MAX_UNTIL_LENGTH = 2000


class Wait(NodeType):
    name = "wait"
    fields = {
        "seconds": {"type": "number", "minimum": 0, "maximum": MAX_DURATION_S},
        "until": {"type": "string", "minLength": 1, "maxLength": MAX_UNTIL_LENGTH},
    }
    breaks_loops = True

    def check(self, node: dict[str, Any], checker: Checker) -> None:
        has_seconds, has_until = "seconds" in node, "until" in node
        if has_seconds == has_until:
            checker.error(
                "wait_time",
                f"wait {node['id']!r} needs either seconds or until (not both)",
                node_id=node["id"],
            )
        if has_until:
            problem = checker.expression_problem(node["until"])
            if problem is not None:
                checker.error(
                    "bad_expression",
                    f"wait {node['id']!r}: until is not a valid expression: {problem}",
                    node_id=node["id"],
                )

    def enter(self, node: Mapping[str, Any]) -> Entry:
        if "until" in node:
            return Sleep(0.0, until=str(node["until"]))
        # Stored graphs are clamped too: a bound added later still holds.
        return Sleep(bounded_seconds(node.get("seconds", 0)))


def parse_until(value: Any) -> datetime:
    """Return the moment an `until` expression gave; raise ExpressionError naming a
    value that is no timestamp (checked as strictly as a saved graph)."""
    if isinstance(value, bool) or value is None:
        raise ExpressionError(f"until gave {value!r}, not a time")
    if isinstance(value, int | float):
        if not -1e11 < value < 1e11:
            raise ExpressionError(f"until gave {value!r}: out of range")
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str) and len(value) <= 64:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment.astimezone(UTC)
    raise ExpressionError(
        f"until gave {str(value)[:80]!r}: an ISO 8601 time with its zone "
        "(2026-12-24T09:00:00+01:00) or Unix seconds"
    )


def until_delay(until: datetime, now: datetime) -> float:
    """Return how many seconds from `now` to `until` (0 if past); raise
    ExpressionError when it is more than a year away."""
    seconds = (until - now).total_seconds()
    if seconds > MAX_DURATION_S:
        raise ExpressionError(
            f"until gave {until.isoformat()}: more than a year away (at most "
            f"{MAX_DURATION_S} s)"
        )
    return max(0.0, seconds)


NODE = Wait()
