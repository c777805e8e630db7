"""Spans of runs, steps and attempts in the run's trace (config/tracing.py).

Attempts are live spans around the action on a worker. Runs and steps can last
days (waits, handoffs, retries), so no span stays open for them: each is written
when it finishes, by whichever process wrote the finishing event, with its
recorded start time and the span id fixed in advance (the run's at its start,
a step's derived from its id), so that children written earlier point at it.
No params, input, output or error messages go into spans: only ids, names,
numbers and outcomes.
"""

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from config import tracing
from runs.models import (
    STEP_FINISHED,
    Attempt,
    Event,
    Run,
    StepRun,
    StepState,
)

# {workflow id: slug}, {version id: number}: a step's span names them without a
# query each time (both never change).
_SLUGS: dict[int, str] = {}
_NUMBERS: dict[int, int] = {}
_MAX_CACHED = 10_000


def _cached(cache: dict[int, Any], key: int, query: Any, empty: Any) -> Any:
    """Return cache[key], reading it with `query` once (the cache stays bounded)."""
    if key not in cache:
        if len(cache) >= _MAX_CACHED:
            cache.clear()
        value = query.filter(pk=key).first()
        cache[key] = value or empty
    return cache[key]


def _names(workflow_id: int | None, version_id: int | None) -> dict[str, Any]:
    """Return the workflow slug and version number attributes of a run."""
    from designer.models import Workflow, WorkflowVersion

    attributes: dict[str, Any] = {}
    if workflow_id is not None:
        attributes["switchyard.workflow.slug"] = _cached(
            _SLUGS, workflow_id, Workflow.objects.values_list("slug", flat=True), ""
        )
    if version_id is not None:
        attributes["switchyard.workflow.version"] = _cached(
            _NUMBERS,
            version_id,
            # Test snapshots too (the default manager leaves them out).
            WorkflowVersion._base_manager.values_list("number", flat=True),
            0,
        )
    return attributes


def _ns(moment: datetime | None) -> int:
    return int((moment or timezone.now()).timestamp() * 1_000_000_000)


def _run_ids(run: Run) -> tuple[int, int] | None:
    context = run.trace_context
    if not isinstance(context, dict):
        return None
    return tracing.parse_traceparent(context.get("traceparent"))


# ---------------------------------------------------------------- attempt spans


@contextmanager
def _attempt_span(work: Any, queue: str) -> Iterator[Any]:
    current = tracing.tracer()
    assert current is not None
    from opentelemetry import trace

    found = _attempt_parent(work)
    context = None
    attributes: dict[str, Any] = {
        "switchyard.run.id": work.run_id,
        "switchyard.attempt.id": work.attempt_id,
        **(
            {"switchyard.map.item_id": work.map_item_id}
            if getattr(work, "map_item_id", None) is not None
            else {}
        ),
        "switchyard.step.id": work.context.node_id,
        "switchyard.attempt.number": work.context.attempt,
        "switchyard.action": work.action,
        "switchyard.queue": queue,
        "messaging.system": "celery",
        "messaging.destination.name": queue,
    }
    if found is not None:
        (trace_id, _), step_id, names = found
        context = tracing.parent_context(
            trace_id, tracing.step_span_id(trace_id, step_id)
        )
        attributes.update(names)
    item = getattr(work, "map_item_id", None) is not None
    with current.start_as_current_span(
        f"{'map item' if item else 'attempt'} {work.context.node_id}",
        context=context,
        kind=trace.SpanKind.CONSUMER,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        yield span


def attempt_span(work: Any, *, queue: str) -> Any:
    """Return a context manager: a span around one attempt on a worker.

    Its parent is the attempt's step span in the run's trace; with tracing off,
    a null context (yielding None).
    """
    if tracing.tracer() is None:
        return nullcontext()
    return _attempt_span(work, queue)


def attempt_outcome(span: Any, error: dict[str, Any] | None) -> None:
    """Record how the attempt ended (its error's type, never its message)."""
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    if error is None:
        span.set_attribute("switchyard.outcome", "succeeded")
        return
    error_type = str(error.get("type") or "Error")[:100]
    span.set_attribute("switchyard.outcome", "failed")
    span.set_attribute("error.type", error_type)
    span.set_status(Status(StatusCode.ERROR, error_type))


def _attempt_parent(
    work: Any,
) -> tuple[tuple[int, int], int, dict[str, Any]] | None:
    """Return (run trace ids, step id, name attributes) of a started attempt."""
    rows = getattr(work, "rows", None)
    if rows is not None:
        step = rows[1]
        run = step.run
        ids = _run_ids(run)
        if ids is None:
            return None
        return ids, step.pk, _names(run.workflow_id, run.version_id)
    if getattr(work, "map_item_id", None) is not None:
        # A map item: its attempt id is the item's; its parent is the map step.
        from runs.models import MapItem

        query: Any = MapItem.objects.filter(pk=work.map_item_id)
    else:
        query = Attempt.objects.filter(pk=work.attempt_id)
    row = query.values_list(
        "step_id", "run__trace_context", "run__workflow_id", "run__version_id"
    ).first()
    if row is None:
        return None
    step_id, context, workflow_id, version_id = row
    parsed = (
        tracing.parse_traceparent(context.get("traceparent"))
        if isinstance(context, dict)
        else None
    )
    if parsed is None:
        return None
    return parsed, step_id, _names(workflow_id, version_id)


# ------------------------------------------------------- run and step spans at finish


def _on_events(events: list[Event]) -> None:
    """Inside the transaction: queue the spans of runs and steps that finished."""
    if tracing.tracer() is None:
        return
    spans: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    for event in events:
        kind = event.kind
        if kind.startswith("step_"):
            step = event.step
            if (
                step is None
                or step.state not in STEP_FINISHED
                or step.state == StepState.SKIPPED
                or ("step", id(step)) in seen
            ):
                continue
            seen.add(("step", id(step)))
            span = _step_span(step, event.run or step.run)
        elif kind.startswith("run_"):
            run = event.run
            if run is None or not run.is_finished or ("run", id(run)) in seen:
                continue
            seen.add(("run", id(run)))
            span = _run_span(run)
        else:
            continue
        if span is not None:
            spans.append(span)
    if spans:
        transaction.on_commit(partial(_write, spans))


def _run_span(run: Run) -> dict[str, Any] | None:
    ids = _run_ids(run)
    if ids is None:
        return None
    trace_id, span_id = ids
    context = run.trace_context or {}
    parent = context.get("parent")
    parent_id = int(parent, 16) if isinstance(parent, str) and parent else None
    retries = len(run.reruns or [])
    if retries:
        # A run retried from failure finishes again: a span per finish, the later
        # ones children of the first.
        parent_id = span_id
        span_id = tracing.step_span_id(trace_id, -retries)
    attributes = {
        "switchyard.run.id": run.pk,
        "switchyard.run.trigger": run.trigger,
        "switchyard.outcome": run.state,
        **_names(run.workflow_id, run.version_id),
    }
    error = None
    if isinstance(run.error, dict) and run.state != "succeeded":
        error = str(run.error.get("type") or "Error")[:100]
        attributes["error.type"] = error
    slug = attributes.get("switchyard.workflow.slug") or str(run.workflow_id)
    return {
        "name": f"run {slug}",
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": parent_id,
        "start_ns": _ns(run.started_at or run.created_at),
        "end_ns": _ns(run.finished_at),
        "attributes": attributes,
        "error": error if run.state != "cancelled" else None,
    }


def _step_span(step: StepRun, run: Run) -> dict[str, Any] | None:
    ids = _run_ids(run)
    if ids is None or step.pk is None:
        return None
    trace_id, run_span_id = ids
    attributes = {
        "switchyard.run.id": run.pk,
        "switchyard.step.id": step.node_id,
        "switchyard.step.type": step.node_type,
        "switchyard.step.seq": step.seq,
        "switchyard.outcome": step.state,
        **_names(run.workflow_id, run.version_id),
    }
    error = None
    if step.state == StepState.FAILED and isinstance(step.error, dict):
        error = str(step.error.get("type") or "Error")[:100]
        attributes["error.type"] = error
    return {
        "name": f"step {step.node_id}",
        "trace_id": trace_id,
        "span_id": tracing.step_span_id(trace_id, step.pk),
        "parent_span_id": run_span_id,
        "start_ns": _ns(step.started_at or step.created_at),
        "end_ns": _ns(step.finished_at),
        "attributes": attributes,
        "error": error,
    }


def _write(spans: list[dict[str, Any]]) -> None:
    for span in spans:
        tracing.record_span(**span)


def connect() -> None:
    """Write run and step spans from every process that finishes them."""
    from runs.events import EVENTS_WRITTEN

    if _on_events not in EVENTS_WRITTEN:
        EVENTS_WRITTEN.append(_on_events)
