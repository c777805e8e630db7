"""wait: a timer; the step waits `seconds` (at most a year), then routes on."""

from collections.abc import Mapping
from typing import Any

from engine.nodes.base import Entry, NodeType, Sleep
from engine.nodes.fields import MAX_DURATION_S
from engine.retry import bounded_seconds


class Wait(NodeType):
    name = "wait"
    fields = {"seconds": {"type": "number", "minimum": 0, "maximum": MAX_DURATION_S}}
    required = ("seconds",)
    breaks_loops = True

    def enter(self, node: Mapping[str, Any]) -> Entry:
        # Stored graphs are clamped too: a bound added later still holds.
        return Sleep(bounded_seconds(node.get("seconds", 0)))


NODE = Wait()
