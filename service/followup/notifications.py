"""Feedback (信息反馈): one outcome email per candidate, through an outbox.

The message is written in the same transaction as the outcome; `service.outbox.mailer` delivers it.
Templates in Chinese and English, editable by admins; `{placeholders}` are checked on save.
"""

from __future__ import annotations

import string
import uuid
from typing import Any

from sqlmodel import Session, select

from ..config import Settings
from ..core import i18n
from ..core.clock import Clock
from ..core.errors import Conflict, InvalidInput
from ..core.models import User, utcnow
from ..nomination.models import Candidate
from ..record import service as record
from ..record.models import Event
from ..selection.models import Selection
from ..selection.schemas import post_name
from ..selection.service import stood_for
from .models import Notification, NotificationTemplate

OUTCOMES = ("appointed", "reserve", "not_qualified")
LANGUAGES = ("zh", "en")
PLACEHOLDERS = ("full_name", "selection_title", "organization", "outcome_label", "gate",
                "reason", "post", "branch")

DEFAULT_TEMPLATES: dict[tuple[str, str], tuple[str, str]] = {
    ("appointed", "zh"): (
        "【{organization}】党支部书记公开选拔结果通知：{outcome_label}",
        "{full_name}同志：\n\n经资格预审、面议评审、组织考察和党委会审核，您在“{selection_title}”中"
        "的结果为：{outcome_label}。\n拟任岗位：{post}（{branch}）\n\n任职前将按规定进行公示，公示期满无异议后安排到一线岗位"
        "实习锻炼，并由导师进行培养。\n\n{organization}党委组织部门"),
    ("reserve", "zh"): (
        "【{organization}】党支部书记公开选拔结果通知：{outcome_label}",
        "{full_name}同志：\n\n经党委会审核，您在“{selection_title}”中的结果为：{outcome_label}。"
        "\n参选岗位：{post}（{branch}）\n\n您已进入党支部书记储备人选库，今后选拔时可优先推荐。\n\n{organization}党委组织部门"),
    ("not_qualified", "zh"): (
        "【{organization}】党支部书记公开选拔结果通知：{outcome_label}",
        "{full_name}同志：\n\n您在“{selection_title}”中的结果为：{outcome_label}。\n"
        "参选岗位：{post}（{branch}）\n环节：{gate}\n原因：{reason}\n\n感谢您的参与。\n\n{organization}党委组织部门"),
    ("appointed", "en"): (
        "[{organization}] Branch secretary selection result: {outcome_label}",
        "Dear {full_name},\n\nAfter the qualification pre-review, the interview, the inspection"
        " and the party committee's decision, your result in \"{selection_title}\" is:"
        " {outcome_label}.\nPost: {post} ({branch})\n\nA pre-appointment publicity period follows; then a trial at a"
        " front-line post, with a mentor.\n\n{organization}"),
    ("reserve", "en"): (
        "[{organization}] Branch secretary selection result: {outcome_label}",
        "Dear {full_name},\n\nYour result in \"{selection_title}\" is: {outcome_label}.\n"
        "Post stood for: {post} ({branch})\nYou are in the pool of reserve candidates for future selections.\n\n{organization}"),
    ("not_qualified", "en"): (
        "[{organization}] Branch secretary selection result: {outcome_label}",
        "Dear {full_name},\n\nYour result in \"{selection_title}\" is: {outcome_label}.\n"
        "Post stood for: {post} ({branch})\nStage: {gate}\nReason: {reason}\n\nThank you for taking part.\n\n{organization}"),
}

# The action that ended a candidacy → the gate named in the 不符合 email.
GATES = {
    "fail_prereview": ("资格预审", "qualification pre-review"),
    "fail_interview": ("面议评审", "interview review"),
    "fail_inspection": ("组织考察", "organizational inspection"),
    "decide_not_qualified": ("党委会审核", "party committee decision"),
    "decline": ("推荐确认（本人不同意参选）", "nomination (declined to stand)"),
    "lapse": ("推荐确认（未在公示期内确认参选）", "nomination (no consent in time)"),
    "withdraw": ("本人退出", "withdrawn by the candidate"),
}
_OUTCOME_OF_STATE = {"appointed": "appointed", "reserve": "reserve", "not_qualified":
                     "not_qualified", "declined": "not_qualified",
                     "withdrawn": "not_qualified"}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def check_template(subject: str, body: str) -> None:
    """422 for a placeholder the service does not fill, or a malformed one."""
    try:
        used = _fields(subject) | _fields(body)
    except ValueError as e:
        raise InvalidInput(f"The template is malformed: {e}.", code="template_malformed") from e
    unknown = sorted(used - set(PLACEHOLDERS))
    if unknown:
        raise InvalidInput(f"Unknown placeholders: {', '.join(unknown)}; known: "
                           f"{', '.join(PLACEHOLDERS)}.", code="template_placeholder",
                           details={"unknown": unknown, "known": list(PLACEHOLDERS)})


def template(session: Session, outcome: str, language: str) -> tuple[str, str, bool]:
    """The effective (subject, body) and whether an admin customised it."""
    row = session.get(NotificationTemplate, (outcome, language))
    if row:
        return row.subject, row.body, True
    subject, body = DEFAULT_TEMPLATES[(outcome, language)]
    return subject, body, False


def outcome_of(session: Session, candidate: Candidate) -> tuple[str, str, str] | None:
    """(outcome, gate, reason) for a candidate whose story in the selection has an end."""
    outcome = _OUTCOME_OF_STATE.get(candidate.state)
    if outcome is None:
        return None
    if outcome != "not_qualified":
        return outcome, "", ""
    ev = session.exec(select(Event).where(
        Event.subject_type == "candidate", Event.subject_id == candidate.id,
        Event.to_state == candidate.state, Event.from_state != Event.to_state)
        .order_by(Event.seq.desc())).first()  # type: ignore[attr-defined]
    return outcome, ev.action if ev else "", (ev.reason or "") if ev else ""


def _post_values(selection: Selection, candidate: Candidate) -> dict[str, str]:
    """The post appointed to; for anyone else, the posts they stood for."""
    a = candidate.appointment or {}
    if a.get("proposed_post"):
        return {"post": a["proposed_post"], "branch": a.get("branch") or selection.organization}
    codes = stood_for(selection, candidate.post_codes)
    posts = [p for p in selection.named_posts if p["code"] in codes]
    return {"post": "、".join(post_name(p) for p in posts) or "—",
            "branch": "、".join(dict.fromkeys(p["branch"] for p in posts)) or "—"}


def render(session: Session, candidate: Candidate, language: str) -> tuple[str, str, str]:
    """(outcome, subject, body) of the candidate's outcome email in a language."""
    found = outcome_of(session, candidate)
    if found is None:
        raise Conflict(f"The candidate is '{candidate.state}': there is no outcome to tell yet.",
                       code="no_outcome_yet")
    outcome, action, reason = found
    selection = session.get(Selection, candidate.selection_id)
    idx = 0 if language == "zh" else 1
    gate = GATES.get(action, ("", ""))[idx] if action else ""
    values = {"full_name": candidate.full_name, "selection_title": selection.title,
              "organization": selection.organization,
              "outcome_label": i18n.outcome_label(outcome, "en" if idx else "zh-CN"), "gate": gate or "—",
              "reason": reason or "—", **_post_values(selection, candidate)}
    subject, body, _ = template(session, outcome, language)
    return outcome, subject.format(**values), body.format(**values)


def enqueue_outcome(session: Session, candidate: Candidate, *, clock: Clock,
                    author: record.Author, language: str = "zh") -> Notification | None:
    """Write the candidate's outcome email to the outbox (once per candidate, ever)."""
    key = f"outcome:{candidate.id}"
    if session.exec(select(Notification.id).where(Notification.dedupe_key == key)).first():
        return None
    outcome, subject, body = render(session, candidate, language)
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
                          "to": email, "state": n.state})
    return n


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
        return ("No SMTP server is configured (SELECTION_SMTP_HOST): the message is kept,"
                " undelivered, and goes out once one is.")
    if n.state == "queued" and n.attempts:
        return f"Delivery failed {n.attempts} time(s); retrying at {n.next_attempt_at}."
    if n.state == "undeliverable":
        return "The candidate has no email address; add one and resend."
    if n.state == "failed":
        return "Delivery gave up after repeated failures; an admin can resend."
    return None


def resend(session: Session, n: Notification, candidate: Candidate, *, user: User,
           clock: Clock, language: str | None) -> Notification:
    """Queue a message again (re-rendered, to the candidate's current address)."""
    if n.state == "queued" and not n.attempts:
        raise Conflict("The message is already queued.", code="already_queued")
    lang = language or n.language
    _, n.subject, n.body = render(session, candidate, lang)
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
    record.append(session, subject_type="template", subject_id=uuid.uuid5(
        uuid.NAMESPACE_URL, f"selection-service:template:{outcome}:{language}"),
        selection_id=None, action="edit_template", author=record.Author(user.id, "admin"),
        clock=clock, params={"outcome": outcome, "language": language, "subject": subject,
                             "body": body})


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
