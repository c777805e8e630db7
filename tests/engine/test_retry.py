"""Tests for the retry policy: merging, backoff caps, jitter and retry decisions."""

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.retry import MAX_DELAY_S, RetryPolicy

policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(min_value=1, max_value=100),
    initial_interval_s=st.floats(min_value=0, max_value=1e6),
    backoff=st.floats(min_value=1, max_value=1e3),
    max_interval_s=st.floats(min_value=0, max_value=1e6),
    jitter=st.sampled_from(["full", "equal", "none"]),
    non_retryable=st.lists(st.sampled_from(["A", "B", "C"]), max_size=3).map(tuple),
    timeout_s=st.floats(min_value=0.001, max_value=86400),
)
attempts = st.integers(min_value=1, max_value=10_000)
error_types = st.sampled_from(["A", "B", "C", "D", "StepFailed"])


def test_defaults_match_the_contract() -> None:
    policy = RetryPolicy()
    assert policy.to_dict() == {
        "max_attempts": 3,
        "initial_interval_s": 1.0,
        "backoff": 2.0,
        "max_interval_s": 60.0,
        "jitter": "full",
        "non_retryable": [],
        "timeout_s": 300.0,
    }


def test_caps_grow_exponentially_up_to_the_maximum() -> None:
    policy = RetryPolicy(initial_interval_s=1, backoff=2, max_interval_s=10)
    assert [policy.cap(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_cap_survives_huge_attempt_numbers() -> None:
    policy = RetryPolicy(initial_interval_s=1, backoff=10, max_interval_s=60)
    assert policy.cap(10**6) == 60
    assert RetryPolicy(initial_interval_s=0).cap(10**6) == 0


def test_no_jitter_waits_exactly_the_cap() -> None:
    policy = RetryPolicy(jitter="none", initial_interval_s=3, backoff=1)
    assert policy.delay(1) == 3
    assert policy.delay(5) == 3


def test_equal_jitter_waits_at_least_half_the_cap() -> None:
    policy = RetryPolicy(jitter="equal", initial_interval_s=8, backoff=1)
    rng = random.Random(1)
    delays = [policy.delay(1, rng) for _ in range(200)]
    assert all(4 <= delay <= 8 for delay in delays)


def test_full_jitter_is_seeded_by_the_rng() -> None:
    policy = RetryPolicy(jitter="full", initial_interval_s=8, backoff=1)
    first = [policy.delay(1, random.Random(5)) for _ in range(3)]
    second = [policy.delay(1, random.Random(5)) for _ in range(3)]
    assert first == second


def test_merges_graph_defaults_under_node_settings_field_by_field() -> None:
    defaults = {
        "queue": "default",
        "retry": {"max_attempts": 3, "initial_interval_s": 1, "jitter": "none"},
        "timeout_s": 120,
    }
    node = {"id": "charge", "retry": {"max_attempts": 5, "backoff": 3}}
    policy = RetryPolicy.from_graph(defaults, node)
    assert policy.max_attempts == 5  # node wins
    assert policy.backoff == 3  # node only
    assert policy.initial_interval_s == 1  # defaults only
    assert policy.jitter == "none"
    assert policy.max_interval_s == 60  # neither: the class default
    assert policy.timeout_s == 120  # defaults timeout_s


def test_node_timeout_wins_over_defaults_and_300_is_the_fallback() -> None:
    defaults = {"timeout_s": 120}
    assert RetryPolicy.from_graph(defaults, {"timeout_s": 30}).timeout_s == 30
    assert RetryPolicy.from_graph(defaults, {}).timeout_s == 120
    assert RetryPolicy.from_graph(None, {}).timeout_s == 300
    assert RetryPolicy.from_graph({}, {"retry": {}}) == RetryPolicy()


def test_non_retryable_errors_from_json_become_a_tuple() -> None:
    policy = RetryPolicy.from_graph(
        None, {"retry": {"non_retryable": ["HttpClientError"]}}
    )
    assert policy.non_retryable == ("HttpClientError",)
    assert not policy.should_retry(1, "HttpClientError")
    assert policy.should_retry(1, "HttpError")


def test_round_trips_through_to_dict() -> None:
    policy = RetryPolicy(max_attempts=7, jitter="equal", non_retryable=("A",))
    assert RetryPolicy.from_dict(policy.to_dict()) == policy


@pytest.mark.parametrize(
    "settings",
    [
        {"max_attempts": 0},
        {"initial_interval_s": -1},
        {"max_interval_s": -1},
        {"backoff": 0.5},
        {"jitter": "random"},
        {"timeout_s": 0},
        {"backoff": float("nan")},
    ],
)
def test_refuses_impossible_settings(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**settings)


@given(policies, attempts, st.randoms(use_true_random=False))
def test_delays_stay_within_zero_and_the_maximum(
    policy: RetryPolicy, attempt: int, rng: random.Random
) -> None:
    delay = policy.delay(attempt, rng)
    assert 0 <= delay <= policy.max_interval_s
    assert delay <= policy.cap(attempt)


@given(policies, attempts)
def test_caps_never_decrease_with_the_attempt_number(
    policy: RetryPolicy, attempt: int
) -> None:
    assert policy.cap(attempt) <= policy.cap(attempt + 1)


@given(policies, error_types)
def test_a_retry_loop_never_exceeds_max_attempts(
    policy: RetryPolicy, error_type: str
) -> None:
    attempt = 1
    while policy.should_retry(attempt, error_type):
        attempt += 1
        assert attempt <= policy.max_attempts
    assert attempt <= policy.max_attempts
    if error_type not in policy.non_retryable:
        assert attempt == policy.max_attempts


@given(policies, attempts, st.sampled_from(["A", "B", "C"]))
def test_non_retryable_errors_are_never_retried(
    policy: RetryPolicy, attempt: int, error_type: str
) -> None:
    if error_type in policy.non_retryable:
        assert not policy.should_retry(attempt, error_type)


retry_settings = st.fixed_dictionaries(
    {},
    optional={
        "max_attempts": st.integers(min_value=1, max_value=100),
        "initial_interval_s": st.integers(min_value=0, max_value=100),
        "backoff": st.floats(min_value=1, max_value=10),
        "jitter": st.sampled_from(["full", "equal", "none"]),
        "non_retryable": st.lists(st.text(min_size=1, max_size=5), max_size=3),
    },
)


@given(retry_settings, retry_settings)
def test_node_settings_win_over_defaults_field_by_field(
    defaults: dict[str, Any], node: dict[str, Any]
) -> None:
    policy = RetryPolicy.from_graph({"retry": defaults}, {"retry": node}).to_dict()
    for name in RetryPolicy().to_dict():
        if name in node:
            assert policy[name] == node[name]
        elif name in defaults:
            assert policy[name] == defaults[name]
        else:
            assert policy[name] == RetryPolicy().to_dict()[name]


# -- policies stored before the bounds (graphs are not revalidated) -----------------


@pytest.mark.parametrize("huge", [1e12, 1e308])
@pytest.mark.parametrize("jitter", ["full", "equal", "none"])
def test_a_huge_stored_interval_never_overflows_a_due_date(
    huge: float, jitter: str
) -> None:
    policy = RetryPolicy.from_graph(
        {"retry": {"initial_interval_s": huge, "max_interval_s": huge}},
        {"retry": {"backoff": 1e10, "jitter": jitter}},
    )
    now = datetime.now(UTC)
    for attempt in (1, 2, 40, 10**6):
        delay = policy.delay(attempt, random.Random(attempt))
        assert 0 <= delay <= MAX_DELAY_S
        assert now + timedelta(seconds=delay) > now - timedelta(seconds=1)
    assert policy.cap(10**6) == MAX_DELAY_S


@pytest.mark.parametrize("huge", [1e12, 1e308])
def test_a_huge_stored_timeout_is_clamped_to_what_a_timer_can_hold(
    huge: float,
) -> None:
    """A worker arms setitimer and the sweeper stores a deadline with timeout_s."""
    policy = RetryPolicy.from_graph({"timeout_s": huge}, {})
    assert policy.timeout_s == MAX_DELAY_S
    assert RetryPolicy.from_dict(policy.to_dict()).timeout_s == MAX_DELAY_S
    datetime.now(UTC) + timedelta(seconds=policy.timeout_s)
    assert RetryPolicy.from_graph({}, {"timeout_s": 30}).timeout_s == 30
