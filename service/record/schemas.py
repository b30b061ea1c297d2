"""Request and response models of actions and the record's events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from ..core import examples as ex
from ..core import i18n
from ..core.schemas import LABEL_DOC, Reason, Role, Strict, SubjectState, WorkflowAction


# ---------------------------------------------------------------- actions and events
class ActionRequest(Strict):
    """Run an action: a reason (required by some actions) and the action's parameters."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"reason": "岗位调整，本次选拔取消", "params": {}}},
    )

    reason: Reason | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class ActionOption(BaseModel):
    """One action as the caller may see it now: allowed, or why not."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "action": "close_nominations", "label": "截止推荐报名", "label_zh": "截止推荐报名",
        "label_en": "Close nominations", "from_states": ["publicizing"],
        "to_state": "reviewing", "roles": ["admin"], "allowed": False,
        "reason_required": False, "refusal_code": "publicity_not_ended",
        "refusal": "The publicity period runs until 2026-10-13 inclusive; nominations can be"
                   " closed from the next day on (today is 2026-09-30).",
        "params_schema": {"title": "NoParams", "type": "object", "properties": {},
                          "additionalProperties": False}}})

    action: WorkflowAction
    label: str = Field(description="The action's label, " + LABEL_DOC)
    label_zh: str
    label_en: str
    from_states: list[SubjectState]
    to_state: SubjectState
    roles: list[Role]
    allowed: bool
    reason_required: bool
    refusal_code: str | None = None
    refusal: str | None = None
    refusal_details: dict[str, Any] | None = Field(
        default=None, description="The facts behind the refusal, and what the action would"
        " need (e.g. `needs.exception` for a pre-review pass by exception, 破格)")
    params_schema: dict[str, Any] = Field(description="JSON Schema of the action's `params`")


class ActionOptions(BaseModel):
    """Every action of a subject's machine, as seen by the caller now."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "subject_id": ex.SELECTION_ID, "state": "drafting", "state_label": "起草职务说明书",
        "version": 1, "actions": [{
            "action": "publish", "label": "发布公示", "label_zh": "发布公示",
            "label_en": "Publish the post", "from_states": ["drafting"],
            "to_state": "publicizing", "roles": ["admin"], "allowed": True,
            "reason_required": False,
            "params_schema": {"title": "PublishParams", "type": "object", "properties": {
                "start_on": {"type": "string", "format": "date"},
                "working_days": {"type": "integer", "minimum": 1, "maximum": 60}}}}]}})

    subject_id: uuid.UUID
    state: SubjectState
    state_label: str = Field(description="The state's label, " + LABEL_DOC)
    version: int
    actions: list[ActionOption]


class EventPublic(BaseModel):
    """One entry of the full-process record."""

    model_config = ConfigDict(json_schema_extra={"example": ex.EVENT})

    id: uuid.UUID
    subject_type: str
    subject_id: uuid.UUID
    seq: int
    selection_id: uuid.UUID | None
    action: str
    from_state: SubjectState | None
    to_state: SubjectState | None
    actor_id: uuid.UUID | None
    actor_role: str = Field(description="The role the actor acted in (a `Role`), or `system`")
    reason: str | None
    params: dict[str, Any]
    request_id: str | None
    occurred_at: datetime
    simulated_at: datetime | None
    prev_hash: str
    hash: str
    redacted: bool = Field(default=False, description="True when parts of the event are left"
                           " out for this reader (a candidate does not see the reviewers);"
                           " its hash is then that of the whole event")
    action_label: str | None = Field(
        default=None, description="The action's label, " + LABEL_DOC + "; the identifier for"
        " events that are not workflow actions")
    to_state_label: str | None = Field(default=None,
                                       description="The new state's label, " + LABEL_DOC)
    reason_label: str | None = Field(
        default=None, description="The reason as a person reads it: one the service wrote"
        " itself (a committee's tally, a lapse, a failed election; its msgid and parameters in"
        " `params.reason_said`) " + LABEL_DOC + "; a person's reason as they wrote it")

    @model_validator(mode="after")
    def _label(self):
        self.action_label = i18n.action_label(self.subject_type, self.action)
        self.to_state_label = i18n.state_label(self.subject_type, self.to_state)
        said = (self.params or {}).get("reason_said")
        self.reason_label = i18n.read(said) if said else self.reason
        return self
