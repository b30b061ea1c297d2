"""The workflow, described from the transition table (JSON and Mermaid)."""


from .. import facts
from ..core import i18n
from ..core.routing import api_router
from ..core.schemas import MachineInfo, StateInfo, TransitionInfo, WorkflowInfo
from ..followup.objections import OBJECTION_KIND
from ..workflow import WORKFLOW
from ..workflow.diagram import mermaid
from ..workflow.roles import ROLES

router = api_router(prefix="/api/v1/workflow", tags=["workflow"])
_KINDS = {k.machine: k for k in (facts.SELECTION_KIND, facts.CANDIDATE_KIND, OBJECTION_KIND)}


def describe_workflow() -> WorkflowInfo:
    """Both machines as data, with their diagrams."""
    machines = []
    for m in WORKFLOW.machines.values():
        kind = _KINDS[m.name]
        machines.append(MachineInfo(
            name=m.name, initial=m.initial,
            states=[StateInfo(name=s.name, label=i18n.state_label(m.name, s.name),
                              label_zh=s.label_zh, label_en=s.label_en, final=s.final)
                    for s in m.states],
            actions=[TransitionInfo(
                action=t.action, label=i18n.action_label(m.name, t.action), label_zh=t.label_zh,
                label_en=t.label_en,
                from_states=list(t.sources), to_state=t.target, roles=list(t.roles),
                guards=[{"name": g.name, "description": g.description} for g in t.guards],
                reason_required=t.reason_required,
                params_schema=kind.params_model(t.action).model_json_schema(),
            ) for t in m.transitions],
            mermaid=mermaid(m),
        ))
    roles = [{"role": r, "label": i18n.label("Role", r),
              "label_zh": i18n.label("Role", r, "zh-CN"), "label_en": i18n.label("Role", r, "en")}
             for r in ROLES]
    return WorkflowInfo(machines=machines, roles=roles)


@router.get("", response_model=WorkflowInfo)
def read_workflow() -> WorkflowInfo:
    """The state machines (selection, candidate, objection): states, actions, roles, labels, and a
    Mermaid state diagram, generated from the transition table. No login needed."""
    return describe_workflow()
