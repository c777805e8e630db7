"""Lean row writes for the engine's hot path: one hand-built statement per write.

Identifiers in the SQL come from model metadata only; every value is a bound parameter
(hence the S608 waivers below).

Every step of a run changes a few rows and appends a few events; through the ORM's
`save()` each of those costs more Python than database time. These helpers write the
same rows with prepared SQL per model (built once per process and database vendor),
values prepared by the model fields themselves, and the same optimistic check that
django-fsm's ConcurrentTransitionMixin makes. They never decide a state: callers run
the FSM transition first and only persist what it did.
"""

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from django.db import connection, models
from django.db.models import NOT_PROVIDED
from django.db.models.expressions import Col
from django.db.models.options import Options
from django_fsm import ConcurrentTransition, ConcurrentTransitionMixin

if TYPE_CHECKING:
    from runs.models import Attempt, Run, StepRun

# The FSM field whose old value `update_row` checks; each model it writes has one.
STATE_FIELD = "state"

# How `select_attempt` reads one model's columns out of a joined row:
# (model, [attname, ...], [(column, [converter, ...]), ...]), one column per attname.
_ModelPlan = tuple[
    type[models.Model], list[str], list[tuple[Col, list[Callable[..., Any]]]]
]


def _field(meta: Options, name: str) -> models.Field:
    """Return a model's field by name or attname; refuse a relation's reverse side."""
    field = meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{meta.label}.{name} is not a field with a column")
    return field


def _column(field: models.Field) -> str:
    """Return a field's column; only concrete fields (stored in the row) have one."""
    if field.column is None:
        raise TypeError(f"{field} has no column")
    return field.column


@cache
def _insert_fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    # A field with a database default (Event.tx) is left to the database.
    return tuple(
        f
        for f in model._meta.concrete_fields
        if not f.primary_key and f.db_default is NOT_PROVIDED
    )


@cache
def _insert_sql(model: type[models.Model], vendor: str, rows: int) -> str:
    quote = connection.ops.quote_name
    fields = _insert_fields(model)
    columns = ", ".join(quote(_column(f)) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    values = ", ".join([row] * rows)
    table = quote(model._meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608


@cache
def _insert_returning_sql(model: type[models.Model], vendor: str) -> str:
    pk = connection.ops.quote_name(_column(model._meta.pk))
    return f"{_insert_sql(model, vendor, 1)} RETURNING {pk}"


# Fields whose value, when it has one of these exact types (or is None), is already
# what get_db_prep_save would send: their preparation only converts other types.
_PLAIN_TYPES: tuple[tuple[type[models.Field], frozenset[type]], ...] = (
    (models.CharField, frozenset({str})),
    (models.TextField, frozenset({str})),
    (models.BooleanField, frozenset({bool})),
    (models.IntegerField, frozenset({int})),
    (models.ForeignKey, frozenset({int})),
)

# (field, attname, types passed as they are or None, whether pre_save sets the value)
_Prep = tuple[models.Field, str, frozenset[type] | None, bool]


@cache
def _prep_plan(model: type[models.Model]) -> tuple[_Prep, ...]:
    plan = []
    for field in _insert_fields(model):
        plain = next(
            (types for cls, types in _PLAIN_TYPES if isinstance(field, cls)), None
        )
        if isinstance(field, models.ForeignKey) and not isinstance(
            field.target_field, models.AutoField | models.IntegerField
        ):
            plain = None
        # auto_now(_add) and the like: pre_save computes the value.
        computed = bool(getattr(field, "auto_now", False)) or bool(
            getattr(field, "auto_now_add", False)
        )
        plan.append((field, field.attname, plain, computed))
    return tuple(plan)


def _values(obj: models.Model) -> list[Any]:
    """Return the values an INSERT of obj sends (its `_insert_fields`, in order), as
    save() would prepare them.

    A value already of its column's plain Python type skips Django's per-field
    preparation (several calls per value, about a third of a step's Python before).
    """
    # Copies the ids of related rows inserted after they were assigned, as save() does.
    # django-stubs leaves out this private Model method that save() calls.
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    state = obj.__dict__
    values = []
    for field, attname, plain, computed in _prep_plan(type(obj)):
        if not computed and plain is not None:
            value = state.get(attname)
            if value is None or type(value) in plain:
                values.append(value)
                continue
        value = field.pre_save(obj, add=True)
        values.append(field.get_db_prep_save(value, connection=connection))
    return values


def _saved(obj: models.Model, pk: int) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
    update_initial = getattr(obj, "_update_initial_state", None)
    if update_initial is not None:
        update_initial()


def insert_row(obj: models.Model) -> None:
    """INSERT a new model instance and set its primary key."""
    model = type(obj)
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            sql = _insert_returning_sql(model, connection.vendor)
            cursor.execute(sql, _values(obj))
            pk = cursor.fetchone()[0]
        else:
            sql = _insert_sql(model, connection.vendor, 1)
            cursor.execute(sql, _values(obj))
            pk = cursor.lastrowid
    _saved(obj, pk)


def insert_events(events: Sequence[models.Model]) -> None:
    """INSERT event rows in one statement; ids are not read back.

    No lock: the database stamps each row with its transaction's id (`Event.tx`),
    and the live stream orders by (tx, id) below the oldest transaction still in
    flight (runs.selectors.event_list), so concurrent writers never wait on each
    other here.
    """
    if not events:
        return
    model = type(events[0])
    if connection.vendor == "postgresql":
        # The rows travel as one JSON parameter: a six-event step had 84
        # parameters, each quoted into the SQL text by psycopg in Python (and a
        # statement with that many is not cached), where json.dumps is one C call.
        columns = [_column(f) for f in _insert_fields(model)]
        rows = [
            dict(zip(columns, map(_json_value, _values(event)), strict=True))
            for event in events
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                _insert_json_sql(model, connection.vendor), [json.dumps(rows)]
            )
        return
    params: list[Any] = []
    for event in events:
        params.extend(_values(event))
    sql = _insert_sql(model, connection.vendor, len(events))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _json_value(value: Any) -> Any:
    """A prepared value as JSON: a JSON field's object, a time in ISO 8601."""
    if isinstance(value, datetime):
        return value.isoformat()
    wrapped = getattr(value, "obj", _MISSING)  # psycopg's Jsonb wrapper
    return value if wrapped is _MISSING else wrapped


_MISSING = object()


@cache
def _insert_json_sql(model: type[models.Model], vendor: str) -> str:
    """INSERT … SELECT from a JSON array of rows, in the array's order."""
    quote = connection.ops.quote_name
    fields = _insert_fields(model)
    columns = ", ".join(quote(_column(f)) for f in fields)
    types = ", ".join(f"{quote(_column(f))} {f.db_type(connection)}" for f in fields)
    table = quote(model._meta.db_table)
    return (
        f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608
        f"FROM ROWS FROM (jsonb_to_recordset(%s::jsonb) AS ({types})) "
        f"WITH ORDINALITY AS r({columns}, _position) ORDER BY _position"
    )


@cache
def _update_sql(
    model: type[models.Model], vendor: str, columns: tuple[str, ...]
) -> str:
    quote = connection.ops.quote_name
    meta = model._meta
    assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
    table = quote(meta.db_table)
    pk = quote(_column(meta.pk))
    state = quote(_column(_field(meta, STATE_FIELD)))
    return f"UPDATE {table} SET {assignments} WHERE {pk} = %s AND {state} = %s"  # noqa: S608


def update_row(
    obj: ConcurrentTransitionMixin, attnames: Sequence[str], *, state_was: str
) -> None:
    """UPDATE the given fields of obj if its state is still `state_was`.

    Raise ConcurrentTransition when another writer moved the row first (the
    transaction is then rolled back by the caller's atomic block).
    """
    meta = obj._meta
    fields = [_field(meta, name) for name in attnames]
    params = [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
    params += [obj.pk, state_was]
    columns = tuple(_column(f) for f in fields)
    sql = _update_sql(type(obj), connection.vendor, columns)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount != 1:
            raise ConcurrentTransition(
                f"{meta.label} {obj.pk} is no longer {state_was!r}"
            )
    obj._update_initial_state()


@cache
def _select_plan(
    models_: tuple[tuple[type[models.Model], str], ...], vendor: str
) -> tuple[str, list[_ModelPlan]]:
    """Return the column list of several models and, per model, (fields, converters)."""
    quote = connection.ops.quote_name
    columns: list[str] = []
    plan: list[_ModelPlan] = []
    for model, alias in models_:
        fields = model._meta.concrete_fields
        converters = []
        for field in fields:
            col = field.get_col(alias)
            found = connection.ops.get_db_converters(col) + field.get_db_converters(
                connection
            )
            converters.append((col, found))
            columns.append(f"{quote(alias)}.{quote(_column(field))}")
        plan.append((model, [f.attname for f in fields], converters))
    return ", ".join(columns), plan


def _build(plan: list[_ModelPlan], row: Sequence[Any]) -> list[models.Model]:
    objects = []
    offset = 0
    for model, attnames, converters in plan:
        values = list(row[offset : offset + len(attnames)])
        offset += len(attnames)
        for index, (col, found) in enumerate(converters):
            for converter in found:
                values[index] = converter(values[index], col, connection)
        objects.append(model.from_db(connection.alias, attnames, values))
    return objects


@cache
def _select_attempt_sql(vendor: str, lock_run: bool) -> tuple[str, list[_ModelPlan]]:
    """Return the SELECT of an attempt joined to its step and run, and its plan."""
    from runs.models import Attempt, Run, StepRun

    quote = connection.ops.quote_name
    columns, plan = _select_plan(((Attempt, "a"), (StepRun, "s"), (Run, "r")), vendor)
    a, s, r = quote("a"), quote("s"), quote("r")
    attempt, step, run = Attempt._meta, StepRun._meta, Run._meta

    def column(alias: str, field: models.Field) -> str:
        return f"{alias}.{quote(_column(field))}"

    sql = (
        f"SELECT {columns} FROM {quote(attempt.db_table)} {a} "  # noqa: S608
        f"INNER JOIN {quote(step.db_table)} {s} "
        f"ON {column(s, step.pk)} = {column(a, _field(attempt, 'step'))} "
        f"INNER JOIN {quote(run.db_table)} {r} "
        f"ON {column(r, run.pk)} = {column(a, _field(attempt, 'run'))} "
        f"WHERE {column(a, attempt.pk)} = %s"
    )
    if lock_run and connection.features.has_select_for_update_of:
        # NO KEY UPDATE: inserts that reference this run (events, steps) take KEY
        # SHARE on its row for their foreign key checks; this lock does not block
        # them. Taken first in the transaction, it also orders the run's writers'
        # transaction ids (see docs/engine.md, "The live stream").
        sql += f" FOR NO KEY UPDATE OF {r}"
    return sql, plan


def select_attempt(
    attempt_id: int, *, lock_run: bool
) -> "tuple[Attempt, StepRun, Run] | None":
    """Read an attempt with its step and run in one query; optionally lock the run.

    Return (attempt, step, run) wired to each other, or None when there is no such
    attempt. Locking only the run row serialises the branches of one run and lets
    other runs go on.
    """
    sql, plan = _select_attempt_sql(connection.vendor, lock_run)
    with connection.cursor() as cursor:
        cursor.execute(sql, [attempt_id])
        row = cursor.fetchone()
    if row is None:
        return None
    # _build makes the plan's models in its order: attempt, step, run.
    built = _build(plan, row)
    attempt = cast("Attempt", built[0])
    step = cast("StepRun", built[1])
    run = cast("Run", built[2])
    step.run = run
    attempt.step = step
    attempt.run = run
    return attempt, step, run


@cache
def _select_run_sql(vendor: str) -> tuple[str, list[_ModelPlan]]:
    """Return the SELECT of one run, locked FOR NO KEY UPDATE, and its plan."""
    from runs.models import Run

    quote = connection.ops.quote_name
    columns, plan = _select_plan(((Run, "r"),), vendor)
    meta = Run._meta
    sql = (
        f"SELECT {columns} FROM {quote(meta.db_table)} {quote('r')} "  # noqa: S608
        f"WHERE {quote('r')}.{quote(_column(meta.pk))} = %s"
    )
    if connection.features.has_select_for_update:
        sql += " FOR NO KEY UPDATE" if vendor == "postgresql" else " FOR UPDATE"
    return sql, plan


def select_run_locked(run_id: int) -> "Run | None":
    """Read a run and lock its row (as `select_attempt(lock_run=True)` does)."""
    sql, plan = _select_run_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [run_id])
        row = cursor.fetchone()
    if row is None:
        return None
    return cast("Run", _build(plan, row)[0])
