"""Collect Event rows during a transaction and write them in commit order."""

from collections.abc import Callable
from typing import Any, cast

from runs.models import Attempt, Event, Handoff, Run, StepRun
from runs.rows import insert_events, insert_row, update_row


class EventLog:
    """Buffer the events of one transaction and insert them together at the end.

    The insert assigns event ids in commit order (see `runs.rows.insert_events`); the
    live relay relies on that to tail the table without gaps.
    """

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(
        self,
        kind: str,
        *,
        run: Run | None = None,
        step: StepRun | None = None,
        attempt: Attempt | None = None,
        handoff: Handoff | None = None,
        from_state: str = "",
        to_state: str = "",
        actor: str = "system",
        reason: str = "",
        data: dict[str, Any] | None = None,
        workflow_id: int | None = None,
        version_id: int | None = None,
    ) -> Event:
        """Queue an event row for this transaction."""
        event = Event(
            kind=kind,
            run=run,
            step=step,
            attempt=attempt,
            handoff=handoff,
            node_id=step.node_id if step is not None else "",
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            reason=reason[:500],
            data=data or {},
            workflow_id=workflow_id if workflow_id is not None else _workflow_id(run),
            version_id=version_id if version_id is not None else _version_id(run),
        )
        self.events.append(event)
        return event

    def flush(self) -> None:
        """Insert the queued events; call last inside the transaction."""
        events = self.events
        insert_events(events)
        self.events = []
        if events:
            for on_written in EVENTS_WRITTEN:
                on_written(events)


def actor_of(user: Any) -> str:
    """Return the actor string recorded on events for a user (or the system)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "system"
    return f"user:{user.username}"


def _workflow_id(run: Run | None) -> int | None:
    return run.workflow_id if run is not None else None


def _version_id(run: Run | None) -> int | None:
    return run.version_id if run is not None else None


def transition(
    log: EventLog,
    obj: Run | StepRun | Attempt | Handoff,
    name: str,
    *,
    kind: str | None = None,
    actor: str = "system",
    reason: str = "",
    data: dict[str, Any] | None = None,
    save: bool = True,
    **kwargs: Any,
) -> None:
    """Run the FSM transition `name` on obj, save it, and record its Event.

    With save=False on a row not inserted yet, the caller inserts it later in the
    same transaction (one INSERT after several transitions); the Event rows pick up
    its id when the log is flushed.
    """
    from_state = obj.state
    if obj.pk is None:
        getattr(obj, name)(**kwargs)
        if save:
            insert_row(obj)
    else:
        # Save only what the transition changed: cheaper than rewriting every JSON
        # column, and it never clobbers fields another writer owns.
        fields = obj._meta.concrete_fields
        before = {f.attname: obj.__dict__.get(f.attname) for f in fields}
        getattr(obj, name)(**kwargs)
        changed = [
            f.attname
            for f in fields
            if not f.primary_key
            and obj.__dict__.get(f.attname) is not before[f.attname]
        ]
        update_row(obj, changed, state_was=from_state)
    handoff = None
    if isinstance(obj, Run):
        run, step, attempt, prefix = obj, None, None, "run"
    elif isinstance(obj, StepRun):
        run, step, attempt, prefix = obj.run, obj, None, "step"
    elif isinstance(obj, Handoff):
        run, step, attempt, prefix = obj.run, obj.step, None, "handoff"
        handoff = obj
    else:
        # An Attempt by elimination. mypy cannot narrow to it: on Python 3.11 it reads
        # django-fsm's ConcurrentTransitionMixin.__init__ as Any (decorated with
        # typing.override, new in 3.12), so these classes are Any as values.
        attempt = cast(Attempt, obj)
        run, step, prefix = attempt.run, attempt.step, "attempt"
    log.add(
        kind or f"{prefix}_{obj.state}",
        run=run,
        step=step,
        attempt=attempt,
        handoff=handoff,
        from_state=from_state,
        to_state=obj.state,
        actor=actor,
        reason=reason,
        data=data,
    )
    if (
        prefix == "run"
        and run is not None
        and (run.parent_attempt_id is not None or run.parent_item_id is not None)
    ):
        if run.is_finished:
            for on_finished in CHILD_RUN_FINISHED:
                on_finished(run)
    elif prefix == "attempt" and attempt is not None and attempt.state == "cancelled":
        for on_cancelled in ATTEMPT_CANCELLED:
            on_cancelled(attempt)
    elif prefix == "step" and step is not None and step.state == "cancelled":
        if step.node_type == "map":
            for on_step_cancelled in MAP_CANCELLED:
                on_step_cancelled(step)


# Called inside the transaction when a sub-workflow's run finishes, and when an attempt
# is cancelled; runs.calls registers what to do after commit (finish the parent's
# call attempt; cancel the child of a cancelled call).
CHILD_RUN_FINISHED: list[Callable[[Run], None]] = []
ATTEMPT_CANCELLED: list[Callable[[Attempt], None]] = []
MAP_CANCELLED: list[Callable[[StepRun], None]] = []
# Called inside the transaction with each flushed batch of events (inserted, ids not
# read back); runs.notifications turns the kinds its rules watch into notifications.
# A hook must be cheap for the kinds it ignores and must not raise into the caller.
EVENTS_WRITTEN: list[Callable[[list[Event]], None]] = []
