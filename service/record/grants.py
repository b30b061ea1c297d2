"""PostgreSQL: the grants that let the service run as a role that may use its tables but
only read and append the record (events and automatic checkpoints). The tables' owner runs
the migrations (SELECTION_MIGRATION_DATABASE_URL); the app role is not owner, so it cannot
disable the append-only triggers, drop or alter a table, and has no UPDATE, DELETE or
TRUNCATE on the record."""

from __future__ import annotations

import re

APPEND_ONLY_TABLES = ("event", "record_checkpoint")
_ROLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def app_role_sql(role: str, *, password: str | None = None) -> list[str]:
    """The statements, run by the owner of the tables after every `migrate` that adds one."""
    if not _ROLE.match(role):
        raise ValueError(f"{role!r} is not a plain PostgreSQL role name (letters, digits, _)")
    q = f'"{role}"'
    out = []
    if password is not None:
        literal = "'" + password.replace("'", "''") + "'"
        out.append(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}')"
                   f" THEN CREATE ROLE {q} LOGIN PASSWORD {literal}; END IF; END $$")
    out += [
        f"DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I',"
        f" current_database(), '{role}'); END $$",
        f"GRANT USAGE ON SCHEMA public TO {q}",
        f"REVOKE CREATE ON SCHEMA public FROM {q}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {q}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {q}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {q}",
        *(f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {t} FROM {q}"
          for t in APPEND_ONLY_TABLES),
    ]
    return out
