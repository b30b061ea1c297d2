"""Two writers of one subject at once, on PostgreSQL (SQLite has one writer at a time): the
second waits for the first and appends after it, instead of reading the same chain head and
failing on the chain's unique sequence."""

from __future__ import annotations

import threading

import pytest

from service.core.clock import real_clock
from service.core.db import open_session
from service.core.models import User
from service.record.service import SYSTEM
from service.users.schemas import UserUpdate
from service.users.service import update
from tests.conftest import IS_POSTGRES

pytestmark = pytest.mark.skipif(not IS_POSTGRES, reason="concurrent writers are PostgreSQL's")


def _rename(user_id, name: str):
    """An account's name changed in a transaction of its own, left open: the session."""
    session = open_session(write=True)
    user = session.get(User, user_id)  # read without FOR UPDATE, as PATCH /auth/me reads it
    update(session=session, user=user, data=UserUpdate(full_name=name), author=SYSTEM,
           clock=real_clock())
    return session


def test_a_second_writer_of_a_subject_waits_and_appends_after_the_first(client, make_user):
    from sqlmodel import select

    from service.record.models import Event

    user, _ = make_user("judge")
    first = _rename(user.id, "第一")
    outcome: dict = {}

    def second() -> None:
        try:
            s = _rename(user.id, "第二")
            s.commit()
            s.close()
            outcome["ok"] = True
        except Exception as e:  # noqa: BLE001 - what the second writer met is the finding
            outcome["error"] = e

    t = threading.Thread(target=second)
    t.start()
    t.join(1.0)
    assert t.is_alive(), f"the second writer did not wait for the first: {outcome}"
    first.commit()
    first.close()
    t.join(10)
    assert outcome == {"ok": True}
    with open_session() as s:
        seqs = [e.seq for e in s.exec(select(Event).where(
            Event.subject_type == "user", Event.subject_id == user.id).order_by(Event.seq))]
        assert seqs == list(range(1, len(seqs) + 1))
        assert s.get(User, user.id).full_name == "第二"
