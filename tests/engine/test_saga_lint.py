"""The no_failure_handling lint: a saga's later steps are handled by compensation."""

from typing import Any

from engine.graph.validate import validate_graph

ACTIONS: dict[str, Any] = {"builtin.noop": {"type": "object"}}


def saga(*, compensate: bool, failure_route: bool = False) -> dict[str, Any]:
    """start → hold → charge → ship → done, `release` undoing `hold`."""
    hold: dict[str, Any] = {"id": "hold", "type": "task", "action": "builtin.noop"}
    if compensate:
        hold["compensate_with"] = "release"
    edges = [
        {"id": "e1", "source": "start", "target": "hold"},
        {"id": "e2", "source": "hold", "target": "charge"},
        {"id": "e3", "source": "charge", "target": "ship"},
        {"id": "e4", "source": "ship", "target": "done"},
    ]
    nodes: list[dict[str, Any]] = [
        {"id": "start", "type": "start"},
        hold,
        {"id": "charge", "type": "task", "action": "builtin.noop"},
        {"id": "ship", "type": "task", "action": "builtin.noop"},
        {"id": "done", "type": "end"},
        {"id": "release", "type": "task", "action": "builtin.noop"},
    ]
    if failure_route:
        nodes.append({"id": "stop", "type": "end", "status": "failed"})
        edges.append({"id": "e5", "source": "hold", "target": "stop", "on": "failure"})
    return {"format": 1, "nodes": nodes, "edges": edges}


def warned(graph: dict[str, Any]) -> list[tuple[str, str | None]]:
    result = validate_graph(graph, actions=ACTIONS)
    assert result.errors == []
    return [(w.code, w.node_id) for w in result.warnings]


def test_steps_after_a_compensated_task_are_not_warned() -> None:
    # charge or ship failing fails the run, which releases the stock: handled.
    assert warned(saga(compensate=True)) == []


def test_without_a_compensation_every_unrouted_task_is_warned() -> None:
    # The release task is wired to nothing and named by no one: an unreachable node.
    graph = saga(compensate=False)
    graph["nodes"].pop()
    assert warned(graph) == [
        ("no_failure_handling", "hold"),
        ("no_failure_handling", "charge"),
        ("no_failure_handling", "ship"),
    ]


def test_a_task_before_the_compensated_one_is_still_warned() -> None:
    graph = saga(compensate=False)
    graph["nodes"][2]["compensate_with"] = "release"  # charge, not hold
    assert warned(graph) == [("no_failure_handling", "hold")]
