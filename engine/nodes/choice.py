"""choice: takes the first outgoing edge whose `when` is true, else its default."""

from collections.abc import Mapping
from typing import Any

from engine.nodes.base import Checker, Entry, NodeType, Pass


class Choice(NodeType):
    name = "choice"
    routes_by_condition = True

    def check(self, node: dict[str, Any], checker: Checker) -> None:
        node_id = node["id"]
        outgoing = checker.outgoing_of(node_id)
        defaults = [edge for edge in outgoing if edge.get("default") is True]
        if len(defaults) != 1:
            checker.error(
                "choice_default",
                f"choice {node_id!r} needs exactly one edge with default: true "
                f"(it has {len(defaults)})",
                node_id=node_id,
            )
        checker.check_conditions(node, outgoing)

    def enter(self, node: Mapping[str, Any]) -> Entry:
        return Pass(record_taken=True)


NODE = Choice()
