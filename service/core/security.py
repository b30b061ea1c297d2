"""Passwords (argon2 through pwdlib) and bearer tokens (JWT through python-jose)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import math
import os
import secrets
import struct
import threading
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from jose import jwt
from jose.exceptions import JOSEError
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from ..config import Settings
from .errors import ServiceError

T = TypeVar("T")
ALGORITHM = "HS256"
# argon2id at OWASP's minimum for it (19 MiB, 2 passes, 1 lane): about 25 ms of one core and
# 19 MiB while it runs on the benchmark's machine (README, "Performance"). Hashes made with
# other parameters (before, 64 MiB, 3 passes, 4 lanes) still verify, and are made again with
# these on the next successful login (`verify_and_update`).
ARGON2 = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}
_hasher = PasswordHash((Argon2Hasher(**ARGON2),))
# Each hash holds its memory while it runs and takes a core: more at once than there are cores
# buys no throughput, only memory, and takes the cores the API's other requests need. The
# machine hashes on half its cores at a time, all worker processes together (slots are
# lock files in the data directory, `_machine_slot`); logins beyond wait, for a bounded time
# (`hashing_slot`).
HASH_SLOTS = max(1, (os.cpu_count() or 1) // 2)
_HASH_SLOTS = threading.BoundedSemaphore(HASH_SLOTS)
_slot_files: dict[int, int] = {}   # slot → this process's descriptor of its lock file
_held: set[int] = set()            # the slots this process's threads hold
_held_lock = threading.Lock()


def _slot_fd(slot: int) -> int | None:
    if slot not in _slot_files:
        from ..config import get_settings

        try:
            folder = get_settings().data_dir
            folder.mkdir(parents=True, exist_ok=True)
            _slot_files[slot] = os.open(folder / f".hashing-{slot}.lock",
                                        os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return None
    return _slot_files[slot]


def _hashing_share() -> float:
    from ..config import get_settings

    return get_settings().hashing_share


_REST = struct.Struct("<d")  # a slot's file holds when it may hash next (seconds, epoch)


@contextlib.contextmanager
def _machine_slot() -> Iterator[None]:
    """One of the machine's HASH_SLOTS hashing slots (a free one, or the first to free up),
    shared by every process that serves from the same data directory.

    A slot is paced: after a hash it rests until the hash's time is `hashing_share` of the
    time since it began (the next login on it waits out the rest, holding the slot), so the
    hashes take at most that share of the slot's core, however many log in at once; the
    requests of the selection, which run beside them on the same cores, keep the rest.
    Logins beyond what the share allows wait (the bounded wait of `hashing_slot`), then get
    503 `logins_busy`."""
    with _HASH_SLOTS:
        with _held_lock:
            slot = next(i for i in range(HASH_SLOTS) if i not in _held)
            _held.add(slot)
        fd = _slot_fd(slot)
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if fd is not None:
                    stored = os.pread(fd, _REST.size, 0)
                    rest = _REST.unpack(stored)[0] - time.time() if len(stored) == _REST.size \
                        else 0.0
                    if 0 < rest < 10:  # a clock set back leaves no rest of hours
                        time.sleep(rest)
                began = time.time()
                try:
                    yield
                finally:
                    if fd is not None:
                        took = time.time() - began
                        os.pwrite(fd, _REST.pack(began + took / _hashing_share()), 0)
            finally:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            with _held_lock:
                _held.discard(slot)


# argon2 runs on threads of its own, HASH_SLOTS of them per process: its memory is then kept
# (by malloc, between hashes) in that many thread arenas at most, not in one per thread of
# the request pool that ever hashed (which took a worker past 200 MB under logins).
_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


# Those threads run at a lower priority than the requests' (nice +HASHING_NICENESS, Linux
# gives each thread its own): a login's hash takes the CPU the other requests leave, instead
# of taking half the machine from them. Under full load logins then slow down (and past the
# bounded wait answer 503 `logins_busy`), and the other requests do not.
HASHING_NICENESS = 10


def _lower_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                       min(19, os.getpriority(os.PRIO_PROCESS, 0) + HASHING_NICENESS))


def _on_hashing_thread(fn: Callable[..., T], *args: Any) -> T:
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():  # a forked worker makes its own threads
            _pool = (os.getpid(), ThreadPoolExecutor(HASH_SLOTS, thread_name_prefix="argon2",
                                                     initializer=_lower_priority))
        pool = _pool[1]
    return pool.submit(fn, *args).result()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so timing does not tell who exists;
    made on first use, not at import, where it cost every worker's start a hash."""
    return _on_hashing_thread(_hasher.hash, secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2 hash of the password."""
    with _machine_slot():
        return _on_hashing_thread(_hasher.hash, password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether the password matches; spends the same time when there is no hash."""
    return _verify_and_update(password, password_hash)[0]


def _verify_and_update(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    with _machine_slot():
        if password_hash is None:
            _on_hashing_thread(_hasher.verify, password, _dummy_hash())
            return False, None
        try:
            return _on_hashing_thread(_hasher.verify_and_update, password, password_hash)
        except Exception:  # a malformed stored hash is a failed login, not a 500
            return False, None


class LoginsBusy(ServiceError):
    """Every hashing slot stayed taken for the bounded wait."""

    status_code = 503
    code = "logins_busy"
    title = "Logins busy"


_waiting: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary())


def _slots() -> asyncio.Semaphore:
    """This event loop's hashing slots for logins."""
    loop = asyncio.get_running_loop()
    slots = _waiting.get(loop)
    if slots is None:
        slots = _waiting[loop] = asyncio.Semaphore(HASH_SLOTS)
    return slots


@contextlib.asynccontextmanager
async def hashing_slot(wait_seconds: float) -> AsyncIterator[None]:
    """One of the process's hashing slots for a login, waited for on the event loop (no
    thread is held while waiting) for `wait_seconds` at most; then 503 `logins_busy` with
    Retry-After, so waiting logins stay bounded and nothing was checked or counted. (The hash
    then takes one of the machine's slots, `_machine_slot`: a wait of a hash or two at most,
    one per other worker process.)"""
    slots = _slots()
    try:
        await asyncio.wait_for(slots.acquire(), timeout=wait_seconds)
    except TimeoutError:
        retry = max(1, math.ceil(wait_seconds))
        raise LoginsBusy("Too many logins at once; nothing was checked or counted. Retry"
                         " shortly.", headers={"Retry-After": str(retry)},
                         details={"retry_after_seconds": retry}) from None
    try:
        yield
    finally:
        slots.release()


def verify_and_update(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Whether the password matches, and the hash made again with today's parameters when the
    stored one has others (None otherwise); the same time is spent when there is no hash."""
    return _verify_and_update(password, password_hash)


def generate_password() -> str:
    """A random password for a new account."""
    return secrets.token_urlsafe(15)


def create_token(
    settings: Settings, *, user_id: uuid.UUID, token_version: int, roles: list[str],
    now: datetime | None = None,
) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    now = now or datetime.now(UTC)
    lifetime = settings.token_minutes * 60
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=lifetime)).timestamp()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": uuid.uuid4().hex,
        "tv": token_version,
        "roles": roles,
    }
    return jwt.encode(claims, settings.signing_key(), algorithm=ALGORITHM), lifetime


class InvalidToken(Exception):
    """The token cannot be trusted; the message says why, for logs."""


def decode_token(settings: Settings, token: str) -> dict[str, Any]:
    """The token's claims, or InvalidToken for any flaw (signature, algorithm, claims, format)."""
    try:
        claims = jwt.decode(
            token,
            settings.signing_key(),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={
                "require_exp": True, "require_iat": True, "require_sub": True,
                "require_iss": True, "require_aud": True, "leeway": 0,
            },
        )
    except JOSEError as e:
        raise InvalidToken(str(e)) from e
    except (ValueError, TypeError, KeyError, AttributeError) as e:  # malformed beyond jose's checks
        raise InvalidToken(f"malformed token: {e}") from e
    if not isinstance(claims, dict):
        raise InvalidToken("claims are not an object")
    for name, kind in _CLAIM_TYPES.items():
        value = claims.get(name)
        # bool is an int in Python, never a time or a version in a token
        if value is None or isinstance(value, bool) or not isinstance(value, kind):
            raise InvalidToken(f"claim {name!r} missing or not of its JSON type")
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidToken("claim 'roles' is not a list of strings")
    return claims


# Each claim this service issues, with its JSON type: a validly signed token whose claims
# have other types (`exp` a numeric string, `tv` a float) was not issued by this code.
_CLAIM_TYPES: dict[str, type | tuple[type, ...]] = {
    "sub": str, "iat": int, "exp": int, "iss": str, "aud": str, "tv": int,
}
