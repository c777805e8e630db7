"""Every duration and count in a graph is bounded; stored values never overflow."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.graph.schema import MAX_DURATION_S
from engine.graph.validate import validate_graph
from engine.retry import MAX_DELAY_S, RetryPolicy, bounded_seconds
from tests.support import linear_graph

HUGE = (MAX_DURATION_S + 1, 1e12, 1e308)


def _with(mutate: Any) -> dict[str, Any]:
    graph = linear_graph(1)
    graph["nodes"].append({"id": "nap", "type": "wait", "seconds": 1})
    graph["nodes"].append(
        {"id": "ask", "type": "handoff", "to": {"group": "ops"}, "outcomes": ["ok"]}
    )
    mutate(graph)
    return graph


def _node(graph: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in graph["nodes"] if n["id"] == node_id)


CASES = {
    "wait seconds": lambda g, v: _node(g, "nap").__setitem__("seconds", v),
    "handoff sla_s": lambda g, v: _node(g, "ask").__setitem__("sla_s", v),
    "initial_interval_s": lambda g, v: g.setdefault("defaults", {}).__setitem__(
        "retry", {"initial_interval_s": v}
    ),
    "max_interval_s": lambda g, v: g.setdefault("defaults", {}).__setitem__(
        "retry", {"max_interval_s": v}
    ),
    "backoff": lambda g, v: g.setdefault("defaults", {}).__setitem__(
        "retry", {"backoff": v}
    ),
    "max_concurrent_runs": lambda g, v: g.__setitem__("max_concurrent_runs", int(v)),
    "layout": lambda g, v: g.__setitem__("layout", {"start": {"x": v, "y": 0}}),
}


@pytest.mark.parametrize("field", list(CASES))
@pytest.mark.parametrize("value", HUGE)
def test_huge_durations_and_counts_are_refused(field: str, value: float) -> None:
    graph = _with(lambda g: CASES[field](g, value))
    result = validate_graph(graph, actions={"builtin.noop": {"type": "object"}})
    assert any("maximum" in issue.message for issue in result.errors), result.errors


def test_a_year_is_still_accepted() -> None:
    graph = _with(lambda g: _node(g, "nap").__setitem__("seconds", MAX_DURATION_S))
    result = validate_graph(graph, actions={"builtin.noop": {"type": "object"}})
    assert not [i for i in result.errors if "maximum" in i.message]


@pytest.mark.parametrize("raw", [1e12, 1e308, float("inf"), float("nan"), -5, "x"])
def test_bounded_seconds_never_overflows_a_datetime(raw: Any) -> None:
    seconds = bounded_seconds(raw)
    assert 0 <= seconds <= MAX_DELAY_S
    datetime.now(UTC) + timedelta(seconds=seconds)


def test_retry_delay_of_a_stored_huge_policy_is_clamped() -> None:
    policy = RetryPolicy.from_dict(
        {"initial_interval_s": 1e308, "max_interval_s": 1e308, "backoff": 1e10}
    )
    for attempt in (1, 2, 50, 10_000):
        delay = policy.delay(attempt)
        assert 0 <= delay <= MAX_DELAY_S
        datetime.now(UTC) + timedelta(seconds=delay)
