"""Decide whether and when a failed attempt is retried: the per-node retry policy."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

Jitter = Literal["full", "equal", "none"]
JITTERS: tuple[str, ...] = ("full", "equal", "none")
DEFAULT_TIMEOUT_S = 300.0
# The longest any timer, SLA or retry may wait. The graph schema refuses more; graphs
# stored before that bound are clamped here, so date arithmetic never overflows.
MAX_DELAY_S = 366 * 86400.0

_RANDOM = random.Random()  # noqa: S311 - jitter spreads load; it is not a secret


@dataclass(frozen=True)
class RetryPolicy:
    """Describe how many attempts a step gets and how long to wait between them.

    Delays grow exponentially from `initial_interval_s` by `backoff`, capped at
    `max_interval_s`, then jittered so that failing steps do not retry in lockstep.
    """

    max_attempts: int = 3
    initial_interval_s: float = 1.0
    backoff: float = 2.0
    max_interval_s: float = 60.0
    jitter: Jitter = "full"
    non_retryable: tuple[str, ...] = ()
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        numbers = (self.initial_interval_s, self.backoff, self.max_interval_s)
        if any(math.isnan(number) for number in (*numbers, self.timeout_s)):
            raise ValueError("retry settings must be numbers, not NaN")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_interval_s < 0 or self.max_interval_s < 0:
            raise ValueError("retry intervals must not be negative")
        if not self.backoff >= 1:
            raise ValueError("backoff must be at least 1")
        if self.jitter not in JITTERS:
            raise ValueError(f"jitter must be one of {', '.join(JITTERS)}")
        if not self.timeout_s > 0:
            raise ValueError("timeout_s must be positive")
        if not isinstance(self.non_retryable, tuple):
            object.__setattr__(self, "non_retryable", tuple(self.non_retryable))
        # The schema allows a day; a graph stored before that bound may say 1e12,
        # which no worker's timer (setitimer) or deadline datetime can hold.
        object.__setattr__(self, "timeout_s", min(self.timeout_s, MAX_DELAY_S))

    @classmethod
    def from_graph(
        cls, defaults: Mapping[str, Any] | None, node: Mapping[str, Any]
    ) -> RetryPolicy:
        """Merge the graph's `defaults.retry` with the node's `retry`, node first.

        `timeout_s` comes from the node, else the graph defaults, else 300 s.
        """
        defaults = defaults or {}
        merged: dict[str, Any] = {
            **(defaults.get("retry") or {}),
            **(node.get("retry") or {}),
        }
        timeout = node.get("timeout_s")
        if timeout is None:
            timeout = defaults.get("timeout_s")
        merged["timeout_s"] = DEFAULT_TIMEOUT_S if timeout is None else timeout
        return cls.from_dict(merged)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RetryPolicy:
        """Build a policy from `to_dict()` output; ignore unknown keys."""
        known = {field.name for field in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        if "non_retryable" in values:
            values["non_retryable"] = tuple(values["non_retryable"])
        for name in ("initial_interval_s", "backoff", "max_interval_s", "timeout_s"):
            if name in values:
                values[name] = float(values[name])
        if "max_attempts" in values:
            values["max_attempts"] = int(values["max_attempts"])
        return cls(**values)

    def cap(self, attempt: int) -> float:
        """Return the un-jittered delay after failed attempt number `attempt`."""
        exponent = max(attempt, 1) - 1
        if self.initial_interval_s == 0:
            return 0.0
        try:
            delay = self.initial_interval_s * self.backoff**exponent
        except OverflowError:  # a stored backoff of 1e10 at attempt 50, say
            delay = math.inf
        return min(self.max_interval_s, delay, MAX_DELAY_S)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Return the jittered delay after failed attempt number `attempt`."""
        rng = rng or _RANDOM
        cap = self.cap(attempt)
        if self.jitter == "full":
            delay = rng.uniform(0, cap)
        elif self.jitter == "equal":
            delay = cap / 2 + rng.uniform(0, cap / 2)
        else:
            delay = cap
        return bounded_seconds(min(delay, self.max_interval_s))

    def should_retry(self, attempt: int, error_type: str) -> bool:
        """Return whether failed attempt number `attempt` earns another attempt."""
        if error_type in self.non_retryable:
            return False
        return attempt < self.max_attempts

    def to_dict(self) -> dict[str, Any]:
        """Return the policy as plain JSON, for storing on an attempt."""
        data = asdict(self)
        data["non_retryable"] = list(self.non_retryable)
        return data


def bounded_seconds(value: Any) -> float:
    """Return a duration as seconds within [0, MAX_DELAY_S] (NaN and junk are 0)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0
    if math.isnan(seconds):
        return 0.0
    return min(max(seconds, 0.0), MAX_DELAY_S)
