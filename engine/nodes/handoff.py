"""handoff: a person, a group or an agent picks one of its outcomes; the step waits.

Outgoing edges test `outcome` in `when` conditions (else the default edge); `context`
expressions are snapshotted for the receiver when it opens; past `sla_s` it escalates.
"""

import re
from collections.abc import Mapping
from typing import Any

from engine.nodes.base import AwaitHandoff, Checker, Entry, NodeType
from engine.nodes.fields import ASSIGNEE, MAX_DURATION_S

# Finds string literals compared with the handoff outcome: outcome == 'approve',
# 'approve' != outcome, outcome in ['a', 'b']. Best effort; escapes are skipped.
_OUTCOME_NAME = r"(?<![\w.])outcome(?!\w)"
_STRING_LITERAL = r"""(?:'([^'\\\n]*)'|"([^"\\\n]*)")"""
_OUTCOME_COMPARISONS = (
    re.compile(_OUTCOME_NAME + r"\s*[!=]=\s*" + _STRING_LITERAL),
    re.compile(_STRING_LITERAL + r"\s*[!=]=\s*" + _OUTCOME_NAME),
)
_OUTCOME_IN = re.compile(_OUTCOME_NAME + r"\s+in\s+\[([^\]]*)\]")
_STRING_LITERALS = re.compile(_STRING_LITERAL)


def outcome_literals(source: str) -> list[str]:
    """Return the string literals a `when` compares `outcome` with."""
    literals: list[str] = []
    for pattern in _OUTCOME_COMPARISONS:
        for match in pattern.finditer(source):
            literals.append(
                next(group for group in match.groups() if group is not None)
            )
    for match in _OUTCOME_IN.finditer(source):
        for literal in _STRING_LITERALS.finditer(match.group(1)):
            literals.append(next(g for g in literal.groups() if g is not None))
    return literals


class Handoff(NodeType):
    name = "handoff"
    fields = {
        "to": ASSIGNEE,
        "escalate_to": ASSIGNEE,
        "outcomes": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "uniqueItems": True,
            "items": {"type": "string", "minLength": 1, "maxLength": 100},
        },
        "sla_s": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_DURATION_S},
        "context": {
            "type": "array",
            "maxItems": 50,
            "items": {"type": "string", "minLength": 1, "maxLength": 500},
        },
        "instructions": {"type": "string", "maxLength": 10000},
    }
    required = ("to", "outcomes")
    routes_by_condition = True
    breaks_loops = True

    def enter(self, node: Mapping[str, Any]) -> Entry:
        return AwaitHandoff()

    def check(self, node: dict[str, Any], checker: Checker) -> None:
        node_id = node["id"]
        outgoing = checker.outgoing_of(node_id)
        defaults = [edge for edge in outgoing if edge.get("default") is True]
        conditional = [
            edge
            for edge in outgoing
            if "when" in edge and edge.get("default") is not True
        ]
        if len(defaults) > 1:
            checker.error(
                "handoff_default",
                f"handoff {node_id!r} may have at most one default edge "
                f"(it has {len(defaults)})",
                node_id=node_id,
            )
        elif not defaults and not conditional:
            checker.error(
                "handoff_default",
                f"handoff {node_id!r} needs a default edge or edges with `when` "
                "conditions on the outcome",
                node_id=node_id,
            )
        checker.check_conditions(node, outgoing)
        outcomes = node["outcomes"]
        for edge in conditional:
            for literal in outcome_literals(edge["when"]):
                if literal not in outcomes:
                    checker.error(
                        "outcome_unknown",
                        f"edge {edge['id']!r} tests outcome {literal!r}, which is "
                        f"not an outcome of handoff {node_id!r} "
                        f"({', '.join(outcomes)})",
                        edge_id=edge["id"],
                    )
        for source in node.get("context", []):
            problem = checker.expression_problem(source)
            if problem is not None:
                checker.error(
                    "bad_expression",
                    f"handoff {node_id!r}: context {source!r} is not a valid "
                    f"expression: {problem}",
                    node_id=node_id,
                )
        if "sla_s" not in node:
            checker.warn(
                "handoff_no_sla",
                f"handoff {node_id!r} has no sla_s; it may wait forever unnoticed",
                node_id=node_id,
            )


NODE = Handoff()
