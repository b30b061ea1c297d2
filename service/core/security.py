"""Passwords (argon2 through pwdlib) and bearer tokens (JWT through python-jose)."""

from __future__ import annotations

import functools
import os
import secrets
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import jwt
from jose.exceptions import JOSEError
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from ..config import Settings

ALGORITHM = "HS256"
_hasher = PasswordHash((Argon2Hasher(),))
# Each argon2 hash holds its memory cost (64 MiB by default) while it runs: more at once than
# there are cores buys no throughput, only memory (16 clients logging in at once took a
# worker past 700 MB in the benchmark). A process hashes on half the cores (the API's other
# requests need the rest, and `serve` runs a worker per core or so); logins beyond wait.
_HASH_SLOTS = threading.BoundedSemaphore(max(1, (os.cpu_count() or 1) // 2))


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so timing does not tell who exists;
    made on first use, not at import, where it cost every worker's start a hash."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2 hash of the password."""
    with _HASH_SLOTS:
        return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether the password matches; spends the same time when there is no hash."""
    if password_hash is None:
        with _HASH_SLOTS:
            _hasher.verify(password, _dummy_hash())
        return False
    try:
        with _HASH_SLOTS:
            return _hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, not a 500
        return False


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
