"""Alembic environment: our metadata, batch mode on SQLite, the engine given by service.migrate."""

from alembic import context
from sqlmodel import SQLModel

import service.models  # noqa: F401  (registers the tables)
from service.db import get_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or get_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `python -m service migrate`")
run_migrations_online()
