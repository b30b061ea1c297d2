"""The workflow engine: decides whether an action may run, and what state it leads to.

Pure Python by design (stdlib only): the service asks, the engine answers, and the
service alone persists. Nothing here writes anything, so a refused or failed action
cannot leave a half-applied change behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Refusal:
    """Why a guard says no: a stable code and a sentence for people."""

    code: str
    message: str  # English, with `{name}` placeholders filled from `params`
    details: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The English sentence with its values filled in."""
        return self.message.format(**self.params) if self.params else self.message


@dataclass(frozen=True)
class Actor:
    """Who asks: a user id and the roles the user holds."""

    user_id: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Context:
    """Everything a guard may look at; built by the service, never changed by a guard."""

    actor: Actor
    facts: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    reason: str | None = None
    role: str | None = None  # the role the actor acts in; the engine fills it


@dataclass(frozen=True)
class Guard:
    """A named, side-effect-free predicate: returns a Refusal, or None to let the action run."""

    name: str
    description: str
    check: Callable[[Context], Refusal | None]

    def __call__(self, ctx: Context) -> Refusal | None:
        return self.check(ctx)


@dataclass(frozen=True)
class State:
    """One state of a machine, with its labels."""

    name: str
    label_zh: str
    label_en: str
    final: bool = False


@dataclass(frozen=True)
class Transition:
    """One row of the table: action, from states, to state, roles allowed, guards."""

    machine: str
    action: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    label_zh: str
    label_en: str
    guards: tuple[Guard, ...] = ()
    reason_required: bool = False


@dataclass(frozen=True)
class Machine:
    """A named state machine: its states and the rows of the table that belong to it."""

    name: str
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]

    def state(self, name: str) -> State:
        """The state called `name`."""
        for s in self.states:
            if s.name == name:
                return s
        raise KeyError(name)

    def transition(self, action: str) -> Transition | None:
        """The row for `action`, or None."""
        for t in self.transitions:
            if t.action == action:
                return t
        return None

    @property
    def open_states(self) -> tuple[str, ...]:
        """States that are not final."""
        return tuple(s.name for s in self.states if not s.final)


class WorkflowError(Exception):
    """Base of every refusal the engine raises; `code` is stable, `status` an HTTP hint."""

    code = "workflow_error"
    status = 409
    title = "Action refused"

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None,
                 params: Mapping[str, Any] | None = None):
        self.template = message  # English, the catalogue's key; `params` fill it
        self.params = dict(params or {})
        self.message = message.format(**self.params) if self.params else message
        super().__init__(self.message)
        self.details = dict(details or {})


class UnknownAction(WorkflowError):
    """The machine has no such action."""

    code = "unknown_action"
    status = 404
    title = "Unknown action"


class NotAllowedFromState(WorkflowError):
    """The action exists but does not start from the subject's current state."""

    code = "action_not_allowed_in_state"
    status = 409
    title = "Action not allowed in this state"


class RoleNotPermitted(WorkflowError):
    """None of the actor's roles may run this action."""

    code = "role_not_permitted"
    status = 403
    title = "Role not permitted"


class ReasonRequired(WorkflowError):
    """The action needs a reason and none was given."""

    code = "reason_required"
    status = 422
    title = "A reason is required"


class GuardRefused(WorkflowError):
    """A guard said no; `code` is the guard's own refusal code."""

    status = 409
    title = "Action refused by a rule"

    def __init__(self, refusal: Refusal, guard: str):
        super().__init__(refusal.message, details={"guard": guard, **refusal.details},
                         params=refusal.params)
        self.code = refusal.code
        self.guard = guard


@dataclass(frozen=True)
class Decision:
    """What applying an action means: the row, the role used, from and to states."""

    transition: Transition
    role: str
    source: str
    target: str


@dataclass(frozen=True)
class Option:
    """One action as seen by one actor now: allowed or not, and why not."""

    transition: Transition
    allowed: bool
    error: WorkflowError | None = None


class Workflow:
    """The set of machines, answering 'may I?' and 'what happens if I do?'."""

    def __init__(self, machines: Iterable[Machine]):
        self.machines: dict[str, Machine] = {m.name: m for m in machines}
        for m in self.machines.values():
            _check_machine(m)

    def machine(self, name: str) -> Machine:
        """The machine called `name`."""
        return self.machines[name]

    def decide(
        self, machine: str, action: str, state: str, ctx: Context, *, check_guards: bool = True
    ) -> Decision:
        """Decide whether `action` may run from `state` for this context; raise why not.

        With check_guards=False only the action, the state, the role and the reason are
        judged: what can be known before the action's parameters are read.
        """
        m = self.machines[machine]
        t = m.transition(action)
        if t is None:
            raise UnknownAction(
                "'{action}' is not an action of the {machine} workflow.",
                details={"action": action, "known_actions": [x.action for x in m.transitions]}, params={"action": action, "machine": machine},
            )
        return self._decide_row(t, state, ctx, check_guards=check_guards)

    def options(self, machine: str, state: str, ctx: Context) -> list[Option]:
        """Every action of the machine, each with whether this actor may run it now."""
        out = []
        for t in self.machines[machine].transitions:
            try:
                self._decide_row(t, state, ctx, check_reason=False)
            except WorkflowError as e:
                out.append(Option(t, False, e))
            else:
                out.append(Option(t, True))
        return out

    def _decide_row(
        self, t: Transition, state: str, ctx: Context, *, check_reason: bool = True,
        check_guards: bool = True,
    ) -> Decision:
        if state not in t.sources:
            raise NotAllowedFromState(
                "'{action}' cannot run while the {machine} is '{state}'; it runs from: "
                "{sources}.",
                details={"action": t.action, "state": state, "allowed_from": list(t.sources)}, params={"action": t.action, "machine": t.machine, "state": state,
                        "sources": list(t.sources)},
            )
        role = next((r for r in t.roles if r in ctx.actor.roles), None)
        if role is None:
            raise RoleNotPermitted(
                "'{action}' needs one of the roles: {roles}.",
                details={"action": t.action, "roles_allowed": list(t.roles)}, params={"action": t.action, "roles": list(t.roles)},
            )
        if check_reason and t.reason_required and not (ctx.reason or "").strip():
            raise ReasonRequired(
                "'{action}' needs a reason.", details={"action": t.action, "field": "reason"}, params={"action": t.action}
            )
        acting = Context(
            actor=ctx.actor, facts=ctx.facts, params=ctx.params, reason=ctx.reason, role=role
        )
        for g in t.guards if check_guards else ():
            refusal = g(acting)
            if refusal is not None:
                raise GuardRefused(refusal, g.name)
        return Decision(transition=t, role=role, source=state, target=t.target)


def _check_machine(m: Machine) -> None:
    names = {s.name for s in m.states}
    if m.initial not in names:
        raise ValueError(f"{m.name}: unknown initial state {m.initial}")
    seen = set()
    for t in m.transitions:
        if t.machine != m.name:
            raise ValueError(f"{t.action}: row belongs to {t.machine}, not {m.name}")
        if t.action in seen:
            raise ValueError(f"{m.name}: action {t.action} defined twice")
        seen.add(t.action)
        unknown = (set(t.sources) | {t.target}) - names
        if unknown:
            raise ValueError(f"{m.name}.{t.action}: unknown states {sorted(unknown)}")
        if not t.roles:
            raise ValueError(f"{m.name}.{t.action}: no role may run it")
