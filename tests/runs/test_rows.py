"""Hand-built row writes: what they store, the optimistic state check, their SQL."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext, isolate_apps
from django.utils import timezone
from django_fsm import ConcurrentTransition, ConcurrentTransitionMixin, FSMField

from config.fsm import transition
from runs import rows
from runs.models import Attempt, AttemptState, Event, Run, StepRun, StepState
from runs.services.starting import run_start
from tests.support import linear_graph

pytestmark = pytest.mark.django_db

_SQL_CACHES = (
    rows._insert_fields,
    rows._insert_sql,
    rows._insert_returning_sql,
    rows._update_sql,
    rows._select_plan,
    rows._select_attempt_sql,
    rows._select_run_sql,
    rows._prep_plan,
    rows._insert_json_sql,
)


@pytest.fixture
def fresh_sql() -> Iterator[None]:
    """Build every statement anew, and drop what a test built from patched metadata."""
    for cached in _SQL_CACHES:
        cached.cache_clear()
    yield
    for cached in _SQL_CACHES:
        cached.cache_clear()


@pytest.fixture
def run(workflow_factory: Any) -> Run:
    """A running run whose first task has one queued attempt."""
    started, _ = run_start(
        workflow=workflow_factory(linear_graph(1)), input={"x": 1}, actor="system"
    )
    return started


@pytest.fixture
def meter(db: Any) -> Iterator[Any]:
    """A model whose table and columns are not named after it, with its table."""
    with isolate_apps("runs"):

        class Meter(ConcurrentTransitionMixin, models.Model):
            number = models.BigAutoField(primary_key=True, db_column="Meter No")
            state = FSMField(
                max_length=16, default="idle", protected=True, db_column="Meter State"
            )
            reading = models.IntegerField(default=0, db_column="Reading Now")

            class Meta:
                app_label = "runs"
                db_table = "Test Meter"

            def __str__(self) -> str:
                return f"meter {self.number} ({self.state})"

            @transition(field=state, source="idle", target="busy")
            def begin(self, *, reading: int) -> None:
                self.reading = reading

        with connection.schema_editor() as editor:
            editor.create_model(Meter)
        yield Meter


def _row(obj: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def _one_statement(captured: CaptureQueriesContext) -> str:
    assert len(captured.captured_queries) == 1
    return captured.captured_queries[0]["sql"]


# insert_row


def test_insert_row_sets_the_primary_key_and_the_row_reads_back_equal(
    run: Run,
) -> None:
    step = StepRun(run=run, node_id="extra", seq=2, node_type="task")
    step.enqueue()
    with CaptureQueriesContext(connection) as captured:
        rows.insert_row(step)
    _one_statement(captured)
    assert step.pk is not None
    assert not step._state.adding
    assert _row(StepRun.objects.get(pk=step.pk)) == _row(step)
    assert step.state == StepState.QUEUED


def test_insert_row_takes_the_id_of_a_related_row_inserted_after_assignment(
    run: Run,
) -> None:
    step = StepRun(run=run, node_id="extra", seq=2, node_type="task")
    attempt = Attempt(step=step, run=run, number=1, due_at=timezone.now())
    rows.insert_row(step)
    rows.insert_row(attempt)
    stored = Attempt.objects.get(pk=attempt.pk)
    assert stored.step_id == step.pk
    assert _row(stored) == _row(attempt)


def test_insert_row_remembers_the_state_so_a_later_save_is_not_refused(
    run: Run,
) -> None:
    step = StepRun(run=run, node_id="extra", seq=2, node_type="task")
    rows.insert_row(step)
    step.skip(at=timezone.now())
    step.save()
    assert StepRun.objects.get(pk=step.pk).state == StepState.SKIPPED


# insert_events


def test_insert_events_inserts_several_in_one_statement_in_order(run: Run) -> None:
    kinds = ["test_first", "test_second", "test_third"]
    events = [
        Event(
            kind=kind,
            run=run,
            workflow_id=run.workflow_id,
            version_id=run.version_id,
            data={"n": n},
        )
        for n, kind in enumerate(kinds)
    ]
    with CaptureQueriesContext(connection) as captured:
        rows.insert_events(events)
    sql = _one_statement(captured)
    assert sql.count("INSERT INTO") == 1
    stored = list(Event.objects.filter(run=run, kind__startswith="test_"))
    assert [e.kind for e in stored] == kinds
    assert [e.data for e in stored] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert stored[0].pk < stored[1].pk < stored[2].pk
    assert all(e.workflow_id == run.workflow_id for e in stored)
    # The database stamps them with the inserting transaction (one for all three).
    assert len({e.tx for e in stored}) == 1
    if connection.vendor == "postgresql":
        assert stored[0].tx > 0
        assert "pg_advisory" not in sql


def test_insert_events_of_nothing_sends_nothing() -> None:
    with CaptureQueriesContext(connection) as captured:
        rows.insert_events([])
    assert captured.captured_queries == []


# update_row


def test_update_row_writes_the_named_fields_when_the_state_is_current(
    run: Run,
) -> None:
    attempt = run.attempts.get()
    now = timezone.now()
    attempt.start(at=now, worker="w1", deadline=now + timedelta(minutes=5))
    attempt.publish_count = 7  # changed here but not named: not written
    rows.update_row(
        attempt,
        ["state", "started_at", "heartbeat_at", "worker", "deadline_at"],
        state_was=AttemptState.QUEUED,
    )
    stored = Attempt.objects.get(pk=attempt.pk)
    assert stored.state == AttemptState.RUNNING
    assert stored.started_at == stored.heartbeat_at == now
    assert stored.worker == "w1"
    assert stored.deadline_at == now + timedelta(minutes=5)
    assert stored.publish_count == 0
    # The mixin remembers the new state: the ORM may save this copy afterwards.
    attempt.save()


def test_update_row_refuses_a_stale_state(run: Run) -> None:
    first = run.attempts.get()
    stale = Attempt.objects.get(pk=first.pk)
    now = timezone.now()
    first.start(at=now, worker="w1", deadline=now)
    rows.update_row(first, ["state", "worker"], state_was=AttemptState.QUEUED)
    stale.cancel(at=now)
    with pytest.raises(ConcurrentTransition):
        rows.update_row(stale, ["state", "finished_at"], state_was=AttemptState.QUEUED)
    stored = Attempt.objects.get(pk=first.pk)
    assert stored.state == AttemptState.RUNNING
    assert stored.finished_at is None


# select_attempt


def test_select_attempt_returns_the_attempt_its_step_and_run_in_one_query(
    run: Run,
) -> None:
    expected = Attempt.objects.select_related("step", "run").get(run=run)
    with CaptureQueriesContext(connection) as captured:
        found = rows.select_attempt(expected.pk, lock_run=False)
        assert found is not None
        attempt, step, run_ = found
        assert attempt.step is step
        assert attempt.run is run_
        assert step.run is run_
    _one_statement(captured)
    assert _row(attempt) == _row(expected)
    assert _row(step) == _row(expected.step)
    assert _row(run_) == _row(expected.run)
    # Read through the fields' converters: JSON decoded, datetimes aware.
    assert run_.input == {"x": 1}
    assert timezone.is_aware(attempt.due_at)


def test_select_attempt_locks_only_the_run_row_when_asked(run: Run) -> None:
    attempt = run.attempts.get()
    with CaptureQueriesContext(connection) as captured:
        found = rows.select_attempt(attempt.pk, lock_run=True)
    assert found is not None
    assert found[0].pk == attempt.pk
    sql = _one_statement(captured)
    if connection.features.has_select_for_update_of:
        assert sql.endswith(' FOR NO KEY UPDATE OF "r"')


def test_select_run_locked_reads_the_run_in_one_locking_query(run: Run) -> None:
    with CaptureQueriesContext(connection) as captured:
        found = rows.select_run_locked(run.pk)
    assert found is not None
    assert (found.pk, found.state, found.input) == (run.pk, run.state, run.input)
    assert found.workflow_id == run.workflow_id
    sql = _one_statement(captured)
    if connection.vendor == "postgresql":
        assert sql.endswith(" FOR NO KEY UPDATE")
    missing = Run.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    assert rows.select_run_locked(missing) is None


def test_select_attempt_returns_none_for_a_missing_id(run: Run) -> None:
    missing = Attempt.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    assert rows.select_attempt(missing, lock_run=False) is None
    assert rows.select_attempt(missing, lock_run=True) is None


# the SQL comes from the models' metadata


def test_insert_and_update_quote_the_models_table_and_column_names(
    meter: Any, fresh_sql: None
) -> None:
    reading = meter(reading=3)
    with CaptureQueriesContext(connection) as captured:
        rows.insert_row(reading)
    insert = _one_statement(captured)
    assert insert.startswith(
        'INSERT INTO "Test Meter" ("Meter State", "Reading Now") VALUES '
    )
    if connection.features.can_return_columns_from_insert:
        assert insert.endswith(' RETURNING "Meter No"')
    assert reading.number is not None

    reading.begin(reading=5)
    with CaptureQueriesContext(connection) as captured:
        rows.update_row(reading, ["state", "reading"], state_was="idle")
    update = _one_statement(captured)
    assert update.startswith('UPDATE "Test Meter" SET "Meter State" = ')
    assert ', "Reading Now" = ' in update
    assert ' WHERE "Meter No" = ' in update
    assert ' AND "Meter State" = ' in update
    stored = meter.objects.get(pk=reading.number)
    assert (stored.state, stored.reading) == ("busy", 5)


def test_update_of_a_model_with_custom_columns_refuses_a_stale_state(
    meter: Any, fresh_sql: None
) -> None:
    reading = meter(reading=3)
    rows.insert_row(reading)
    stale = meter.objects.get(pk=reading.number)
    reading.begin(reading=5)
    rows.update_row(reading, ["state", "reading"], state_was="idle")
    stale.begin(reading=9)
    with pytest.raises(ConcurrentTransition):
        rows.update_row(stale, ["state", "reading"], state_was="idle")
    assert meter.objects.get(pk=reading.number).reading == 5


def test_select_attempt_takes_its_tables_and_columns_from_the_models(
    run: Run, monkeypatch: pytest.MonkeyPatch, fresh_sql: None
) -> None:
    monkeypatch.setattr(Attempt._meta, "db_table", "Attempt Rows")
    monkeypatch.setattr(StepRun._meta, "db_table", "Step Rows")
    monkeypatch.setattr(Run._meta, "db_table", "Run Rows")
    monkeypatch.setattr(Attempt._meta.get_field("step"), "column", "Step Ref")
    monkeypatch.setattr(Attempt._meta.get_field("run"), "column", "Run Ref")
    sql, _ = rows._select_attempt_sql(connection.vendor, False)
    assert (
        ' FROM "Attempt Rows" "a" '
        'INNER JOIN "Step Rows" "s" ON "s"."id" = "a"."Step Ref" '
        'INNER JOIN "Run Rows" "r" ON "r"."id" = "a"."Run Ref" '
        'WHERE "a"."id" = %s'
    ) in sql
    assert '"a"."Step Ref", ' in sql


def test_values_prepares_what_save_would_send(run: Run) -> None:
    """The shortcut for plain values sends what Django's preparation would."""
    step = run.steps.exclude(node_type="start").first()
    assert step is not None
    attempt = run.attempts.get()
    event = Event(kind="k", run=run, step=step, data={"n": [1, "2"]}, actor="a")
    for obj in (event, step, attempt, run):
        fields = rows._insert_fields(type(obj))
        expected = [
            f.get_db_prep_save(f.pre_save(obj, add=True), connection=connection)
            for f in fields
        ]
        got = rows._values(obj)
        # auto_now_add stamps the time anew on each call: compare its type only.
        for field, want, have in zip(fields, expected, got, strict=True):
            if getattr(field, "auto_now_add", False):
                assert type(want) is type(have)
            elif hasattr(want, "obj"):  # a JSON adapter: compare what it wraps
                assert want.obj == have.obj
            else:
                assert want == have, field.name


def test_insert_events_keeps_every_value_as_given(run: Run) -> None:
    """On PostgreSQL the rows travel as one JSON document: types, quotes, accents,
    nested data, empty strings and None come back as they went in."""
    data = {"s": 'é "quoted" \\ back\nline', "none": None, "nested": [1.5, True, {}]}
    events = [
        Event(
            kind="test_values",
            run=run,
            workflow_id=run.workflow_id,
            version_id=None,
            node_id="n'1",
            reason='it\'s "fine" — ✓',
            actor="",
            data=data,
        ),
        Event(kind="test_values_2", run=None, data={}),
    ]
    rows.insert_events(events)
    first, second = Event.objects.filter(kind__startswith="test_values").order_by("id")
    assert (first.node_id, first.reason, first.actor) == ("n'1", events[0].reason, "")
    assert first.data == data
    assert (first.run_id, first.version_id) == (run.pk, None)
    assert first.created_at is not None
    assert (second.run_id, second.workflow_id, second.data) == (None, None, {})
