"""Running a map step's items on workers (`engine.run_map_item`): an action each, or
a child run each for a map over a workflow.

An item is started (its row moves to `running`), its params are evaluated with `item`
and `index` in the context, the action runs under its timeout, and the result is
recorded: a retryable failure with attempts left waits and is published again; an end
is counted on the step's progress row, which also hands out the next item to start.
The last item to end finishes the step with the run locked. Items of a step that is no
longer running (its run cancelled or failed) are cancelled instead of run.
"""

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from engine.actions import ActionContext
from engine.dispatch import publish_map_item
from engine.expressions import ExpressionError
from runs.children import ChildNotStarted, child_result, start_child
from runs.events import EventLog
from runs.models import (
    ItemState,
    MapItem,
    Run,
    RunState,
    StepState,
)
from runs.services.advancing import Advance
from runs.services.dispatching import AttemptWork
from runs.services.graphs import compiled_graph_for
from runs.services.map_steps import counted, finish_map
from runs.sweeping import each_isolated

logger = logging.getLogger("switchyard.maps")


def _move(item: MapItem, name: str, *, actor: str, **kwargs: Any) -> None:
    """Run the item's FSM transition `name`, save it, and record its Event."""
    before = item.state
    getattr(item, name)(**kwargs)
    item.save()
    log = EventLog()
    log.add(
        f"map_item_{item.state}",
        run=item.run,
        step=item.step,
        from_state=before,
        to_state=item.state,
        actor=actor,
        reason=str((item.error or {}).get("message", ""))[:500]
        if item.state in (ItemState.FAILED, ItemState.RETRY_WAIT)
        else "",
        data={"index": item.index, "attempts": item.attempts},
    )
    log.flush()


def map_item_work(item_id: int, *, worker: str) -> AttemptWork | None:
    """Start an item; return what the worker runs, or None (cancelled, duplicate)."""
    with transaction.atomic():
        item = (
            MapItem.objects.select_for_update(of=("self",))
            .select_related("step", "run")
            .filter(pk=item_id)
            .first()
        )
        if item is None or item.state != ItemState.QUEUED:
            return None
        if item.step.state != StepState.RUNNING or item.run.state != RunState.RUNNING:
            _move(item, "cancel", actor=f"worker:{worker}")
            return None
        _move(item, "start", actor=f"worker:{worker}")
    run = item.run
    graph = compiled_graph_for(run.version_id)
    node = graph.node(item.step.node_id)
    advance = Advance(run, graph, EventLog(), now=timezone.now(), actor="system")
    context = {
        **advance.context(attempt=item.attempts),
        "item": item.item,
        "index": item.index,
    }
    policy = graph.retry_policy(item.step.node_id)
    try:
        params = graph.params(item.step.node_id, context)
    except ExpressionError as exc:
        map_item_finish(
            item_id,
            output=None,
            error={"type": "ExpressionError", "message": str(exc), "retryable": False},
        )
        return None
    if "workflow" in node:
        _start_child(item, node, params)
        return None
    return AttemptWork(
        attempt_id=item.pk,
        run_id=run.pk,
        action=node["action"],
        params=params,
        context=ActionContext(
            run_id=run.pk,
            node_id=item.step.node_id,
            attempt=item.attempts,
            idempotency_key=f"{item.step.idempotency_key}:item:{item.index}",
            input=run.input,
            timeout_s=policy.timeout_s,
        ),
        map_item_id=item.pk,
    )


def _start_child(item: MapItem, node: dict[str, Any], params: Any) -> None:
    """A map over a workflow: start the item's child run; its end finishes the item
    (runs.calls hands the result over)."""
    try:
        child = start_child(
            item.run,
            node,
            params,
            idempotency_key=f"map:{item.pk}:{item.attempts}",
            parent_item=item,
        )
    except ChildNotStarted as exc:
        map_item_finish(item.pk, output=None, error=exc.error)
        return
    if child.is_finished:  # finished within its start (no task in it)
        output, error = child_result(child)
        map_item_finish(item.pk, output=output, error=error)


def map_item_finish(item_id: int, *, output: Any, error: dict | None) -> bool:
    """Record an item's result; count it, start the next, finish the step at the end."""
    with transaction.atomic():
        item = (
            MapItem.objects.select_for_update(of=("self",))
            .select_related("step", "run")
            .filter(pk=item_id)
            .first()
        )
        if item is None or item.state != ItemState.RUNNING:
            return False
        graph = compiled_graph_for(item.run.version_id)
        node_id = item.step.node_id
        policy = graph.retry_policy(node_id)
        if error is None:
            _move(item, "succeed", actor="system:map", output=output)
        elif error.get("retryable", True) and policy.should_retry(
            item.attempts, error.get("type", "Error")
        ):
            _move(item, "retry", actor="system:map", error=error)
            delay = policy.delay(item.attempts)
            transaction.on_commit(
                partial(_requeue, item.pk, graph.queue(node_id), delay)
            )
            return True
        else:
            _move(item, "fail", actor="system:map", error=error)
        progress, claimed = counted(item.step_id, succeeded=error is None)
        if claimed is not None:
            next_id = (
                MapItem.objects.filter(step_id=item.step_id, index=claimed)
                .values_list("pk", flat=True)
                .first()
            )
            upcoming = (
                MapItem.objects.select_for_update(of=("self",))
                .select_related("run", "step")
                .get(pk=next_id)
            )
            if upcoming.state == ItemState.PENDING:
                _move(upcoming, "enqueue", actor="system:map")
            transaction.on_commit(
                partial(
                    publish_map_item,
                    next_id,
                    queue=graph.queue(node_id),
                    priority=graph.priority(node_id),
                )
            )
        if progress.succeeded + progress.failed == progress.total:
            _finish_step(item.run_id, item.step_id)
    return True


def _requeue(item_id: int, queue: str, delay: float) -> None:
    with transaction.atomic():
        item = (
            MapItem.objects.select_for_update(of=("self",))
            .select_related("run", "step")
            .filter(pk=item_id)
            .first()
        )
        if item is None or item.state != ItemState.RETRY_WAIT:
            return
        _move(item, "enqueue", actor="system:map")
        transaction.on_commit(
            partial(publish_map_item, item_id, queue=queue, priority=5, countdown=delay)
        )


def _finish_step(run_id: int, step_id: int) -> None:
    run = Run.objects.select_for_update(no_key=True).get(pk=run_id)
    log = EventLog()
    advance = Advance(
        run,
        compiled_graph_for(run.version_id),
        log,
        now=timezone.now(),
        actor="system:map",
    )
    step = next(
        (s for visits in advance.steps.values() for s in visits if s.pk == step_id),
        None,
    )
    if step is None or step.state != StepState.RUNNING:
        return
    if run.state in (RunState.RUNNING, RunState.PAUSED):
        finish_map(advance, step)
    log.flush()


# ------------------------------------------------------------ lost messages

# A queued item older than this whose message no worker took is published again
# (a duplicate is harmless: map_item_work starts only a QUEUED item).
ITEM_REPUBLISH_S = 60.0


def map_items_republish(*, now: Any = None, limit: int = 500) -> int:
    """The sweeper's job: publish again the queued items of running maps whose
    message seems lost (a broker restarted, a worker of another deployment took it);
    return how many. Each is an event; one that fails does not stop the others."""
    now = now or timezone.now()
    with transaction.atomic():
        stuck = list(
            MapItem.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                state=ItemState.QUEUED,
                updated_at__lt=now - timedelta(seconds=ITEM_REPUBLISH_S),
                run__state=RunState.RUNNING,
            )
            .select_related("run", "step")
            .order_by("updated_at")[:limit]
        )
        return each_isolated(
            "map_items",
            stuck,
            partial(_republish_item, now=now),
            mark=lambda item, reason: logger.error(
                "map item %s not republished: %s", item.pk, reason
            ),
            describe=lambda item: f"map item {item.pk}",
        )


def _republish_item(item: MapItem, *, now: Any) -> bool:
    graph = compiled_graph_for(item.run.version_id)
    node_id = item.step.node_id
    # Touched, so the next sweep waits another ITEM_REPUBLISH_S for it.
    MapItem.objects.filter(pk=item.pk).update(updated_at=now)
    log = EventLog()
    log.add(
        "map_item_republished",
        run=item.run,
        step=item.step,
        from_state=item.state,
        to_state=item.state,
        actor="system:sweeper",
        reason="its message seemed lost",
        data={"index": item.index},
    )
    log.flush()
    transaction.on_commit(
        partial(
            publish_map_item,
            item.pk,
            queue=graph.queue(node_id),
            priority=graph.priority(node_id),
        )
    )
    return True
