"""sql.query against a second PostgreSQL database: rows as JSON, read-only by
default, parameters bound, the row limit, the statement timeout, the egress check."""

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from engine.actions import ActionContext, ActionError, get_action
from engine.connections import ResolvedConnection

SOURCE_DB = "sw_connector_src"
SERVER = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


@pytest.fixture(scope="module")
def source_db() -> Iterator[str]:
    """A second database with a table of items, dropped afterwards."""
    with psycopg.connect(dbname="postgres", autocommit=True, **SERVER) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {SOURCE_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {SOURCE_DB}")
    with psycopg.connect(dbname=SOURCE_DB, autocommit=True, **SERVER) as db:
        db.execute(
            "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(8,2),"
            " added date, seen timestamptz, raw bytea, meta jsonb, ref uuid)"
        )
        db.execute(
            "INSERT INTO items VALUES (1, 'bolt', 1.25, '2024-05-01',"
            " '2024-05-01 12:00+00', '\\x0102', '{\"tags\": [\"a\"]}',"
            " 'a8098c1a-f86e-11da-bd1a-00112444be1e'),"
            " (2, 'nut', 0.10, NULL, NULL, NULL, NULL, NULL)"
        )
    yield SOURCE_DB
    with psycopg.connect(dbname="postgres", autocommit=True, **SERVER) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {SOURCE_DB} WITH (FORCE)")


@pytest.fixture
def allowed(settings: Any) -> None:
    settings.SWITCHYARD_EGRESS_ALLOW = ["127.0.0.1/32"]


def _source(**fields: Any) -> ResolvedConnection:
    return ResolvedConnection(
        name="src",
        kind="postgres",
        fields={**SERVER, "dbname": SOURCE_DB, "sslmode": "disable", **fields},
        secrets={"password": "unused-by-trust-auth"},
    )


def _query(connection: Any = None, timeout_s: float = 10.0, **params: Any) -> Any:
    context = ActionContext(
        run_id=1,
        node_id="q",
        attempt=1,
        idempotency_key="1:q:1",
        input={},
        timeout_s=timeout_s,
        connection=connection if connection is not None else _source(),
    )
    return get_action("sql.query").func({"connection": "src", **params}, context)


def _names() -> list[str]:
    with psycopg.connect(dbname=SOURCE_DB, **SERVER) as db:
        return [r[0] for r in db.execute("SELECT name FROM items ORDER BY id")]


def test_rows_come_back_as_json(source_db: str, allowed: None) -> None:
    result = _query(sql="SELECT * FROM items ORDER BY id")
    assert result["row_count"] == 2 and result["truncated"] is False
    assert result["rows"][0] == {
        "id": 1,
        "name": "bolt",
        "price": "1.25",
        "added": "2024-05-01",
        "seen": "2024-05-01T12:00:00+00:00",
        "raw": "\\x0102",
        "meta": {"tags": ["a"]},
        "ref": "a8098c1a-f86e-11da-bd1a-00112444be1e",
    }
    assert result["rows"][1]["added"] is None


def test_params_are_bound_so_an_injection_is_just_a_value(
    source_db: str, allowed: None
) -> None:
    hostile = "bolt' OR '1'='1"
    assert _query(sql="SELECT id FROM items WHERE name = %s", params=[hostile]) == {
        "rows": [],
        "row_count": 0,
        "truncated": False,
    }
    named = _query(
        sql="SELECT id, %(tag)s AS tag FROM items WHERE name = %(name)s",
        params={"name": "nut", "tag": "x'); DROP TABLE items; --"},
    )
    assert named["rows"] == [{"id": 2, "tag": "x'); DROP TABLE items; --"}]
    assert _names() == ["bolt", "nut"]


def test_a_write_is_refused_on_a_read_only_connection(
    source_db: str, allowed: None
) -> None:
    for sql in (
        "INSERT INTO items (id, name) VALUES (3, 'gear')",
        "WITH gone AS (DELETE FROM items RETURNING id) SELECT * FROM gone",
        # One statement only: nothing may end the read-only transaction and go on.
        "COMMIT; INSERT INTO items (id, name) VALUES (3, 'gear')",
    ):
        with pytest.raises(ActionError) as caught:
            _query(sql=sql)
        assert caught.value.error_type == "SqlError"
        assert caught.value.retryable is False
    assert _names() == ["bolt", "nut"]


def test_a_writable_connection_commits(source_db: str, allowed: None) -> None:
    writable = _source(read_only=False)
    name = f"gear-{uuid.uuid4().hex[:6]}"
    inserted = _query(
        writable,
        sql="INSERT INTO items (id, name) VALUES (%s, %s) RETURNING id, name",
        params=[3, name],
    )
    assert inserted["rows"] == [{"id": 3, "name": name}]
    updated = _query(writable, sql="UPDATE items SET price = 2 WHERE id = 3")
    assert updated == {"rows": [], "row_count": 0, "truncated": False}
    # Past max_rows, a writing statement still runs to its end.
    grown = _query(
        writable,
        sql="UPDATE items SET price = price + 1 RETURNING id",
        max_rows=1,
    )
    assert grown["row_count"] == 1 and grown["truncated"] is True
    with psycopg.connect(dbname=SOURCE_DB, autocommit=True, **SERVER) as db:
        prices = dict(db.execute("SELECT id, price FROM items").fetchall())
        assert str(prices[3]) == "3.00"
        db.execute("UPDATE items SET price = price - 1")
        db.execute("DELETE FROM items WHERE id = 3")


def test_max_rows_truncates(source_db: str, allowed: None) -> None:
    result = _query(
        sql="SELECT g AS n, g AS n FROM generate_series(1, 50000) g", max_rows=10
    )
    assert result["row_count"] == 10 and result["truncated"] is True
    assert result["rows"][9] == {"n": 10, "n_2": 10}


def test_a_slow_statement_ends_at_the_attempt_timeout(
    source_db: str, allowed: None
) -> None:
    with pytest.raises(ActionError) as caught:
        _query(sql="SELECT pg_sleep(30)", timeout_s=1.0)
    assert caught.value.error_type == "Timeout"
    assert caught.value.retryable is True


def test_a_bad_statement_is_not_retried(source_db: str, allowed: None) -> None:
    for sql, params in (("SELEC 1", None), ("SELECT %s, %s", [1])):
        with pytest.raises(ActionError) as caught:
            _query(sql=sql, params=params)
        assert caught.value.error_type == "SqlError"
        assert caught.value.retryable is False


def test_the_host_goes_through_the_egress_policy(source_db: str) -> None:
    with pytest.raises(ActionError) as caught:
        _query(sql="SELECT 1")
    assert caught.value.error_type == "EgressDenied"
    with pytest.raises(ActionError) as caught:
        _query(_source(host="/var/run/postgresql"), sql="SELECT 1")
    assert caught.value.error_type == "EgressDenied"


def test_another_kind_of_connection_is_refused() -> None:
    http = ResolvedConnection("src", "http", {"base_url": "https://x"}, {})
    with pytest.raises(ActionError) as caught:
        _query(http, sql="SELECT 1")
    assert caught.value.error_type == "ConnectionError"
