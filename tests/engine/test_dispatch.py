"""Attempt messages: node priority (9 first) maps onto Redis priority (0 first)."""

from engine.dispatch import broker_priority


def test_higher_node_priority_is_served_first_on_redis() -> None:
    assert broker_priority(9) == 0
    assert broker_priority(5) == 4
    assert broker_priority(0) == 9
    assert [broker_priority(p) for p in (12, -3)] == [0, 9]
