"""parallel: takes every outgoing edge at once (a fan-out; a join gathers them)."""

from typing import Any

from engine.nodes.base import Checker, NodeType


class Parallel(NodeType):
    name = "parallel"

    def check(self, node: dict[str, Any], checker: Checker) -> None:
        count = len(checker.outgoing_of(node["id"]))
        if count < 2:
            checker.error(
                "parallel_edges",
                f"parallel {node['id']!r} needs at least two outgoing edges "
                f"(it has {count})",
                node_id=node["id"],
            )


NODE = Parallel()
