"""receive: the run waits for a named message with a correlation key (an event from
outside: a payment confirmed, a document signed), like Temporal signals.

`message` names it; `key` is an expression over the run (`input.order_id`) whose value
(a string or a number) the sender gives too; `wait_s` (optional) takes the node's
`on: timeout` edge when no message came in time. A message sent before the run gets
here is kept for a while (runs/messages.py), so none is lost to a race. The payload
becomes `steps.<id>.output`.
"""

from collections.abc import Mapping
from typing import Any

from engine.expression_values import ExpressionError
from engine.nodes.base import AwaitMessage, Checker, Entry, NodeType
from engine.nodes.fields import MAX_DURATION_S

MESSAGE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"
MAX_KEY_LENGTH = 200
MAX_KEY_SOURCE = 2000


class Receive(NodeType):
    name = "receive"
    fields = {
        "message": {"type": "string", "pattern": MESSAGE_NAME_PATTERN},
        "key": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_SOURCE},
        "wait_s": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": MAX_DURATION_S,
        },
    }
    required = ("message", "key")
    breaks_loops = True
    can_time_out = True

    def check(self, node: dict[str, Any], checker: Checker) -> None:
        node_id = node["id"]
        outgoing = checker.outgoing_of(node_id)
        normal = [e for e in outgoing if "on" not in e]
        timeout = [e for e in outgoing if e.get("on") == "timeout"]
        if len(normal) != 1:
            checker.error(
                "receive_edges",
                f"receive {node_id!r} needs exactly one outgoing edge for the "
                f"message (it has {len(normal)})",
                node_id=node_id,
            )
        if "wait_s" in node and len(timeout) != 1:
            checker.error(
                "receive_timeout",
                f"receive {node_id!r} has wait_s, so it needs exactly one "
                f"on: timeout edge (it has {len(timeout)})",
                node_id=node_id,
            )
        if timeout and "wait_s" not in node:
            checker.error(
                "receive_timeout",
                f"receive {node_id!r} has an on: timeout edge but no wait_s",
                node_id=node_id,
            )
        problem = checker.expression_problem(node["key"])
        if problem is not None:
            checker.error(
                "bad_expression",
                f"receive {node_id!r}: key is not a valid expression: {problem}",
                node_id=node_id,
            )
        if "wait_s" not in node:
            checker.warn(
                "receive_no_timeout",
                f"receive {node_id!r} has no wait_s; it may wait forever",
                node_id=node_id,
            )

    def enter(self, node: Mapping[str, Any]) -> Entry:
        timeout = node.get("wait_s")
        return AwaitMessage(
            name=str(node["message"]),
            key=str(node["key"]),
            timeout_s=float(timeout) if timeout is not None else None,
        )


def correlation_key(value: Any) -> str:
    """Return the key a `key` expression gave as text; raise ExpressionError for a
    value that cannot be one (checked as strictly as a saved graph)."""
    if isinstance(value, bool) or value is None:
        raise ExpressionError(f"key gave {value!r}: a string or a number is needed")
    if isinstance(value, int | float):
        value = str(int(value)) if float(value).is_integer() else repr(value)
    if not isinstance(value, str) or not 0 < len(value) <= MAX_KEY_LENGTH:
        raise ExpressionError(
            f"key gave {str(value)[:80]!r}: a string of 1 to {MAX_KEY_LENGTH} "
            "characters or a number is needed"
        )
    return value


NODE = Receive()
