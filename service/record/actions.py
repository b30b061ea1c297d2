"""Running an action on a subject: ask the workflow, apply its effect, write state and event.

The one path by which any state changes. In one transaction: the subject is locked, the
If-Match precondition checked, the engine decides, the action's effect runs, the state and
version move, and the event is appended. Any failure raises before commit, so nothing of a
failed action is kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlmodel import Session, SQLModel

from ..core import i18n
from ..core.clock import Clock
from ..core.errors import field_errors, invalid_input
from ..core.models import User, utcnow
from ..workflow import WORKFLOW, Actor, Context, Decision, GuardRefused, Option
from . import service as record
from .schemas import ActionOption, ActionOptions

Effect = Callable[["ActionCall"], dict[str, Any] | None]


class LazyFacts(Mapping[str, Any]):
    """Facts computed only when a guard reads them (each provider once), so an action pays
    only for the facts its own guards need."""

    def __init__(self, values: dict[str, Any], providers: dict[str, Callable[[], dict]]):
        self._values = dict(values)
        self._providers = providers  # key → function computing a dict that includes key

    def __getitem__(self, key: str) -> Any:
        if key not in self._values and key in self._providers:
            self._values.update(self._providers[key]())
        return self._values[key]

    def __iter__(self):
        return iter({*self._values, *self._providers})

    def __len__(self) -> int:
        return len({*self._values, *self._providers})


class NoParams(BaseModel):
    """This action takes no parameters."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {}})


@dataclass
class ActionCall:
    """What an effect gets: the session, the subject, validated params and the decision."""

    session: Session
    subject: Any
    params: BaseModel
    decision: Decision
    clock: Clock
    author: record.Author
    reason: str | None
    user: User


@dataclass
class SubjectKind:
    """How the action runner sees one kind of subject (selection, candidate)."""

    machine: str
    subject_type: str
    facts: Callable[[Session, Any, User, Clock], dict[str, Any]]
    selection_id: Callable[[Any], uuid.UUID | None]
    params: dict[str, type[BaseModel]] = field(default_factory=dict)
    effects: dict[str, Effect] = field(default_factory=dict)
    # What follows an action once its event is written (the subject in its new state), in
    # the same transaction: an email that tells of the change, citing the event.
    after: dict[str, Callable[[ActionCall, record.Event], None]] = field(default_factory=dict)

    def params_model(self, action: str) -> type[BaseModel]:
        """The parameter model of `action` (NoParams when it takes none)."""
        return self.params.get(action, NoParams)


_KINDS: dict[str, SubjectKind] = {}


def register(kind: SubjectKind) -> SubjectKind:
    """Make `kind` the one the runner uses for its machine (service/facts.py assembles and
    registers the selection's and the candidate's)."""
    _KINDS[kind.machine] = kind
    return kind


def kind_of(machine: str) -> SubjectKind:
    """The registered kind of subject of `machine`, for a step that runs an action of a
    subject whose facts and effects span several steps."""
    try:
        return _KINDS[machine]
    except KeyError:
        raise LookupError(f"No kind of subject is registered for the '{machine}' machine;"
                          " service.facts registers them when it is imported.") from None


def actor_of(user: User) -> Actor:
    """The engine's view of a user."""
    return Actor(user_id=str(user.id), roles=frozenset(user.roles))


def options(
    session: Session, kind: SubjectKind, subject: Any, user: User, clock: Clock
) -> list[Option]:
    """Every action of the subject's machine, allowed or not for this user now."""
    ctx = Context(actor=actor_of(user), facts=kind.facts(session, subject, user, clock))
    return WORKFLOW.options(kind.machine, subject.state, ctx)


def _validate_params(kind: SubjectKind, action: str, raw: dict[str, Any]) -> BaseModel:
    model = kind.params_model(action)
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        raise invalid_input(field_errors(e.errors(), ("body", "params")),
                            "The parameters of '{action}' are not valid: {field}: {message}",
                            {"action": action}) from None


def run(
    session: Session,
    kind: SubjectKind,
    subject: SQLModel,
    action: str,
    *,
    user: User,
    clock: Clock,
    reason: str | dict[str, Any] | None,
    raw_params: dict[str, Any],
    event_params: dict[str, Any] | None = None,
) -> record.Event:
    """Run `action` on a locked subject; return the event written. `reason` is a person's
    text, or one the service writes (`i18n.said(…)`), read in each reader's language."""
    written, reason = reason, i18n.read(reason, i18n.DEFAULT) if reason is not None else None
    actor = actor_of(user)
    state = subject.state  # type: ignore[attr-defined]
    # Unknown action, wrong state or wrong role come before any judgement of the input.
    WORKFLOW.decide(
        kind.machine, action, state, Context(actor=actor, reason=reason), check_guards=False
    )
    params = _validate_params(kind, action, raw_params)
    facts = kind.facts(session, subject, user, clock)
    ctx = Context(actor=actor, facts=facts, params=params.model_dump(), reason=reason)
    decision = WORKFLOW.decide(kind.machine, action, state, ctx)
    author = record.Author(user.id, decision.role)
    call = ActionCall(session, subject, params, decision, clock, author, reason, user)
    effect = kind.effects.get(action)
    extra = (effect(call) if effect else None) or {}
    subject.state = decision.target  # type: ignore[attr-defined]
    subject.version += 1  # type: ignore[attr-defined]
    subject.updated_at = utcnow()  # type: ignore[attr-defined]
    session.add(subject)
    event = record.append(
        session,
        subject_type=kind.subject_type,
        subject_id=subject.id,  # type: ignore[attr-defined]
        selection_id=kind.selection_id(subject),
        action=action,
        author=author,
        clock=clock,
        from_state=state,
        to_state=decision.target,
        reason=written,
        params={**params.model_dump(mode="json"), **(event_params or {}), **extra},
    )
    follow = kind.after.get(action)
    if follow is not None:
        follow(call, event)
    return event


def describe(
    session: Session, kind: SubjectKind, subject: Any, user: User, clock: Clock
) -> ActionOptions:
    """The caller's view of every action of the subject: allowed, or why not, and its params."""
    out = []
    for opt in options(session, kind, subject, user, clock):
        t = opt.transition
        out.append(ActionOption(
            action=t.action, label=i18n.action_label(t.machine, t.action), label_zh=t.label_zh,
            label_en=t.label_en, from_states=list(t.sources),
            to_state=t.target, roles=list(t.roles), allowed=opt.allowed,
            reason_required=t.reason_required,
            refusal_code=opt.error.code if opt.error else None,
            refusal=i18n.refusal_text(opt.error.template, opt.error.params)
            if opt.error else None,
            refusal_details=(opt.error.details or None)
            if isinstance(opt.error, GuardRefused) else None,
            params_schema=kind.params_model(t.action).model_json_schema(),
        ))
    return ActionOptions(subject_id=subject.id, state=subject.state,
                         state_label=i18n.state_label(kind.machine, subject.state),
                         version=subject.version, actions=out)
