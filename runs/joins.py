"""Join arrival counters: a branch reaching a join costs O(1), however wide the fan-out.

A join `all` must know when every incoming edge is resolved (taken or dead). Reading
every sibling step on each arrival makes a fan-out of N branches cost O(N²) reads; a
counter row per (run, join) makes each arrival one UPDATE. The counter is only a
cache of what the step rows say: it is (re)built from them by `join_recount`, on the
first arrival and whenever arrivals may have been seen twice (a resumed run follows
its finished steps again). Writers hold the run row lock, so arrivals of one run are
counted one at a time.
"""

from django.db import connection

from runs.models.joins import JoinProgress


def _table() -> str:
    return connection.ops.quote_name(JoinProgress._meta.db_table)


def join_arrive(*, run_id: int, node_id: str, taken: bool) -> tuple[int, int] | None:
    """Count one resolved edge into a join; return (arrived, taken), or None when the
    join has no counter yet (the caller then counts from the step rows)."""
    sql = (
        f"UPDATE {_table()} SET arrived = arrived + 1, taken = taken + %s "  # noqa: S608
        "WHERE run_id = %s AND node_id = %s RETURNING arrived, taken"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [int(taken), run_id, node_id])
        row = cursor.fetchone()
    return (int(row[0]), int(row[1])) if row else None


def join_recount(*, run_id: int, node_id: str, arrived: int, taken: int) -> None:
    """Set a join's counter to what the step rows say."""
    JoinProgress.objects.update_or_create(
        run_id=run_id, node_id=node_id, defaults={"arrived": arrived, "taken": taken}
    )
