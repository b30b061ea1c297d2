"""The workflow: one transition table and a pure engine over it (stdlib only)."""

from .engine import (
    Actor,
    Context,
    Decision,
    GuardRefused,
    Machine,
    NotAllowedFromState,
    Option,
    ReasonRequired,
    Refusal,
    RoleNotPermitted,
    UnknownAction,
    Workflow,
    WorkflowError,
)
from .table import CANDIDATE_MACHINE, MACHINES, OBJECTION, SELECTION

WORKFLOW = Workflow(MACHINES)

__all__ = [
    "Actor", "Context", "Decision", "GuardRefused", "Machine", "NotAllowedFromState", "Option",
    "ReasonRequired", "Refusal", "RoleNotPermitted", "UnknownAction", "Workflow",
    "WorkflowError", "WORKFLOW", "SELECTION", "CANDIDATE_MACHINE", "OBJECTION",
    "MACHINES",
]
