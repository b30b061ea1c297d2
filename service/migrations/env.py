"""Alembic environment: our metadata, batch mode on SQLite, the engine given by service.core.migrate."""

from alembic import context
from sqlmodel import SQLModel

# Every package's tables, so that the metadata holds them all (the migrations write the schema).
import service.core.models  # noqa: F401
import service.followup.models  # noqa: F401
import service.nomination.models  # noqa: F401
import service.record.models  # noqa: F401
import service.review.models  # noqa: F401
import service.selection.models  # noqa: F401
import service.webhooks.models  # noqa: F401
from service.core.db import get_engine

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
