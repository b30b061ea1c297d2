"""For the test harness alone: lift the record's append-only guard for one transaction, to
empty the tables between tests or to tamper with the record on purpose (as an attacker with
the database would). The production guard is untouched: on PostgreSQL the superuser sets
session_replication_role for the transaction (triggers off); on SQLite the triggers are
dropped and created again, from their own text, in the same transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

GUARDED = ("event", "record_checkpoint")


@contextmanager
def unguarded(conn) -> Iterator[None]:
    """Inside the caller's transaction on `conn` (SQLAlchemy connection or sqlite3 one)."""
    def run(sql: str):
        return conn.execute(text(sql)) if hasattr(conn, "exec_driver_sql") else conn.execute(sql)

    dialect = getattr(getattr(conn, "dialect", None), "name", "sqlite")
    if dialect == "postgresql":
        run("SET LOCAL session_replication_role = replica")
        yield
        return
    names = ", ".join(f"'{t}'" for t in GUARDED)
    triggers = list(run(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                        f" AND tbl_name IN ({names})"))
    for name, _ in triggers:
        run(f'DROP TRIGGER "{name}"')
    yield
    for _, sql in triggers:
        run(sql)
