"""The migrations create exactly the schema the models describe, and can be undone."""

from alembic import command
from sqlalchemy import inspect

from service.core.db import make_engine
from service.core.migrate import alembic_config, current_revision, downgrade, head_revision, upgrade


def test_migrations_match_the_models_and_downgrade_cleanly(tmp_path):
    from service.config import Settings

    engine = make_engine(Settings(data_dir=tmp_path, database_url=None))
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    command.check(alembic_config(engine))  # raises when models and migrations differ
    assert {"selection", "candidate", "event", "score_sheet"} <= set(inspect(engine)
                                                                     .get_table_names())
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_readyz_reports_the_head_revision(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "revision": head_revision(),
                        "head": head_revision()}
