"""Who may see which selection and which candidate, and the path dependencies that load them
(404 when missing or not visible, so that existence itself stays private); the listing of a
selection's candidates, scoped by the same rules. These rules read every step (a nominator's
nominations, a judge's panel, an inspector's team, a mentor), so they sit above the steps."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import bindparam, exists, or_
from sqlmodel import Session, select

from .config import Settings
from .core.clock import Clock
from .core.db import open_session
from .core.deps import (
    CandidateId,
    CurrentUser,
    Principal,
    SelectionId,
    SessionDep,
    account_now,
    check_roles,
    load_visible,
    user_of,
)
from .core.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from .core.filters import created_between, text_contains
from .core.models import User, utcnow
from .core.pagination import keyset_page
from .followup import notifications
from .followup.service import mentorship
from .nomination.models import CandidacyClaim, Candidate, Nomination
from .nomination.schemas import CandidateSummary, NominationSummary
from .nomination.service import nominated_by
from .record import service as record
from .reports.gates import gate_condition
from .review import service as review
from .review.models import InspectionMember
from .review.service import INTERVIEWED_STATES, SUBMITTED_STATES
from .selection.models import Selection
from .workflow.roles import ADMIN, CANDIDATE, COMMITTEE, INSPECTOR, JUDGE, MENTOR, NOMINATOR


def selection_visible(user: User, selection: Selection, session: Session) -> bool:
    """Whether the user may see this selection: admins all; other staff once published;
    candidates those publicized now and those they stand in."""
    roles = set(user.roles)
    if ADMIN in roles:
        return True
    if roles - {CANDIDATE} and selection.state != "drafting":
        return True
    if CANDIDATE in roles and selection.state == "publicizing":  # announced: open to apply
        return True
    if CANDIDATE in roles:
        own = session.exec(
            select(Candidate.id).where(
                Candidate.selection_id == selection.id, Candidate.user_id == user.id
            )
        ).first()
        return own is not None
    return False


# A selection is submitted to the committee (党委会) when it enters its decision; from then on
# its members read what decides it: the ranking, the report, the record, the meetings.
SUBMITTED_SELECTION_STATES = ("deciding", "following_up", "closed")


def check_submitted_to_committee(user: User, selection: Selection) -> None:
    """403 for a committee member (who is not also an admin) while nothing of the selection
    has been submitted to the committee."""
    if ADMIN in user.roles or selection.state in SUBMITTED_SELECTION_STATES:
        return
    raise Forbidden("Nothing of this selection has been submitted to the committee yet (it is "
                    "'{state}').", code="not_submitted_to_committee",
                    details={"selection_state": selection.state}, params={"state": selection.state})


def get_current_selection(
    selection_id: SelectionId,
    request: Request, session: SessionDep, user: CurrentUser,
) -> Selection:
    """The selection in the path, locked for writes; 404 when missing or not visible."""
    return load_visible(Selection, selection_id, request, session, user, selection_visible,
                        "selection")


CurrentSelection = Annotated[Selection, Depends(get_current_selection)]


def selection_to_change(session: Session, user: User, selection_id: uuid.UUID) -> Selection:
    """The selection, locked for a write; 404 when missing or not visible."""
    selection = session.exec(select(Selection).where(Selection.id == selection_id)
                             .with_for_update()).first()
    if selection is None or not selection_visible(user, selection, session):
        raise NotFound("No selection with id {selection_id}.", code="selection_not_found", params={"selection_id": selection_id})
    return selection


def full_access(user: User, candidate: Candidate, session: Session) -> bool:
    """Whether the user sees the candidate's whole record with personal data: admins, the
    candidate themself, and the nominators who nominated them."""
    if ADMIN in user.roles:
        return True
    if CANDIDATE in user.roles and candidate.user_id == user.id:
        return True
    return NOMINATOR in user.roles and nominated_by(session, user, candidate)


def candidate_visible(user: User, candidate: Candidate, session: Session) -> bool:
    """Whether the user may see this candidate at all: those with full access, judges on the
    selection's panel once the candidate is interviewed, the candidate's inspection team,
    their mentor, and committee members once the candidate is submitted to them."""
    if full_access(user, candidate, session):
        return True
    roles = set(user.roles)
    if JUDGE in roles and candidate.state in INTERVIEWED_STATES and user.id in review.panel_ids(
            session, candidate.selection_id):
        return True
    if INSPECTOR in roles and user.id in review.team_ids(session, candidate.id):
        return True
    if MENTOR in roles:
        m = mentorship(session, candidate.id)
        if m is not None and m.mentor_id == user.id:
            return True
    if COMMITTEE in roles and candidate.state in SUBMITTED_STATES:
        selection = session.get(Selection, candidate.selection_id)
        return selection is not None and selection.state in SUBMITTED_SELECTION_STATES
    return False


def get_current_candidate(
    candidate_id: CandidateId,
    request: Request, session: SessionDep, user: CurrentUser,
) -> Candidate:
    """The candidate in the path, locked for writes; 404 when missing or not visible."""
    return load_visible(Candidate, candidate_id, request, session, user, candidate_visible,
                        "candidate")


CurrentCandidate = Annotated[Candidate, Depends(get_current_candidate)]


# Built once: on the path of every action, building the statement cost a third of its read.
_CANDIDATE_TO_CHANGE = (select(Candidate, Selection, User)
                        .join(Selection, Selection.id == Candidate.selection_id)  # type: ignore[arg-type]
                        .outerjoin(User, User.id == bindparam("user_id"))  # type: ignore[arg-type]
                        .where(Candidate.id == bindparam("candidate_id"))
                        .with_for_update(of=Candidate))  # type: ignore[arg-type]


def candidate_to_change(session: Session, principal: Principal, candidate_id: uuid.UUID,
                        *roles: str) -> tuple[User, Candidate]:
    """The caller's account and the candidate, locked for a write, read with its selection
    in one statement (the selection is not locked; what the action reads of it comes from
    the session). In the order a caller meets them: 401 when the token no longer holds, 403
    without one of `roles` (if given), 404 when the candidate is missing or not visible."""
    row = session.exec(_CANDIDATE_TO_CHANGE, params={"candidate_id": candidate_id,
                                                     "user_id": principal.user_id}).first()
    user = account_now(row[2], principal) if row else user_of(session, principal)
    if roles:
        check_roles(user, *roles)
    if row is None or not candidate_visible(user, row[0], session):
        raise NotFound("No candidate with id {candidate_id}.", code="candidate_not_found", params={"candidate_id": candidate_id})
    # The session's identity map holds its objects weakly: kept here, the selection is what
    # `session.get(Selection, …)` finds for the rest of the transaction, without a query.
    session.info.setdefault("access.held", []).append(row[1])
    return user, row[0]


# ---------------------------------------------------------------- the selections, listed
def list_selections(
    *, session: Session, user: User, state: str | None, limit: int, cursor: str | None,
    organization: str | None = None, q: str | None = None, created_from: date | None = None,
    created_to: date | None = None,
) -> tuple[list[Selection], str | None]:
    """A page of the selections this user may see, newest first, filtered by state,
    organization (exact), a text in the title, and the day of creation."""
    stmt = select(Selection)
    if state:
        stmt = stmt.where(Selection.state == state)
    if organization:
        stmt = stmt.where(Selection.organization == organization.strip())
    for cond in [*text_contains(Selection.title, q),
                 *created_between(Selection.created_at, created_from, created_to)]:
        stmt = stmt.where(cond)
    roles = set(user.roles)
    if ADMIN not in roles:
        if roles - {CANDIDATE}:
            stmt = stmt.where(Selection.state != "drafting")
        else:
            own = select(Candidate.selection_id).where(Candidate.user_id == user.id)
            stmt = stmt.where(Selection.id.in_(own)  # type: ignore[attr-defined]
                              | (Selection.state == "publicizing"))
    return keyset_page(session, stmt, [Selection.created_at, Selection.id], limit=limit,
                       cursor=cursor, descending=True)


# ---------------------------------------------------------------- a selection's candidates, listed
def _listing_scopes(session: Session, selection: Selection, user: User) -> list:
    """What each of the user's roles lets them list; 403 when none lets them list anything."""
    roles, scopes = set(user.roles), []
    if NOMINATOR in roles:
        scopes.append(exists().where(Nomination.candidate_id == Candidate.id,
                                     Nomination.nominated_by == user.id,
                                     Nomination.kind != "self_application"))
    if CANDIDATE in roles:
        scopes.append(Candidate.user_id == user.id)
    if JUDGE in roles and user.id in review.panel_ids(session, selection.id):
        scopes.append(Candidate.state.in_(INTERVIEWED_STATES))  # type: ignore[attr-defined]
    if INSPECTOR in roles:
        scopes.append(exists().where(InspectionMember.candidate_id == Candidate.id,
                                     InspectionMember.user_id == user.id))
    if COMMITTEE in roles and selection.state in SUBMITTED_SELECTION_STATES:
        scopes.append(Candidate.state.in_(SUBMITTED_STATES))  # type: ignore[attr-defined]
    if not scopes:
        raise Forbidden("Your roles do not let you list this selection's candidates.",
                        code="role_not_permitted")
    return scopes


_LISTED = (Candidate.id, Candidate.selection_id, Candidate.full_name, Candidate.state,
           Candidate.version, Candidate.profile, Candidate.eligible, Candidate.post_codes,
           Candidate.created_at, Candidate.updated_at)


def list_candidates(*, session: Session, selection: Selection, user: User, state: str | None,
                    kind: str | None, eligible: bool | None, limit: int, cursor: str | None,
                    gate: str | None = None, unit: str | None = None, q: str | None = None,
                    created_from: date | None = None, created_to: date | None = None,
                    ) -> tuple[list[CandidateSummary], str | None]:
    """A page of the selection's candidates the user may list, oldest first; no personal data.
    Filters: state, nominating kind, eligibility, gate (see service/reports/gates.py), unit
    (exact), a text in the name, and the day of registration."""
    # Only the columns a listing shows: no ORM objects to build, and not the eligibility
    # report, the row's largest JSON, which a listing never shows.
    stmt = select(*_LISTED).where(Candidate.selection_id == selection.id)
    roles = set(user.roles)
    if ADMIN not in roles:
        stmt = stmt.where(or_(*_listing_scopes(session, selection, user)))
    if state:
        stmt = stmt.where(Candidate.state == state)
    if kind:
        stmt = stmt.where(exists().where(Nomination.candidate_id == Candidate.id,
                                         Nomination.kind == kind))
    if eligible is not None:
        stmt = stmt.where(Candidate.eligible == eligible)
    if gate:
        stmt = stmt.where(gate_condition(gate))
    if unit:
        stmt = stmt.where(Candidate.profile["unit"].as_string() == unit.strip())  # type: ignore[index]
    for cond in [*text_contains(Candidate.full_name, q),
                 *created_between(Candidate.created_at, created_from, created_to)]:
        stmt = stmt.where(cond)
    rows, nxt = keyset_page(session, stmt, [Candidate.created_at, Candidate.id], limit=limit,
                            cursor=cursor, descending=False)
    by_candidate: dict[uuid.UUID, list[NominationSummary]] = {c.id: [] for c in rows}
    if rows:
        for n in session.exec(select(Nomination.candidate_id, Nomination.kind,
                                     Nomination.body_name, Nomination.created_at).where(
                Nomination.candidate_id.in_(list(by_candidate)))  # type: ignore[attr-defined]
                .order_by(Nomination.created_at)):
            by_candidate[n.candidate_id].append(
                NominationSummary(kind=n.kind, body_name=n.body_name, created_at=n.created_at))
    items = []
    all_posts = [p["code"] for p in selection.named_posts]
    for c in rows:
        p: dict[str, Any] = c.profile or {}
        items.append(CandidateSummary(
            id=c.id, selection_id=c.selection_id, full_name=c.full_name, state=c.state,
            version=c.version, gender=p.get("gender"), education=p.get("education"),
            unit=p.get("unit"), current_post=p.get("current_post"), eligible=c.eligible,
            posts=c.post_codes or all_posts, nominations=by_candidate[c.id], created_at=c.created_at, updated_at=c.updated_at))
    return items, nxt


# ---------------------------------------------------------------- claiming a nominee's record
# A nominee's record is linked to an account only by a claim that proves it: a one-time code
# sent to the email address on file for the nominee and entered by the account holder, or an
# admin's confirmation, each recorded as an event. Never by matching the public facts (name,
# birth date, unit) an application repeats.
CLAIM_MINUTES = 30
CLAIM_MAX_TRIES = 5
CLAIMS_PER_DAY = 5


def _code_hash(settings: Settings, claim_id: uuid.UUID, code: str) -> str:
    return hmac.new(settings.signing_key().encode(), f"{claim_id}:{code}".encode(),
                    hashlib.sha256).hexdigest()


def _masked(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _claimable(session: Session, selection: Selection, candidate_id: uuid.UUID,
               user: User) -> Candidate:
    cand = session.exec(select(Candidate).where(
        Candidate.id == candidate_id, Candidate.selection_id == selection.id)
        .with_for_update()).first()
    if cand is None:
        raise NotFound("No candidate with id {candidate_id}.", code="candidate_not_found", params={"candidate_id": candidate_id})
    if cand.user_id == user.id:
        raise Conflict("This record is already linked to your account.", code="already_linked")
    if cand.user_id is not None:
        raise Conflict("This person's record is already linked to another account.",
                       code="identity_claimed")
    own = session.exec(select(Candidate.id).where(Candidate.selection_id == selection.id,
                                                  Candidate.user_id == user.id)).first()
    if own is not None:
        raise Conflict("Your account already stands in this selection as another record.",
                       code="account_already_in_selection", details={"candidate_id": own})
    return cand


def _link(session: Session, cand: Candidate, user_id: uuid.UUID, *, author: record.Author,
          clock: Clock, params: dict) -> None:
    cand.user_id = user_id
    cand.version += 1
    cand.updated_at = utcnow()
    session.add(cand)
    record.append(session, subject_type="candidate", subject_id=cand.id,
                  selection_id=cand.selection_id, action="link_account", author=author,
                  clock=clock, from_state=cand.state, to_state=cand.state,
                  params={"user_id": user_id, **params})


def request_claim(*, session: Session, selection: Selection, candidate_id: uuid.UUID,
                  user: User, clock: Clock, settings: Settings) -> tuple[CandidacyClaim, str]:
    """Send a one-time code to the nominee's email address on file; returns the claim and the
    address, masked."""
    cand = _claimable(session, selection, candidate_id, user)
    email = (cand.profile or {}).get("email")
    if not email:
        raise Conflict("No email address is on file for this nominee: ask the organization"
                       " department to confirm you in person.", code="no_email_on_file")
    since = utcnow() - timedelta(days=1)
    recent = session.exec(select(CandidacyClaim.id).where(
        CandidacyClaim.candidate_id == cand.id, CandidacyClaim.created_at >= since)).all()
    if len(recent) >= CLAIMS_PER_DAY:
        raise ServiceError("Too many codes were asked for this record today.", status_code=429,
                           code="too_many_attempts", title="Too many attempts",
                           headers={"Retry-After": "86400"})
    code = f"{secrets.randbelow(10 ** 6):06d}"
    claim = CandidacyClaim(candidate_id=cand.id, user_id=user.id, code_hash="",
                           expires_at=utcnow() + timedelta(minutes=CLAIM_MINUTES))
    claim.code_hash = _code_hash(settings, claim.id, code)
    session.add(claim)
    notifications.enqueue_message(
        session, cand, kind="claim_code", key=f"claim:{claim.id}", to=email,
        **notifications.message("claim_code", notifications.language_of(session, cand),
                                organization=selection.organization,
                                full_name=cand.full_name, username=user.username,
                                selection_title=selection.title, code=code,
                                minutes=CLAIM_MINUTES))
    masked = _masked(email)
    record.append(session, subject_type="candidate", subject_id=cand.id,
                  selection_id=cand.selection_id, action="request_claim",
                  author=record.Author(user.id, CANDIDATE), clock=clock,
                  from_state=cand.state, to_state=cand.state,
                  params={"claim_id": claim.id, "user_id": user.id, "sent_to": masked})
    return claim, masked


def confirm_claim(*, session: Session, selection: Selection, candidate_id: uuid.UUID,
                  code: str, user: User, clock: Clock, settings: Settings) -> Candidate:
    """Link the record to the account that entered the right code in time."""
    cand = _claimable(session, selection, candidate_id, user)
    claim = session.exec(select(CandidacyClaim).where(
        CandidacyClaim.candidate_id == cand.id, CandidacyClaim.user_id == user.id,
        CandidacyClaim.used_at.is_(None))  # type: ignore[union-attr]
        .order_by(CandidacyClaim.created_at.desc()).with_for_update()).first()  # type: ignore[attr-defined]
    if claim is None:
        raise NotFound("No claim of yours for this record: ask for a code first.",
                       code="claim_not_found")
    if claim.expires_at < utcnow() or claim.attempts >= CLAIM_MAX_TRIES:
        raise Conflict("This code has expired or was tried too often: ask for a new one.",
                       code="claim_expired")
    if not hmac.compare_digest(claim.code_hash, _code_hash(settings, claim.id, code)):
        claim_id = claim.id
        session.rollback()  # the refusal changes nothing but the count of tries, kept apart
        with open_session(write=True) as own:
            row = own.get(CandidacyClaim, claim_id)
            row.attempts += 1
            own.add(row)
            own.commit()
            left = max(0, CLAIM_MAX_TRIES - row.attempts)
        raise InvalidInput("The code is not right.", code="invalid_claim_code",
                           details={"tries_left": left},
                           errors=[{"field": "body.code", "message": "not the code sent",
                                    "type": "value_error"}])
    claim.used_at = utcnow()
    session.add(claim)
    _link(session, cand, user.id, author=record.Author(user.id, CANDIDATE), clock=clock,
          params={"via": "email_code", "claim_id": claim.id})
    return cand


def link_by_admin(*, session: Session, selection: Selection, candidate: Candidate,
                  user_id: uuid.UUID, confirmed_by: str, note: str, admin: User,
                  clock: Clock) -> Candidate:
    """An admin's confirmation that this account is the nominee's own, recorded."""
    target = session.get(User, user_id)
    if target is None:
        raise NotFound("No user with id {user_id}.", code="user_not_found", params={"user_id": user_id})
    if not target.is_active or CANDIDATE not in target.roles:
        raise Conflict("Link a nominee's record to an active account with the candidate role.",
                       code="not_a_candidate_account",
                       details={"is_active": target.is_active, "roles": list(target.roles)})
    _claimable(session, selection, candidate.id, target)
    _link(session, candidate, target.id, author=record.Author(admin.id, ADMIN), clock=clock,
          params={"via": "admin", "confirmed_by": confirmed_by, "note": note})
    return candidate


# ---------------------------------------------------------------- a candidate's own record
# A candidate reads their own record, but not who among the reviewers declared what: events
# written by judges and inspectors lose their author and their parameters (a conflict
# declaration's note, a judge's id), and reviewers' ids leave the admins' events too.
_REVIEWER_ROLES = (JUDGE, INSPECTOR)
_REVIEWER_KEYS = ("judge_id", "judge_ids", "inspector_ids", "user_id", "note")


def sees_reviewers(user: User, candidate: Candidate, session: Session) -> bool:
    """Whether the user reads the candidate's record with the reviewers in it (admins and
    the nominators; not the candidate themself)."""
    if ADMIN in user.roles:
        return True
    return NOMINATOR in user.roles and nominated_by(session, user, candidate)


def redact_for_candidate(event: dict[str, Any]) -> dict[str, Any]:
    """The event as the candidate sees it (`redacted` says when something was left out)."""
    params = dict(event.get("params") or {})
    if event.get("actor_role") in _REVIEWER_ROLES:
        return event | {"actor_id": None, "params": {}, "redacted": True}
    kept = {k: v for k, v in params.items() if k not in _REVIEWER_KEYS}
    if len(kept) != len(params):
        return event | {"params": kept, "redacted": True}
    return event
