"""The gates of the funnel (关口), shared by the report and the candidate listing's filter.

A candidate's gate is the one they are at, or the last one they reached:

| gate | waiting there | ended there |
|---|---|---|
| `nomination` 推荐报名 | `nominated` | `declined`; `withdrawn` from `nominated` |
| `prereview` 资格预审 | `applicant` | `not_qualified` / `withdrawn` from `applicant` |
| `interview` 面议评审 | `qualified` | `not_qualified` / `withdrawn` from `qualified` |
| `inspection` 组织考察 | `shortlisted` | `not_qualified` / `withdrawn` from `shortlisted` |
| `decision` 党委会审核 | `inspected` | `reserve`; `not_qualified` / `withdrawn` from `inspected` |
| `followup` 后期跟进 | `appointed`, `on_trial` | `confirmed`, `revoked`, `dismissed` |

`not_qualified` and `withdrawn` are reached from several gates; the one is read from the
record: the `from_state` of the event that moved the candidate into that state. (A candidate
with no such event — only rows written outside the service — has no gate.)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, or_

from ..core import i18n
from ..nomination.models import Candidate
from ..record.models import Event
from ..workflow.table import CANDIDATE_STATES
from .schemas import ReportGate


@dataclass(frozen=True)
class Gate:
    """A gate of the funnel: the states waiting at it and the states that end there."""

    name: str
    label_zh: str
    label_en: str
    waiting: tuple[str, ...]
    failed: tuple[str, ...] = ()  # ended there for certain
    reserve: tuple[str, ...] = ()
    passed: tuple[str, ...] = ()  # the last gate only: through it

    def label(self) -> str:
        return i18n.label("ReportGate", self.name) or self.name


GATES: tuple[Gate, ...] = (
    Gate("nomination", "推荐报名", "Nomination", ("nominated",), failed=("declined",)),
    Gate("prereview", "资格预审", "Qualification pre-review", ("applicant",)),
    Gate("interview", "面议评审", "Interview review", ("qualified",)),
    Gate("inspection", "组织考察", "Organizational inspection", ("shortlisted",)),
    Gate("decision", "党委会审核", "Party committee decision", ("inspected",),
         reserve=("reserve",)),
    Gate("followup", "后期跟进", "Follow-up", ("appointed", "on_trial"),
         failed=("revoked", "dismissed", "not_elected", "not_approved"),
         passed=("confirmed",)),
)
GATE_INDEX = {g.name: i for i, g in enumerate(GATES)}
assert [g.name for g in GATES] == [g.value for g in ReportGate]
# The states reached from several gates: the gate is the transition's from_state's.
LEFT = {"not_qualified": "failed", "withdrawn": "withdrew"}
WAITING = {s: g for g in GATES for s in g.waiting}
_FIXED = {s: (g, fate) for g in GATES for fate, states in (
    ("pending", g.waiting), ("failed", g.failed), ("reserve", g.reserve),
    ("passed", g.passed)) for s in states}
assert set(_FIXED) | set(LEFT) == {s.name for s in CANDIDATE_STATES}


def gate_of(state: str, left_from: str | None) -> tuple[Gate | None, str | None]:
    """The candidate's gate and their fate there (pending, passed, failed, withdrew,
    reserve); `left_from` is the from_state of the move into not_qualified or withdrawn."""
    if state in _FIXED:
        return _FIXED[state]
    gate = WAITING.get(left_from or "")
    return (gate, LEFT[state]) if gate else (None, None)


def gate_condition(gate: str):
    """A WHERE clause: the candidate's gate is `gate` (the same rule as gate_of)."""
    g = GATES[GATE_INDEX[gate]]
    fixed = [s for s, (gg, _) in _FIXED.items() if gg is g]
    left = exists().where(Event.subject_type == "candidate", Event.subject_id == Candidate.id,
                          Event.to_state == Candidate.state,
                          Event.from_state.in_(g.waiting))  # type: ignore[union-attr]
    return or_(Candidate.state.in_(fixed),  # type: ignore[attr-defined]
               Candidate.state.in_(tuple(LEFT)) & left)  # type: ignore[attr-defined]
