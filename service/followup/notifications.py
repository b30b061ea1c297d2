"""Feedback (信息反馈): the outcome email of every candidate, and one more for every later
change of the outcome (confirmed, found unfit, revoked, reserve expired or used), through an
outbox.

The message is written in the same transaction as the outcome; `service.outbox.mailer` delivers it.
Templates in Chinese and English, editable by admins; `{placeholders}` are checked on save.
"""

from __future__ import annotations

import contextlib
import string
import uuid
from datetime import date
from typing import Any

from sqlmodel import Session, select

from ..config import Settings
from ..core import i18n
from ..core.clock import Clock
from ..core.errors import Conflict, InvalidInput
from ..core.models import User, utcnow
from ..nomination.models import Candidate, Nomination, ReserveEntry
from ..record import service as record
from ..record.models import Event
from ..selection.models import Selection
from ..selection.schemas import post_name
from ..selection.service import stood_for
from .models import Notification, NotificationTemplate, Objection
from .schemas import PLACEHOLDERS

# The committee's outcomes and what else ends a candidacy before the decision (told when the
# decision is finished), then the later changes (told when each happens).
TEMPLATE = record.subject_type("template")  # each outcome email's template, per language
OUTCOMES = ("appointed", "reserve", "not_qualified", "lapsed", "declined", "withdrawn",
            "confirmed", "dismissed", "revoked", "appointment_withdrawn", "reserve_expired",
            "reserve_used", "backfilled", "not_elected", "not_approved")
LANGUAGES = ("zh", "en")

# The default subject and body of each outcome's email live in the catalogue
# (service/locale, contexts `email_subject` and `email_body`); an admin's template replaces them.
# The action that ended a candidacy → the gate named in the email: the catalogue's
# `gate_of_action` labels.
# A candidate's state → the outcome told; a nominee who never consented and one who declined
# are both 'declined', told apart by the action that ended the candidacy.
_OUTCOME_OF_STATE = {"appointed": "appointed", "reserve": "reserve", "not_qualified":
                     "not_qualified", "declined": "declined", "withdrawn": "withdrawn",
                     "confirmed": "confirmed", "dismissed": "dismissed", "revoked": "revoked",
                     "not_elected": "not_elected", "not_approved": "not_approved"}
_OUTCOME_OF_ACTION = {"lapse": "lapsed", "withdraw_appointment": "appointment_withdrawn"}
# The later changes: the action → the outcome its email tells.
CHANGES = {"confirm": "confirmed", "dismiss": "dismissed", "revoke": "revoked",
           "withdraw_appointment": "appointment_withdrawn", "backfill": "backfilled",
           "fail_election": "not_elected", "refuse_approval": "not_approved"}


def _fields(text: str) -> set[str]:
    """The placeholders of a template; ValueError for a malformed one, or one with a
    conversion or a format (`{full_name!r}`, `{gate:>5}`): a placeholder is its name."""
    names = set()
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is not None:
            if spec or conversion:
                raise ValueError(f"{{{name}}} takes no conversion or format")
            names.add(name)
    return names


def check_template(subject: str, body: str) -> None:
    """422 for a placeholder the service does not fill, or a malformed one."""
    try:
        used = _fields(subject) | _fields(body)
    except ValueError as e:
        raise InvalidInput("The template is malformed: {e}.", code="template_malformed", params={"e": e}) from e
    unknown = sorted(used - set(PLACEHOLDERS))
    if unknown:
        raise InvalidInput("Unknown placeholders: {unknown}; known: {PLACEHOLDERS}.", code="template_placeholder",
                           details={"unknown": unknown, "known": list(PLACEHOLDERS)}, params={"unknown": ', '.join(unknown), "PLACEHOLDERS": ', '.join(PLACEHOLDERS)})


def template(session: Session, outcome: str, language: str) -> tuple[str, str, bool]:
    """The effective (subject, body) and whether an admin customised it."""
    row = session.get(NotificationTemplate, (outcome, language))
    if row:
        return row.subject, row.body, True
    lang = i18n.as_lang(language)
    return (i18n.label("email_subject", outcome, lang) or "",
            i18n.label("email_body", outcome, lang) or "", False)


def outcome_of(session: Session, candidate: Candidate,
               lang: i18n.Lang | None = None) -> tuple[str, str, str] | None:
    """(outcome, action, reason) for a candidate whose story in the selection has an end:
    the action that ended it and the reason given (one the service wrote, in `lang`)."""
    outcome = _OUTCOME_OF_STATE.get(candidate.state)
    if outcome is None:
        return None
    if outcome in ("appointed", "reserve"):
        return outcome, "", ""
    ev = session.exec(select(Event).where(
        Event.subject_type == "candidate", Event.subject_id == candidate.id,
        Event.to_state == candidate.state, Event.from_state != Event.to_state)
        .order_by(Event.seq.desc())).first()  # type: ignore[attr-defined]
    action = ev.action if ev else ""
    return (_OUTCOME_OF_ACTION.get(action, outcome), action,
            record.reason_in(ev, lang) if ev else "")


def _post_values(selection: Selection, candidate: Candidate) -> dict[str, str]:
    """The post appointed to; for anyone else, the posts they stood for."""
    a = candidate.appointment or {}
    if a.get("proposed_post"):
        return {"post": a["proposed_post"], "branch": a.get("branch") or selection.organization}
    codes = stood_for(selection, candidate.post_codes)
    posts = [p for p in selection.named_posts if p["code"] in codes]
    return {"post": "、".join(post_name(p) for p in posts) or "—",
            "branch": "、".join(dict.fromkeys(p["branch"] for p in posts)) or "—"}


def _assessment_text(params: dict[str, Any], language: str) -> str:
    a = params.get("assessment") or {}
    if not a:
        return "—"
    lang = i18n.as_lang(language)
    held_on = a.get("held_on")
    with contextlib.suppress(TypeError, ValueError):
        held_on = date.fromisoformat(str(held_on))
    return i18n._("{kind} {held_on}: {grade}", lang,
                  kind=i18n.label("assessment_kind", "final" if a.get("kind") == "final"
                                  else "mid_term", lang),
                  held_on=held_on, grade=i18n.label("Grade", a.get("grade"), lang))


# Reasons the service itself writes to the record, told in the email's own language.
SYSTEM_REASONS = {"lapse": "no consent by the end of the publicity period"}


def language_of(session: Session, candidate: Candidate) -> str:
    """The language of a candidate's emails (`zh` or `en`): their account's language, else
    the one their profile prefers, else Chinese."""
    user = session.get(User, candidate.user_id) if candidate.user_id else None
    preferred = (user.language if user else None) or (candidate.profile or {}).get("language")
    return "en" if i18n.as_lang(preferred) == "en" else "zh"


def render(session: Session, candidate: Candidate, language: str, *,
           change: tuple[str, str, str] | None = None) -> tuple[str, str, str]:
    """(outcome, subject, body) of the candidate's outcome email in a language; `change`
    (outcome, gate text, reason) tells of a later change instead."""
    if change is None:
        found = outcome_of(session, candidate, i18n.as_lang(language))
        if found is None:
            raise Conflict("The candidate is '{state}': there is no outcome to tell yet.", code="no_outcome_yet", params={"state": candidate.state})
        outcome, action, reason = found
        gate = i18n.label("gate_of_action", action, i18n.as_lang(language)) if action else ""
        if action in SYSTEM_REASONS:  # events written before their reasons were kept as said
            reason = i18n.text(SYSTEM_REASONS[action], lang=i18n.as_lang(language))
    else:
        outcome, gate, reason = change
    selection = session.get(Selection, candidate.selection_id)
    values = {"full_name": candidate.full_name, "selection_title": selection.title,
              "organization": selection.organization,
              "outcome_label": i18n.outcome_label(outcome, i18n.as_lang(language)),
              "gate": gate or "—", "reason": reason or "—", **_post_values(selection, candidate)}
    subject, body, _ = template(session, outcome, language)
    return outcome, subject.format(**values), body.format(**values)


def _queue(session: Session, candidate: Candidate, *, key: str, outcome: str, subject: str,
           body: str, language: str, clock: Clock, author: record.Author,
           cites: dict[str, Any]) -> Notification:
    email = (candidate.profile or {}).get("email")
    n = Notification(dedupe_key=key, candidate_id=candidate.id,
                     selection_id=candidate.selection_id, outcome=outcome, language=language,
                     to_address=email, subject=subject, body=body,
                     state="queued" if email else "undeliverable",
                     last_error=None if email else "The candidate has no email address.")
    session.add(n)
    session.flush()
    record.append(session, subject_type="candidate", subject_id=candidate.id,
                  selection_id=candidate.selection_id, action="queue_notification",
                  author=author, clock=clock, from_state=candidate.state,
                  to_state=candidate.state,
                  params={"notification_id": n.id, "outcome": outcome, "language": language,
                          "to": email, "state": n.state, **cites})
    return n


def enqueue_outcome(session: Session, candidate: Candidate, *, clock: Clock,
                    author: record.Author, language: str | None = None) -> Notification | None:
    """Write the candidate's outcome email to the outbox (once per candidate), in their
    language unless one is given."""
    key = f"outcome:{candidate.id}"
    if session.exec(select(Notification.id).where(Notification.dedupe_key == key)).first():
        return None
    language = language or language_of(session, candidate)
    outcome, subject, body = render(session, candidate, language)
    return _queue(session, candidate, key=key, outcome=outcome, subject=subject, body=body,
                  language=language, clock=clock, author=author, cites={})


def enqueue_change(session: Session, candidate: Candidate, event: Event, *, outcome: str,
                   clock: Clock, author: record.Author, language: str | None = None,
                   ) -> Notification | None:
    """Write the email of one later change of the candidate's outcome (the event that made
    it), once per change: its dedupe key is the event's id."""
    key = f"change:{event.id}"
    if session.exec(select(Notification.id).where(Notification.dedupe_key == key)).first():
        return None
    language = language or language_of(session, candidate)
    params = dict(event.params or {})
    gate = _assessment_text(params, language) if "assessment" in params else (
        i18n.read(params.get("detail"), i18n.as_lang(language)))
    reason = record.reason_in(event, i18n.as_lang(language)) or params.get("detail_reason") or ""
    _, subject, body = render(session, candidate, language, change=(outcome, gate, reason))
    return _queue(session, candidate, key=key, outcome=outcome, subject=subject, body=body,
                  language=language, clock=clock, author=author,
                  cites={"event_id": event.id, "event_action": event.action})


def tell_change(call: Any, event: Event) -> None:
    """After a confirmation, an end of trial or a revocation: the candidate is told."""
    enqueue_change(call.session, call.subject, event, outcome=CHANGES[event.action],
                   clock=call.clock, author=call.author)


def enqueue_all(session: Session, selection: Selection, *, clock: Clock,
                author: record.Author) -> int:
    """Queue the outcome email of every candidate whose story has an end; return how many."""
    count = 0
    for cand in session.exec(select(Candidate).where(Candidate.selection_id == selection.id)
                             .order_by(Candidate.created_at)):
        if outcome_of(session, cand) and enqueue_outcome(session, cand, clock=clock,
                                                         author=author):
            count += 1
    return count


def note(n: Notification, settings: Settings) -> str | None:
    """A sentence for people about where the message stands."""
    if n.state == "queued" and not settings.smtp_host:
        return i18n._("No SMTP server is configured (SELECTION_SMTP_HOST): the message is"
                      " kept, undelivered, and goes out once one is.")
    if n.state == "queued" and n.attempts:
        return i18n._("Delivery failed {attempts} time(s); retrying at {next_attempt_at}.",
                      attempts=n.attempts, next_attempt_at=n.next_attempt_at)
    if n.state == "undeliverable":
        return i18n._("The candidate has no email address; add one and resend.")
    if n.state == "failed":
        return i18n._("Delivery gave up after repeated failures; an admin can resend.")
    return None


def resend(session: Session, n: Notification, candidate: Candidate, *, user: User,
           clock: Clock, language: str | None) -> Notification:
    """Queue a message again (re-rendered, to the candidate's current address)."""
    if n.state == "queued" and not n.attempts:
        raise Conflict("The message is already queued.", code="already_queued")
    lang = language or n.language
    if n.dedupe_key.startswith("change:"):
        ev = session.get(Event, uuid.UUID(n.dedupe_key.removeprefix("change:")))
        params = dict(ev.params or {})
        gate = _assessment_text(params, lang) if "assessment" in params else (
            i18n.read(params.get("detail"), i18n.as_lang(lang)))
        _, n.subject, n.body = render(session, candidate, lang, change=(
            n.outcome, gate, record.reason_in(ev, i18n.as_lang(lang))
            or params.get("detail_reason") or ""))
    elif n.outcome in OUTCOMES:
        _, n.subject, n.body = render(session, candidate, lang)
    else:
        raise Conflict("This message is not an outcome email; it cannot be re-rendered.",
                       code="not_an_outcome_email")
    n.language = lang
    n.to_address = (candidate.profile or {}).get("email")
    n.state = "queued" if n.to_address else "undeliverable"
    n.attempts, n.last_error, n.next_attempt_at = 0, None, utcnow()
    n.claimed_by = n.claimed_until = None
    session.add(n)
    record.append(session, subject_type="candidate", subject_id=candidate.id,
                  selection_id=candidate.selection_id, action="resend_notification",
                  author=record.Author(user.id, "admin"), clock=clock,
                  from_state=candidate.state, to_state=candidate.state,
                  params={"notification_id": n.id, "language": lang, "to": n.to_address})
    return n


def template_rows(session: Session) -> list[dict[str, Any]]:
    """Every outcome × language template, as in effect."""
    out = []
    for outcome in OUTCOMES:
        for lang in LANGUAGES:
            subject, body, custom = template(session, outcome, lang)
            out.append({"outcome": outcome, "language": lang, "subject": subject, "body": body,
                        "customised": custom})
    return out


def set_template(session: Session, outcome: str, language: str, subject: str, body: str, *,
                 user: User, clock: Clock) -> None:
    """Save an admin's template (placeholders checked); recorded."""
    check_template(subject, body)
    row = session.get(NotificationTemplate, (outcome, language)) or NotificationTemplate(
        outcome=outcome, language=language, subject=subject, body=body)
    row.subject, row.body, row.updated_by, row.updated_at = subject, body, user.id, utcnow()
    session.add(row)
    record.append(session, subject_type=TEMPLATE, subject_id=uuid.uuid5(
        uuid.NAMESPACE_URL, f"selection-service:template:{outcome}:{language}"),
        selection_id=None, action="edit_template", author=record.Author(user.id, "admin"),
        clock=clock, params={"outcome": outcome, "language": language, "subject": subject,
                             "body": body})


def message(kind: str, language: str, **values: Any) -> dict[str, str]:
    """The subject, body and language of an email that is not an outcome (a claim code, an
    objection's receipt), from the catalogue's `email_subject` / `email_body` in `language`
    (`zh` or `en`), its placeholders filled (dates in the language's long form)."""
    lang = i18n.as_lang(language)
    said = {k: i18n.format_date_long(v, lang) if isinstance(v, date) else v
            for k, v in values.items()}
    return {"subject": (i18n.label("email_subject", kind, lang) or "").format(**said),
            "body": (i18n.label("email_body", kind, lang) or "").format(**said),
            "language": "en" if lang == "en" else "zh"}


def enqueue_message(session: Session, candidate: Candidate, *, kind: str, key: str, to: str,
                    subject: str, body: str, language: str = "zh") -> Notification:
    """Write an email that is not an outcome (a claim code, say) to the same outbox, sent by
    the same sender; no event of its own (the caller records what it is for)."""
    n = Notification(dedupe_key=key, candidate_id=candidate.id,
                     selection_id=candidate.selection_id, outcome=kind, language=language,
                     to_address=to, subject=subject, body=body)
    session.add(n)
    session.flush()
    return n


def chain_of(session: Session, n: Notification, candidate: Candidate
             ) -> tuple[str, uuid.UUID, str]:
    """Whose record tells of the message's delivery: the candidate's, or for an objector's
    acknowledgement the objection's (an objector's address never enters a candidate's record)."""
    if n.outcome == "objection_ack":
        objection = session.get(Objection, uuid.UUID(n.dedupe_key.removeprefix("objection_ack:")))
        return "objection", objection.id, objection.state
    return "candidate", candidate.id, candidate.state


def tell_reserve(session: Session, entry: ReserveEntry, *, outcome: str, detail: dict[str, Any],
                 clock: Clock, author: record.Author, cites: dict[str, Any],
                 key: str) -> Notification | None:
    """A reserve's entry expired (储备期满) or was used in a later selection: recorded in the
    reserve's own record and told by email, once per `key`."""
    if session.exec(select(Notification.id).where(Notification.dedupe_key == key)).first():
        return None
    cand = session.exec(select(Candidate).where(Candidate.id == entry.candidate_id)
                        .with_for_update()).one()
    event = record.append(session, subject_type="candidate", subject_id=cand.id,
                          selection_id=cand.selection_id, action=outcome, author=author,
                          clock=clock, from_state=cand.state, to_state=cand.state,
                          params={"reserve_entry_id": entry.id, "detail": detail, **cites})
    language = language_of(session, cand)
    _, subject, body = render(session, cand, language, change=(
        outcome, "", i18n.read(detail, i18n.as_lang(language))))
    return _queue(session, cand, key=key, outcome=outcome, subject=subject, body=body,
                  language=language, clock=clock, author=author,
                  cites={"event_id": event.id, "event_action": outcome})


def tell_expired_reserves(session: Session, *, clock: Clock, user: User) -> int:
    """Tell every reserve whose entry has expired and who was not told yet; return how many."""
    count = 0
    for entry in session.exec(select(ReserveEntry).where(ReserveEntry.expires_on < clock.today())
                              .order_by(ReserveEntry.expires_on, ReserveEntry.id)):
        if tell_reserve(session, entry, outcome="reserve_expired",
                        detail=i18n.said("In the reserve pool until {until}",
                                         until=entry.expires_on), clock=clock,
                        author=record.Author(user.id, "admin"),
                        cites={"expires_on": entry.expires_on.isoformat()},
                        key=f"reserve_expired:{entry.id}"):
            count += 1
    return count


def tell_reserve_used(session: Session, nomination: Nomination, candidate: Candidate, *,
                      clock: Clock, author: record.Author) -> Notification | None:
    """A nomination from the pool: the reserve learns in which selection they are nominated
    (once per entry and later candidacy)."""
    if nomination.reserve_entry_id is None:
        return None
    entry = session.get(ReserveEntry, nomination.reserve_entry_id)
    selection = session.get(Selection, candidate.selection_id)
    return tell_reserve(session, entry, outcome="reserve_used",
                        detail=i18n.said("“{title}” ({organization})", title=selection.title,
                                         organization=selection.organization), clock=clock,
                        author=author, cites={"selection_id": selection.id,
                                              "candidate_id": candidate.id},
                        key=f"reserve_used:{entry.id}:{candidate.id}")
