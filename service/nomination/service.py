"""Step 2: nomination by bodies (直接推荐), self-application (报名), talks with nominees (沟通),
the eligibility report, and who may see which candidate."""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from datetime import date
from typing import Any

from sqlalchemy import exists, or_
from sqlmodel import Session, select

from .. import facts as candidates
from ..core.clock import Clock
from ..core.errors import Conflict, Forbidden, InvalidInput
from ..core.models import User, utcnow
from ..core.pagination import keyset_page
from ..record import actions
from ..record import service as record
from ..review.models import InspectionMember
from ..selection.models import Selection
from ..workflow.roles import ADMIN, CANDIDATE, COMMITTEE, INSPECTOR, JUDGE, NOMINATOR
from . import eligibility
from .models import Candidate, Communication, Nomination
from .schemas import (
    ApplicationCreate,
    CandidateDetail,
    CandidateSummary,
    CommunicationCreate,
    NominationCreate,
    NominationPublic,
    NominationSummary,
    Profile,
)

SUBJECT = candidates.SUBJECT


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def identity(profile: Profile) -> tuple[str, str | None]:
    """The keys that make two nominations one person: name + birth date + unit, and the ID."""
    key = hashlib.sha256(
        f"{_norm(profile.full_name)}|{profile.birth_date.isoformat()}|{_norm(profile.unit)}"
        .encode()).hexdigest()
    nid = hashlib.sha256(profile.national_id.encode()).hexdigest() if profile.national_id \
        else None
    return key, nid


def _existing(session: Session, selection_id: uuid.UUID, key: str, nid: str | None):
    cond = Candidate.identity_key == key
    if nid:
        cond = cond | (Candidate.national_id_hash == nid)
    return session.exec(select(Candidate).where(Candidate.selection_id == selection_id, cond)
                        .with_for_update()).first()


def check_open(selection: Selection, clock: Clock) -> None:
    """409 unless the selection is publicizing and today is within the period."""
    today = clock.today()
    start, end = selection.publicity_start_on, selection.publicity_end_on
    period = {"publicity_start_on": start, "publicity_end_on": end, "today": today,
              "selection_state": selection.state}
    if selection.state != "publicizing" or start is None or end is None:
        raise Conflict(f"The selection is '{selection.state}': nominations and applications are"
                       " taken only while it is publicized.", code="nominations_closed",
                       details=period)
    if not start <= today <= end:
        raise Conflict(f"Nominations and applications are taken from {start} to {end}"
                       f" inclusive; today is {today}.", code="outside_nomination_period",
                       details=period)


def _period_end(selection: Selection, clock: Clock):
    return selection.publicity_end_on or clock.today()


def refresh_eligibility(candidate: Candidate, selection: Selection, clock: Clock) -> dict:
    """Compute and store the eligibility report at the period's end date."""
    report = eligibility.check(selection.job_description.get("requirements", {}),
                               candidate.profile, _period_end(selection, clock))
    candidate.eligibility, candidate.eligible = report, report["passed"]
    return report


def _candidate_user_by_email(session: Session, email: str | None) -> uuid.UUID | None:
    if not email:
        return None
    for u in session.exec(select(User).where(User.email == email, User.is_active)):
        if CANDIDATE in u.roles:
            return u.id
    return None


def _add(session: Session, selection: Selection, profile: Profile, *, user_id, state: str,
         clock: Clock) -> tuple[Candidate, bool]:
    key, nid = identity(profile)
    found = _existing(session, selection.id, key, nid)
    if found is not None:
        return found, True
    candidate = Candidate(selection_id=selection.id, user_id=user_id, state=state,
                          full_name=profile.full_name, identity_key=key, national_id_hash=nid,
                          profile=profile.model_dump(mode="json"))
    refresh_eligibility(candidate, selection, clock)
    session.add(candidate)
    session.flush()
    return candidate, False


def nominate(*, session: Session, selection: Selection, data: NominationCreate, user: User,
             clock: Clock) -> tuple[Nomination, Candidate, bool]:
    """Record a body's nomination; the same person twice is one candidate, two nominations."""
    check_open(selection, clock)
    role = ADMIN if ADMIN in user.roles else NOMINATOR
    nominee, entry = data.nominee, None
    if data.reserve_entry_id is not None:
        from ..followup.service import reserve_profile

        entry, earlier = reserve_profile(session, data.reserve_entry_id, clock)
        try:
            nominee = nominee or Profile.model_validate(earlier)
        except ValueError as e:
            raise InvalidInput("The earlier record's profile is incomplete; give `nominee`.",
                               code="reserve_profile_incomplete") from e
    linked = _candidate_user_by_email(session, nominee.email)
    if linked is None and entry is not None:
        linked = entry.user_id
    candidate, existed = _add(session, selection, nominee, user_id=linked,
                              state="nominated", clock=clock)
    nomination = Nomination(selection_id=selection.id, candidate_id=candidate.id,
                            kind=data.kind.value, body_name=data.body_name, nominated_by=user.id,
                            reasons=data.reasons, groundwork=data.groundwork,
                            reserve_entry_id=entry.id if entry else None)
    session.add(nomination)
    session.flush()
    record.append(
        session, subject_type=SUBJECT, subject_id=candidate.id, selection_id=selection.id,
        action="nominate", author=record.Author(user.id, role), clock=clock,
        from_state=candidate.state if existed else None, to_state=candidate.state,
        params={"nomination_id": nomination.id, "kind": nomination.kind,
                "body_name": nomination.body_name, "full_name": candidate.full_name,
                "duplicate_of_existing": existed, "eligible": candidate.eligible,
                "reserve_entry_id": nomination.reserve_entry_id,
                "earlier_candidate_id": entry.candidate_id if entry else None},
    )
    return nomination, candidate, existed


def apply(*, session: Session, selection: Selection, data: ApplicationCreate, user: User,
          clock: Clock) -> tuple[Nomination, Candidate, bool]:
    """A self-application: a new applicant, or the nominee themself standing (consent)."""
    check_open(selection, clock)
    candidate, existed = _add(session, selection, data.profile, user_id=user.id,
                              state="applicant", clock=clock)
    if existed:
        if candidate.user_id not in (None, user.id):
            raise Conflict("This person's record is already linked to another account.",
                           code="identity_claimed")
        own = session.exec(select(Nomination.id).where(
            Nomination.candidate_id == candidate.id, Nomination.kind == "self_application"
        )).first()
        if own is not None:
            raise Conflict("You have already applied to this selection.",
                           code="already_applied", details={"candidate_id": candidate.id})
        candidate.user_id = user.id
    nomination = Nomination(selection_id=selection.id, candidate_id=candidate.id,
                            kind="self_application", body_name="", nominated_by=user.id,
                            reasons=data.statement)
    session.add(nomination)
    session.flush()
    record.append(
        session, subject_type=SUBJECT, subject_id=candidate.id, selection_id=selection.id,
        action="apply", author=record.Author(user.id, CANDIDATE), clock=clock,
        from_state=candidate.state if existed else None, to_state=candidate.state,
        params={"nomination_id": nomination.id, "full_name": candidate.full_name,
                "duplicate_of_existing": existed, "eligible": candidate.eligible},
    )
    if existed and candidate.state == "nominated":
        actions.run(session, candidates.KIND, candidate, "consent", user=user, clock=clock,
                    reason=None, raw_params={}, event_params={"via": "self_application"})
    return nomination, candidate, existed


def record_communication(*, session: Session, candidate: Candidate, data: CommunicationCreate,
                         user: User, clock: Clock) -> Communication:
    """Record a talk with the nominee (沟通), by their nominator or an admin."""
    if ADMIN not in user.roles and not nominated_by(session, user, candidate):
        raise Forbidden("Only the nominator who nominated this person, or an admin, records"
                        " talks with them.", code="not_your_nominee")
    if data.held_on > clock.today():
        raise Conflict(f"A talk cannot be recorded before it is held ({data.held_on} is after"
                       f" today, {clock.today()}).", code="date_in_future")
    item = Communication(candidate_id=candidate.id, held_on=data.held_on,
                         channel=data.channel.value, summary=data.summary,
                         attitude=data.attitude.value, recorded_by=user.id)
    session.add(item)
    session.flush()
    role = ADMIN if ADMIN in user.roles else NOMINATOR
    record.append(session, subject_type=SUBJECT, subject_id=candidate.id,
                  selection_id=candidate.selection_id, action="record_communication",
                  author=record.Author(user.id, role), clock=clock,
                  from_state=candidate.state, to_state=candidate.state,
                  params=data.model_dump(mode="json") | {"communication_id": item.id})
    return item


def recheck_all(*, session: Session, selection: Selection, author: record.Author,
                clock: Clock) -> None:
    """Recompute every applicant's eligibility (when review starts), each in the record."""
    for cand in session.exec(select(Candidate).where(
            Candidate.selection_id == selection.id, Candidate.state == "applicant")):
        report = refresh_eligibility(cand, selection, clock)
        cand.version += 1
        cand.updated_at = utcnow()
        session.add(cand)
        record.append(session, subject_type=SUBJECT, subject_id=cand.id,
                      selection_id=selection.id, action="check_eligibility", author=author,
                      clock=clock, from_state=cand.state, to_state=cand.state,
                      params={"eligible": report["passed"], "computed_on": report["computed_on"]})


def nominated_by(session: Session, user: User, candidate: Candidate) -> bool:
    """Whether this user nominated this candidate."""
    return session.exec(select(Nomination.id).where(
        Nomination.candidate_id == candidate.id, Nomination.nominated_by == user.id,
        Nomination.kind != "self_application")).first() is not None


_WORK_PROFILE = ("full_name", "gender", "education", "current_post", "unit",
                 "party_joined_on", "work_started_on")


def detail(session: Session, candidate: Candidate, *, full: bool = True) -> CandidateDetail:
    """The candidate's record with every nomination; without `full`, only what reviewers'
    work needs (no birth date, phone, email, ID, nominators' notes)."""
    noms = list(session.exec(select(Nomination).where(Nomination.candidate_id == candidate.id)
                             .order_by(Nomination.created_at)))
    out = CandidateDetail(
        **candidate.model_dump(include={"id", "selection_id", "full_name", "state", "version",
                                        "created_at", "updated_at", "user_id", "profile",
                                        "eligible", "eligibility"}),
        nominations=[NominationPublic.model_validate(n, from_attributes=True) for n in noms],
    )
    if not full:
        out.profile = {k: v for k, v in candidate.profile.items() if k in _WORK_PROFILE}
        out.user_id = None
        out.nominations = [n.model_copy(update={"groundwork": "", "reasons": "",
                                                "nominated_by": None}) for n in out.nominations]
    return out


def _listing_scopes(session: Session, selection: Selection, user: User) -> list:
    """What each of the user's roles lets them list; 403 when none lets them list anything."""
    from ..core.deps import INTERVIEWED_STATES, SUBMITTED_STATES
    from ..review import service as review

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
    if COMMITTEE in roles and selection.state in ("deciding", "following_up", "closed"):
        scopes.append(Candidate.state.in_(SUBMITTED_STATES))  # type: ignore[attr-defined]
    if not scopes:
        raise Forbidden("Your roles do not let you list this selection's candidates.",
                        code="role_not_permitted")
    return scopes


_LISTED = (Candidate.id, Candidate.selection_id, Candidate.full_name, Candidate.state,
           Candidate.version, Candidate.profile, Candidate.eligible, Candidate.created_at,
           Candidate.updated_at)


def list_page(*, session: Session, selection: Selection, user: User, state: str | None,
              kind: str | None, eligible: bool | None, limit: int, cursor: str | None,
              gate: str | None = None, unit: str | None = None, q: str | None = None,
              created_from: date | None = None, created_to: date | None = None,
              ) -> tuple[list[CandidateSummary], str | None]:
    """A page of the selection's candidates the user may list, oldest first; no personal data.
    Filters: state, nominating kind, eligibility, gate (see service/reports.py), unit
    (exact), a text in the name, and the day of registration."""
    from ..reports.service import gate_condition
    from ..selection.service import created_between, text_contains
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
    for c in rows:
        p: dict[str, Any] = c.profile or {}
        items.append(CandidateSummary(
            id=c.id, selection_id=c.selection_id, full_name=c.full_name, state=c.state,
            version=c.version, gender=p.get("gender"), education=p.get("education"),
            unit=p.get("unit"), current_post=p.get("current_post"), eligible=c.eligible,
            nominations=by_candidate[c.id], created_at=c.created_at, updated_at=c.updated_at))
    return items, nxt
