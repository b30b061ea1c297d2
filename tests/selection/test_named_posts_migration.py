"""Migration 0010 gives every selection stored before it one post named after its
organization, with its `posts` as the count; downgrading drops the list again."""

import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import inspect, text

from service.core.db import make_engine
from service.core.migrate import downgrade, upgrade


def test_stored_selections_get_one_post_named_after_their_organization(tmp_path):
    from service.config import Settings

    engine = make_engine(Settings(data_dir=tmp_path, database_url=None))
    upgrade(engine, "0008")
    sid, now = uuid.uuid4(), datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO selection (id, title, organization, posts, state, version,"
            " job_description, settings, created_at, updated_at) VALUES (:id, '旧选拔',"
            " '机关第三党支部', 2, 'drafting', 1, '{}', '{}', :now, :now)"),
            {"id": sid.hex, "now": now})
    upgrade(engine)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT named_posts FROM selection")).scalar_one()
    assert json.loads(stored) == [{"code": "p1", "branch": "机关第三党支部",
                                   "title": "党支部书记", "count": 2}]
    assert "post_codes" in {c["name"] for c in inspect(engine).get_columns("candidate")}
    downgrade(engine, "0008")
    assert "named_posts" not in {c["name"] for c in inspect(engine).get_columns("selection")}
    engine.dispose()
