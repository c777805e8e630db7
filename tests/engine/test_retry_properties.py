"""Property tests for the retry policy: delay bounds, cap growth and retry decisions."""

import random

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from engine.retry import RetryPolicy

ERRORS = ("Timeout", "HttpError", "HttpClientError", "StepFailed", "KeyError")

policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(min_value=1, max_value=50),
    initial_interval_s=st.sampled_from([0.0, 0.001, 1.0])
    | st.floats(min_value=0, max_value=1e9),
    backoff=st.sampled_from([1.0, 2.0]) | st.floats(min_value=1, max_value=1e6),
    max_interval_s=st.sampled_from([0.0, 60.0]) | st.floats(min_value=0, max_value=1e9),
    jitter=st.sampled_from(["full", "equal", "none"]),
    non_retryable=st.lists(st.sampled_from(ERRORS), max_size=3, unique=True).map(tuple),
    timeout_s=st.floats(min_value=0.001, max_value=86_400),
)
# Up to far past any real attempt count, to reach the overflow path of backoff**n.
attempts = st.integers(min_value=1, max_value=10**6)
rngs = st.randoms(use_true_random=False)
bounded = hypothesis_settings(max_examples=200, deadline=None)


@bounded
@given(policies, attempts, rngs)
def test_delay_stays_between_zero_and_the_maximum_interval(
    policy: RetryPolicy, attempt: int, rng: random.Random
) -> None:
    delay = policy.delay(attempt, rng)
    assert 0 <= delay <= policy.max_interval_s


@bounded
@given(policies, attempts, attempts)
def test_cap_never_decreases_and_never_exceeds_the_maximum(
    policy: RetryPolicy, first: int, second: int
) -> None:
    earlier, later = sorted((first, second))
    assert policy.cap(earlier) <= policy.cap(later) <= policy.max_interval_s


@bounded
@given(policies, st.lists(st.sampled_from(ERRORS), min_size=1, max_size=60))
def test_an_attempt_loop_never_runs_more_than_max_attempts(
    policy: RetryPolicy, failures: list[str]
) -> None:
    """Every attempt fails with the next error; retries stop at max_attempts."""
    attempt = 1
    for error_type in failures:
        if not policy.should_retry(attempt, error_type):
            break
        attempt += 1
    assert attempt <= policy.max_attempts


@bounded
@given(policies, attempts, st.data())
def test_a_non_retryable_error_is_never_retried(
    policy: RetryPolicy, attempt: int, data: st.DataObject
) -> None:
    if policy.non_retryable:
        error_type = data.draw(st.sampled_from(policy.non_retryable))
        assert not policy.should_retry(attempt, error_type)


@bounded
@given(policies, attempts, rngs)
def test_no_jitter_waits_exactly_the_cap(
    policy: RetryPolicy, attempt: int, rng: random.Random
) -> None:
    policy = RetryPolicy.from_dict({**policy.to_dict(), "jitter": "none"})
    assert policy.delay(attempt, rng) == policy.cap(attempt)


@bounded
@given(policies, attempts, rngs)
def test_equal_jitter_waits_at_least_half_the_cap(
    policy: RetryPolicy, attempt: int, rng: random.Random
) -> None:
    policy = RetryPolicy.from_dict({**policy.to_dict(), "jitter": "equal"})
    cap = policy.cap(attempt)
    assert cap / 2 <= policy.delay(attempt, rng) <= cap


@bounded
@given(policies, attempts, rngs)
def test_full_jitter_waits_at_most_the_cap(
    policy: RetryPolicy, attempt: int, rng: random.Random
) -> None:
    policy = RetryPolicy.from_dict({**policy.to_dict(), "jitter": "full"})
    assert 0 <= policy.delay(attempt, rng) <= policy.cap(attempt)
