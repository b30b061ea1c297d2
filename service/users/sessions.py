"""Browser sessions (会话): the refresh tokens of a login. Each login starts a family; each
refresh ends the token used and issues the next (rotation); a token used a second time — a
copy replayed by whoever took it, or by its owner after the thief — ends every token of the
account (its other logins and its access tokens too) and is recorded. Logging out, and a change of the account's password, roles or activity, end the
families too. Tokens are opaque random strings, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update as sql_update
from sqlmodel import Session, select

from ..config import Settings
from ..core.clock import real_clock
from ..core.db import open_session
from ..core.errors import Unauthorized
from ..core.models import RefreshToken, User, utcnow
from ..record import service as record

SUBJECT = record.subject_type("user")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Issued:
    """A refresh token as given to its holder, and how many seconds it stays good."""

    token: str
    expires_in: int


def _issue(session: Session, settings: Settings, user: User, *, family_id: uuid.UUID,
           family_expires_at: datetime) -> Issued:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = min(now + timedelta(hours=settings.refresh_token_hours), family_expires_at)
    session.add(RefreshToken(
        token_hash=_digest(token), family_id=family_id, user_id=user.id,
        token_version=user.token_version, created_at=now, expires_at=expires_at,
        family_expires_at=family_expires_at))
    return Issued(token, int((expires_at - now).total_seconds()))


def begin(session: Session, settings: Settings, user: User) -> Issued:
    """A new family for a login, in the login's transaction; its first refresh token."""
    return _issue(session, settings, user, family_id=uuid.uuid4(),
                  family_expires_at=utcnow() + timedelta(hours=settings.session_hours))


def _invalid() -> Unauthorized:
    return Unauthorized("The refresh token is invalid, expired or ended; log in again.",
                        code="invalid_refresh_token")


def _end(session: Session, reason: str, *conditions) -> None:
    """End the not yet ended tokens that meet `conditions`, for `reason`."""
    session.exec(sql_update(RefreshToken)  # type: ignore[call-overload]
                 .where(*conditions, RefreshToken.revoked_at.is_(None))  # type: ignore[union-attr]
                 .values(revoked_at=utcnow(), revoked_reason=reason))


def rotate(*, settings: Settings, token: str) -> tuple[User, Issued]:
    """The account and a new refresh token for a current one, which ends. A token already
    used ends every token of the account, and that is recorded (`refresh_token_reused`), before the
    401; so does one of an account changed since the login (password, roles, activity)."""
    with open_session(write=True) as session:
        row = session.exec(select(RefreshToken)
                           .where(RefreshToken.token_hash == _digest(token))
                           .with_for_update()).first()
        if row is None or row.revoked_at is not None:
            raise _invalid()
        now = utcnow()
        user = session.get(User, row.user_id)
        if row.used_at is not None:
            # Which copy is the thief's is unknown, and an access token is not tied to its
            # family: end every token of the account, the access tokens too (token version).
            _end(session, "reused", RefreshToken.user_id == row.user_id)
            if user is not None:
                user.token_version += 1
                session.add(user)
            record.append(session, subject_type=SUBJECT, subject_id=row.user_id,
                          selection_id=None, action="refresh_token_reused",
                          author=record.SYSTEM, clock=real_clock(),
                          params={"family_id": str(row.family_id),
                                  "first_used_at": row.used_at.isoformat()})
            session.commit()
            raise Unauthorized("This refresh token was used before: every token of the account"
                               " has ended. Log in again.", code="refresh_token_reused")
        if (user is None or not user.is_active or user.token_version != row.token_version):
            _end(session, "account_changed", RefreshToken.family_id == row.family_id)
            session.commit()
            raise _invalid()
        if row.expires_at <= now:
            raise _invalid()
        row.used_at = now
        session.add(row)
        new = _issue(session, settings, user, family_id=row.family_id,
                     family_expires_at=row.family_expires_at)
        session.commit()
        session.refresh(user)
        session.expunge(user)
    return user, new


def end(*, token: str) -> None:
    """Log out: end the family of this refresh token (nothing for an unknown one)."""
    with open_session(write=True) as session:
        row = session.exec(select(RefreshToken)
                           .where(RefreshToken.token_hash == _digest(token))).first()
        if row is not None:
            _end(session, "logout", RefreshToken.family_id == row.family_id)
            session.commit()


def end_all(session: Session, user_id: uuid.UUID, reason: str) -> None:
    """End every login of the account, in the caller's transaction (its password, roles or
    activity changed)."""
    _end(session, reason, RefreshToken.user_id == user_id)
