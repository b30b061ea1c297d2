"""Reports and exports of one selection (报告与导出): the funnel, the states and outcomes, the
ranking and the committee's record as JSON and as a printable page; the candidate table as
CSV and XLSX for HR systems.

**Gates** are defined in service/reports/gates.py.

**Privacy.** Exports follow the listings (`CandidateSummary`), not the whole record
(`CandidateDetail`): the work profile only — no birth date, phone, email, nominators' reasons
or groundwork — and the national ID masked to its first 3 and last 4 characters, enough for
HR to match a record, not to reconstruct it. They are for admins alone.

**Queries.** A report reads a fixed number of queries whatever the number of candidates:
candidates, the exit events, nominations, committee meetings, the ranking's own six, and the
flags (passes by exception and corrections) again for the candidates outside the ranking.
"""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from sqlmodel import Session, select

from ..core import i18n
from ..core.clock import Clock
from ..core.i18n import _
from ..nomination.models import Candidate, Nomination
from ..record.models import Event
from ..review import service as review
from ..review.models import CommitteeMeeting
from ..review.schemas import Outcome, Ranking
from ..selection.models import Selection
from ..workflow.table import CANDIDATE_STATES
from .gates import GATE_INDEX, GATES, LEFT, WAITING, Gate, gate_of
from .schemas import (
    FunnelStage,
    OutcomeCount,
    ReportDecision,
    ReportGate,
    ReportMeeting,
    ReportRecusal,
    SelectionReport,
    StateCount,
)


# ---------------------------------------------------------------- loading, in fixed queries
@dataclass
class _Data:
    selection: Selection
    candidates: list[Candidate]
    left_from: dict[uuid.UUID, str]
    nominations: dict[uuid.UUID, list[Nomination]]
    meetings: list[CommitteeMeeting]
    ranking: Ranking
    flags: tuple[dict, dict] = ({}, {})  # passes by exception (破格), corrected scores (更正)
    decision_of: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)

    def gate(self, c: Candidate) -> tuple[Gate | None, str | None]:
        return gate_of(c.state, self.left_from.get(c.id))


def _load(session: Session, selection: Selection) -> _Data:
    """Everything a report or an export shows, in a fixed number of queries."""
    cands = list(session.exec(select(Candidate).where(Candidate.selection_id == selection.id)
                              .order_by(Candidate.created_at, Candidate.id)))
    left_from: dict[uuid.UUID, str] = {}
    by_id = {c.id: c for c in cands}
    for subject_id, from_state, to_state in session.exec(
            select(Event.subject_id, Event.from_state, Event.to_state).where(
                Event.selection_id == selection.id, Event.subject_type == "candidate",
                Event.to_state.in_(tuple(LEFT)),  # type: ignore[union-attr]
                Event.from_state.in_(tuple(WAITING)))  # type: ignore[union-attr]
            .order_by(Event.seq)):
        c = by_id.get(subject_id)
        if c is not None and c.state == to_state:
            left_from[c.id] = from_state
    noms: dict[uuid.UUID, list[Nomination]] = {c.id: [] for c in cands}
    for n in session.exec(select(Nomination).where(Nomination.selection_id == selection.id)
                          .order_by(Nomination.created_at, Nomination.id)):
        noms.setdefault(n.candidate_id, []).append(n)
    meetings = list(session.exec(select(CommitteeMeeting).where(
        CommitteeMeeting.selection_id == selection.id).order_by(CommitteeMeeting.created_at,
                                                                CommitteeMeeting.id)))
    data = _Data(selection, cands, left_from, noms, meetings, review.ranking(session, selection),
                 review.flags(session, selection.id))
    for m in meetings:  # the latest meeting's decision on a candidate stands
        for d in m.decisions:
            data.decision_of[uuid.UUID(str(d["candidate_id"]))] = d
    return data


# ---------------------------------------------------------------- the report
def _funnel(data: _Data) -> list[FunnelStage]:
    where: Counter[tuple[int, str]] = Counter()
    for c in data.candidates:
        gate, fate = data.gate(c)
        if gate is not None:
            where[(GATE_INDEX[gate.name], fate)] += 1
    stages = []
    for i, g in enumerate(GATES):
        beyond = sum(n for (j, _), n in where.items() if j > i)
        here = {fate: n for (j, fate), n in where.items() if j == i}
        stages.append(FunnelStage(
            gate=ReportGate(g.name), label=g.label(), entered=beyond + sum(here.values()),
            pending=here.get("pending", 0), passed=beyond + here.get("passed", 0),
            failed=here.get("failed", 0), withdrew=here.get("withdrew", 0),
            reserve=here.get("reserve", 0)))
    return stages


def _meetings(data: _Data) -> list[ReportMeeting]:
    names = {c.id: c.full_name for c in data.candidates}
    out = []
    for m in data.meetings:
        out.append(ReportMeeting(
            id=m.id, held_on=m.held_on, members_due=len(m.members_due),
            members_present=len(m.present), minutes=m.minutes, created_at=m.created_at,
            recusals=[ReportRecusal(member_id=r["member_id"], candidate_id=r["candidate_id"],
                                    full_name=names.get(uuid.UUID(str(r["candidate_id"]))),
                                    reason=r.get("reason") or "") for r in m.recusals],
            decisions=[ReportDecision(
                candidate_id=d["candidate_id"],
                full_name=names.get(uuid.UUID(str(d["candidate_id"]))),
                votes_for=d["votes_for"], votes_against=d["votes_against"],
                abstentions=d["abstentions"], members_voting=d.get("members_voting"),
                outcome=d["outcome"], reason=d.get("reason") or None) for d in m.decisions]))
    return out


def report(session: Session, selection: Selection, clock: Clock) -> SelectionReport:
    """The selection's report, labelled in the request's language."""
    data = _load(session, selection)
    states = Counter(c.state for c in data.candidates)
    outcomes = Counter(d["outcome"] for d in data.decision_of.values())
    return SelectionReport(
        selection_id=selection.id, title=selection.title, organization=selection.organization,
        posts=selection.posts, state=selection.state, language=i18n.current(),
        generated_at=clock.now, candidates=len(data.candidates), funnel=_funnel(data),
        states=[StateCount(state=s.name, count=states[s.name]) for s in CANDIDATE_STATES
                if states[s.name]],
        outcomes=[OutcomeCount(outcome=o, count=outcomes[o]) for o in Outcome
                  if outcomes[o]],
        ranking=data.ranking, meetings=_meetings(data))


# ---------------------------------------------------------------- the printable page
REPORT_CSS = """
.meta{color:#555}.legend span{display:inline-block;margin-right:1.2em}
.sw{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
h3{font-size:11.5pt;margin:1em 0 .3em}.meeting{break-inside:avoid}
th,.sw,svg{-webkit-print-color-adjust:exact;print-color-adjust:exact}
"""
_SEGMENTS = (("passed", "#2e7d32", "Passed"), ("reserve", "#f9a825", "Reserve"),
             ("pending", "#90a4ae", "Pending"), ("failed", "#c62828", "Failed"),
             ("withdrew", "#6d4c41", "Withdrew"))


def _svg_funnel(stages: list[FunnelStage]) -> str:
    """The funnel as an inline SVG bar chart: one stacked bar per gate, as long as the number
    who entered it, split by what became of them."""
    e = html.escape
    left, width, row, bar = 150, 520, 34, 22
    top = max((s.entered for s in stages), default=0) or 1
    height = row * len(stages) + 10
    parts = [f'<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="0 0 {left + width + 60} {height}" '
             f'aria-label="{e(_("Candidate funnel"))}">']
    for i, s in enumerate(stages):
        y = 5 + i * row
        parts.append(f'<text x="{left - 8}" y="{y + bar * .72:.1f}" text-anchor="end" '
                     f'font-size="13">{e(s.label)}</text>')
        x = float(left)
        for key, colour, what in _SEGMENTS:
            n = getattr(s, key)
            if not n:
                continue
            w = width * n / top
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" '
                         f'fill="{colour}"><title>{e(s.label)} · {e(_(what))}: {n}'
                         f'</title></rect>')
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + bar * .72:.1f}" font-size="13">'
                     f'{s.entered}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _table(headers: list[str], rows: Iterable[list[Any]], numeric: set[int] = frozenset()
           ) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(
        f'<td class="n">{e(_fmt(v))}</td>' if i in numeric else f"<td>{e(_fmt(v))}</td>"
        for i, v in enumerate(r)) + "</tr>" for r in rows)
    empty = f'<tr><td colspan="{len(headers)}">—</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body or empty}</tbody></table>"


def exception_note(flag: Any) -> str | None:
    """破格, with the requirements excepted and the reason, in the request's language."""
    if flag is None:
        return None
    return _("Exception (破格; {requirements}): {reason}",
             requirements=[i18n.label("requirement", r) for r in flag.requirements],
             reason=flag.reason)


def correction_note(corrections: list[Any]) -> str | None:
    """更正, with each correction's reason, in the request's language."""
    if not corrections:
        return None
    return _("Score corrected ({count}): {reasons}", count=len(corrections),
             reasons="；".join(c.reason for c in corrections))


def _notes(entry: Any) -> str | None:
    notes = [n for n in (exception_note(entry.exception), correction_note(entry.corrections))
             if n]
    return "；".join(notes) or None


def report_body(rep: SelectionReport) -> str:
    """The report's sections for the printable page (service/reports/pages.py): an inline
    SVG chart, tables, no script and no external asset; every text from users escaped."""
    e = html.escape
    legend = "".join(f'<span><i class="sw" style="background:{c}"></i>{e(_(what))}</span>'
                     for _key, c, what in _SEGMENTS)
    funnel = _table([_("Gate"), _("Entered"), _("Passed"),
                     _("Reserve"), _("Pending"), _("Failed"),
                     _("Withdrew")],
                    ([s.label, s.entered, s.passed, s.reserve, s.pending, s.failed, s.withdrew]
                     for s in rep.funnel), numeric={1, 2, 3, 4, 5, 6})
    states = _table([_("State"), _("Candidates")],
                    ([s.state_label, s.count] for s in rep.states), numeric={1})
    outcomes = _table([_("Committee outcome"), _("Candidates")],
                      ([o.outcome_label, o.count] for o in rep.outcomes), numeric={1})
    ranking = _table([_("Rank"), _("Name"), _("State"),
                      _("Score"), _("Tie-break"),
                      _("Within ratio"), _("Notes")],
                     ([r.rank, r.full_name, r.state_label, r.score, r.tie_break,
                       r.within_ratio, _notes(r)] for r in rep.ranking.entries),
                     numeric={0, 3, 4})
    meetings = []
    for m in rep.meetings:
        decisions = _table([_("Name"), _("For"), _("Against"),
                            _("Abstained"), _("Voting"),
                            _("Outcome"), _("Reason")],
                           ([d.full_name, d.votes_for, d.votes_against, d.abstentions,
                             d.members_voting, d.outcome_label, d.reason]
                            for d in m.decisions), numeric={1, 2, 3, 4})
        recusals = "".join(f"<li>{e(r.full_name or str(r.candidate_id))}：{e(r.reason)}</li>"
                           for r in m.recusals) or f"<li>{e(_('none'))}</li>"
        meetings.append(
            f'<div class="meeting"><h3>{e(_("Meeting of {day}", day=m.held_on))}'
            f'</h3><p>{e(_("Members due"))} {m.members_due}，'
            f'{e(_("present"))} {m.members_present}</p>{decisions}'
            f'<p>{e(_("Recusals"))}：</p><ul>{recusals}</ul>'
            f'<p>{e(_("Minutes"))}：{e(m.minutes) or "—"}</p></div>')
    generated = i18n.format_datetime_local(rep.generated_at)
    return f"""<p class="meta">{e(_("Organization"))}：{e(rep.organization)} ·
{e(_("Posts"))}：{rep.posts} · {e(_("State"))}：{e(rep.state_label or rep.state)}
· {e(_("Candidates in all"))}：{rep.candidates} · {e(_("Generated"))}：{generated}</p>
<h2>{e(_("Candidate funnel"))}</h2>
{_svg_funnel(rep.funnel)}
<p class="legend">{legend}</p>
{funnel}
<h2>{e(_("Candidates by state"))}</h2>{states}
<h2>{e(_("Committee outcomes"))}</h2>{outcomes}
<h2>{e(_("Interview ranking"))}</h2>
<p class="meta">{e(_("Cut-off"))}：{rep.ranking.cutoff} ·
{e(_("Tie rule"))}：{e(rep.ranking.tie_rule)}</p>{ranking}
<h2>{e(_("The committee's record"))}</h2>
{"".join(meetings) or "<p>—</p>"}
"""


# ---------------------------------------------------------------- the candidate table
@dataclass(frozen=True)
class Column:
    """A column of the candidate table: a stable key (its header is the key's `column`
    label in the catalogue), its kind, its width."""

    key: str
    kind: str = "text"  # text, number, integer, date, datetime
    width: int = 14

    def header(self) -> str:
        """The header in the request's language (the catalogue's `column` labels)."""
        return i18n.label("column", self.key) or self.key


COLUMNS: tuple[Column, ...] = (
    Column("id", width=38),
    Column("full_name", width=12),
    Column("state", width=14),
    Column("state_label", width=22),
    Column("gate", width=12),
    Column("gate_label", width=16),
    Column("gender", width=8),
    Column("education", width=14),
    Column("party_joined_on", "date", 13),
    Column("work_started_on", "date", 13),
    Column("unit", width=24),
    Column("current_post", width=20),
    Column("nominated_by", width=36),
    Column("eligible", width=10),
    Column("national_id_masked", width=22),
    Column("prereview_exception", width=30),
    Column("interview_score", "number", 10),
    Column("score_corrected", width=30),
    Column("rank", "integer", 10),
    Column("outcome", width=14),
    Column("outcome_label", width=14),
    Column("created_at", "datetime", 20),
)

def mask_national_id(value: str | None) -> str | None:
    """The first 3 and last 4 characters of an ID number, the rest starred."""
    if not value:
        return None
    return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:] if len(value) > 7 \
        else "*" * len(value)


def _date(v: Any) -> date | None:
    if not v:
        return None
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        return None


def _rows(data: _Data) -> list[dict[str, Any]]:
    """One dict per candidate, oldest first, keyed by the columns' keys."""
    scores = {e.candidate_id: e for e in data.ranking.entries}
    exceptions, corrected = data.flags
    out = []
    for c in data.candidates:
        p: dict[str, Any] = c.profile or {}
        gate, _how = data.gate(c)
        entry = scores.get(c.id)
        decision = data.decision_of.get(c.id)
        outcome = decision["outcome"] if decision else None
        nominated = "；".join(
            i18n.label("NominationKind", n.kind)
            + (_(" ({name})", name=n.body_name) if n.body_name else "")
            for n in data.nominations.get(c.id, []))
        edu = p.get("education")
        out.append({
            "id": str(c.id), "full_name": c.full_name, "state": c.state,
            "state_label": i18n.state_label("candidate", c.state),
            "gate": gate.name if gate else None, "gate_label": gate.label() if gate else None,
            "gender": i18n.label("Gender", p.get("gender")),
            "education": i18n.label("EducationLevel", edu) if edu else None,
            "party_joined_on": _date(p.get("party_joined_on")),
            "work_started_on": _date(p.get("work_started_on")),
            "unit": p.get("unit"), "current_post": p.get("current_post") or None,
            "nominated_by": nominated or None,
            "eligible": None if c.eligible is None else
            _("eligible") if c.eligible else _("not eligible"),
            "national_id_masked": mask_national_id(p.get("national_id")),
            "prereview_exception": exception_note(exceptions.get(c.id)),
            "interview_score": entry.score if entry else None,
            "score_corrected": correction_note(corrected.get(c.id, [])),
            "rank": entry.rank if entry else None,
            "outcome": outcome, "outcome_label": i18n.outcome_label(outcome),
            "created_at": c.created_at,
        })
    return out


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(text: str) -> str:
    """A text cell that a spreadsheet will not run as a formula (CSV/formula injection,
    OWASP): one starting with = + - @ or a tab/CR gets a leading apostrophe."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_cell(col: Column, v: Any) -> str:
    if v is None:
        return ""
    if col.kind == "number":
        return f"{v:g}"
    if col.kind == "integer":
        return str(int(v))
    if col.kind == "date":
        return v.isoformat()
    if col.kind == "datetime":
        return local_time(v).isoformat(timespec="seconds")
    return defuse(str(v))


def local_time(v: datetime) -> datetime:
    """A moment in the selection's time zone (the setting `time_zone`, Asia/Shanghai by
    default), as the table writes it: with its offset, e.g. 2026-09-30T10:15:00+08:00."""
    return (v if v.tzinfo else v.replace(tzinfo=UTC)).astimezone(i18n.time_zone())


def _offset(v: datetime) -> str:
    """+08:00 for a moment in China: the offset an XLSX time cell shows beside the time."""
    off = v.strftime("%z")
    return f"{off[:3]}:{off[3:]}" if off else "Z"


def header_row(header: str) -> list[str]:
    """The header: the columns' stable keys, or their labels in the request's language."""
    return [c.key if header == "key" else c.header() for c in COLUMNS]


def candidates_csv(session: Session, selection: Selection, *, header: str = "label") -> bytes:
    """The candidate table as CSV (RFC 4180, CRLF), UTF-8 with a BOM so that Excel reads
    Chinese correctly."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header_row(header))
    for row in _rows(_load(session, selection)):
        w.writerow([_csv_cell(c, row[c.key]) for c in COLUMNS])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what XML 1.0 cannot hold


def candidates_xlsx(session: Session, selection: Selection, *, header: str = "label") -> bytes:
    """The candidate table as an XLSX workbook: a frozen, bold header row, typed cells
    (numbers as numbers, dates as dates), and a second sheet with the funnel."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    data = _load(session, selection)
    wb = Workbook()
    ws = wb.active
    ws.title = _("Candidate list")
    bold = Font(bold=True)
    ws.append(header_row(header))
    for cell in ws[1]:
        cell.font = bold
    formats = {"number": "0.00", "integer": "0", "date": "yyyy-mm-dd",
               "datetime": "yyyy-mm-dd hh:mm:ss"}
    for r, row in enumerate(_rows(data), start=2):
        for k, col in enumerate(COLUMNS, start=1):
            v = row[col.key]
            if v is None:
                continue
            cell = ws.cell(row=r, column=k)
            if col.kind == "datetime":
                # a spreadsheet's time has no zone: the local time, its offset in the format
                local = local_time(v)
                cell.value = local.replace(tzinfo=None, microsecond=0)
            elif col.kind in ("number", "integer", "date"):
                cell.value = v
            else:
                # a text cell stays text: never a formula, whatever it starts with
                cell.value = _ILLEGAL.sub("", str(v))
                cell.data_type = "s"
                if cell.value.startswith(_FORMULA_START):
                    cell.quotePrefix = True
            if col.kind == "datetime":
                cell.number_format = f'{formats["datetime"]}"{_offset(local)}"'
            elif col.kind in formats:
                cell.number_format = formats[col.kind]
    for k, col in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(k)].width = col.width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(ws.max_row, 1)}"

    fs = wb.create_sheet(_("Funnel"))
    heads = [("gate", "Gate code"), ("label", "Gate"), ("entered", "Entered"),
             ("passed", "Passed"), ("reserve", "Reserve"), ("pending", "Pending"),
             ("failed", "Failed"), ("withdrew", "Withdrew")]
    fs.append([k if header == "key" else _(en) for k, en in heads])
    for cell in fs[1]:
        cell.font = bold
    for s in _funnel(data):
        fs.append([s.gate.value, s.label, s.entered, s.passed, s.reserve, s.pending, s.failed,
                   s.withdrew])
    for k, width in enumerate((12, 18, 9, 9, 9, 9, 9, 9), start=1):
        fs.column_dimensions[get_column_letter(k)].width = width
    fs.freeze_panes = "A2"
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "bar", "stacked", 100
    chart.title = _("Candidate funnel")
    chart.y_axis.title = _("Candidates")
    chart.add_data(Reference(fs, min_col=4, max_col=8, min_row=1, max_row=len(GATES) + 1),
                   titles_from_data=True)
    chart.set_categories(Reference(fs, min_col=2, min_row=2, max_row=len(GATES) + 1))
    chart.x_axis.scaling.orientation = "maxMin"  # the first gate on top
    chart.height, chart.width = 8, 18
    fs.add_chart(chart, "J2")

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- file names
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|;]+')


# Clients that save a download under `filename` alone, read as UTF-8: curl -OJ ignores
# `filename*`, so an ASCII `filename` made it save the ASCII stand-in.
_FILENAME_ONLY_CLIENTS = ("curl/", "Wget/")


def content_disposition(selection: Selection, what_en: str, ext: str, *,
                        user_agent: str = "") -> str:
    """`attachment` naming the file by the selection's title, e.g.
    第一党支部书记公开选拔-候选人名单.csv, in `filename*` (RFC 6266, RFC 8187), which browsers
    read first; `filename` holds an ASCII stand-in (selection-<id>-<what>) for other clients,
    and the UTF-8 name itself for curl and wget, which save what `filename` says."""
    fallback = f"selection-{selection.id}-{what_en.lower().replace(' ', '-')}"
    name = _UNSAFE.sub("_", f"{selection.title}-{_(what_en)}").strip(" ._") or fallback
    plain = (f"{name}.{ext}".encode().decode("latin-1")  # the header's bytes: UTF-8
             if user_agent.startswith(_FILENAME_ONLY_CLIENTS) else f"{fallback}.{ext}")
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(f'{name}.{ext}', safe='')}"
