"""end: finishes the run, succeeded or failed (`status`), cancelling what still runs."""

from collections.abc import Mapping
from typing import Any

from engine.nodes.base import Entry, Finish, NodeType


class End(NodeType):
    name = "end"
    fields = {"status": {"enum": ["succeeded", "failed"]}}
    has_outgoing = False

    def enter(self, node: Mapping[str, Any]) -> Entry:
        return Finish(str(node.get("status", "succeeded")))


NODE = End()
