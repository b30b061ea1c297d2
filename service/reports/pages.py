"""The printable pages: 综合评议报告, 评分登记表 (blank and filled), the selection report, the
public announcement of the post (公示) and the pre-appointment notice (任前公示)."""

from __future__ import annotations

import html
import uuid
from datetime import date
from typing import Any

from sqlmodel import Session, select

from ..config import Settings
from ..core import i18n
from ..core.clock import Clock
from ..core.i18n import _
from ..core.models import User
from ..nomination.models import Candidate
from ..review import service as review
from ..review.models import InterviewPlan, ScoreSheet
from ..selection import service as selections
from ..selection.models import Selection
from ..selection.schemas import post_name
from ..selection.service import stood_for
from ..workflow.roles import ADMIN
from . import service as reports
from .documents import Made, fmt, record_hash, render

OFFICE_SEAL = "Seal of the organization department"


def office_contact(selection: Selection, settings: Settings) -> str:
    """How the public reaches the office: the setting, else the organization's department."""
    return settings.office_contact or _("the organization department of {organization}",
                                        organization=selection.organization)


def _posts(selection: Selection, codes: list[str] | None = None) -> str:
    chosen = stood_for(selection, codes) if codes is not None else None
    names = [post_name(p) for p in selection.named_posts
             if chosen is None or p["code"] in chosen]
    return "、".join(names) or "—"


def _month(value: Any) -> str:
    try:
        d = date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return "—"
    return i18n.format_month(d)


# ---------------------------------------------------------------- 综合评议报告
def _current_sheets(session: Session, candidate_id: uuid.UUID) -> list[ScoreSheet]:
    latest: dict[uuid.UUID, ScoreSheet] = {}
    for sh in session.exec(select(ScoreSheet).where(ScoreSheet.candidate_id == candidate_id)
                           .order_by(ScoreSheet.version)):
        latest[sh.judge_id] = sh
    return sorted(latest.values(), key=lambda sh: str(sh.judge_id))


def _judge_names(session: Session, selection: Selection, viewer: User) -> dict[uuid.UUID, str]:
    """The panel in its order: by name for an admin, 评委1…N for anyone else."""
    panel = review.panel_ids(session, selection.id)
    if ADMIN in viewer.roles:
        users = {u.id: u for u in session.exec(select(User).where(User.id.in_(panel)))}
        return {j: (users[j].full_name or users[j].username) if j in users else str(j)
                for j in panel}
    return {j: _("Judge {n}", n=n) for n, j in enumerate(panel, start=1)}


def _bar_chart(criteria: list[dict[str, Any]]) -> str:
    """Each criterion's mean as a share of its full marks: an inline SVG bar chart."""
    left, width, row, bar = 170, 420, 30, 18
    height = row * len(criteria) + 30
    e = html.escape
    parts = [f'<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 '
             f'{left + width + 70} {height}" aria-label="{e(_("Mean score per criterion"))}">']
    for i, c in enumerate(criteria):
        y = 10 + i * row
        share = (c["mean"] or 0) / c["max_score"] if c["max_score"] else 0
        parts.append(f'<text x="{left - 8}" y="{y + bar * .75:.1f}" text-anchor="end" '
                     f'font-size="13">{e(c["label"])}</text>'
                     f'<rect x="{left}" y="{y}" width="{width}" height="{bar}" fill="#eee"/>'
                     f'<rect x="{left}" y="{y}" width="{width * min(share, 1):.1f}" '
                     f'height="{bar}" fill="#b22"/>'
                     f'<text x="{left + width + 6}" y="{y + bar * .75:.1f}" font-size="13">'
                     f'{e(fmt(c["mean"]))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def evaluation_page(session: Session, candidate: Candidate, viewer: User, clock: Clock) -> str:
    """综合评议报告 of one candidate: the panel, each criterion's weight, mean and spread, the
    trimmed total, the rank, a chart, and the judges' comments (named for admins only)."""
    selection = session.get(Selection, candidate.selection_id)
    ev = review.evaluation(session, candidate)
    names = _judge_names(session, selection, viewer)
    sheets = _current_sheets(session, candidate.id) if ev.complete else []
    criteria = []
    for cr in review.settings_of(selection).interview_criteria:
        values = [sh.scores[cr.key] for sh in sheets if cr.key in sh.scores]
        criteria.append({"label": cr.label, "weight": cr.weight, "max_score": cr.max_score,
                         "mean": ev.criterion_means.get(cr.key),
                         "low": min(values) if values else None,
                         "high": max(values) if values else None,
                         "spread": round(max(values) - min(values), 2) if values else None})
    judges = [{"name": names.get(sh.judge_id, _("Judge")), "total": sh.total,
               "comment": sh.comment} for sh in sheets]
    recusals = [f"{names.get(r.user_id, _('Judge'))}："
                f"{i18n.label('ConflictKind', str(r.conflict))}"
                + (f"（{r.note}）" if r.note else "") for r in ev.recusals]
    ap = ev.interview
    interview = None if ap is None else {
        "position": ap.position,
        "segments": [{"label": sg.label, "began": i18n.format_datetime_local(sg.began_at),
                      "ended": i18n.format_datetime_local(sg.ended_at),
                      "seconds": sg.seconds} for sg in ap.segments],
        "questions": [{"judge": names.get(q.judge_id, _("Judge")), "question": q.question,
                       "answer": q.answer_summary} for q in ap.questions]}
    notes = [n for n in (reports.exception_note(ev.exception),
                         reports.correction_note(ev.corrections)) if n]
    return render(
        "evaluation.html", made=Made(clock.now, viewer), heading=_("Comprehensive evaluation report"),
        organization=selection.organization, selection_title=selection.title,
        record=record_hash(session, subject_id=candidate.id), ev=ev,
        posts=_posts(selection, candidate.post_codes),
        panel_size=len(names), criteria=criteria, chart=_bar_chart(criteria),
        judges=judges, recusals=recusals, notes=notes, interview=interview,
        signatures=[_("Head of the panel"), _("Recorder")], seal=_(OFFICE_SEAL))


# ---------------------------------------------------------------- 评分登记表
def score_sheet_page(session: Session, selection: Selection, viewer: User, clock: Clock, *,
                     candidate: Candidate | None = None) -> str:
    """评分登记表: blank (the criteria and weights of this selection, for a judge to fill in
    by hand), or filled: one sheet per judge of a candidate whose sheets are all in."""
    criteria = review.settings_of(selection).interview_criteria
    plan = session.exec(select(InterviewPlan).where(
        InterviewPlan.selection_id == selection.id)).first()
    interview_on = i18n.format_date_long(plan.held_on) if plan else ""
    sheets: list[dict[str, Any]] = []
    if candidate is None:
        sheets.append({"candidate": "", "judge": "", "total": None, "comment": "",
                       "rows": [{"label": c.label, "weight": c.weight,
                                 "max_score": c.max_score, "score": None} for c in criteria]})
    else:
        names = _judge_names(session, selection, viewer)
        for sh in _current_sheets(session, candidate.id):
            sheets.append({"candidate": candidate.full_name,
                           "judge": names.get(sh.judge_id, _("Judge")), "total": sh.total,
                           "comment": sh.comment,
                           "rows": [{"label": c.label, "weight": c.weight,
                                     "max_score": c.max_score, "score": sh.scores.get(c.key)}
                                    for c in criteria]})
    return render(
        "score_sheet.html", made=Made(clock.now, viewer), heading=_("Score registration sheet"),
        organization=selection.organization, selection_title=selection.title,
        record=record_hash(session, subject_id=candidate.id) if candidate else
        record_hash(session, subject_id=selection.id),
        sheets=sheets, interview_on=interview_on)


# ---------------------------------------------------------------- the selection report
def report_page(session: Session, selection: Selection, viewer: User, clock: Clock) -> str:
    """The selection report, with the letterhead, the footer and the signatures."""
    rep = reports.report(session, selection, clock)
    return render(
        "report.html", made=Made(clock.now, viewer), heading=_("Selection report"),
        organization=selection.organization, selection_title=selection.title,
        record=record_hash(session, selection_id=selection.id),
        body=reports.report_body(rep), extra_css=reports.REPORT_CSS,
        signatures=[_("Made by"), _("Checked by"), _("Approved by")], seal=_(OFFICE_SEAL))


# ---------------------------------------------------------------- 公示 and 任前公示
def _requirements(selection: Selection) -> list[str]:
    r = selection.job_description.get("requirements") or {}
    out = []
    if r.get("min_education"):
        out.append(_("Education: {level} or above",
                     level=i18n.label("EducationLevel", r["min_education"])))
    if r.get("min_party_years") is not None:
        out.append(_("Party membership: at least {years} years", years=fmt(r["min_party_years"])))
    if r.get("max_age") is not None:
        out.append(_("Age: at most {years}", years=r["max_age"]))
    if r.get("min_work_years") is not None:
        out.append(_("Work: at least {years} years", years=fmt(r["min_work_years"])))
    return out


def announcement_page(session: Session, selection: Selection, settings: Settings,
                      clock: Clock, how_to_apply: str) -> str:
    """The public announcement of the post (公示): the job description and how to apply."""
    jd = selection.job_description
    reference = selections.eligibility_reference(selection)[0] or selection.publicity_end_on
    sections = [
        {"heading": _("Posts"), "entries": [_("{post} ({count})", post=post_name(p),
                                             count=p.get("count", 1))
                                          for p in selection.named_posts]},
        {"heading": _("Duties"), "entries": jd.get("duties") or []},
        {"heading": _("Requirements"), "entries": _requirements(selection) + [
            j.get("description") or i18n.label("JudgedItem", j.get("key"))
            for j in jd.get("judged_requirements") or []],
         "text": jd.get("experience") or ""},
        {"heading": _("How to apply"), "text": how_to_apply},
        {"heading": _("Publicity period"), "fields": [
            (_("From"), i18n.format_date_long(selection.publicity_start_on)),
            (_("To"), i18n.format_date_long(selection.publicity_end_on)),
            (_("Eligibility judged as of"), i18n.format_date_long(reference))]},
        {"heading": _("Contact"), "text": office_contact(selection, settings)},
    ]
    return render("notice.html", made=Made(clock.now, None), heading=_("Announcement of the post"),
                  organization=selection.organization, selection_title=selection.title,
                  record=record_hash(session, subject_id=selection.id), sections=sections,
                  intro=None, signatures=[], seal=_(OFFICE_SEAL))


def appointment_notice_page(session: Session, candidate: Candidate, settings: Settings,
                            clock: Clock) -> str:
    """任前公示 of one appointment in its publicity: the facts a real notice carries."""
    selection = session.get(Selection, candidate.selection_id)
    a, p = candidate.appointment or {}, candidate.profile or {}
    start, end = (date.fromisoformat(str(a["publicity_start_on"])),
                  date.fromisoformat(str(a["publicity_end_on"])))
    current = " ".join(x for x in (p.get("unit"), p.get("current_post")) if x) or "—"
    fields = [
        (_("Name"), candidate.full_name),
        (_("Gender"), i18n.label("Gender", p.get("gender")) or "—"),
        (_("Born"), _month(p.get("birth_date") or p.get("birth_month"))),
        (_("Education"), i18n.label("EducationLevel", p.get("education")) or "—"),
        (_("Party member since"), _month(p.get("party_joined_on"))),
        (_("Current post"), current),
        (_("Proposed post"), a.get("proposed_post") or "—"),
    ]
    sections = [
        {"heading": _("The person proposed"), "fields": fields},
        {"heading": _("Publicity period"), "fields": [
            (_("From"), i18n.format_date_long(start)), (_("To"), i18n.format_date_long(end))]},
        {"heading": _("How to object"), "text": _(
            "Anyone who knows of a matter that bears on the appointment may report it to the"
            " organization department during the publicity period, in person, by telephone or"
            " in writing, under their own name or not; a report under one's own name is"
            " answered. Contact: {contact}.", contact=office_contact(selection, settings))},
    ]
    return render("notice.html", made=Made(clock.now, None),
                  heading=_("Notice before appointment"), organization=selection.organization,
                  selection_title=selection.title,
                  record=record_hash(session, subject_id=candidate.id), sections=sections,
                  intro=_("After the open selection, the party committee proposes to appoint the"
                          " comrade below. The appointment is made known to the public"
                          " beforehand:"), signatures=[], seal=_(OFFICE_SEAL))
