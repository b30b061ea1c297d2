"""The route class that owns each request's transaction.

Each request gets one session. The response is built first; then, for a successful write,
the Idempotency-Key's stored response is added and everything commits together — before the
response is sent. Any error rolls back all of it, so a failed action leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from . import idempotency
from .config import get_settings
from .db import open_session

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class TransactionalRoute(APIRoute):
    """An APIRoute whose handler opens, commits or rolls back the request's session."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            write = request.method not in SAFE_METHODS
            if write and get_settings().is_sqlite:
                # SQLite has one writer at a time. Requests queue here, on the event loop,
                # rather than each holding a worker thread while it waits for the lock:
                # otherwise waiting writers can take every thread the lock holder needs.
                async with _writer_gate():
                    return await run(request, write)
            return await run(request, write)

        async def run(request: Request, write: bool) -> Response:
            session = await run_in_threadpool(open_session, write=write)
            request.state.db = session
            try:
                record = None
                if idempotency.wanted(request):
                    body = await request.body()
                    record, replay = await run_in_threadpool(
                        idempotency.begin, session, request, get_settings(), body)
                    if replay is not None:
                        return replay
                response = await original(request)
                if write and response.status_code < 400:
                    if record is not None:
                        idempotency.finish(session, record, response)
                    await run_in_threadpool(session.commit)
                return response
            finally:
                await run_in_threadpool(_close, session)

        return handler


_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary())


def _writer_gate() -> asyncio.Lock:
    """This event loop's queue of SQLite writers."""
    loop = asyncio.get_running_loop()
    gate = _GATES.get(loop)
    if gate is None:
        gate = _GATES[loop] = asyncio.Lock()
    return gate


def _close(session) -> None:
    session.rollback()  # nothing left uncommitted survives
    session.close()
