"""Counting the SQL statements that one request issues, whatever else the process runs."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def request_statements() -> Iterator[tuple[dict[str, str], list[str]]]:
    """The SQL statements issued on behalf of one request, and the header that marks it.

    Send the yielded headers with the request (`X-Request-ID`); only statements executed
    while that request's id is the current one (the service sets it for the whole request,
    worker threads included) are counted, so the email and webhook senders polling in the
    background of the same process cannot change the count. While the block runs, a thread
    of its own keeps querying through the same engine, so a count that took in statements
    of other threads would show it at once."""
    from sqlalchemy import event, text

    from service.core.db import get_engine
    from service.record.service import request_id_var

    rid = f"count-{uuid.uuid4().hex}"
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if request_id_var.get() == rid:
            seen.append(statement)

    engine = get_engine()
    stop = threading.Event()

    def noise() -> None:
        while not stop.is_set():
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            stop.wait(0.002)

    event.listen(engine, "before_cursor_execute", listener)
    background = threading.Thread(target=noise, name="statement-noise", daemon=True)
    background.start()
    try:
        yield {"X-Request-ID": rid}, seen
    finally:
        stop.set()
        background.join(timeout=5)
        event.remove(engine, "before_cursor_execute", listener)
