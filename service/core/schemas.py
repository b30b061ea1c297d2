"""Request and response models shared by every step: the text and date types, the strict
request base, state and outcome labels, the workflow's description, calendar and clock."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..workflow.roles import ROLES
from ..workflow.table import MACHINES
from . import examples as ex
from . import i18n

# Request bodies are judged as the OpenAPI document states them: the limits apply to the text
# as sent, a required text must hold a character that stripping keeps (NOT_BLANK), and only
# then is it stored without its surrounding whitespace. No text holds NUL (NO_NUL): PostgreSQL
# cannot store it, so no database is given it. Numbers, booleans and dates are taken only in
# their JSON types: no 0 for false, no "5" for 5, no integer timestamps for dates.

# Exactly what str.strip() removes (the characters for which str.isspace() is true): ASCII
# whitespace, the separators U+001C-U+001F, NEL, no-break and other Unicode spaces, line and
# paragraph separators. Written with \uXXXX escapes, which JSON Schema (ECMA-262), pydantic's
# Rust regex and Python's re all read alike. tests/core/test_text_types.py holds the list to
# str.isspace() over every code point.
STRIPPED_SPACE = (r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029"
                  r"\u202f\u205f\u3000")
NO_NUL = r"^[^\u0000]*$"
# Leading whitespace, then one character stripping keeps, then anything but NUL. The first
# two classes are disjoint, so matching is linear in every engine.
NOT_BLANK = rf"^[{STRIPPED_SPACE}]*[^\u0000{STRIPPED_SPACE}][^\u0000]*$"
# An email address as far as a pattern can tell: no whitespace, no control characters, one @.
# Spelled out rather than `\s`, which means different characters in ECMA-262, Rust and Python.
_ADDRESS_CHAR = (r"[^@\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f"
                 r"\u3000\ufeff]")
EMAIL = rf"^{_ADDRESS_CHAR}+@{_ADDRESS_CHAR}+$"
EMAIL_WITH_DOMAIN = rf"^{_ADDRESS_CHAR}+@{_ADDRESS_CHAR}+\.{_ADDRESS_CHAR}+$"


class FieldName(str):
    """A field named in a validator's message: read as its name in the reader's language with
    its JSON path beside it (出生日期（body.nominee.birth_date）), like the field of any error."""


def invalid(code: str, message: str, /, *, beside: bool = False,
            **params: Any) -> PydanticCustomError:
    """A validator's refusal, for a person: `code` is the field error's stable `type`,
    `message` the English sentence with `{name}` placeholders, the catalogue's msgid (the
    answer is in the reader's language, service/core/errors.py). Fields it names are given as
    `FieldName`s: children of the object refused, or, with `beside`, of the field's own parent
    (a field validator naming the fields beside it)."""
    return PydanticCustomError(code, message,
                               {**params, "_msgid": message, "_beside": beside})


def _strip(value: str) -> str:
    return value.strip()


def Stripped(max_length: int, *, min_length: int = 0) -> Any:  # noqa: N802
    """A text whose limits apply as sent and that is stored stripped, never holding NUL; with
    `min_length` ≥ 1 it must hold a character that stripping keeps, so it is never stored
    empty."""
    return Annotated[str, StringConstraints(min_length=min_length or None,
                                            max_length=max_length,
                                            pattern=NOT_BLANK if min_length else NO_NUL),
                     AfterValidator(_strip)]


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso(pattern: re.Pattern[str], what: str):
    def check(value: Any) -> Any:
        if isinstance(value, (date, datetime)):
            return value
        if not isinstance(value, str) or not pattern.match(value):
            if what == "date":
                raise invalid("date_parsing", "must be an ISO 8601 date, e.g. {example}",
                              example="2026-09-30")
            raise invalid("datetime_parsing", "must be an ISO 8601 date and time, e.g. {example}",
                          example="2026-09-30T09:00:00+08:00")
        return value
    return check


def _json_integer(value: Any) -> Any:
    """JSON's integers: 5 and 5.0 (JSON Schema counts 5.0 as an integer), never "5" or true."""
    if isinstance(value, (bool, str)):
        raise invalid("int_type", "must be a JSON integer")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _json_number(value: Any) -> Any:
    if isinstance(value, (bool, str)):
        raise invalid("float_type", "must be a JSON number")
    return value


# Dates (also in query strings and paths) only as ISO 8601 text, never a Unix timestamp.
IsoDate = Annotated[date, BeforeValidator(_iso(_ISO_DATE, "date"))]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso(_ISO_DATETIME, "date and time"))]
JsonInt = Annotated[int, BeforeValidator(_json_integer)]
JsonFloat = Annotated[float, BeforeValidator(_json_number)]

Text = Stripped(2000, min_length=1)
Name = Stripped(200, min_length=1)
Reason = Stripped(2000)
ShortText = Stripped(200)
LongText = Stripped(4000)


class Strict(BaseModel):
    """Request models refuse unknown fields, so a typo is an error and not a silent no-op."""

    model_config = ConfigDict(extra="forbid")


# A `json_schema_extra` key: the field is a JSON merge patch (RFC 7396) of the named model; the
# OpenAPI document gives it a schema of its own (every key optional, null to remove it).
MERGE_PATCH_OF = "x-merge-patch-of"


class Sparse(BaseModel):
    """A response object read from a stored record whose keys vary (an older record, a part
    left out for this reader): the document names each key and its type, and the answer sends
    the keys the record holds, as before, and no others."""

    @model_serializer(mode="wrap")
    def _only_held(self, handler):
        data = handler(self)
        return {k: v for k, v in data.items() if k in self.model_fields_set}


LABEL_DOC = "in the language asked for by Accept-Language (zh-CN by default, or en)"


class StateLabelled(BaseModel):
    """A response with a `state` of one machine, labelled in the request's language."""

    _machine: ClassVar[str]
    state_label: str | None = Field(default=None, description="The state's label, " + LABEL_DOC)

    @model_validator(mode="after")
    def _label_state(self):
        self.state_label = i18n.state_label(self._machine, getattr(self, "state", None))
        return self


class SelectionStateLabelled(StateLabelled):
    _machine: ClassVar[str] = "selection"


class CandidateStateLabelled(StateLabelled):
    _machine: ClassVar[str] = "candidate"


class OutcomeLabelled(BaseModel):
    """A response with an `outcome`, labelled in the request's language."""

    outcome_label: str | None = Field(default=None,
                                      description="The outcome's label, " + LABEL_DOC)

    @model_validator(mode="after")
    def _label_outcome(self):
        self.outcome_label = i18n.outcome_label(getattr(self, "outcome", None))
        return self

# ---------------------------------------------------------------- workflow description
class StateInfo(BaseModel):
    """One state of a machine, with its labels."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "name": "publicizing", "label": "公示与推荐", "label_zh": "公示与推荐",
        "label_en": "Publicity and nomination", "final": False}})

    name: SubjectState
    label: str = Field(description="The state's label, " + LABEL_DOC)
    label_zh: str
    label_en: str
    final: bool


class GuardInfo(BaseModel):
    """A guard of an action: its name and what it checks."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "name": "publicity_ended", "description": "The publicity period's end date has passed."}})

    name: str
    description: str


class TransitionInfo(BaseModel):
    """One action of a machine (a row of the transition table): from where to where, who may run
    it, its guards and the JSON Schema of its parameters."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "action": "close_nominations", "label": "截止推荐报名", "label_zh": "截止推荐报名",
        "label_en": "Close nominations", "from_states": ["publicizing"],
        "to_state": "reviewing", "roles": ["admin"],
        "guards": [{"name": "publicity_ended",
                    "description": "The publicity period's end date has passed."}],
        "reason_required": False,
        "params_schema": {"title": "NoParams", "type": "object", "properties": {}}}})

    action: WorkflowAction
    label: str = Field(description="The action's label, " + LABEL_DOC)
    label_zh: str
    label_en: str
    from_states: list[SubjectState]
    to_state: SubjectState
    roles: list[Role]
    guards: list[GuardInfo]
    reason_required: bool
    params_schema: dict[str, Any]


class MachineInfo(BaseModel):
    """One state machine (selection or candidate): its states, its actions and a Mermaid diagram."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "name": "selection", "initial": "drafting",
        "states": [{"name": "drafting", "label": "起草职务说明书", "label_zh": "起草职务说明书",
                    "label_en": "Drafting the job description", "final": False}],
        "actions": [{"action": "publish", "label": "发布公示", "label_zh": "发布公示",
                     "label_en": "Publish the post", "from_states": ["drafting"],
                     "to_state": "publicizing", "roles": ["admin"], "guards": [],
                     "reason_required": False, "params_schema": {"type": "object"}}],
        "mermaid": "stateDiagram-v2\n    [*] --> drafting\n    drafting --> publicizing : publish"}})

    name: MachineName
    initial: SubjectState
    states: list[StateInfo]
    actions: list[TransitionInfo]
    mermaid: str


class RoleInfo(BaseModel):
    """A role and its label."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "role": "admin", "label": "组织部门/党委工作人员", "label_zh": "组织部门/党委工作人员",
        "label_en": "Organization department staff"}})

    role: Role
    label: str = Field(description="The role's label, " + LABEL_DOC)
    label_zh: str
    label_en: str


class WorkflowInfo(BaseModel):
    """Both machines, generated from the transition table."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "machines": [{
            "name": "candidate", "initial": "nominated",
            "states": [{"name": "nominated", "label": "已被推荐（待本人同意）",
                        "label_zh": "已被推荐（待本人同意）",
                        "label_en": "Nominated (awaiting consent)", "final": False}],
            "actions": [{"action": "consent", "label": "本人同意参选",
                         "label_zh": "本人同意参选", "label_en": "Consent to stand",
                         "from_states": ["nominated"], "to_state": "applicant",
                         "roles": ["candidate", "admin"], "guards": [],
                         "reason_required": False, "params_schema": {"type": "object"}}],
            "mermaid": "stateDiagram-v2\n    [*] --> nominated\n    nominated --> applicant : consent"}],
        "roles": [{"role": "admin", "label": "组织部门/党委工作人员",
                   "label_zh": "组织部门/党委工作人员",
                   "label_en": "Organization department staff"}]}})

    machines: list[MachineInfo]
    roles: list[RoleInfo]

# ---------------------------------------------------------------- calendar and clock
class WorkingPeriod(BaseModel):
    """A span of Chinese working days."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "start_on": "2026-09-30", "first_counted_day": "2026-10-08", "end_on": "2026-10-13",
        "working_days": 5, "counts_start_day": False, "warnings": []}})

    start_on: date
    first_counted_day: date
    end_on: date
    working_days: int
    counts_start_day: bool
    warnings: list[str]


class OverrideSet(Strict):
    """Declare a day worked (make-up workday, 调休) or off (holiday)."""

    model_config = ConfigDict(json_schema_extra={"example": {"workday": False, "note": "元旦"}})

    workday: StrictBool
    note: ShortText = ""


class OverridePublic(BaseModel):
    """A day an administrator declared worked or off."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "day": "2027-01-01", "workday": False, "note": "元旦",
        "created_at": "2026-12-01T01:00:00Z"}})

    day: date
    workday: bool
    note: str
    created_at: datetime


class ClockSet(Strict):
    """Set the simulated clock (情景模拟) to a date (09:00 in China) or an exact time."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "minProperties": 1, "maxProperties": 1, "example": {"day": "2026-09-30"}})

    day: IsoDate = Field(default=None, description="The simulated date (09:00 China time);"
                         " from 1970-01-01 up to, not including, 9000-01-01")
    at: IsoDateTime = Field(default=None, description="The exact simulated time, with its"
                            " offset (RFC 3339), e.g. 2026-09-30T09:00:00+08:00; in UTC from"
                            " 1970-01-01 up to, not including, 9000-01-01")

    @model_validator(mode="after")
    def _one(self):
        if (self.day is None) == (self.at is None):
            raise invalid("one_of_day_or_at", "give exactly one of {day} or {at}",
                          day=FieldName("day"), at=FieldName("at"))
        if self.at is not None and self.at.tzinfo is None:
            raise invalid("timezone_aware", "{at} needs a time zone, e.g. {example}",
                          at=FieldName("at"), example="2026-09-30T09:00:00+08:00")
        return self


class ClockAdvance(Strict):
    """Move the simulated clock forward (to before 9000-01-01: beyond, 422
    `clock_out_of_range`)."""

    model_config = ConfigDict(json_schema_extra={"example": {"days": 14, "hours": 0}})

    days: JsonInt = Field(default=0, ge=0, le=3660)
    hours: JsonInt = Field(default=0, ge=0, le=24 * 366)


class ClockState(BaseModel):
    """The service's clock: real time, and the simulated one when simulation is on."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "simulated": True, "now": "2026-09-30T01:00:00Z", "today": "2026-09-30",
        "real_now": "2026-11-21T08:57:13Z"}})

    simulated: bool
    now: datetime
    today: date
    real_now: datetime


# ---------------------------------------------------------------- the workflow's vocabulary
# Enums made from the transition table, so that the document (and every client generated from
# it) knows each machine's states and actions, and the roles, as closed sets. Values are the
# table's identifiers; a new row of the table is a new member here.
def _vocabulary(name: str, values, doc: str) -> type[StrEnum]:
    members = list(dict.fromkeys(values))
    enum = StrEnum(name, {v: v for v in members})  # type: ignore[misc]
    enum.__doc__ = doc
    return ex.enum_example(members[0])(enum)


_BY_MACHINE = {m.name: m for m in MACHINES}
SelectionState = _vocabulary("SelectionState", (s.name for s in _BY_MACHINE["selection"].states),
                             "A state of the selection machine")
CandidateState = _vocabulary("CandidateState", (s.name for s in _BY_MACHINE["candidate"].states),
                             "A state of the candidate machine")
ObjectionState = _vocabulary("ObjectionState", (s.name for s in _BY_MACHINE["objection"].states),
                             "A state of the objection machine")
SubjectState = _vocabulary("SubjectState", (s.name for m in MACHINES for s in m.states),
                           "A state of any machine (selection, candidate, objection)")
SelectionAction = _vocabulary("SelectionAction",
                              (t.action for t in _BY_MACHINE["selection"].transitions),
                              "An action of the selection machine")
CandidateAction = _vocabulary("CandidateAction",
                              (t.action for t in _BY_MACHINE["candidate"].transitions),
                              "An action of the candidate machine")
ObjectionAction = _vocabulary("ObjectionAction",
                              (t.action for t in _BY_MACHINE["objection"].transitions),
                              "An action of the objection machine")
WorkflowAction = _vocabulary("WorkflowAction", (t.action for m in MACHINES for t in m.transitions),
                             "An action of any machine (selection, candidate, objection)")
MachineName = _vocabulary("MachineName", _BY_MACHINE, "A state machine of the workflow")
OutcomeName = _vocabulary("OutcomeName", i18n.OUTCOMES, "An outcome told to a candidate: the"
                          " committee's (appointed, reserve, not_qualified, postponed) or what"
                          " else ended or changed the candidacy")
Role = _vocabulary("Role", ROLES, "A role a user holds: admin (组织部门), nominator (推荐单位),"
                   " judge (评委), inspector (考察组成员), committee (党委委员), mentor (导师),"
                   " candidate (参选人)")
ex.enum_example("judge")(Role)
RoleInfo.model_rebuild()
WorkflowInfo.model_rebuild()
