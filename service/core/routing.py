"""The route class that owns each request's transaction.

Each request gets one session. The response is built first; then, for a successful write,
the Idempotency-Key's stored response is added and everything commits together — before the
response is sent. Any error rolls back all of it, so a failed action leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIRouter
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ..config import get_settings
from . import idempotency
from .db import open_session
from .deps import if_none_match_hits, oauth2

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class TransactionalRoute(APIRoute):
    """An APIRoute whose handler opens, commits or rolls back the request's session, and
    where the HTTP rules common to every route are applied once (`_conditional`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any):
        self.one_hop = getattr(endpoint, ONE_HOP, False)
        # The actions list sends its subject's ETag for the next If-Match, but is not that
        # representation: a matching If-None-Match never makes it 304.
        self.conditional_get = not getattr(endpoint, SUBJECT_ETAG, False)
        declared = kwargs.get("responses") or {}
        shared = {status: response["model"] for status, response in declared.items()
                  if isinstance(response.get("model"), type)
                  and issubclass(response["model"], BaseModel)}
        if shared:  # built once per model below, not once per route and status
            kwargs["responses"] = {
                status: {k: v for k, v in response.items() if k != "model"}
                if status in shared else response for status, response in declared.items()}
        super().__init__(path, endpoint if self.one_hop else _after_dependencies(endpoint),
                         **kwargs)
        if shared:
            self.responses = dict(declared)
            self.response_fields = {
                status: _response_field(shared[status]) if status in shared
                else self.response_fields[status]
                for status in declared if status in shared or status in self.response_fields}
        self.private = needs_login(self.dependant)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            return self._conditional(request, await transact(request))

        async def transact(request: Request) -> Response:
            write = request.method not in SAFE_METHODS
            if self.one_hop:  # the endpoint opens, commits and closes its session (one_hop)
                if idempotency.wanted(request):
                    # refused before anything is done, also where the endpoint keeps no answer
                    idempotency.check_key(request.headers[idempotency.HEADER])
                    await request.body()  # kept for the key's digest, before a form reads it
                async with _gates().slots:
                    return await original(request)
            # A request holds its connection (and, writing, its row locks) across several
            # worker-thread hops. Requests queue here, on the event loop, so that waiting
            # ones never take every thread or connection the running ones need to finish.
            # SQLite has one writer at a time: its writers queue one by one.
            gates = _gates()
            # (Then the writers of every thread and process queue in the engine's writer
            # gate, `db.WriterGate`, from BEGIN IMMEDIATE to the commit.)
            if write and get_settings().is_sqlite:
                async with gates.sqlite_writer, gates.slots:
                    return await run(request, write)
            async with gates.slots:
                return await run(request, write)

        async def run(request: Request, write: bool) -> Response:
            session = await run_in_threadpool(open_session, write=write)
            request.state.db = session
            closed = False
            try:
                record, found = None, None
                if idempotency.wanted(request):
                    body = await request.body()
                    record, found = await run_in_threadpool(
                        idempotency.begin, session, request, get_settings(), body)
                idempotency.hold(found)
                try:
                    response = await original(request)
                except idempotency.Replay as replay:
                    return replay.response
                if write and response.status_code < 400:
                    if record is not None:
                        idempotency.finish(session, record, response)
                    # commit and close in one trip to a worker thread
                    await run_in_threadpool(_commit_and_close, session)
                    closed = True
                return response
            finally:
                if not closed:
                    await run_in_threadpool(_close, session)

        return handler

    def _conditional(self, request: Request, response: Response) -> Response:
        """What every successful answer gets alike: what a login reads is private to it and
        never stored by a cache (personal data: candidates, evaluations, exports, users…);
        a GET whose If-None-Match names the answer's ETag is 304 with no body."""
        if response.status_code >= 400:
            return response
        if self.private and "cache-control" not in response.headers:
            response.headers["Cache-Control"] = PRIVATE
        etag = response.headers.get("etag")
        if (request.method in ("GET", "HEAD") and self.conditional_get and etag
                and response.status_code == 200
                and if_none_match_hits(request.headers.get("if-none-match"), etag)):
            kept = {k: v for k, v in response.headers.items()
                    if k.lower() in ("etag", "cache-control", "vary")}
            return Response(status_code=304, headers=kept)
        return response


@functools.cache
def _response_field(model: type[BaseModel]) -> Any:
    """The one field of a model that routes declare among their other responses (`responses=`:
    the problem document, under every error status of every route). FastAPI makes a field,
    and a TypeAdapter with its validator and serializer, per route and status (about 390
    here, a third of a second of every start); they serve the OpenAPI document only, where a
    model's field gives its `$ref` whatever the field's name."""
    from fastapi.utils import create_model_field

    return create_model_field(name=f"Response_{model.__name__}", type_=model,
                              mode="serialization")


def operation_id(route: APIRoute) -> str:
    """A route's operationId, and the stem of the names of the schemas made for it (its
    body's): the endpoint function's name."""
    return route.name


class _AppOverrides:
    """What the routes read `dependency_overrides` from: the app's, once `serve_routes` has
    given it (the routes are built before the app exists)."""

    app: Any = None

    @property
    def dependency_overrides(self) -> dict[Any, Any]:
        return self.app.dependency_overrides if self.app is not None else {}


APP_OVERRIDES = _AppOverrides()


def api_router(**kwargs: Any) -> APIRouter:
    """A router of the API: TransactionalRoutes built at definition exactly as the app serves
    them (its operation ids, its dependency overrides), for `serve_routes`."""
    return APIRouter(route_class=TransactionalRoute, generate_unique_id_function=operation_id,
                     dependency_overrides_provider=APP_OVERRIDES, **kwargs)


def serve_routes(app: Any, *routers: APIRouter) -> None:
    """Put the routers' routes in the app itself, in order. `include_router` would keep each
    router behind an entry of its own and build all of its routes a second time, for that
    inclusion (about half a second of every start); built by `api_router`, they are already
    what the inclusion would make of them."""
    APP_OVERRIDES.app = app
    for router in routers:
        app.router.routes.extend(router.routes)


PRIVATE = "private, no-store"
ONE_HOP = "__one_hop__"
SUBJECT_ETAG = "__subject_etag__"


def subject_etag(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a GET that sends its subject's ETag without being the subject (the actions
    list): If-None-Match does not make it 304."""
    setattr(endpoint, SUBJECT_ETAG, True)
    return endpoint


def needs_login(dependant: Dependant) -> bool:
    """Whether the route reads the bearer token, anywhere among its dependencies."""
    return any(dep.call is oauth2 or needs_login(dep) for dep in dependant.dependencies)


Work = Callable[[Session], Response]


def in_one_hop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an `async def` endpoint that does all of its database work in one worker-thread
    hop, through `one_hop`: the route then opens no session of its own for it."""
    setattr(endpoint, ONE_HOP, True)
    return endpoint


async def one_hop(request: Request, work: Work) -> Response:
    """Run `work(session)` in one trip to a worker thread: open the request's session (a
    writing one takes SQLite's write lock, and only for this trip), claim the Idempotency-Key,
    run the work, store the response beside its effect and commit, or roll back on any
    error. `work` loads the caller and the subject, then calls `idempotency.settle()` once
    they are authorized, and returns the finished response (`json_response`)."""
    write = request.method not in SAFE_METHODS
    settings = get_settings()
    body = await request.body() if idempotency.wanted(request) else None

    def hop() -> Response:
        session = open_session(write=write)  # a writing one enters SQLite's writer gate
        try:
            record = None
            if body is not None:
                record, found = idempotency.begin(session, request, settings, body)
                idempotency.hold(found)
            try:
                response = work(session)
            except idempotency.Replay as replay:
                return replay.response
            if write and response.status_code < 400:
                if record is not None:
                    idempotency.finish(session, record, response)
                session.commit()
            return response
        finally:
            _close(session)  # leaves the gate, if the commit did not

    gates = _gates()
    if write and settings.is_sqlite:
        async with gates.sqlite_writer:  # this process's writers queue on the event loop
            return await run_in_threadpool(hop)
    return await run_in_threadpool(hop)


async def answer_once(request: Request, response: Response) -> Response:
    """For an endpoint that wrote in transactions of its own (a login): keep its response
    under the request's Idempotency-Key (of a `no-store` one, only that it was given), or,
    when the key was used before, answer what `idempotency.begin` found instead."""
    if not idempotency.wanted(request):
        return response
    settings = get_settings()
    body = await request.body()

    def hop() -> Response:
        with open_session(write=True) as session:
            record, found = idempotency.begin(session, request, settings, body)
            idempotency.hold(found)
            try:
                idempotency.settle()
            except idempotency.Replay as replay:
                return replay.response
            assert record is not None
            idempotency.finish(session, record, response)
            session.commit()
        return response

    return await run_in_threadpool(hop)


def json_response(model: BaseModel, *, status_code: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    """The response FastAPI would make of `model` as the route's response model."""
    return Response(content=model.model_dump_json(by_alias=True), status_code=status_code,
                    headers=headers, media_type="application/json")


def _after_dependencies(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """The endpoint, preceded by the Idempotency-Key's answer: it runs once the route's
    dependencies (the caller's token as the account is now, the route's roles) have passed,
    so a stored response never reaches a caller the route would refuse."""
    if asyncio.iscoroutinefunction(endpoint):
        @functools.wraps(endpoint)
        async def guarded_async(*args: Any, **kwargs: Any) -> Any:
            idempotency.settle()
            return await endpoint(*args, **kwargs)
        return guarded_async

    @functools.wraps(endpoint)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        idempotency.settle()
        return endpoint(*args, **kwargs)
    return guarded


# Below the worker threads (40) and the connection pool (30 on PostgreSQL, 40 on SQLite).
CONCURRENT_REQUESTS = 16


class _Gates:
    def __init__(self):
        self.slots = asyncio.Semaphore(CONCURRENT_REQUESTS)
        self.sqlite_writer = asyncio.Lock()


_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Gates] = (
    weakref.WeakKeyDictionary())


def _gates() -> _Gates:
    """This event loop's request gates."""
    loop = asyncio.get_running_loop()
    gates = _GATES.get(loop)
    if gates is None:
        gates = _GATES[loop] = _Gates()
    return gates


def _commit_and_close(session) -> None:
    try:
        session.commit()
    finally:
        _close(session)


def _close(session) -> None:
    session.rollback()  # nothing left uncommitted survives
    session.close()
