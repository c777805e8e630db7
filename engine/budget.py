"""Bound retries per queue to a share of first attempts: a Finagle-style retry budget.

Every first attempt on a queue deposits `ratio` tokens; every retry must withdraw one
token. On top of the deposits, `min_retries_per_s * window_s` tokens per window are
always available (the floor), so a quiet queue can still retry. Deposits and
withdrawals are counted in per-second buckets and expire after `window_s` seconds.

Guarantee, in whole seconds of the store's clock (Redis's `TIME`, or the local
store's clock), with W = `window_s`, r = `ratio` and f = `min_retries_per_s`:

* When a retry is granted in second s, the retries granted in seconds s-W+1 .. s,
  this one included, number at most r * D + f * W, where D counts the first
  attempts recorded in seconds s-W+1 .. s so far. Conversely a retry is refused only
  when granting it would break this, so the budget is spent exactly.
* Hence for any W consecutive seconds ending with second s (so for any real interval
  of W - 1 seconds, which never spans more than W buckets), the retries granted in
  them number at most r * (first attempts made in the 2W - 1 seconds ending with s)
  + f * W. With no first attempts that is f * W.

The look-back on the deposit side is inherent to any budget whose tokens live for W
seconds: a first attempt made just before a window opens can pay for a retry inside
it, so "retries in a window <= r * first attempts in that same window + f * W" does
not hold for arbitrary windows. Deposits buffered by `RetryBudget` are recorded in
the second of the oldest buffered first attempt (up to network latency), never later,
so buffering can only tighten the bound.

Redis failures fail open: the retry is allowed and a warning is logged. The budget
guards downstream services against retry storms; a Redis outage must not also stop
every retry, and each node's retry policy still caps its attempts.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

import redis

__all__ = [
    "BudgetConfig",
    "BudgetStore",
    "LocalBudgetStore",
    "RedisBudgetStore",
    "RetryBudget",
    "get_budget",
    "reset_budget",
]

logger = logging.getLogger("switchyard.engine.budget")

SETTING_NAME = "SWITCHYARD_RETRY_BUDGET"
ENV_NAME = "SWITCHYARD_RETRY_BUDGET"
KEY_PREFIX = "switchyard:budget:"
FLUSH_INTERVAL_S = 0.25
# Absorbs float rounding in r * deposits (0.1 * 30 is 3.0000000000000004 or
# 2.9999999999999996), far below one token.
EPSILON = 1e-9

_CONFIG_FIELDS = ("enabled", "ratio", "min_retries_per_s", "window_s")


@dataclass(frozen=True)
class BudgetConfig:
    """Describe the retry budget of a queue, and per-queue overrides of it."""

    enabled: bool = True
    ratio: float = 0.2
    min_retries_per_s: float = 10.0
    window_s: int = 10
    # ((queue, config), ...): a tuple so the config stays frozen and hashable.
    queues: tuple[tuple[str, BudgetConfig], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise ValueError("enabled must be true or false")
        for name in ("ratio", "min_retries_per_s"):
            value = getattr(self, name)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not (number and math.isfinite(value)):
                raise ValueError(f"{name} must be a finite number")
            if value < 0:
                raise ValueError(f"{name} must not be negative")
        if isinstance(self.window_s, bool) or not isinstance(self.window_s, int):
            raise ValueError("window_s must be a whole number of seconds")
        if self.window_s < 1:
            raise ValueError("window_s must be at least 1")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BudgetConfig:
        """Build a config from plain JSON, with optional `"queues"` overrides.

        Unknown keys raise ValueError: a misspelt key would otherwise silently leave
        a queue on the defaults.
        """
        unknown = set(data) - {*_CONFIG_FIELDS, "queues"}
        if unknown:
            raise ValueError(f"unknown retry budget keys: {', '.join(sorted(unknown))}")
        base = cls(**_coerce(data))
        overrides = data.get("queues") or {}
        if not isinstance(overrides, Mapping):
            raise ValueError("queues must map queue names to overrides")
        queues = []
        for queue, override in overrides.items():
            if not isinstance(override, Mapping) or set(override) - set(_CONFIG_FIELDS):
                raise ValueError(f"bad retry budget override for queue {queue!r}")
            queues.append((str(queue), replace(base, **_coerce(override))))
        return replace(base, queues=tuple(queues))

    @classmethod
    def from_settings(cls) -> BudgetConfig:
        """Read Django's `SWITCHYARD_RETRY_BUDGET`, else the environment variable.

        The environment variable holds the same dict as JSON; worker processes started
        by tests get their config that way. Neither set: the defaults.
        """
        # Imported here so the core stays importable (and testable) without Django.
        from django.conf import settings

        data = None
        if settings.configured:
            data = getattr(settings, SETTING_NAME, None)
        if data is None:
            raw = os.environ.get(ENV_NAME, "").strip()
            if raw:
                data = json.loads(raw)
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValueError(f"{SETTING_NAME} must be a dict")
        return cls.from_dict(data)

    def config_for(self, queue: str) -> BudgetConfig:
        """Return the config for `queue`: its override, else this config."""
        for name, config in self.queues:
            if name == queue:
                return config
        return replace(self, queues=()) if self.queues else self

    @property
    def floor_per_window(self) -> float:
        """Return the floor's share of a window: retries allowed with no deposits."""
        return self.min_retries_per_s * self.window_s


def _coerce(data: Mapping[str, Any]) -> dict[str, Any]:
    """Convert JSON numbers to the field types (JSON has no int/float distinction)."""
    values = {key: data[key] for key in _CONFIG_FIELDS if key in data}
    for name in ("ratio", "min_retries_per_s"):
        if name in values and not isinstance(values[name], bool):
            try:
                values[name] = float(values[name])
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a number")
    window = values.get("window_s")
    if isinstance(window, float) and window.is_integer():
        values["window_s"] = int(window)
    return values


class BudgetStore(Protocol):
    """Keep the per-second deposit and withdrawal counts of every queue."""

    def deposit(
        self, queue: str, count: int, config: BudgetConfig, *, age_s: float = 0.0
    ) -> None:
        """Record `count` first attempts on `queue`, made `age_s` seconds ago."""
        ...

    def withdraw(
        self,
        queue: str,
        config: BudgetConfig,
        *,
        deposits: int = 0,
        age_s: float = 0.0,
    ) -> bool:
        """Record `deposits` (as `deposit`), then take a token if the window has one."""
        ...


class _StoreBase:
    """The deposit/withdraw surface both stores share; they differ in `_record`."""

    def deposit(
        self, queue: str, count: int, config: BudgetConfig, *, age_s: float = 0.0
    ) -> None:
        """Record `count` first attempts on `queue`, made `age_s` seconds ago."""
        if count > 0:
            self._record(queue, config, deposits=count, age_s=age_s, take=False)

    def withdraw(
        self,
        queue: str,
        config: BudgetConfig,
        *,
        deposits: int = 0,
        age_s: float = 0.0,
    ) -> bool:
        """Record `deposits` (as `deposit`), then take a token if the window has one."""
        return self._record(queue, config, deposits=deposits, age_s=age_s, take=True)

    def _record(
        self,
        queue: str,
        config: BudgetConfig,
        *,
        deposits: int,
        age_s: float,
        take: bool,
    ) -> bool:
        raise NotImplementedError


class LocalBudgetStore(_StoreBase):
    """Keep the budget in this process: embedded single-machine mode and unit tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        # {queue: {second: [first attempts, retries granted]}}
        self._buckets: dict[str, dict[int, list[int]]] = {}

    def _record(
        self,
        queue: str,
        config: BudgetConfig,
        *,
        deposits: int,
        age_s: float,
        take: bool,
    ) -> bool:
        with self._lock:
            now = self._clock()
            second = math.floor(now)
            oldest = second - config.window_s + 1
            buckets = self._buckets.setdefault(queue, {})
            for expired in [bucket for bucket in buckets if bucket < oldest]:
                del buckets[expired]
            made_in = math.floor(now - max(age_s, 0.0))
            if deposits > 0 and made_in >= oldest:
                buckets.setdefault(made_in, [0, 0])[0] += deposits
            if not take:
                return False
            deposited = sum(bucket[0] for bucket in buckets.values())
            withdrawn = sum(bucket[1] for bucket in buckets.values())
            if not _has_token(config, deposited, withdrawn):
                return False
            buckets.setdefault(second, [0, 0])[1] += 1
            return True


def _has_token(config: BudgetConfig, deposited: int, withdrawn: int) -> bool:
    """Return whether the window's balance covers one more retry."""
    balance = config.ratio * deposited + config.floor_per_window - withdrawn
    return balance >= 1 - EPSILON


# KEYS[1]: the queue's hash, fields "d:<epoch second>" (first attempts, int) and
# "w:<epoch second>" (retries granted, int).
# ARGV: first attempts to add, their age in seconds, take a token (0/1), ratio,
# min_retries_per_s, window_s. Returns 1 when a token was taken.
# The server's clock puts every machine on the same window; Redis 7 replicates the
# script's effects rather than the script, so TIME is allowed before writes.
_LUA = """
local key = KEYS[1]
local deposits = tonumber(ARGV[1])
local age = tonumber(ARGV[2])
local take = tonumber(ARGV[3])
local ratio = tonumber(ARGV[4])
local floor_per_s = tonumber(ARGV[5])
local window = tonumber(ARGV[6])
local time = redis.call('TIME')
local second = tonumber(time[1])
local oldest = second - window + 1
local made_in = math.floor(second + tonumber(time[2]) / 1000000 - age)
if deposits > 0 and made_in >= oldest then
  redis.call('HINCRBY', key, 'd:' .. made_in, deposits)
end
local deposited, withdrawn = 0, 0
local flat = redis.call('HGETALL', key)
for i = 1, #flat, 2 do
  local kind, bucket = string.match(flat[i], '^([dw]):(%d+)$')
  if bucket then bucket = tonumber(bucket) end
  if bucket == nil or bucket < oldest then
    redis.call('HDEL', key, flat[i])
  elseif kind == 'd' then
    deposited = deposited + tonumber(flat[i + 1])
  else
    withdrawn = withdrawn + tonumber(flat[i + 1])
  end
end
local granted = 0
if take == 1 and ratio * deposited + floor_per_s * window - withdrawn >= 1 - 1e-9 then
  redis.call('HINCRBY', key, 'w:' .. second, 1)
  granted = 1
end
redis.call('EXPIRE', key, 2 * window)
return granted
"""


class RedisBudgetStore(_StoreBase):
    """Keep the budget in Redis, shared by every worker on every machine.

    Each call is one run of an atomic Lua script. A connection or timeout error fails
    open: the retry is allowed, the deposits are lost, and a warning is logged.
    """

    def __init__(self, redis_url: str, *, timeout_s: float = 1.0) -> None:
        # Short timeouts: a hung Redis must not stall the engine's hot path.
        self.client = redis.Redis.from_url(
            redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._script = self.client.register_script(_LUA)

    @staticmethod
    def key(queue: str) -> str:
        """Return the Redis key of `queue`'s budget hash."""
        return f"{KEY_PREFIX}{queue}"

    def _record(
        self,
        queue: str,
        config: BudgetConfig,
        *,
        deposits: int,
        age_s: float,
        take: bool,
    ) -> bool:
        args: list[str | int] = [
            deposits,
            repr(max(float(age_s), 0.0)),
            1 if take else 0,
            repr(float(config.ratio)),
            repr(float(config.min_retries_per_s)),
            config.window_s,
        ]
        try:
            return bool(self._script(keys=[self.key(queue)], args=args))
        except (redis.ConnectionError, redis.TimeoutError) as error:
            logger.warning(
                "retry budget of queue %s unavailable, failing open: %s", queue, error
            )
            return True


class _Pending:
    """First attempts buffered for one queue since its last flush."""

    __slots__ = ("count", "flushed_at", "lock", "since")

    def __init__(self) -> None:
        # Held across the store call, so that a withdraw on another thread cannot
        # overtake a flush of this process's deposits.
        self.lock = threading.Lock()
        self.count = 0
        self.since = 0.0  # when the oldest buffered first attempt was made
        self.flushed_at = -math.inf

    def take(self, now: float) -> tuple[int, float]:
        """Return the buffered count and its age, and start a new buffer."""
        count, self.count = self.count, 0
        self.flushed_at = now
        return count, (now - self.since if count else 0.0)


class RetryBudget:
    """Decide whether a retry on a queue fits its budget; buffer first attempts.

    Deposits are on the hot path, so they are buffered per queue and sent to the
    store on the first deposit at least `flush_interval_s` after that queue's last
    flush, and always with the next withdraw (in the same store call), so that a
    withdraw sees this process's deposits. A flush carries the age of the oldest
    buffered first attempt and the store backdates the whole batch to it: buffering
    can make deposits expire early, never late, so the bound in the module docstring
    holds for the times the first attempts were really made.
    """

    def __init__(
        self,
        store: BudgetStore,
        config: BudgetConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        flush_interval_s: float = FLUSH_INTERVAL_S,
    ) -> None:
        self.store = store
        self.config = config or BudgetConfig()
        self._clock = clock
        self._flush_interval_s = flush_interval_s
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        self._configs: dict[str, BudgetConfig] = {}

    def config_for(self, queue: str) -> BudgetConfig:
        """Return the budget config that applies to `queue`."""
        config = self._configs.get(queue)
        if config is None:
            config = self._configs[queue] = self.config.config_for(queue)
        return config

    def deposit(self, queue: str, n: int = 1) -> None:
        """Record `n` first attempts on `queue`, buffered for up to 0.25 s."""
        config = self.config_for(queue)
        if not config.enabled or n <= 0:
            return
        pending = self._pending_for(queue)
        with pending.lock:
            now = self._clock()
            if pending.count == 0:
                pending.since = now
            pending.count += n
            if now - pending.flushed_at >= self._flush_interval_s:
                count, age_s = pending.take(now)
                self.store.deposit(queue, count, config, age_s=age_s)

    def try_withdraw(self, queue: str) -> bool:
        """Return whether a retry on `queue` may run now, taking a token if so.

        Always True, without touching the store, when the queue's budget is disabled.
        """
        config = self.config_for(queue)
        if not config.enabled:
            return True
        pending = self._pending_for(queue)
        with pending.lock:
            count, age_s = pending.take(self._clock())
            return self.store.withdraw(queue, config, deposits=count, age_s=age_s)

    def flush(self) -> None:
        """Send every queue's buffered deposits to the store now."""
        with self._lock:
            queues = list(self._pending.items())
        for queue, pending in queues:
            with pending.lock:
                if pending.count:
                    count, age_s = pending.take(self._clock())
                    config = self.config_for(queue)
                    self.store.deposit(queue, count, config, age_s=age_s)

    def defer_s(self, queue: str) -> float:
        """Return how long to wait before trying a refused retry on `queue` again."""
        floor_per_s = self.config_for(queue).min_retries_per_s
        return min(max(1.0 / max(floor_per_s, 1.0), 0.1), 5.0)

    def _pending_for(self, queue: str) -> _Pending:
        pending = self._pending.get(queue)
        if pending is None:
            with self._lock:
                pending = self._pending.setdefault(queue, _Pending())
        return pending


_budget: RetryBudget | None = None
_budget_lock = threading.Lock()


def get_budget() -> RetryBudget:
    """Return this process's retry budget, built from settings on first use.

    Redis when `SWITCHYARD_REDIS_URL` is set, else an in-process store (embedded
    single-machine mode).
    """
    global _budget
    budget = _budget
    if budget is not None:
        return budget
    with _budget_lock:
        if _budget is None:
            from django.conf import settings

            config = BudgetConfig.from_settings()
            redis_url = getattr(settings, "SWITCHYARD_REDIS_URL", None)
            store: BudgetStore
            if redis_url:
                store = RedisBudgetStore(redis_url)
            else:
                store = LocalBudgetStore()
            _budget = RetryBudget(store, config)
        return _budget


def reset_budget() -> None:
    """Forget the process's retry budget; the next `get_budget()` builds a new one."""
    global _budget
    with _budget_lock:
        _budget = None


def _reset_after_fork() -> None:
    # A prefork child must not share the parent's Redis connection or deposit buffer
    # (the parent flushes its own). The lock may have been held by another parent
    # thread at fork time, so replace it rather than acquire it.
    global _budget, _budget_lock
    _budget = None
    _budget_lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)
