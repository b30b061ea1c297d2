"""Which problem codes each operation can answer, read from the code the operation runs.

An operation answers a code when something it runs builds the error that carries it: a
`ServiceError` (its class's code, or the `code=` it is given), an engine refusal, a guard's
`Refusal`, a `problem_response(status, code, …)`. What an operation runs is followed from its
endpoint and its dependencies through every call whose target can be named from where it is
written (a function of the service, a class, a method of `self`, a parameter's default or
the class a caller passes for it), and the functions passed along as callbacks; a code made
of a function's parameters (`f"{what}_not_found"`, `"not_a_" + role`) takes the caller's
arguments, and what a call makes inside a `try` that catches it is not answered. What no call
names is added from what is known of the operation: the guards, facts, effect and follow-up
of an action it names or runs (from the transition table and the subject's kind); the
Idempotency-Key of a POST; the handlers that turn a busy database, a concurrent write, an
unstorable value or an unparsable body into a problem; validation where a request carries
parameters or a body.

The result is what the document declares per operation and status. It is checked from both
sides: every code written anywhere in the service is in `ProblemCode` (answered by some
operation, carried in a body, or answered outside every operation: `OUTSIDE_OPERATIONS`),
and every problem the service answers during the test suite is declared for its operation
and status (tests/conformance.py).
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import re
import types
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from ..core import errors, idempotency
from ..record import actions
from ..workflow import WORKFLOW, WorkflowError
from ..workflow.engine import Guard, GuardRefused, ReasonRequired, Refusal, UnknownAction

SERVICE = Path(__file__).resolve().parents[1]
CODE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
Code = tuple[int, str]  # (HTTP status, problem code)
Found = tuple[int, str, type | None]  # and the class of the error that carries it

# Codes answered where no operation of the document is: a path no route serves, a method a
# path does not serve, a refused CORS preflight, a name after `…/actions/` that is no action
# or cannot be one (the document lists one operation per action; the route behind them
# answers any name), and the failure no input may cause.
OUTSIDE_OPERATIONS: dict[Code, str] = {
    (404, "not_found"): "a path no route serves",
    (405, "method_not_allowed"): "a method the path does not serve"
                                 " (components.responses.MethodNotAllowed)",
    (400, "cors_refused"): "a CORS preflight from an origin not allowed",
    (404, "unknown_action"): "a name after `…/actions/` that is no action of the machine",
    (422, "validation_error"): "a name after `…/actions/` longer than any action's (64)",
    (500, "internal_error"): "an unexpected failure, never the answer to an input",
}


# ---------------------------------------------------------------- reading a function
@cache
def _module_tree(filename: str) -> ast.Module | None:
    try:
        return ast.parse(Path(filename).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None


def _nodes_of(fn: types.FunctionType) -> list[ast.AST]:
    """The function's definition in its module's tree (a lambda: each lambda of its line)."""
    code = fn.__code__
    tree = _module_tree(code.co_filename)
    if tree is None:
        return []
    found: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == code.co_name:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            if first == code.co_firstlineno:
                found.append(node)
        elif isinstance(node, ast.Lambda) and code.co_name == "<lambda>" and (
                node.lineno == code.co_firstlineno):
            found.append(node)
    return found


def _locals(node: ast.AST) -> set[str]:
    """Names bound inside the function (parameters, assignments, nested definitions)."""
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, ast.arg):
            names.add(sub.arg)
        elif isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef) and sub is not node:
            names.add(sub.name)
    return names


def _literal(node: ast.AST | None) -> Any:
    return node.value if isinstance(node, ast.Constant) else None


_MISSING = object()


@dataclass
class _Direct:
    """What one function does itself: the errors it builds, what it calls or hands on (each
    with the errors caught around it there), the codes it builds from its own parameters, and
    the actions it names."""

    found: set[tuple[Found, tuple[type, ...]]] = field(default_factory=set)
    calls: list[tuple[Any, dict[str, Any], tuple[type, ...]]] = field(default_factory=list)
    templates: list[tuple[int, ast.expr, type]] = field(default_factory=list)
    # errors built by calling a parameter (`error(…)`): the class is the caller's argument
    by_parameter: list[tuple[str, ast.Call]] = field(default_factory=list)
    actions: set[tuple[str, tuple[type, ...]]] = field(default_factory=set)


def _ours(obj: Any) -> bool:
    return (getattr(obj, "__module__", None) or "").startswith("service.")


def _target(obj: Any) -> Any:
    """A callable as the function or class behind it."""
    if inspect.ismethod(obj):
        return obj.__func__
    if isinstance(obj, staticmethod | classmethod):
        return obj.__func__
    if isinstance(obj, functools.partial):
        return _target(obj.func)
    return obj


class _Resolver:
    """Names, as written in one function, as the objects they are."""

    def __init__(self, fn: types.FunctionType, node: ast.AST):
        self.fn = fn
        self.local = _locals(node)
        self.closure = dict(zip(fn.__code__.co_freevars,
                                (c.cell_contents if _filled(c) else _MISSING
                                 for c in fn.__closure__ or ()), strict=True))
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            params = {}
        self.parameters = set(params)
        self.defaults = {n: p.default for n, p in params.items()
                         if p.default is not inspect.Parameter.empty}
        qual = fn.__qualname__.split(".")
        self.owner = (fn.__globals__.get(qual[0])
                      if len(qual) >= 2 and "<locals>" not in qual[:-1] else None)

    def name(self, ident: str) -> Any:
        if ident in self.local:
            if ident in ("self", "cls") and isinstance(self.owner, type):
                return self.owner
            return self.defaults.get(ident, _MISSING)
        if ident in self.closure:
            return self.closure[ident]
        if ident in self.fn.__globals__:
            return self.fn.__globals__[ident]
        return getattr(builtins, ident, _MISSING)

    def expr(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Attribute):
            base = self.expr(node.value)
            if base is _MISSING:
                return _MISSING
            try:
                return (inspect.getattr_static(base, node.attr) if isinstance(base, type)
                        else getattr(base, node.attr))
            except AttributeError:
                return _MISSING
        return _MISSING

    def caught(self, handler: ast.ExceptHandler) -> tuple[type, ...]:
        """The exception classes an `except` clause catches (none known: nothing)."""
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        out = []
        for kind in kinds:
            cls = self.expr(kind) if kind is not None else BaseException
            if isinstance(cls, type) and issubclass(cls, BaseException):
                out.append(cls)
        return tuple(out)


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


def _error_code(cls: type, call: ast.Call) -> tuple[Any, Any]:
    """The status and code a `ServiceError` class's construction carries."""
    kw = {k.arg: k.value for k in call.keywords}
    status = _literal(kw.get("status_code")) or cls.status_code
    code = kw.get("code", cls.code)
    if isinstance(code, ast.AST) and not isinstance(code, ast.JoinedStr | ast.BinOp):
        code = _literal(code)
    return status, code


ACTION_NAMES = frozenset(t.action for m in WORKFLOW.machines.values() for t in m.transitions)


def _walk(node: ast.AST, caught: tuple[type, ...], names: _Resolver
          ) -> Iterator[tuple[ast.Call, tuple[type, ...]]]:
    """Each call under `node`, with the exception classes caught around it in the function."""
    if isinstance(node, ast.Try | ast.TryStar):
        inner = caught + tuple(c for h in node.handlers for c in names.caught(h))
        for sub in node.body:
            yield from _walk(sub, inner, names)
        for sub in [*node.handlers, *node.orelse, *node.finalbody]:
            yield from _walk(sub, caught, names)
        return
    if isinstance(node, ast.Call):
        yield node, caught
    for sub in ast.iter_child_nodes(node):
        yield from _walk(sub, caught, names)


@cache
def _direct(fn: types.FunctionType) -> _Direct:
    out = _Direct()
    for node in _nodes_of(fn):
        names = _Resolver(fn, node)
        for call, caught in _walk(node, (), names):
            target = _target(names.expr(call.func))
            built = _construction(target, call)
            if isinstance(built, tuple):
                out.found.add((built, caught))
            elif isinstance(built, list):
                out.templates.extend(built)
            if isinstance(call.func, ast.Name) and call.func.id in names.parameters:
                out.by_parameter.append((call.func.id, call))
            if target is not _MISSING:
                out.calls.append((target, _bound(target, call, names), caught))
            for arg in [*call.args, *(k.value for k in call.keywords)]:
                handed = (_target(names.expr(arg)) if isinstance(arg, ast.Name | ast.Attribute)
                          else _MISSING)
                if inspect.isfunction(handed) and _ours(handed):
                    out.calls.append((handed, {}, caught))
                if _takes_action(target):
                    out.actions |= {(a, caught) for a in _action_names(arg, names, node)}
    return out


def _action_names(expr: ast.AST, names: _Resolver, function: ast.AST) -> set[str]:
    """The actions an argument can name: a literal, either branch of a conditional, the
    values of the mapping it is looked up in, or what its local name is assigned."""
    if isinstance(expr, ast.Constant):
        return {expr.value} & ACTION_NAMES if isinstance(expr.value, str) else set()
    if isinstance(expr, ast.IfExp):
        return _action_names(expr.body, names, function) | _action_names(
            expr.orelse, names, function)
    if isinstance(expr, ast.Subscript):
        mapping = names.expr(expr.value)
        if isinstance(mapping, dict):
            return {v for v in mapping.values() if isinstance(v, str)} & ACTION_NAMES
        return set()
    if isinstance(expr, ast.Name) and expr.id in names.local:
        found: set[str] = set()
        for sub in ast.walk(function):
            if isinstance(sub, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == expr.id for t in sub.targets):
                found |= _action_names(sub.value, names, function)
        return found
    return set()


def _takes_action(target: Any) -> bool:
    try:
        return inspect.isfunction(target) and "action" in inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False


def _construction(target: Any, call: ast.Call) -> Found | list | None:
    """The error `call` builds, if it builds one: (status, code, class), or the code's
    template when it is made of the function's parameters."""
    if isinstance(target, type) and issubclass(target, errors.ServiceError):
        status, code = _error_code(target, call)
        if isinstance(code, ast.JoinedStr | ast.BinOp):
            return [(status, code, target)]
        return (status, code, target) if isinstance(code, str) else None
    if isinstance(target, type) and issubclass(target, WorkflowError):
        return (target.status, target.code, target) if "code" in target.__dict__ else None
    if target is Refusal and call.args and isinstance(_literal(call.args[0]), str):
        return (GuardRefused.status, _literal(call.args[0]), GuardRefused)
    if target is errors.problem_response and len(call.args) >= 2:
        status, code = _literal(call.args[0]), _literal(call.args[1])
        if isinstance(status, int) and isinstance(code, str):
            return (status, code, None)
    return None


def _bound(fn: Any, call: ast.Call, names: _Resolver) -> dict[str, Any]:
    """The arguments of a call of `fn` by parameter name, as the caller's names resolve them
    (a literal, a constant, a class)."""
    try:
        params = list(inspect.signature(fn).parameters) if inspect.isfunction(fn) else []
    except (TypeError, ValueError):
        return {}
    out = {}
    for i, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred) or i >= len(params):
            break
        out[params[i]] = _value(arg, names)
    for k in call.keywords:
        if k.arg:
            out[k.arg] = _value(k.value, names)
    return out


def _value(node: ast.expr, names: _Resolver) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    return names.expr(node) if isinstance(node, ast.Name | ast.Attribute) else _MISSING


def _fill(template: ast.expr, values: dict[str, Any]) -> str | None:
    """A code written as an f-string or a sum of texts, with the parameters' values."""
    if isinstance(template, ast.Constant):
        return template.value if isinstance(template.value, str) else None
    if isinstance(template, ast.Name):
        value = values.get(template.id)
        return value if isinstance(value, str) else None
    if isinstance(template, ast.FormattedValue):
        return _fill(template.value, values)
    if isinstance(template, ast.BinOp) and isinstance(template.op, ast.Add):
        left, right = _fill(template.left, values), _fill(template.right, values)
        return left + right if left is not None and right is not None else None
    if isinstance(template, ast.JoinedStr):
        parts = [_fill(piece, values) for piece in template.values]
        return "".join(parts) if all(p is not None for p in parts) else None  # type: ignore[arg-type]
    return None


# ---------------------------------------------------------------- following the calls
def _functions(obj: Any) -> Iterator[types.FunctionType]:
    """The functions of the service a reached object runs (a class: its own constructor)."""
    obj = _target(obj)
    if inspect.isfunction(obj) and _ours(obj):
        yield obj
    elif isinstance(obj, type) and _ours(obj) and not issubclass(
            obj, errors.ServiceError | WorkflowError):
        init = obj.__dict__.get("__init__")
        if inspect.isfunction(init) and _ours(init):
            yield init


_REACHED: dict[tuple[types.FunctionType, bool], frozenset[Found]] = {}
_IN_PROGRESS: set[tuple[types.FunctionType, bool]] = set()


def _reached_from(fn: types.FunctionType, caught_too: bool) -> frozenset[Found]:
    """Every error running `fn` can end in: its own, and those of what it calls that the
    call's place does not catch (with `caught_too`, those it catches as well: what it may
    carry in a body, such as the problems of a batch's items)."""
    key = (fn, caught_too)
    if key in _REACHED:
        return _REACHED[key]
    if key in _IN_PROGRESS:  # a cycle: its other functions are being read already
        return frozenset()
    _IN_PROGRESS.add(key)
    try:
        direct = _direct(fn)
        found = {f for f, caught in direct.found if caught_too or not _caught(f, caught)}
        for target, bound, caught in direct.calls:
            sub: set[Found] = set()
            for callee in _functions(target):
                sub |= _reached_from(callee, caught_too)
                own = _direct(callee)
                for status, template, cls in own.templates:
                    code = _fill(template, bound)
                    if code:
                        sub.add((status, code, cls))
                for parameter, call in own.by_parameter:
                    cls = bound.get(parameter)
                    if isinstance(cls, type) and issubclass(cls, errors.ServiceError):
                        status, code = _error_code(cls, call)
                        if isinstance(code, str):
                            sub.add((status, code, cls))
            found |= {f for f in sub if caught_too or not _caught(f, caught)}
        for action, caught in sorted(direct.actions, key=lambda a: a[0]):
            sub = set()
            for machine, t in _transitions(action):
                sub |= transition_codes(machine, t)
                for f in _action_functions(machine, action):
                    for callee in _functions(f):
                        sub |= _reached_from(callee, caught_too)
            found |= {f for f in sub if caught_too or not _caught(f, caught)}
    finally:
        _IN_PROGRESS.discard(key)
    _REACHED[key] = frozenset(found)
    return _REACHED[key]


def _caught(found: Found, caught: tuple[type, ...]) -> bool:
    return bool(found[2] and caught and issubclass(found[2], caught))


def reached(roots: Iterable[Any], *, caught_too: bool = False) -> set[Found]:
    """Every error the functions reached from `roots` can end in."""
    return {f for r in roots for fn in _functions(r) for f in _reached_from(fn, caught_too)}


def _transitions(action: str) -> Iterator[tuple[str, Any]]:
    for machine in WORKFLOW.machines.values():
        t = machine.transition(action)
        if t is not None:
            yield machine.name, t


def _action_functions(machine: str, action: str) -> list[Any]:
    """What running `action` calls that the runner looks up by name: the kind's facts, the
    action's effect and what follows it."""
    try:
        kind = actions.kind_of(machine)
    except LookupError:
        return []
    return [f for f in (kind.facts, kind.effects.get(action), kind.after.get(action)) if f]


def transition_codes(machine: str, t: Any) -> set[Found]:
    """The refusals of the transition's guards (the engine raises them as 409)."""
    return {(GuardRefused.status, c, GuardRefused) for g in t.guards for c in guard_codes(g)}


# ---------------------------------------------------------------- guards
@cache
def _refusal_literals() -> frozenset[str]:
    """The codes written as `Refusal("code", …)` anywhere in the service."""
    found = set()
    for tree in _trees():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and call_name(node.func) == "Refusal" and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.add(node.args[0].value)
    return frozenset(found)


def guard_codes(guard: Guard) -> set[str]:
    """The refusal codes a guard can answer: the `Refusal` codes its function writes, and the
    code a guard factory was given (`_none_in(…, code, …)`)."""
    codes: set[str] = set()
    fn = guard.check
    stack = [fn.__code__]
    while stack:
        code = stack.pop()
        for const in code.co_consts:
            if isinstance(const, str) and const in _refusal_literals():
                codes.add(const)
            elif inspect.iscode(const):
                stack.append(const)
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=True):
        if name == "code" and isinstance(cell.cell_contents, str):
            codes.add(cell.cell_contents)
    return codes


@cache
def _trees() -> tuple[ast.Module, ...]:
    return tuple(ast.parse(p.read_text(encoding="utf-8")) for p in sorted(SERVICE.rglob("*.py"))
                 if "migrations" not in p.parts)


def call_name(func: ast.expr) -> str:
    """The name a call is written with (`f(…)`, `x.f(…)`: `f`)."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


@cache
def written_codes() -> frozenset[Code]:
    """Every (status, code) written anywhere in the service, as text: each error built (its
    `code=`, or its class's), each `problem_response(status, code, …)`, the
    framework's statuses, the guards' refusals (answered as 409), and `{what}_not_found` of
    every subject loaded by id. What the operations answer must cover it."""
    found: set[Code] = set()

    def add(status: Any, code: Any) -> None:
        if isinstance(status, int) and isinstance(code, str) and CODE.match(code):
            found.add((status, code))

    classes = {c.__name__: c for c in _subclasses(errors.ServiceError)}
    classes["ServiceError"] = errors.ServiceError
    for cls in _subclasses(WorkflowError):
        if "code" in cls.__dict__:
            add(cls.status, cls.code)
    for code in _refusal_literals():
        add(GuardRefused.status, code)
    for tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = call_name(node.func)
            kw = {k.arg: k.value for k in node.keywords}
            if func in classes:
                status = _literal(kw.get("status_code")) or classes[func].status_code
                add(status, _literal(kw["code"]) if "code" in kw else classes[func].code)
            elif func == "problem_response" and len(node.args) >= 2:
                add(_literal(node.args[0]), _literal(node.args[1]))
            elif func == "load_visible" and node.args:
                add(404, f"{_literal(node.args[-1])}_not_found")
    return frozenset(found)


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


# ---------------------------------------------------------------- per operation
def _dependencies(dependant: Dependant) -> Iterator[Any]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _dependencies(dep)


def _reads_input(dependant: Dependant) -> bool:
    return bool(dependant.path_params or dependant.query_params or dependant.header_params
                or dependant.cookie_params or dependant.body_params) or any(
        _reads_input(d) for d in dependant.dependencies)


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for d in dependant.dependencies:
        names |= _query_names(d)
    return names


WRITES = ("POST", "PUT", "PATCH", "DELETE")


def operation_codes(route: APIRoute, method: str, action: tuple[str, str] | None = None, *,
                    caught_too: bool = False) -> dict[int, set[str]]:
    """The codes an operation can answer, by status: `route` serving `method`, or, for an
    action's own operation, the action `(machine, action)` of the route that runs any. With
    `caught_too`, also those it catches (and may carry in its body)."""
    method = method.upper()
    roots: list[Any] = [inspect.unwrap(route.endpoint), *_dependencies(route.dependant)]
    found: set[Code] = {(503, "database_busy")}  # any request meets the database
    if method == "POST":  # the Idempotency-Key, read before the endpoint runs
        roots += [idempotency.check_key, idempotency.begin, idempotency.settle]
    if method in WRITES:
        found |= {(409, "conflict"),  # a concurrent write came first (the IntegrityError)
                  (422, "validation_error"),  # a value that cannot be stored (the DataError)
                  (413, "payload_too_large")}  # a body over the limit
    elif route.body_field is not None:
        found.add((413, "payload_too_large"))
    if route.body_field is not None:
        found.add((400, "bad_request"))  # a body the framework cannot parse
    if _reads_input(route.dependant):
        found.add((422, "validation_error"))
        if "cursor" in _query_names(route.dependant):
            found.add((422, "invalid_cursor"))
    if action is not None:
        machine, name = action
        t = WORKFLOW.machines[machine].transition(name)
        found |= {f[:2] for f in transition_codes(machine, t)}
        roots += _action_functions(machine, name)
    found |= {f[:2] for f in reached(roots, caught_too=caught_too)}
    if action is not None:
        found.discard((UnknownAction.status, UnknownAction.code))  # the path names the action
        if not t.reason_required:
            found.discard((ReasonRequired.status, ReasonRequired.code))
    by_status: dict[int, set[str]] = {}
    for status, code in found:
        if status >= 400 and CODE.match(code):
            by_status.setdefault(status, set()).add(code)
    return dict(sorted(by_status.items()))
