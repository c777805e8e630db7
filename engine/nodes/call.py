"""call: runs another workflow (a sub-workflow) and waits for it; its output is the
step's output. `workflow` names it by slug, `version` pins a published version (else
its live version), `params` is the child's input ("=" expressions allowed, as a
task's params). A failed child fails the step: the retry policy (a new child per
attempt) and the failure edge apply as for a task. Cancelling the parent cancels the
child; calls nest at most SWITCHYARD_MAX_CALL_DEPTH deep.
"""

from collections.abc import Mapping
from typing import Any

from engine.nodes.base import (
    Checker,
    Entry,
    NodeType,
    Work,
    check_success_and_failure_edges,
)
from engine.nodes.fields import RETRY

SLUG_PATTERN = r"^[-a-zA-Z0-9_]{1,64}$"
# The action name a call's attempts carry: the worker starts the child instead.
CALL_ACTION = "switchyard.call"


class Call(NodeType):
    name = "call"
    fields = {
        "workflow": {"type": "string", "pattern": SLUG_PATTERN},
        "version": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        "params": {"type": "object"},
        "retry": RETRY,
    }
    required = ("workflow",)
    can_fail = True
    produces_output = True

    def enter(self, node: Mapping[str, Any]) -> Entry:
        return Work()

    def check(self, node: dict[str, Any], checker: Checker) -> None:
        check_success_and_failure_edges(node, checker)
        checker.check_param_expressions(node)


NODE = Call()
