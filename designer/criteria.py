"""Rollback criteria: what a workflow's newly released version must hold to stay.

Stored on the workflow (`rollback_criteria`); `runs.releases` checks them every minute.
"""

from typing import Any

from engine.errors import INVALID, DomainError

CRITERIA_KEYS = {
    "min_success_rate": float,
    "max_retry_burden": float,
    "max_queue_delay_p95_s": float,
    "min_runs": int,
    "window_s": float,
}
DEFAULT_WINDOW_S = 3600.0
DEFAULT_MIN_RUNS = 20


class CriteriaError(DomainError):
    """Rollback criteria that cannot be used (400)."""

    kind = INVALID

    def __init__(self, message: str) -> None:
        super().__init__("bad_criteria", message)


def clean_criteria(value: Any) -> dict[str, Any]:
    """Validate rollback criteria; raise CriteriaError naming the problem."""
    if value in (None, {}):
        return {}
    if not isinstance(value, dict):
        raise CriteriaError("rollback_criteria must be an object")
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        kind = CRITERIA_KEYS.get(key)
        if kind is None:
            raise CriteriaError(
                f"unknown criterion {key!r}; use {', '.join(CRITERIA_KEYS)}",
            )
        if isinstance(item, bool) or not isinstance(item, int | float) or item < 0:
            raise CriteriaError(f"{key} must be a number ≥ 0")
        if key in ("min_success_rate", "max_retry_burden") and item > 1:
            raise CriteriaError(f"{key} is a ratio from 0 to 1")
        cleaned[key] = kind(item)
    return cleaned
