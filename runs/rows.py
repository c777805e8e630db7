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

from collections.abc import Sequence
from functools import cache

from django.db import connection, models
from django_fsm import ConcurrentTransition

# Any constant works; it only has to be the same in every process.
EVENT_ORDER_LOCK = 0x5357_5944


@cache
def _insert_fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key)


@cache
def _insert_sql(model: type[models.Model], vendor: str, rows: int) -> str:
    quote = connection.ops.quote_name
    fields = _insert_fields(model)
    columns = ", ".join(quote(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    values = ", ".join([row] * rows)
    table = quote(model._meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608


def _values(obj: models.Model, fields: Sequence[models.Field]) -> list:
    # Copies the ids of related rows inserted after they were assigned, as save() does.
    obj._prepare_related_fields_for_save(operation_name="save")
    return [
        f.get_db_prep_save(f.pre_save(obj, add=True), connection=connection)
        for f in fields
    ]


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
    fields = _insert_fields(model)
    sql = _insert_sql(model, connection.vendor, 1)
    with connection.cursor() as cursor:
        if connection.features.can_return_columns_from_insert:
            cursor.execute(sql + ' RETURNING "id"', _values(obj, fields))
            pk = cursor.fetchone()[0]
        else:
            cursor.execute(sql, _values(obj, fields))
            pk = cursor.lastrowid
    _saved(obj, pk)


def insert_events(events: Sequence[models.Model]) -> None:
    """INSERT event rows in one statement, in commit order of their ids.

    On PostgreSQL the same round trip first takes a transaction-level advisory lock,
    so event ids are assigned in commit order: a reader that sees event N has seen
    every event below N that will ever commit (the live relay tails the table on
    that promise). SQLite serialises writers already. Ids are not read back.
    """
    if not events:
        return
    model = type(events[0])
    fields = _insert_fields(model)
    params: list = []
    for event in events:
        params.extend(_values(event, fields))
    sql = _insert_sql(model, connection.vendor, len(events))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Client-side binding sends both statements in one simple query.
            cursor.execute(
                f"SELECT pg_advisory_xact_lock({EVENT_ORDER_LOCK}); {sql}", params
            )
        else:
            cursor.execute(sql, params)


@cache
def _update_sql(
    model: type[models.Model], vendor: str, columns: tuple[str, ...], state: str
) -> str:
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
    table = quote(model._meta.db_table)
    return f'UPDATE {table} SET {assignments} WHERE "id" = %s AND {quote(state)} = %s'  # noqa: S608, E501


def update_row(obj: models.Model, attnames: Sequence[str], *, state_was: str) -> None:
    """UPDATE the given fields of obj if its state is still `state_was`.

    Raise ConcurrentTransition when another writer moved the row first (the
    transaction is then rolled back by the caller's atomic block).
    """
    meta = obj._meta
    fields = [meta.get_field(name) for name in attnames]
    state_field = meta.get_field("state")
    params = [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
    params += [obj.pk, state_was]
    columns = tuple(f.column for f in fields)
    sql = _update_sql(type(obj), connection.vendor, columns, state_field.column)
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
) -> tuple[str, list]:
    """Return the column list of several models and, per model, (fields, converters)."""
    quote = connection.ops.quote_name
    columns: list[str] = []
    plan: list = []
    for model, alias in models_:
        fields = model._meta.concrete_fields
        converters = []
        for field in fields:
            col = field.get_col(alias)
            found = connection.ops.get_db_converters(col) + field.get_db_converters(
                connection
            )
            converters.append((col, found))
            columns.append(f"{quote(alias)}.{quote(field.column)}")
        plan.append((model, [f.attname for f in fields], converters))
    return ", ".join(columns), plan


def _build(plan: list, row: Sequence) -> list[models.Model]:
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


def select_attempt(attempt_id: int, *, lock_run: bool) -> tuple | None:
    """Read an attempt with its step and run in one query; optionally lock the run.

    Return (attempt, step, run) wired to each other, or None when there is no such
    attempt. Locking only the run row serialises the branches of one run and lets
    other runs go on.
    """
    from runs.models import Attempt, Run, StepRun

    spec = ((Attempt, "a"), (StepRun, "s"), (Run, "r"))
    columns, plan = _select_plan(spec, connection.vendor)
    sql = (
        f'SELECT {columns} FROM "runs_attempt" "a" '  # noqa: S608
        'INNER JOIN "runs_steprun" "s" ON "s"."id" = "a"."step_id" '
        'INNER JOIN "runs_run" "r" ON "r"."id" = "a"."run_id" '
        'WHERE "a"."id" = %s'
    )
    if lock_run and connection.features.has_select_for_update_of:
        # NO KEY UPDATE: event inserts elsewhere take KEY SHARE on this run row (the
        # foreign key check) while holding the event order lock; a full UPDATE lock
        # here would deadlock with them.
        sql += ' FOR NO KEY UPDATE OF "r"'
    with connection.cursor() as cursor:
        cursor.execute(sql, [attempt_id])
        row = cursor.fetchone()
    if row is None:
        return None
    attempt, step, run = _build(plan, row)
    step.run = run
    attempt.step = step
    attempt.run = run
    return attempt, step, run
