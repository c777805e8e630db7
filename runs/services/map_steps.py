"""A map step: its items start, run and count, `max_concurrency` at a time.

Entering a map (inside the run's transaction) stores one row per item and one progress
row, and publishes the first `max_concurrency` items. A worker runs an item
(`map_item_run`) outside any lock; finishing it locks only the step's progress row,
counts it and publishes the next item, so a completion never reads the other items.
The last item to end locks the run and finishes the step (one read of the outputs, in
item order).
"""

from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum, TextField
from django.db.models.functions import Cast, Length

from engine.dispatch import publish_map_item
from engine.nodes.map import DEFAULT_CONCURRENCY, tolerated
from runs.events import transition
from runs.models import (
    ItemState,
    MapItem,
    MapProgress,
    StepRun,
)

BATCH = 1000


def _publish(item_ids: list[int], *, queue: str, priority: int) -> None:
    for item_id in item_ids:
        publish_map_item(item_id, queue=queue, priority=priority)


def map_start(advance: Any, step: StepRun, items: list[Any]) -> None:
    """Start a map step: store its items, publish the first ones (after commit)."""
    graph, node = advance.graph, advance.graph.node(step.node_id)
    transition(advance.log, step, "enqueue", actor=advance.actor, save=False)
    transition(advance.log, step, "start", actor=advance.actor, at=advance.now)
    advance.remember(step)
    if not items:
        finish_map(advance, step)
        return
    concurrency = min(int(node.get("max_concurrency", DEFAULT_CONCURRENCY)), len(items))
    MapProgress.objects.create(
        step=step,
        total=len(items),
        next_index=concurrency,
        max_concurrency=concurrency,
        tolerated=tolerated(node, len(items)),
    )
    for start in range(0, len(items), BATCH):
        MapItem.objects.bulk_create(
            [
                MapItem(
                    step=step,
                    run=advance.run,
                    index=index,
                    item=value,
                    state=ItemState.QUEUED
                    if index < concurrency
                    else ItemState.PENDING,
                )
                for index, value in enumerate(items[start : start + BATCH], start)
            ]
        )
    first = list(
        MapItem.objects.filter(step=step, index__lt=concurrency).values_list(
            "pk", flat=True
        )
    )
    advance.log.add(
        "map_started",
        run=advance.run,
        step=step,
        actor=advance.actor,
        data={"items": len(items), "max_concurrency": concurrency},
    )
    transaction.on_commit(
        partial(
            _publish,
            first,
            queue=graph.queue(step.node_id),
            priority=graph.priority(step.node_id),
        )
    )


def finish_map(advance: Any, step: StepRun) -> None:
    """All items ended: succeed with the outputs in item order, or fail when more
    items failed than tolerated (inside the run's transaction)."""
    progress = MapProgress.objects.filter(step=step).first()
    # Measured in the database first: the items' outputs together are the step's
    # output, bounded like any step's (a map's output is not a place for bulk data).
    size = (
        MapItem.objects.filter(step=step).aggregate(
            n=Sum(Length(Cast("output", TextField())))
        )["n"]
        or 0
    )
    limit = settings.SWITCHYARD_MAX_OUTPUT_BYTES
    if size > limit:
        error = {
            "type": "MapOutputTooLarge",
            "message": f"the items' outputs together are {size} bytes; a step's "
            f"output may be {limit}: return less per item, or read the items "
            "through the API",
            "retryable": False,
        }
        transition(
            advance.log,
            step,
            "fail",
            actor=advance.actor,
            error=error,
            taken_edges=[],
            at=advance.now,
        )
        advance.fail_run({**error, "node_id": step.node_id})
        return
    outputs = list(
        MapItem.objects.filter(step=step)
        .order_by("index")
        .values_list("output", flat=True)
    )
    failed = progress.failed if progress else 0
    allowed = progress.tolerated if progress else 0
    if failed > allowed:
        error = {
            "type": "MapFailed",
            "message": f"{failed} of {len(outputs)} items failed; {allowed} tolerated",
            "failed": failed,
        }
        failure = [e["id"] for e in advance.graph.failure_outgoing(step.node_id)]
        transition(
            advance.log,
            step,
            "fail",
            actor=advance.actor,
            error=error,
            taken_edges=failure,
            at=advance.now,
        )
        advance.took(failure)
        if failure:
            advance.follow(step)
        else:
            advance.fail_run({**error, "node_id": step.node_id})
        return
    taken = [e["id"] for e in advance.graph.normal_outgoing(step.node_id)]
    transition(
        advance.log,
        step,
        "succeed",
        actor=advance.actor,
        output=outputs,
        taken_edges=taken,
        at=advance.now,
    )
    advance.took(taken)
    advance.follow(step)


def counted(step_id: int, *, succeeded: bool) -> tuple[MapProgress, int | None]:
    """Count one ended item and claim the next to start; return the progress and
    the claimed index (None when every item has started)."""
    field = "succeeded" if succeeded else "failed"
    progress = MapProgress.objects.select_for_update().get(step_id=step_id)
    claimed = progress.next_index if progress.next_index < progress.total else None
    MapProgress.objects.filter(pk=progress.pk).update(
        **{field: F(field) + 1},
        next_index=F("next_index") + (1 if claimed is not None else 0),
    )
    progress.refresh_from_db()
    return progress, claimed
