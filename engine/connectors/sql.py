"""Action sql.query: one statement on a postgres connection, read-only by default."""

from __future__ import annotations

import contextlib
import datetime
import decimal
import math
from collections.abc import Generator
from typing import Any, cast

import psycopg

from engine import egress
from engine.actions import ActionContext, ActionError, action
from engine.connections import ResolvedConnection
from engine.connectors.base import connection_param, require_kind

MAX_SQL = 100_000
DEFAULT_ROWS = 100
MAX_ROWS = 10_000
MAX_PARAMS = 1000
# libpq rounds a connect timeout below 2 seconds up to 2.
MIN_CONNECT_TIMEOUT_S = 2
MAX_CONNECT_TIMEOUT_S = 30
# SQLSTATE classes worth a retry: connection exception, transaction rollback
# (serialization failure, deadlock), insufficient resources, operator intervention.
_RETRYABLE_CLASSES = ("08", "40", "53", "57")
# What psycopg's stream() says of a statement that ran but returns no rows.
_NO_RESULT = "didn't produce a result"
_PARAM_VALUE = {
    "description": "A value bound to a placeholder (any JSON value)",
}


def run_query(
    connection: ResolvedConnection,
    *,
    sql: str,
    params: list[Any] | dict[str, Any] | None = None,
    max_rows: int = DEFAULT_ROWS,
    timeout_s: float,
) -> dict[str, Any]:
    """Run one statement with bound params; return its first `max_rows` rows.

    Read-only (the session's default and the transaction's mode) unless the
    connection's read_only field is false; then the statement is committed.
    """
    require_kind(connection, "postgres")
    read_only = connection.field("read_only", True) is not False
    host = connection.field("host") or ""
    port = connection.field("port") or 5432
    address = egress.check_host(host, port)
    # Ended by the server before the attempt's own deadline fires.
    statement_ms = max(100, int((timeout_s - min(1.0, timeout_s / 10)) * 1000))
    options = [f"statement_timeout={statement_ms}", f"lock_timeout={statement_ms}"]
    if read_only:
        options.append("default_transaction_read_only=on")
    try:
        conn = psycopg.connect(
            host=host,
            # libpq connects here and still checks TLS against `host`.
            hostaddr=str(address),
            port=port,
            dbname=connection.field("dbname") or "",
            user=connection.field("user") or "",
            password=connection.secret("password"),
            sslmode=connection.field("sslmode") or "prefer",
            connect_timeout=int(
                min(max(timeout_s, MIN_CONNECT_TIMEOUT_S), MAX_CONNECT_TIMEOUT_S)
            ),
            options=" ".join(f"-c {option}" for option in options),
            application_name="switchyard",
            autocommit=False,
        )
    except psycopg.Error as exc:
        raise _sql_error(exc, connecting=True) from None
    try:
        conn.read_only = read_only
        with conn.cursor() as cursor:
            rows, truncated, columns = _fetch(
                cursor, sql, params or None, max_rows, drain=not read_only
            )
        if read_only:
            conn.rollback()
        else:
            conn.commit()
    except psycopg.Error as exc:
        raise _sql_error(exc) from None
    finally:
        conn.close()
    return {
        "rows": [dict(zip(columns, map(json_value, row), strict=True)) for row in rows],
        "row_count": len(rows),
        "truncated": truncated,
    }


def _fetch(
    cursor: psycopg.Cursor[Any],
    sql: str,
    params: Any,
    max_rows: int,
    *,
    drain: bool,
) -> tuple[list[tuple[Any, ...]], bool, list[str]]:
    """Stream the statement's rows, keeping `max_rows` of them.

    Streaming sends the statement alone through the extended protocol (so
    "...; COMMIT; ..." is refused) and holds one row at a time, whatever the
    statement returns. Past `max_rows` a read-only statement is cancelled; one
    that writes runs to its end (`drain`), its extra rows dropped.
    """
    rows: list[tuple[Any, ...]] = []
    truncated = False
    stream = cast(Generator[tuple[Any, ...], None, None], cursor.stream(sql, params))
    with contextlib.closing(stream):
        try:
            for row in stream:
                if len(rows) < max_rows:
                    rows.append(row)
                    continue
                truncated = True
                if not drain:
                    break
        except psycopg.ProgrammingError as exc:
            # A statement that returns no rows (UPDATE without RETURNING, SET): it
            # ran; psycopg's stream only says it had no rows to give.
            if exc.sqlstate is not None or _NO_RESULT not in str(exc):
                raise
    columns = _column_names(cursor.description or [])
    return rows, truncated, columns


def _column_names(description: Any) -> list[str]:
    """Name each column; a repeated name gets a suffix (id, id_2) instead of
    overwriting the other."""
    names: list[str] = []
    for column in description:
        name, n = column.name, 1
        while name in names:
            n += 1
            name = f"{column.name}_{n}"
        names.append(name)
    return names


def json_value(value: Any) -> Any:
    """Return a database value as JSON: times as ISO 8601, decimals as text,
    bytes as \\x-prefixed hex, intervals as seconds."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    return str(value)


def _sql_error(exc: psycopg.Error, *, connecting: bool = False) -> ActionError:
    """Return the action error for a database error, retryable when it may pass."""
    state = exc.sqlstate or ""
    message = (exc.diag.message_primary if state else None) or str(exc)
    if state == "57014":
        return ActionError(
            f"the statement ran past its timeout: {message}"[:2000],
            error_type="Timeout",
            retryable=True,
        )
    if connecting:
        # No SQLSTATE: the server was not reached; 28xxx: the login was refused.
        retryable = not state.startswith("28")
        return ActionError(
            f"cannot connect to the database: {message}"[:2000],
            error_type="SqlConnectionError",
            retryable=retryable,
        )
    if state:
        retryable = state.startswith(_RETRYABLE_CLASSES)
    else:
        # No SQLSTATE: the connection was lost (retry), or psycopg refused the
        # call itself, e.g. params that do not match the placeholders (do not).
        retryable = isinstance(exc, psycopg.OperationalError)
    return ActionError(
        f"{state or type(exc).__name__}: {message}"[:2000],
        error_type="SqlError",
        retryable=retryable,
    )


@action(
    "sql.query",
    params_schema={
        "type": "object",
        "properties": {
            "connection": connection_param(
                "postgres", description="The PostgreSQL connection"
            ),
            "sql": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_SQL,
                "description": "One statement; values go in params, as %s (a list) or "
                "%(name)s (an object); write a literal % as %%",
            },
            "params": {
                "anyOf": [
                    {"type": "array", "maxItems": MAX_PARAMS, "items": _PARAM_VALUE},
                    {
                        "type": "object",
                        "maxProperties": MAX_PARAMS,
                        "additionalProperties": _PARAM_VALUE,
                    },
                ],
                "description": "Values bound to the placeholders, never pasted into "
                "the SQL",
            },
            "max_rows": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_ROWS,
                "default": DEFAULT_ROWS,
                "description": f"Rows returned at most (default {DEFAULT_ROWS})",
            },
        },
        "required": ["connection", "sql"],
        "additionalProperties": False,
    },
    description="Run one SQL statement on a PostgreSQL connection (read-only by "
    "default)",
    side_effects=True,
)
def sql_query(params: dict[str, Any], context: ActionContext) -> dict[str, Any]:
    """Run one SQL statement on a PostgreSQL connection (read-only by default)."""
    result = run_query(
        require_kind(context.connection, "postgres"),
        sql=params["sql"],
        params=params.get("params"),
        max_rows=int(params.get("max_rows", DEFAULT_ROWS)),
        timeout_s=context.timeout_s,
    )
    more = " (truncated)" if result["truncated"] else ""
    context.log(f"the statement returned {result['row_count']} row(s){more}")
    return result
