"""join: gathers parallel branches; `all` waits for each, `any` goes on with the first.

A join `all` enters once no incoming edge is open (skipped if none was taken); a join
`any` enters on the first taken edge and cancels the branches still running upstream.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from engine.nodes.base import Entry, NodeType, Pass


class Join(NodeType):
    name = "join"
    fields = {"mode": {"enum": ["all", "any"]}}
    reenters = False

    def entry(self, node: Mapping[str, Any], edge_states: Sequence[str]) -> str | None:
        if node.get("mode", "all") == "all":
            if "open" in edge_states:
                return None
            return "activate" if "taken" in edge_states else "skip"
        return super().entry(node, edge_states)

    def enter(self, node: Mapping[str, Any]) -> Entry:
        return Pass(cancel_feeders=node.get("mode", "all") == "any")


NODE = Join()
