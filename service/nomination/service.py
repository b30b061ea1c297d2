"""Step 2: nomination by bodies (直接推荐), self-application (报名), talks with nominees (沟通),
the eligibility report, consent, and nominating from the reserve pool (储备人选库). Who may
see and list which candidate is in service/access.py."""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from ..core.clock import Clock
from ..core.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..core.models import User, utcnow
from ..record import actions
from ..record import service as record
from ..record.actions import ActionCall
from ..selection import service as selections
from ..selection.models import Selection
from ..workflow import CANDIDATE_MACHINE
from ..workflow.roles import ADMIN, CANDIDATE, NOMINATOR
from . import eligibility
from .models import Candidate, Communication, Nomination, ReserveEntry
from .schemas import (
    ApplicationCreate,
    CandidateDetail,
    CommunicationCreate,
    NominationCreate,
    NominationPublic,
    Profile,
    ProfilePublic,
)

SUBJECT = record.subject_type("candidate")
# verify-record checks every candidate's state against its newest event
record.cover(record.StateCoverage(subject_type=SUBJECT, table=Candidate))


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
        raise Conflict("The selection is '{state}': nominations and applications are taken only while "
                       "it is publicized.", code="nominations_closed",
                       details=period, params={"state": selection.state})
    if not start <= today <= end:
        raise Conflict("Nominations and applications are taken from {start} to {end} inclusive; today "
                       "is {today}.", code="outside_nomination_period",
                       details=period, params={"start": start, "end": end, "today": today})


def refresh_eligibility(candidate: Candidate, selection: Selection, clock: Clock) -> dict:
    """Compute and store the eligibility report as of the selection's reference date (the
    publicity period's end unless its settings name another; today before it is known)."""
    on, basis = selections.eligibility_reference(selection)
    report = eligibility.check(selection.job_description.get("requirements", {}),
                               candidate.profile, on or clock.today(), basis=basis)
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


def _stand_for(candidate: Candidate, selection: Selection, posts: list[str],
               existed: bool) -> None:
    """The candidate stands for the posts stated, and those of earlier nominations."""
    before = selections.stood_for(selection, candidate.post_codes) if existed else []
    order = selections.post_codes(selection)
    candidate.post_codes = [c for c in order if c in set(before) | set(posts)]


def _check_own_body(user: User, data: NominationCreate) -> None:
    """A nominator nominates only as the body their account belongs to (its kind, or from the
    reserve pool, and its name); admins may nominate on any body's behalf."""
    kind, name = user.nominating_body_kind, user.nominating_body_name
    body = {"kind": kind, "name": name}
    if kind is None:
        raise Forbidden("Your account belongs to no nominating body yet; an admin sets it.",
                        code="nominating_body_not_set")
    if data.kind.value not in (kind, "reserve_pool") or _norm(data.body_name) != _norm(name or ""):
        raise Forbidden("Your account nominates as {kind} '{name}' only.",
                        code="not_your_nominating_body",
                        details={"your_body": body, "requested": {
                            "kind": data.kind.value, "name": data.body_name}}, params={"kind": kind, "name": name})


def nominate(*, session: Session, selection: Selection, data: NominationCreate, user: User,
             clock: Clock) -> tuple[Nomination, Candidate, bool]:
    """Record a body's nomination; the same person twice is one candidate, two nominations."""
    check_open(selection, clock)
    role = ADMIN if ADMIN in user.roles else NOMINATOR
    if role == NOMINATOR:
        _check_own_body(user, data)
    nominee, entry = data.nominee, None
    if data.reserve_entry_id is not None:
        entry, earlier = reserve_profile(session, data.reserve_entry_id, clock)
        try:
            nominee = nominee or Profile.model_validate(earlier)
        except ValueError as e:
            raise InvalidInput("The earlier record's profile is incomplete; give `nominee`.",
                               code="reserve_profile_incomplete") from e
    linked = _candidate_user_by_email(session, nominee.email)
    if linked is None and entry is not None:
        linked = entry.user_id
    posts = selections.resolve_posts(selection, data.posts, field="body.posts")
    candidate, existed = _add(session, selection, nominee, user_id=linked,
                              state="nominated", clock=clock)
    _stand_for(candidate, selection, posts, existed)
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
                "reserve_entry_id": nomination.reserve_entry_id, "posts": posts,
                "stands_for": candidate.post_codes,
                "earlier_candidate_id": entry.candidate_id if entry else None},
    )
    return nomination, candidate, existed


def apply(*, session: Session, selection: Selection, data: ApplicationCreate, user: User,
          clock: Clock) -> tuple[Nomination, Candidate, bool]:
    """A self-application: a new applicant, or the nominee themself standing (consent)."""
    check_open(selection, clock)
    posts = selections.resolve_posts(selection, data.posts, field="body.posts")
    candidate, existed = _add(session, selection, data.profile, user_id=user.id,
                              state="applicant", clock=clock)
    if existed:
        if candidate.user_id not in (None, user.id):
            raise Conflict("This person's record is already linked to another account.",
                           code="identity_claimed")
        if candidate.user_id is None:
            # The same public facts (name, birth date, unit) prove nothing: the record is
            # linked only by a claim that proves it (a code sent to the nominee's email on
            # file, or an admin's confirmation), never by this application.
            raise Conflict(
                "This person has already been nominated in this selection. If that is you,"
                " claim the nomination (a code is sent to the email address on file), or ask"
                " the organization department to confirm you; then consent to stand.",
                code="nomination_claim_required",
                details={"candidate_id": candidate.id,
                         "claim": f"/api/v1/selections/{selection.id}/claims"})
        own = session.exec(select(Nomination.id).where(
            Nomination.candidate_id == candidate.id, Nomination.kind == "self_application"
        )).first()
        if own is not None:
            raise Conflict("You have already applied to this selection.",
                           code="already_applied", details={"candidate_id": candidate.id})
    _stand_for(candidate, selection, posts, existed)
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
                "duplicate_of_existing": existed, "eligible": candidate.eligible,
                "posts": posts, "stands_for": candidate.post_codes},
    )
    if existed and candidate.state == "nominated":
        actions.run(session, actions.kind_of(CANDIDATE_MACHINE), candidate, "consent", user=user, clock=clock,
                    reason=None, raw_params={}, event_params={"via": "self_application"})
    return nomination, candidate, existed


def record_communication(*, session: Session, candidate: Candidate, data: CommunicationCreate,
                         user: User, clock: Clock) -> Communication:
    """Record a talk with the nominee (沟通), by their nominator or an admin."""
    if ADMIN not in user.roles and not nominated_by(session, user, candidate):
        raise Forbidden("Only the nominator who nominated this person, or an admin, records"
                        " talks with them.", code="not_your_nominee")
    if data.held_on > clock.today():
        raise Conflict("A talk cannot be recorded before it is held ({held_on} is after today, "
                       "{clock}).", code="date_in_future", params={"held_on": data.held_on, "clock": clock.today()})
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
                      params={"eligible": report["passed"], "computed_on": report["computed_on"],
                              "reference": report["reference"]})


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
                                        "eligible"}),
        eligibility=eligibility.render(candidate.eligibility),
        posts=selections.stood_for(session.get(Selection, candidate.selection_id),
                                   candidate.post_codes),
        nominations=[NominationPublic.model_validate(n, from_attributes=True) for n in noms],
    )
    if not full:
        out.profile = ProfilePublic.model_validate(
            {k: v for k, v in candidate.profile.items() if k in _WORK_PROFILE})
        out.user_id = None
        out.nominations = [n.model_copy(update={"groundwork": "", "reasons": "",
                                                "nominated_by": None}) for n in out.nominations]
    return out


# ---------------------------------------------------------------- consent (the candidate's action)
class ConsentParams(BaseModel):
    """How consent was given: by the nominee's own account, or confirmed by an admin."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "confirmed_by": "王组织委员", "confirmed_at": "2026-09-30T08:30:00+08:00"}})

    confirmed_by: str | None = Field(default=None, max_length=100, description="Who took the"
                                     " nominee's consent (required when an admin records it)")
    confirmed_at: datetime | None = Field(default=None, description="When the nominee said yes"
                                          " (required when an admin records it)")
    note: str = Field(default="", max_length=2000)


def consent(call: ActionCall) -> dict[str, Any]:
    """The effect of `consent`: an admin recording it says who confirmed it and when."""
    params: ConsentParams = call.params  # type: ignore[assignment]
    if call.decision.role == "admin":
        missing = [f for f in ("confirmed_by", "confirmed_at") if not getattr(params, f)]
        if missing:
            raise InvalidInput(
                "An admin recording consent says who confirmed it and when.",
                errors=[{"field": f"body.params.{f}", "message": "required when an admin"
                         " records consent", "type": "missing"} for f in missing])
        if params.confirmed_at.tzinfo is None or params.confirmed_at > call.clock.now:
            raise InvalidInput("confirmed_at needs a time zone and cannot be in the future.",
                               errors=[{"field": "body.params.confirmed_at",
                                        "message": "in the future or without a time zone",
                                        "type": "value_error"}])
    return {}


# ---------------------------------------------------------------- the reserve pool, nominated from
def reserve_profile(session: Session, entry_id: uuid.UUID, clock: Clock) -> tuple[ReserveEntry, dict]:
    """A live pool entry and the profile of the earlier record, for a new nomination."""
    entry = session.get(ReserveEntry, entry_id)
    if entry is None:
        raise NotFound("No reserve pool entry {entry_id}.", code="reserve_entry_not_found", params={"entry_id": entry_id})
    if entry.expires_on < clock.today():
        raise Conflict("This reserve entry expired on {expires_on}.",
                       code="reserve_expired", details={"expires_on": entry.expires_on}, params={"expires_on": entry.expires_on})
    earlier = session.get(Candidate, entry.candidate_id)
    return entry, dict(earlier.profile or {})
