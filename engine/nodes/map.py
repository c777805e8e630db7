"""map: runs an action, or a sub-workflow, once per item of a list (for-each),
`max_concurrency` at a time.

`items` is an expression giving a list (at most MAX_ITEMS); `action` and `params` are
as a task's, or `workflow` (and `version`) names a workflow to call per item with
`params` as its input; params may read `item` (this item) and `index`. Each
item has its own attempts under the node's `retry`. The step's output is the list of
the items' outputs in item order (null for a failed item). It fails when more items
fail than it tolerates: `tolerate_failures` (a count) or `tolerate_percent`; then its
`on: failure` edge, if any, is taken.
"""

from collections.abc import Mapping
from typing import Any

from engine.expression_values import ExpressionError
from engine.nodes.base import (
    Checker,
    Entry,
    MapItems,
    NodeType,
    check_success_and_failure_edges,
)
from engine.nodes.call import SLUG_PATTERN
from engine.nodes.fields import QUEUE_PATTERN, RETRY

MAX_ITEMS = 10_000
MAX_CONCURRENCY = 1000
DEFAULT_CONCURRENCY = 10


class Map(NodeType):
    name = "map"
    fields = {
        "items": {"type": "string", "minLength": 1, "maxLength": 2000},
        "action": {"type": "string", "minLength": 1, "maxLength": 200},
        "workflow": {"type": "string", "pattern": SLUG_PATTERN},
        "version": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        "params": {"type": "object"},
        "retry": RETRY,
        "queue": {"type": "string", "pattern": QUEUE_PATTERN},
        "max_concurrency": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_CONCURRENCY,
        },
        "tolerate_failures": {"type": "integer", "minimum": 0, "maximum": MAX_ITEMS},
        "tolerate_percent": {"type": "number", "minimum": 0, "maximum": 100},
    }
    required = ("items",)
    can_fail = True
    produces_output = True

    def enter(self, node: Mapping[str, Any]) -> Entry:
        return MapItems(items=str(node["items"]))

    def check(self, node: dict[str, Any], checker: Checker) -> None:
        check_success_and_failure_edges(node, checker)
        node_id = node["id"]
        if "tolerate_failures" in node and "tolerate_percent" in node:
            checker.error(
                "map_tolerance",
                f"map {node_id!r}: give tolerate_failures or tolerate_percent, "
                "not both",
                node_id=node_id,
            )
        problem = checker.expression_problem(node["items"])
        if problem is not None:
            checker.error(
                "bad_expression",
                f"map {node_id!r}: items is not a valid expression: {problem}",
                node_id=node_id,
            )
        if ("action" in node) == ("workflow" in node):
            checker.error(
                "map_target",
                f"map {node_id!r} needs either an action or a workflow (not both)",
                node_id=node_id,
            )
        elif "action" in node:
            checker.check_action(node)
        else:
            checker.check_param_expressions(node)


def item_list(value: Any) -> list[Any]:
    """Return the list an `items` expression gave; raise ExpressionError otherwise."""
    if not isinstance(value, list):
        raise ExpressionError(
            f"items gave {type(value).__name__ if value is not None else 'null'}, "
            "not a list"
        )
    if len(value) > MAX_ITEMS:
        raise ExpressionError(f"items gave {len(value)} items; at most {MAX_ITEMS}")
    return value


def tolerated(node: Mapping[str, Any], total: int) -> int:
    """Return how many items may fail before the step does."""
    if "tolerate_failures" in node:
        return int(node["tolerate_failures"])
    if "tolerate_percent" in node:
        return int(total * float(node["tolerate_percent"]) / 100)
    return 0


NODE = Map()
