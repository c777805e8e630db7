"""task: calls an action with its params on a worker, with retries and timeouts.

Its single normal edge is taken on success; an `on: failure` edge (at most one) when
it fails for good, else the run fails (and compensates tasks that name a
`compensate_with`, last completed first). A task with neither a failure edge nor a
compensation of its own, and no compensated task before it, is linted
(`no_failure_handling`): its failure would fail the run and undo nothing.
"""

from collections.abc import Mapping
from typing import Any

from engine.nodes.base import Checker, Entry, NodeType, Work, with_article
from engine.nodes.fields import NODE_ID_PATTERN, QUEUE_PATTERN, RETRY, TIMEOUT


class Task(NodeType):
    name = "task"
    fields = {
        "action": {"type": "string", "minLength": 1, "maxLength": 200},
        "params": {"type": "object"},
        "retry": RETRY,
        "queue": {"type": "string", "pattern": QUEUE_PATTERN},
        "priority": {"type": "integer", "minimum": 0, "maximum": 9},
        "timeout_s": TIMEOUT,
        "compensate_with": {"type": "string", "pattern": NODE_ID_PATTERN},
        # Why a task with side effects needs no compensation (silences the lint).
        "side_effects_reason": {"type": "string", "minLength": 1, "maxLength": 500},
    }
    required = ("action",)
    can_fail = True
    produces_output = True

    def enter(self, node: Mapping[str, Any]) -> Entry:
        return Work()

    def check(self, node: dict[str, Any], checker: Checker) -> None:
        node_id = node["id"]
        outgoing = checker.outgoing_of(node_id)
        normal = [edge for edge in outgoing if edge.get("on") != "failure"]
        failure = [edge for edge in outgoing if edge.get("on") == "failure"]
        if node_id not in checker.compensation_only:
            if len(normal) != 1:
                checker.error(
                    "task_edges",
                    f"task {node_id!r} needs exactly one outgoing edge for success "
                    f"(it has {len(normal)})",
                    node_id=node_id,
                )
            if len(failure) > 1:
                checker.error(
                    "task_edges",
                    f"task {node_id!r} may have at most one on: failure edge "
                    f"(it has {len(failure)})",
                    node_id=node_id,
                )
            # Failing with no route fails the run, which then undoes what came
            # before: a saga's later steps need neither (the saga is the handling).
            if (
                not failure
                and "compensate_with" not in node
                and not checker.after_compensation(node_id)
            ):
                checker.warn(
                    "no_failure_handling",
                    f"task {node_id!r} has no on: failure edge and no "
                    "compensate_with; if it fails, the run fails",
                    node_id=node_id,
                )
        checker.check_action(node)
        compensation = node.get("compensate_with")
        if compensation is not None:
            target = checker.nodes.get(compensation)
            if compensation == node_id:
                problem = "names the task itself"
            elif target is None:
                problem = "names no node"
            elif target["type"] != "task":
                problem = f"names {with_article(target['type'])} node, not a task"
            else:
                problem = ""
            if problem:
                checker.error(
                    "bad_compensation",
                    f"task {node_id!r}: compensate_with {compensation!r} {problem}",
                    node_id=node_id,
                )


NODE = Task()
