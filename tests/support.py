"""Helpers shared by tests: bounded waiting, free ports, graph builders."""

import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], T],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "",
) -> T:
    """Poll until predicate returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what or predicate}"
            )
        time.sleep(interval)


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def linear_graph(
    steps: int, *, action: str = "builtin.noop", **task: Any
) -> dict[str, Any]:
    """Return a start → N tasks → end graph."""
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
    edges: list[dict[str, Any]] = []
    previous = "start"
    for i in range(1, steps + 1):
        node_id = f"s{i}"
        nodes.append({"id": node_id, "type": "task", "action": action, **task})
        edges.append({"id": f"e{i}", "source": previous, "target": node_id})
        previous = node_id
    nodes.append({"id": "done", "type": "end"})
    edges.append({"id": "e_end", "source": previous, "target": "done"})
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": nodes,
        "edges": edges,
    }


def choice_graph() -> dict[str, Any]:
    """Return a graph whose choice sends big amounts to `big`, others to `small`."""
    return {
        "format": 1,
        "defaults": {"retry": {"max_attempts": 1}},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "pick", "type": "choice"},
            {"id": "big", "type": "task", "action": "builtin.echo"},
            {"id": "small", "type": "task", "action": "builtin.echo"},
            {"id": "after_small", "type": "task", "action": "builtin.noop"},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "pick"},
            {
                "id": "to_big",
                "source": "pick",
                "target": "big",
                "when": "input.amount > 1000",
            },
            {"id": "to_small", "source": "pick", "target": "small", "default": True},
            {"id": "e4", "source": "small", "target": "after_small"},
            {"id": "e5", "source": "big", "target": "done"},
            {"id": "e6", "source": "after_small", "target": "done"},
        ],
    }


def drive(run: Any, *, worker: str = "test", settle_calls: bool = True) -> None:
    """Act as a worker in this process: run queued attempts until none is left.

    Due times are ignored (a retry with a countdown runs at once); attempts waiting
    in `scheduled` are left for `attempts_enqueue_due`. A call's child run is driven
    too, and (with `settle_calls`) its result handed to the call at once.
    """
    from engine.nodes.call import CALL_ACTION
    from engine.tasks import execute
    from runs.models import Attempt, AttemptState
    from runs.services.attempts import attempt_finish, attempt_start

    for _ in range(200):
        _drive_map_items(run, worker=worker)
        attempt = (
            Attempt.objects.filter(run=run, state=AttemptState.QUEUED)
            .order_by("id")
            .first()
        )
        if attempt is None:
            return
        work = attempt_start(attempt_id=attempt.pk, worker=worker)
        if work is None:
            return  # its run is paused or finished
        if work.action == CALL_ACTION:
            from runs import calls

            child = calls.call_begin(work)
            if child is not None:
                drive(child, worker=worker, settle_calls=settle_calls)
                if settle_calls:
                    # What the after-commit hook does (a test's transaction never
                    # commits).
                    calls.child_finished(child.pk)
            continue
        output, error = execute(work)
        attempt_finish(attempt_id=attempt.pk, output=output, error=error)
    raise AssertionError("run did not settle")


def _drive_map_items(run: Any, *, worker: str) -> None:
    """Run the queued items of the run's map steps in this process (bounded)."""
    from engine.tasks import execute
    from runs import maps
    from runs.models import ItemState, MapItem

    for _ in range(20_000):
        item = (
            MapItem.objects.filter(run=run, state=ItemState.QUEUED)
            .order_by("index")
            .values_list("pk", flat=True)
            .first()
        )
        if item is None:
            retrying = MapItem.objects.filter(run=run, state=ItemState.RETRY_WAIT)
            if not retrying.exists():
                return
            for pending in retrying:  # due times are ignored, as for attempts
                pending.enqueue()
                pending.save()
            continue
        work = maps.map_item_work(item, worker=worker)
        if work is None:
            # A map over a workflow started the item's child run: drive it and hand
            # its result over, as the after-commit hook does.
            from runs import calls
            from runs.models import Run

            for child in Run.objects.filter(parent_item_id=item):
                drive(child, worker=worker)
                calls.child_finished(child.pk)
            continue
        output, error = execute(work)
        maps.map_item_finish(item, output=output, error=error)
    raise AssertionError("map items did not settle")


def grant(user: Any, *roles: str) -> Any:
    """Put a user in role groups (viewer, editor, operator, admin); return the user."""
    from django.contrib.auth.models import Group

    for role in roles:
        user.groups.add(Group.objects.get(name=role))
    return user


def caller_graph(callee: str, **call: Any) -> dict[str, Any]:
    """start → a `call` of `callee` (its input {"order": input.order}) → done, with
    an on: failure edge to a failed end; `call` adds fields to the call node."""
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "sub",
                "type": "call",
                "workflow": callee,
                "params": {"order": "=input.order"},
                **call,
            },
            {"id": "done", "type": "end"},
            {"id": "failed", "type": "end", "status": "failed"},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "sub"},
            {"id": "e2", "source": "sub", "target": "done"},
            {"id": "e3", "source": "sub", "target": "failed", "on": "failure"},
        ],
    }


def echo_child_graph() -> dict[str, Any]:
    """start → builtin.echo → done: a child workflow whose output is its input."""
    return {
        "format": 1,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "echo", "type": "task", "action": "builtin.echo"},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"id": "c1", "source": "start", "target": "echo"},
            {"id": "c2", "source": "echo", "target": "done"},
        ],
    }
