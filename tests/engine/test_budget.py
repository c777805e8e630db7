"""Tests for the retry budget: the window bound, buffering, config and Redis sharing."""

import json
import logging
import math
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from engine.budget import (
    BudgetConfig,
    LocalBudgetStore,
    RedisBudgetStore,
    RetryBudget,
    get_budget,
    reset_budget,
)
from tests.support import free_port

# Float slack for r * deposits; far below one retry.
TOLERANCE = 1e-6
QUEUE = "default"


class FakeClock:
    """A clock that only moves when the test says so."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingStore:
    """A LocalBudgetStore that also remembers every call made to it."""

    def __init__(self, clock: FakeClock) -> None:
        self.inner = LocalBudgetStore(clock)
        self.calls: list[tuple[str, int, float]] = []

    def deposit(
        self, queue: str, count: int, config: BudgetConfig, *, age_s: float = 0.0
    ) -> None:
        self.calls.append(("deposit", count, age_s))
        self.inner.deposit(queue, count, config, age_s=age_s)

    def withdraw(
        self,
        queue: str,
        config: BudgetConfig,
        *,
        deposits: int = 0,
        age_s: float = 0.0,
    ) -> bool:
        self.calls.append(("withdraw", deposits, age_s))
        return self.inner.withdraw(queue, config, deposits=deposits, age_s=age_s)


class UntouchableStore:
    """A store that fails the test if it is used at all."""

    def deposit(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("a disabled budget touched its store")

    def withdraw(self, *args: Any, **kwargs: Any) -> bool:
        raise AssertionError("a disabled budget touched its store")


def in_window(log: list[tuple[int, int]], first: int, last: int) -> int:
    """Sum the counts of `log` entries ({second, count}) in seconds first..last."""
    return sum(count for second, count in log if first <= second <= last)


configs = st.builds(
    BudgetConfig,
    ratio=st.sampled_from([0.0, 0.1, 0.2, 0.5, 1.0, 2.5])
    | st.floats(min_value=0, max_value=5),
    min_retries_per_s=st.sampled_from([0.0, 0.1, 1.0, 10.0])
    | st.floats(min_value=0, max_value=5),
    window_s=st.integers(min_value=1, max_value=12),
)
# (seconds to advance the clock, first attempts to deposit, retries to try)
steps = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=3),
        st.integers(min_value=0, max_value=20),
        st.integers(min_value=0, max_value=15),
    ),
    max_size=40,
)
bounded = hypothesis_settings(max_examples=200, deadline=None)


def assert_window_bound(
    config: BudgetConfig,
    deposits: list[tuple[int, int]],
    grants: list[tuple[int, int]],
) -> None:
    """Check the corollary: W seconds of grants fit 2W - 1 seconds of deposits."""
    if not grants:
        return
    window = config.window_s
    for last in range(grants[0][0], grants[-1][0] + window):
        granted = in_window(grants, last - window + 1, last)
        deposited = in_window(deposits, last - 2 * window + 2, last)
        limit = config.ratio * deposited + config.floor_per_window
        assert granted <= limit + TOLERANCE


@bounded
@given(configs, steps)
def test_store_grants_exactly_what_the_window_allows(
    config: BudgetConfig, script: list[tuple[float, int, int]]
) -> None:
    """Each grant fits r * window deposits + f * W; each refusal is a spent budget."""
    clock = FakeClock()
    store = LocalBudgetStore(clock)
    window = config.window_s
    deposits: list[tuple[int, int]] = []
    grants: list[tuple[int, int]] = []
    for advance, first_attempts, retries in script:
        clock.advance(advance)
        second = math.floor(clock())
        if first_attempts:
            store.deposit(QUEUE, first_attempts, config)
            deposits.append((second, first_attempts))
        for _ in range(retries):
            granted = store.withdraw(QUEUE, config)
            allowance = (
                config.ratio * in_window(deposits, second - window + 1, second)
                + config.floor_per_window
            )
            spent = in_window(grants, second - window + 1, second)
            if granted:
                grants.append((second, 1))
                assert spent + 1 <= allowance + TOLERANCE
            else:
                assert spent + 1 > allowance - TOLERANCE
    assert_window_bound(config, deposits, grants)


@bounded
@given(configs, steps)
def test_buffered_deposits_never_widen_the_bound(
    config: BudgetConfig, script: list[tuple[float, int, int]]
) -> None:
    """Through RetryBudget's buffer, the bound holds for when attempts were made."""
    clock = FakeClock()
    budget = RetryBudget(LocalBudgetStore(clock), config, clock=clock)
    window = config.window_s
    deposits: list[tuple[int, int]] = []
    grants: list[tuple[int, int]] = []
    for advance, first_attempts, retries in script:
        clock.advance(advance)
        second = math.floor(clock())
        if first_attempts:
            budget.deposit(QUEUE, first_attempts)
            deposits.append((second, first_attempts))
        for _ in range(retries):
            if budget.try_withdraw(QUEUE):
                grants.append((second, 1))
                spent = in_window(grants, second - window + 1, second)
                made = in_window(deposits, second - window + 1, second)
                assert spent <= config.ratio * made + config.floor_per_window + 1e-6
    assert_window_bound(config, deposits, grants)


@bounded
@given(configs, st.lists(st.floats(min_value=0, max_value=3), max_size=30))
def test_without_first_attempts_the_floor_alone_governs(
    config: BudgetConfig, advances: list[float]
) -> None:
    """With no deposits, any W seconds grant at most f * W retries, and use them."""
    clock = FakeClock()
    store = LocalBudgetStore(clock)
    window = config.window_s
    grants: list[tuple[int, int]] = []
    for advance in advances:
        clock.advance(advance)
        second = math.floor(clock())
        while store.withdraw(QUEUE, config):
            grants.append((second, 1))
        # Refused: the window holds every retry the floor allows.
        spent = in_window(grants, second - window + 1, second)
        assert config.floor_per_window - 1 - TOLERANCE < spent
        assert spent <= config.floor_per_window + TOLERANCE
    assert_window_bound(config, [], grants)


@bounded
@given(configs, steps)
def test_a_disabled_budget_always_grants_without_the_store(
    config: BudgetConfig, script: list[tuple[float, int, int]]
) -> None:
    clock = FakeClock()
    disabled = BudgetConfig(
        enabled=False,
        ratio=config.ratio,
        min_retries_per_s=config.min_retries_per_s,
        window_s=config.window_s,
    )
    budget = RetryBudget(UntouchableStore(), disabled, clock=clock)
    for advance, first_attempts, retries in script:
        clock.advance(advance)
        budget.deposit(QUEUE, first_attempts)
        assert all(budget.try_withdraw(QUEUE) for _ in range(retries))
    budget.flush()


def grants_until_refused(budget: RetryBudget, queue: str = QUEUE) -> int:
    """Withdraw until the budget refuses; return how many retries were granted."""
    for granted in range(10_000):
        if not budget.try_withdraw(queue):
            return granted
    raise AssertionError("the budget never refused")


def test_defaults_grant_a_fifth_of_first_attempts_plus_the_floor() -> None:
    clock = FakeClock()
    budget = RetryBudget(LocalBudgetStore(clock), BudgetConfig(), clock=clock)
    budget.deposit(QUEUE, 100)
    assert grants_until_refused(budget) == 20 + 10 * 10


def test_deposits_and_the_floor_expire_after_the_window() -> None:
    clock = FakeClock(1_000.0)
    config = BudgetConfig(ratio=1.0, min_retries_per_s=0.5, window_s=10)
    budget = RetryBudget(LocalBudgetStore(clock), config, clock=clock)
    budget.deposit(QUEUE, 4)
    assert grants_until_refused(budget) == 4 + 5
    clock.advance(9.9)  # second 1009: still the same window
    assert not budget.try_withdraw(QUEUE)
    clock.advance(0.1)  # second 1010: second 1000 has left the window
    assert grants_until_refused(budget) == 5


def test_refused_retries_do_not_spend_the_budget() -> None:
    clock = FakeClock()
    config = BudgetConfig(ratio=0.5, min_retries_per_s=0, window_s=5)
    budget = RetryBudget(LocalBudgetStore(clock), config, clock=clock)
    assert not budget.try_withdraw(QUEUE)
    budget.deposit(QUEUE, 2)
    assert budget.try_withdraw(QUEUE)
    assert not budget.try_withdraw(QUEUE)


def test_queues_have_separate_budgets() -> None:
    clock = FakeClock()
    config = BudgetConfig(ratio=1.0, min_retries_per_s=0, window_s=5)
    budget = RetryBudget(LocalBudgetStore(clock), config, clock=clock)
    budget.deposit("payments", 3)
    assert not budget.try_withdraw("default")
    assert grants_until_refused(budget, "payments") == 3


def test_deposits_are_buffered_and_sent_with_the_next_withdraw() -> None:
    clock = FakeClock()
    store = RecordingStore(clock)
    budget = RetryBudget(store, BudgetConfig(), clock=clock)
    budget.deposit(QUEUE)  # the first deposit goes straight through
    for _ in range(99):
        clock.advance(0.001)
        budget.deposit(QUEUE)
    assert store.calls == [("deposit", 1, 0.0)]
    assert budget.try_withdraw(QUEUE)
    kind, count, age_s = store.calls[-1]
    assert (kind, count) == ("withdraw", 99)
    assert age_s == pytest.approx(0.098)  # since the oldest buffered deposit
    assert grants_until_refused(budget) == 20 + 100 - 1


def test_buffered_deposits_are_flushed_after_a_quarter_second() -> None:
    clock = FakeClock()
    store = RecordingStore(clock)
    budget = RetryBudget(store, BudgetConfig(), clock=clock)
    budget.deposit(QUEUE, 5)
    clock.advance(0.1)
    budget.deposit(QUEUE, 3)
    clock.advance(0.1)
    budget.deposit(QUEUE, 2)
    assert [call[1] for call in store.calls] == [5]
    clock.advance(0.05)  # 0.25 s after the last flush
    budget.deposit(QUEUE, 1)
    assert store.calls[1][:2] == ("deposit", 6)
    assert store.calls[1][2] == pytest.approx(0.15)


def test_flush_sends_every_queue_buffer() -> None:
    clock = FakeClock()
    store = RecordingStore(clock)
    budget = RetryBudget(store, BudgetConfig(), clock=clock)
    budget.deposit("a")
    budget.deposit("a", 4)
    budget.deposit("b")
    budget.flush()
    assert [call[:2] for call in store.calls] == [
        ("deposit", 1),
        ("deposit", 1),
        ("deposit", 4),
    ]


def test_buffered_deposits_expire_from_when_the_attempts_were_made() -> None:
    """A batch flushed late is backdated: it cannot pay for retries past its window."""
    clock = FakeClock(1_000.0)
    config = BudgetConfig(ratio=1.0, min_retries_per_s=0, window_s=10)
    budget = RetryBudget(LocalBudgetStore(clock), config, clock=clock)
    budget.deposit(QUEUE)  # flushed at once
    clock.advance(0.1)
    budget.deposit(QUEUE, 50)  # buffered, made in second 1000
    clock.advance(10.0)  # second 1010: second 1000 has left the window
    assert not budget.try_withdraw(QUEUE)


def test_a_late_flush_still_counts_within_the_window() -> None:
    clock = FakeClock(1_000.0)
    config = BudgetConfig(ratio=1.0, min_retries_per_s=0, window_s=10)
    budget = RetryBudget(LocalBudgetStore(clock), config, clock=clock)
    budget.deposit(QUEUE)
    clock.advance(0.1)
    budget.deposit(QUEUE, 50)
    clock.advance(9.5)  # second 1009: second 1000 is still in the window
    assert grants_until_refused(budget) == 51


def test_defer_is_one_floor_interval_clamped() -> None:
    config = BudgetConfig.from_dict(
        {
            "queues": {
                "slow": {"min_retries_per_s": 0},
                "fast": {"min_retries_per_s": 50},
                "half": {"min_retries_per_s": 2},
            }
        }
    )
    budget = RetryBudget(LocalBudgetStore(), config)
    assert budget.defer_s("default") == 0.1
    assert budget.defer_s("fast") == 0.1
    assert budget.defer_s("half") == 0.5
    assert budget.defer_s("slow") == 1.0


def test_queue_overrides_inherit_the_rest_of_the_config() -> None:
    config = BudgetConfig.from_dict(
        {
            "ratio": 0.5,
            "window_s": 20,
            "queues": {"payments": {"ratio": 0.1}, "bulk": {"enabled": False}},
        }
    )
    assert config.config_for("payments") == BudgetConfig(ratio=0.1, window_s=20)
    assert config.config_for("bulk") == BudgetConfig(
        enabled=False, ratio=0.5, window_s=20
    )
    assert config.config_for("default") == BudgetConfig(ratio=0.5, window_s=20)


def test_an_override_can_disable_one_queue() -> None:
    config = BudgetConfig.from_dict(
        {"min_retries_per_s": 0, "queues": {"bulk": {"enabled": False}}}
    )
    budget = RetryBudget(LocalBudgetStore(), config)
    assert not budget.try_withdraw("default")
    assert all(budget.try_withdraw("bulk") for _ in range(100))


@pytest.mark.parametrize(
    "data",
    [
        {"ratoi": 0.2},
        {"ratio": -0.1},
        {"ratio": float("nan")},
        {"ratio": None},
        {"min_retries_per_s": "lots"},
        {"window_s": 0},
        {"window_s": 2.5},
        {"enabled": "no"},
        {"queues": ["payments"]},
        {"queues": {"payments": {"queues": {}}}},
        {"queues": {"payments": {"window": 5}}},
    ],
)
def test_refuses_impossible_configs(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        BudgetConfig.from_dict(data)


def test_from_settings_reads_the_django_setting(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWITCHYARD_RETRY_BUDGET", json.dumps({"enabled": False}))
    settings.SWITCHYARD_RETRY_BUDGET = {
        "ratio": 0.3,
        "queues": {"payments": {"min_retries_per_s": 1}},
    }
    config = BudgetConfig.from_settings()
    assert config.config_for("default") == BudgetConfig(ratio=0.3)
    assert config.config_for("payments") == BudgetConfig(
        ratio=0.3, min_retries_per_s=1.0
    )


def test_from_settings_falls_back_to_the_environment(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    if hasattr(settings, "SWITCHYARD_RETRY_BUDGET"):
        del settings.SWITCHYARD_RETRY_BUDGET
    monkeypatch.setenv(
        "SWITCHYARD_RETRY_BUDGET", '{"ratio": 0.2, "min_retries_per_s": 1}'
    )
    assert BudgetConfig.from_settings() == BudgetConfig(min_retries_per_s=1.0)
    monkeypatch.setenv("SWITCHYARD_RETRY_BUDGET", '{"enabled": false}')
    assert BudgetConfig.from_settings() == BudgetConfig(enabled=False)
    monkeypatch.delenv("SWITCHYARD_RETRY_BUDGET")
    assert BudgetConfig.from_settings() == BudgetConfig()


@pytest.fixture
def fresh_budget() -> Iterator[None]:
    reset_budget()
    yield
    reset_budget()


@pytest.mark.usefixtures("fresh_budget")
def test_get_budget_uses_redis_when_configured() -> None:
    budget = get_budget()
    assert isinstance(budget.store, RedisBudgetStore)
    assert get_budget() is budget
    reset_budget()
    assert get_budget() is not budget


@pytest.mark.usefixtures("fresh_budget")
def test_get_budget_stays_in_process_without_redis(settings: Any) -> None:
    settings.SWITCHYARD_REDIS_URL = None
    settings.SWITCHYARD_RETRY_BUDGET = {"ratio": 0.5}
    budget = get_budget()
    assert isinstance(budget.store, LocalBudgetStore)
    assert budget.config == BudgetConfig(ratio=0.5)


@pytest.mark.usefixtures("fresh_budget")
def test_a_forked_child_builds_its_own_budget() -> None:
    """Prefork children must not share the parent's connection or deposit buffer."""
    parent = get_budget()
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status, never return
        try:
            child = get_budget()
            os._exit(0 if child is not parent and child is get_budget() else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert get_budget() is parent


def test_an_unreachable_redis_fails_open(caplog: pytest.LogCaptureFixture) -> None:
    store = RedisBudgetStore(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.5)
    config = BudgetConfig(ratio=0, min_retries_per_s=0)
    budget = RetryBudget(store, config)
    with caplog.at_level(logging.WARNING, logger="switchyard.engine.budget"):
        budget.deposit(QUEUE, 10)
        assert budget.try_withdraw(QUEUE)
    assert "failing open" in caplog.text


# Against the real Redis of the test settings (database 9); no database needed.


@pytest.fixture
def redis_url() -> str:
    url = django_settings.SWITCHYARD_REDIS_URL
    assert url, "the test settings point at a real Redis"
    return str(url)


@pytest.fixture
def inspect(redis_url: str) -> redis.Redis:
    """Return a client that reads the budget hashes as text."""
    return redis.Redis.from_url(redis_url, decode_responses=True)


@pytest.fixture
def redis_queue(inspect: redis.Redis) -> Iterator[str]:
    """Yield a queue name of its own; delete its budget key afterwards."""
    queue = f"test-{uuid.uuid4().hex}"
    yield queue
    inspect.delete(RedisBudgetStore.key(queue))


SMALL_FLOOR = BudgetConfig(ratio=0.2, min_retries_per_s=1, window_s=10)


def test_redis_grants_a_fifth_of_first_attempts_plus_the_floor(
    redis_url: str, redis_queue: str
) -> None:
    budget = RetryBudget(RedisBudgetStore(redis_url), SMALL_FLOOR)
    for _ in range(100):
        budget.deposit(redis_queue)
    assert grants_until_refused(budget, redis_queue) == 20 + 1 * 10


def test_two_processes_share_one_redis_budget(redis_url: str, redis_queue: str) -> None:
    first = RetryBudget(RedisBudgetStore(redis_url), SMALL_FLOOR)
    second = RetryBudget(RedisBudgetStore(redis_url), SMALL_FLOOR)
    first.deposit(redis_queue, 50)
    second.deposit(redis_queue, 50)
    assert all([first.try_withdraw(redis_queue) for _ in range(15)])
    assert grants_until_refused(second, redis_queue) == 15
    assert not first.try_withdraw(redis_queue)


def test_redis_prunes_old_buckets_and_sets_a_ttl(
    redis_url: str, redis_queue: str, inspect: redis.Redis
) -> None:
    store = RedisBudgetStore(redis_url)
    key = store.key(redis_queue)
    now = inspect.time()[0]
    inspect.hset(
        key,
        mapping={f"d:{now - 60}": 1000, f"w:{now - 10}": 5, "junk": 1, "d:x": 7},
    )
    config = BudgetConfig(ratio=1.0, min_retries_per_s=0, window_s=10)
    store.deposit(redis_queue, 2, config)
    assert store.withdraw(redis_queue, config)
    assert store.withdraw(redis_queue, config)
    assert not store.withdraw(redis_queue, config)
    fields = inspect.hkeys(key)
    assert all(field[:2] in ("d:", "w:") for field in fields)
    assert all(int(field[2:]) > now - 10 for field in fields)
    assert 0 < inspect.ttl(key) <= 20


def test_redis_backdates_a_late_batch(
    redis_url: str, redis_queue: str, inspect: redis.Redis
) -> None:
    store = RedisBudgetStore(redis_url)
    config = BudgetConfig(ratio=1.0, min_retries_per_s=0, window_s=10)
    store.deposit(redis_queue, 5, config, age_s=30.0)  # already expired
    assert not store.withdraw(redis_queue, config)
    assert store.withdraw(redis_queue, config, deposits=1, age_s=5.0)
    now = inspect.time()[0]
    fields = inspect.hkeys(store.key(redis_queue))
    deposits = [int(field[2:]) for field in fields if field[:2] == "d:"]
    assert len(deposits) == 1
    assert now - 6 <= deposits[0] <= now - 4


def test_a_disabled_queue_never_reaches_redis(
    redis_url: str, redis_queue: str, inspect: redis.Redis
) -> None:
    budget = RetryBudget(RedisBudgetStore(redis_url), BudgetConfig(enabled=False))
    budget.deposit(redis_queue, 100)
    assert all(budget.try_withdraw(redis_queue) for _ in range(500))
    budget.flush()
    assert not inspect.exists(RedisBudgetStore.key(redis_queue))
