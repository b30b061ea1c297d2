"""The transition table and the engine, with no database and no web framework.

The expectations below are written out by hand, on purpose: they are a second copy of the
table, so that a change to service/workflow/table.py made by mistake fails here.
"""

from __future__ import annotations

import inspect
import re
from datetime import date, timedelta

import pytest

from service.workflow import (
    MACHINES,
    WORKFLOW,
    Actor,
    Context,
    GuardRefused,
    NotAllowedFromState,
    ReasonRequired,
    RoleNotPermitted,
    UnknownAction,
    Workflow,
    WorkflowError,
)
from service.workflow import guards as g
from service.workflow.diagram import mermaid
from service.workflow.engine import Guard
from service.workflow.roles import ROLES


@pytest.fixture(autouse=True)
def clean_tables():
    """These tests touch no database: nothing to empty after each (overrides conftest's)."""
    yield


# ---------------------------------------------------------------- the hand-written table

EXPECTED_ROLES = ("admin", "nominator", "judge", "inspector", "committee", "mentor", "candidate")

EXPECTED_STATES = {
    "selection": {
        "initial": "drafting",
        "open": ["drafting", "publicizing", "reviewing", "deciding", "following_up"],
        "final": ["closed", "cancelled"],
    },
    "candidate": {
        "initial": "nominated",
        "open": ["nominated", "applicant", "qualified", "shortlisted", "inspected", "appointed",
                 "on_trial", "reserve"],
        "final": ["confirmed", "not_qualified", "declined", "withdrawn", "revoked",
                  "dismissed", "not_elected", "not_approved"],
    },
    "objection": {
        "initial": "received",
        "open": ["received", "investigating"],
        "final": ["upheld", "partly_upheld", "not_upheld"],
    },
}

# action: (sources, target, roles in order of preference, guard names in order, reason required)
EXPECTED_TABLE: dict[str, dict[str, tuple[tuple[str, ...], str, tuple[str, ...],
                                          tuple[str, ...], bool]]] = {
    "selection": {
        "publish": (("drafting",), "publicizing", ("admin",), ("has_duties",), False),
        "close_nominations": (("publicizing",), "reviewing", ("admin",),
                              ("publicity_ended",), False),
        "submit_to_committee": (("reviewing",), "deciding", ("admin",),
                                ("review_finished", "some_inspected"), False),
        "finish_decision": (("deciding",), "following_up", ("admin",), ("all_decided",), False),
        "close": (("following_up",), "closed", ("admin",), ("all_followed_up",), False),
        "cancel": (("drafting", "publicizing", "reviewing", "deciding", "following_up"),
                   "cancelled", ("admin",), (), True),
    },
    "candidate": {
        "consent": (("nominated",), "applicant", ("candidate", "admin"),
                    ("own_record", "selection_publicizing"), False),
        "decline": (("nominated",), "declined", ("candidate", "admin"),
                    ("own_record", "selection_publicizing"), True),
        "lapse": (("nominated",), "declined", ("admin",), ("publicity_ended",), False),
        "pass_prereview": (("applicant",), "qualified", ("admin",),
                           ("selection_reviewing", "eligibility_met_or_exception"), False),
        "fail_prereview": (("applicant",), "not_qualified", ("admin",),
                           ("selection_reviewing",), True),
        "pass_interview": (("qualified",), "shortlisted", ("admin",),
                           ("selection_reviewing", "sheets_complete", "within_ratio_or_reason"),
                           False),
        "fail_interview": (("qualified",), "not_qualified", ("admin",),
                           ("selection_reviewing",), True),
        "pass_inspection": (("shortlisted",), "inspected", ("inspector", "admin"),
                            ("selection_reviewing", "on_inspection_team",
                             "inspection_team_ready"), False),
        "fail_inspection": (("shortlisted",), "not_qualified", ("inspector", "admin"),
                            ("selection_reviewing", "on_inspection_team",
                             "inspection_team_ready"), True),
        "decide_appoint": (("inspected",), "appointed", ("admin",),
                           ("selection_deciding", "appointed_post"), False),
        "decide_reserve": (("inspected",), "reserve", ("admin",), ("selection_deciding",),
                           False),
        "decide_not_qualified": (("inspected",), "not_qualified", ("admin",),
                                 ("selection_deciding",), True),
        "start_trial": (("appointed",), "on_trial", ("admin",),
                        ("objections_settled", "appointment_publicity_over",
                         "election_approved"), False),
        "backfill": (("reserve",), "appointed", ("admin",),
                     ("selection_following_up", "decided_in_backfill_meeting", "post_vacant",
                      "in_rank_order_or_reason"), False),
        "record_election": (("appointed",), "appointed", ("admin",),
                            ("election_required", "objections_settled",
                             "appointment_publicity_over", "election_not_held",
                             "election_quorum_met"), False),
        "fail_election": (("appointed",), "not_elected", ("admin",), ("election_lost",), False),
        "approve_election": (("appointed",), "appointed", ("admin",),
                             ("elected", "approval_not_recorded"), False),
        "refuse_approval": (("appointed",), "not_approved", ("admin",),
                            ("elected", "approval_not_recorded"), True),
        "withdraw_appointment": (("appointed", "on_trial"), "withdrawn", ("admin", "candidate"),
                                 ("own_record",), True),
        "revoke": (("appointed",), "revoked", ("admin",), (), True),
        "record_assessment": (("on_trial",), "on_trial", ("admin",), ("assessment_in_order",),
                              False),
        "confirm": (("on_trial",), "confirmed", ("admin",),
                    ("objections_settled", "trial_complete", "final_assessment_passed"), False),
        "dismiss": (("on_trial",), "dismissed", ("admin",), (), True),
        "withdraw": (("nominated", "applicant", "qualified", "shortlisted", "inspected"),
                     "withdrawn", ("admin", "candidate"), ("own_record", "selection_open"),
                     True),
    },
    "objection": {
        "start_investigation": (("received",), "investigating", ("admin",),
                                ("investigating_team_ready",), False),
        "record_investigation": (("investigating",), "investigating", ("admin",),
                                 ("by_an_investigator",), False),
        "conclude_upheld": (("investigating",), "upheld", ("admin",), ("findings_recorded",),
                            True),
        "conclude_partly_upheld": (("investigating",), "partly_upheld", ("admin",),
                                   ("findings_recorded",), True),
        "conclude_not_upheld": (("investigating",), "not_upheld", ("admin",),
                                ("findings_recorded",), True),
    },
}

# Facts under which every guard of the action lets it through (actor id "u-1").
TODAY = date(2025, 6, 16)
HAPPY_FACTS = {
    "publish": {"duties_count": 2},
    "close_nominations": {"publicity_end_on": TODAY - timedelta(days=1), "today": TODAY},
    "submit_to_committee": {"candidate_counts": {"inspected": 2, "not_qualified": 1}},
    "finish_decision": {"candidate_counts": {"appointed": 1, "reserve": 1}},
    "close": {"candidate_counts": {"confirmed": 1, "withdrawn": 2}},
    "cancel": {},
    "consent": {"owner_user_id": "u-1", "selection_state": "publicizing"},
    "decline": {"owner_user_id": "u-1", "selection_state": "publicizing"},
    "lapse": {"publicity_end_on": TODAY - timedelta(days=1), "today": TODAY},
    "withdraw": {"owner_user_id": "u-1", "selection_state": "publicizing"},
    "pass_prereview": {"selection_state": "reviewing"},
    "fail_prereview": {"selection_state": "reviewing"},
    "pass_interview": {"selection_state": "reviewing", "sheets_expected": 7,
                       "sheets_submitted": 7, "rank": 1, "cutoff": 3, "tied_at_cutoff": False},
    "fail_interview": {"selection_state": "reviewing"},
    "pass_inspection": {"selection_state": "reviewing", "team_member_ids": {"u-1"},
                        "team_active": 2, "team_needed": 2, "inspection_records": 1},
    "fail_inspection": {"selection_state": "reviewing", "team_member_ids": {"u-1"},
                        "team_active": 2, "team_needed": 2, "inspection_records": 1},
    "decide_appoint": {"selection_state": "deciding", "candidate_posts": ["p1"],
                       "named_posts": {"p1": {"count": 1, "taken": 0}}},
    "decide_reserve": {"selection_state": "deciding"},
    "decide_not_qualified": {"selection_state": "deciding"},
    "start_trial": {"appointment_publicity_end_on": TODAY - timedelta(days=1), "today": TODAY,
                    "objections_pending": [], "objections_upheld": [], "branch_election": False},
    "revoke": {},
    "backfill": {"selection_state": "following_up", "backfill_meetings": ["m-1"],
                 "named_posts": {"p1": {"count": 1, "taken": 0}}, "candidate_posts": ["p1"],
                 "vacancies": {"p1": {"vacated": ["c-0"], "open": ["c-0"]}},
                 "backfill_order": {"p1": ["c-1", "c-2"]}, "candidate_id": "c-1"},
    "record_election": {"branch_election": True, "election_quorum": 0.8, "election": None,
                        "appointment_publicity_end_on": TODAY - timedelta(days=1),
                        "today": TODAY, "objections_pending": [], "objections_upheld": []},
    "fail_election": {"election": {"elected": False}},
    "approve_election": {"branch_election": True, "election": {"elected": True}},
    "refuse_approval": {"branch_election": True, "election": {"elected": True}},
    "withdraw_appointment": {"owner_user_id": "u-1"},
    "record_assessment": {"assessment_kinds": []},
    "confirm": {"trial_missing": [], "objections_pending": [], "objections_upheld": [],
                "final_assessment": {"id": "a-1", "grade": "competent", "passed": True}},
    "start_investigation": {"investigators_needed": 0},
    "record_investigation": {"investigators": []},
    "conclude_upheld": {"findings_recorded": True},
    "conclude_partly_upheld": {"findings_recorded": True},
    "conclude_not_upheld": {"findings_recorded": True},
    "dismiss": {},
}

# Actions whose guards need facts that exclude the other actions of their state (the election
# after the publicity, its failure, the approval): options() are checked on their own facts.
EXCLUSIVE = {"record_election", "fail_election", "approve_election", "refuse_approval"}

NO_ROLE = None  # a user holding no role at all
ROLE_CASES = [*ROLES, NO_ROLE]


def actor(*roles: str | None, user_id: str = "u-1") -> Actor:
    return Actor(user_id=user_id, roles=frozenset(r for r in roles if r is not None))


def ctx(*roles: str | None, reason: str | None = "a stated reason", facts=None,
        user_id: str = "u-1") -> Context:
    return Context(actor=actor(*roles, user_id=user_id), facts=facts or {}, reason=reason)


def all_states(machine: str) -> list[str]:
    return EXPECTED_STATES[machine]["open"] + EXPECTED_STATES[machine]["final"]


def expected_outcome(machine: str, action: str, state: str, role: str | None):
    """The target state, or the error class, computed from the hand-written table only."""
    sources, target, roles, _guards, _reason = EXPECTED_TABLE[machine][action]
    if state not in sources:
        return NotAllowedFromState
    if role not in roles:
        return RoleNotPermitted
    return target


EXHAUSTIVE = [
    pytest.param(m, a, s, r, id=f"{m}-{a}-{s}-{r or 'norole'}")
    for m in EXPECTED_TABLE
    for a in EXPECTED_TABLE[m]
    for s in all_states(m)
    for r in ROLE_CASES
]


# ---------------------------------------------------------------- the table's shape


def test_roles_are_the_expected_ones():
    assert tuple(ROLES) == EXPECTED_ROLES


def test_machines_are_the_expected_ones():
    assert [m.name for m in MACHINES] == list(EXPECTED_TABLE)
    assert set(WORKFLOW.machines) == set(EXPECTED_TABLE)


@pytest.mark.parametrize("machine", list(EXPECTED_TABLE))
def test_states_of_each_machine(machine):
    m = WORKFLOW.machine(machine)
    assert m.initial == EXPECTED_STATES[machine]["initial"]
    assert [s.name for s in m.states] == all_states(machine)
    assert list(m.open_states) == EXPECTED_STATES[machine]["open"]
    assert [s.name for s in m.states if s.final] == EXPECTED_STATES[machine]["final"]
    for s in m.states:
        assert s.label_zh.strip() and s.label_en.strip(), s.name


@pytest.mark.parametrize("machine", list(EXPECTED_TABLE))
def test_actions_of_each_machine_are_exactly_the_expected_set(machine):
    actions = [t.action for t in WORKFLOW.machine(machine).transitions]
    assert len(actions) == len(set(actions))
    assert set(actions) == set(EXPECTED_TABLE[machine])


@pytest.mark.parametrize(
    "machine,action",
    [(m, a) for m in EXPECTED_TABLE for a in EXPECTED_TABLE[m]],
)
def test_each_row_matches_the_expectation(machine, action):
    t = WORKFLOW.machine(machine).transition(action)
    assert t is not None
    sources, target, roles, guards, reason_required = EXPECTED_TABLE[machine][action]
    assert t.machine == machine
    assert set(t.sources) == set(sources)
    assert len(t.sources) == len(set(t.sources))
    assert t.target == target
    assert t.roles == roles
    assert tuple(x.name for x in t.guards) == guards
    assert t.reason_required is reason_required
    assert t.label_zh.strip() and t.label_en.strip()


def test_no_transition_starts_from_a_final_state():
    for m in MACHINES:
        final = {s.name for s in m.states if s.final}
        for t in m.transitions:
            assert not set(t.sources) & final, (m.name, t.action)


def test_workflow_rejects_a_broken_machine():
    """The engine's own consistency check (unknown state, duplicate action, no role)."""
    from service.workflow.engine import Machine, State, Transition

    states = (State("a", "甲", "A"), State("b", "乙", "B", final=True))

    def machine(*rows):
        return Machine("m", "a", states, rows)

    ok = Transition("m", "go", ("a",), "b", ("admin",), "走", "Go")
    Workflow([machine(ok)])  # fine
    with pytest.raises(ValueError, match="unknown states"):
        Workflow([machine(Transition("m", "go", ("a",), "zzz", ("admin",), "走", "Go"))])
    with pytest.raises(ValueError, match="twice"):
        Workflow([machine(ok, ok)])
    with pytest.raises(ValueError, match="no role"):
        Workflow([machine(Transition("m", "go", ("a",), "b", (), "走", "Go"))])
    with pytest.raises(ValueError, match="belongs to"):
        Workflow([machine(Transition("other", "go", ("a",), "b", ("admin",), "走", "Go"))])
    with pytest.raises(ValueError, match="initial"):
        Workflow([Machine("m", "nowhere", states, (ok,))])


# ---------------------------------------------------------------- decide(), exhaustively


@pytest.mark.parametrize("machine,action,state,role", EXHAUSTIVE)
def test_decide_every_state_action_role(machine, action, state, role):
    expected = expected_outcome(machine, action, state, role)
    c = ctx(role)
    if isinstance(expected, str):
        d = WORKFLOW.decide(machine, action, state, c, check_guards=False)
        assert d.target == expected
        assert d.source == state
        assert d.role == role
        assert d.transition.action == action
    else:
        with pytest.raises(WorkflowError) as info:
            WORKFLOW.decide(machine, action, state, c, check_guards=False)
        assert type(info.value) is expected
        assert info.value.details["action"] == action


def test_exhaustive_cases_cover_every_live_action_and_state():
    """The parametrised grid is not silently smaller than the live table."""
    covered = {(m, a, s, r) for m, a, s, r in (p.values for p in EXHAUSTIVE)}
    for m in MACHINES:
        for t in m.transitions:
            for s in m.states:
                for r in ROLE_CASES:
                    assert (m.name, t.action, s.name, r) in covered


def test_a_user_with_several_roles_acts_in_the_first_permitted_role():
    d = WORKFLOW.decide("candidate", "withdraw", "applicant", ctx("candidate", "admin"),
                        check_guards=False)
    assert d.role == "admin"
    d = WORKFLOW.decide("candidate", "withdraw", "applicant", ctx("candidate", "judge"),
                        check_guards=False)
    assert d.role == "candidate"
    with pytest.raises(RoleNotPermitted):
        WORKFLOW.decide("selection", "publish", "drafting",
                        ctx(*[r for r in ROLES if r != "admin"]), check_guards=False)


def test_state_is_judged_before_role_and_role_before_reason():
    # Wrong state and wrong role: the state is reported.
    with pytest.raises(NotAllowedFromState):
        WORKFLOW.decide("selection", "cancel", "closed", ctx("judge", reason=None),
                        check_guards=False)
    # Right state, wrong role, no reason: the role is reported.
    with pytest.raises(RoleNotPermitted):
        WORKFLOW.decide("selection", "cancel", "drafting", ctx("judge", reason=None),
                        check_guards=False)


def test_error_details_and_codes():
    with pytest.raises(NotAllowedFromState) as info:
        WORKFLOW.decide("selection", "publish", "reviewing", ctx("admin"))
    e = info.value
    assert (e.code, e.status) == ("action_not_allowed_in_state", 409)
    assert e.details == {"action": "publish", "state": "reviewing", "allowed_from": ["drafting"]}
    assert "reviewing" in e.message and "drafting" in e.message

    with pytest.raises(RoleNotPermitted) as info:
        WORKFLOW.decide("candidate", "withdraw", "applicant", ctx("judge"))
    e = info.value
    assert (e.code, e.status) == ("role_not_permitted", 403)
    assert e.details == {"action": "withdraw", "roles_allowed": ["admin", "candidate"]}

    with pytest.raises(ReasonRequired) as info:
        WORKFLOW.decide("selection", "cancel", "drafting", ctx("admin", reason=None))
    e = info.value
    assert (e.code, e.status) == ("reason_required", 422)
    assert e.details == {"action": "cancel", "field": "reason"}


# ---------------------------------------------------------------- reasons

REASON_ROWS = [
    (m, a) for m in EXPECTED_TABLE for a, row in EXPECTED_TABLE[m].items() if row[4]
]
NO_REASON_ROWS = [
    (m, a) for m in EXPECTED_TABLE for a, row in EXPECTED_TABLE[m].items() if not row[4]
]


@pytest.mark.parametrize("machine,action", REASON_ROWS)
@pytest.mark.parametrize("reason", [None, "", " ", "  \t\n "])
def test_reason_required_when_missing_or_blank(machine, action, reason):
    sources, _target, roles, _g, _r = EXPECTED_TABLE[machine][action]
    for role in roles:
        with pytest.raises(ReasonRequired):
            WORKFLOW.decide(machine, action, sources[0], ctx(role, reason=reason),
                            check_guards=False)
        with pytest.raises(ReasonRequired):
            WORKFLOW.decide(machine, action, sources[0],
                            ctx(role, reason=reason, facts=HAPPY_FACTS[action]))


@pytest.mark.parametrize("machine,action", REASON_ROWS)
def test_reason_given_is_enough(machine, action):
    sources, target, roles, _g, _r = EXPECTED_TABLE[machine][action]
    for role in roles:
        d = WORKFLOW.decide(machine, action, sources[0], ctx(role, reason=" 个人原因 "),
                            check_guards=False)
        assert d.target == target


@pytest.mark.parametrize("machine,action", NO_REASON_ROWS)
def test_no_reason_needed_where_not_required(machine, action):
    sources, target, roles, _g, _r = EXPECTED_TABLE[machine][action]
    for reason in (None, ""):
        d = WORKFLOW.decide(machine, action, sources[0], ctx(roles[0], reason=reason),
                            check_guards=False)
        assert d.target == target


# ---------------------------------------------------------------- unknown actions


@pytest.mark.parametrize("machine", list(EXPECTED_TABLE))
@pytest.mark.parametrize("action", ["frobnicate", "", "PUBLISH", "publish ", "__init__"])
def test_unknown_action(machine, action):
    assert action not in EXPECTED_TABLE[machine]
    with pytest.raises(UnknownAction) as info:
        WORKFLOW.decide(machine, action, EXPECTED_STATES[machine]["initial"], ctx("admin"))
    e = info.value
    assert (e.code, e.status) == ("unknown_action", 404)
    assert e.details["action"] == action
    assert set(e.details["known_actions"]) == set(EXPECTED_TABLE[machine])


def test_an_action_of_the_other_machine_is_unknown():
    with pytest.raises(UnknownAction):
        WORKFLOW.decide("selection", "withdraw", "drafting", ctx("admin"), check_guards=False)
    with pytest.raises(UnknownAction):
        WORKFLOW.decide("candidate", "publish", "applicant", ctx("admin"), check_guards=False)


# ---------------------------------------------------------------- options()


def _facts_for_state(machine: str, state: str) -> dict:
    # The first action's facts win: withdraw, last in the table, runs in any selection state
    # that the other actions from this state need.
    facts: dict = {}
    for action, row in EXPECTED_TABLE[machine].items():
        if state in row[0]:
            facts = {**HAPPY_FACTS[action], **facts}
    return facts


@pytest.mark.parametrize(
    "machine,state,role",
    [pytest.param(m, s, r, id=f"{m}-{s}-{r or 'norole'}")
     for m in EXPECTED_TABLE for s in all_states(m) for r in ROLE_CASES],
)
def test_options_list_every_action_with_allowed_flags(machine, state, role):
    # No reason given: options() does not ask for one; guards all pass on these facts.
    c = ctx(role, reason=None, facts=_facts_for_state(machine, state))
    opts = WORKFLOW.options(machine, state, c)
    assert [o.transition.action for o in opts] == [
        t.action for t in WORKFLOW.machine(machine).transitions
    ]
    assert {o.transition.action for o in opts} == set(EXPECTED_TABLE[machine])
    for o in opts:
        expected = expected_outcome(machine, o.transition.action, state, role)
        if o.transition.action in EXCLUSIVE:
            own = {**c.facts, **HAPPY_FACTS[o.transition.action]}
            o = next(x for x in WORKFLOW.options(machine, state, ctx(role, reason=None, facts=own))
                     if x.transition.action == o.transition.action)
        if isinstance(expected, str):
            assert o.allowed is True, (o.transition.action, o.error)
            assert o.error is None
        else:
            assert o.allowed is False, o.transition.action
            assert type(o.error) is expected


def test_options_report_guard_refusals():
    opts = {o.transition.action: o for o in WORKFLOW.options("selection", "drafting",
                                                             ctx("admin", facts={}))}
    assert opts["publish"].allowed is False
    assert isinstance(opts["publish"].error, GuardRefused)
    assert opts["publish"].error.code == "job_description_incomplete"
    assert opts["cancel"].allowed is True
    opts = {o.transition.action: o for o in WORKFLOW.options(
        "candidate", "applicant",
        ctx("candidate", facts={"owner_user_id": "someone-else", "selection_state": "reviewing"}),
    )}
    assert opts["withdraw"].allowed is False
    assert opts["withdraw"].error.code == "not_own_record"


# ---------------------------------------------------------------- guards


def _guard_ctx(facts: dict, *, role: str = "admin", user_id: str = "u-1") -> Context:
    return Context(actor=actor(role, user_id=user_id), facts=facts, role=role)


def test_every_guard_in_guards_py_is_tested():
    live = {obj.name for _, obj in inspect.getmembers(g) if isinstance(obj, Guard)}
    assert live == {
        "own_record", "has_duties", "publicity_ended", "selection_publicizing",
        "selection_open", "review_finished", "some_inspected", "all_decided", "all_followed_up",
        "selection_reviewing", "selection_deciding", "sheets_complete", "within_ratio_or_reason",
        "inspection_team_ready", "on_inspection_team", "appointment_publicity_over",
        "trial_complete", "appointed_post", "eligibility_met_or_exception",
        "objections_settled", "final_assessment_passed",
        "assessment_in_order", "investigating_team_ready", "by_an_investigator",
        "findings_recorded", "selection_following_up", "decided_in_backfill_meeting",
        "post_vacant", "in_rank_order_or_reason", "election_required", "election_not_held",
        "election_quorum_met", "election_lost", "elected", "approval_not_recorded",
        "election_approved",
    }
    used = {x.name for m in MACHINES for t in m.transitions for x in t.guards}
    assert used <= live


def test_guard_own_record():
    mine = {"owner_user_id": "u-1"}
    theirs = {"owner_user_id": "u-2"}
    assert g.own_record(_guard_ctx(mine, role="candidate")) is None
    r = g.own_record(_guard_ctx(theirs, role="candidate"))
    assert r is not None and r.code == "not_own_record"
    r = g.own_record(_guard_ctx({"owner_user_id": None}, role="candidate"))
    assert r is not None and r.code == "not_own_record"
    r = g.own_record(_guard_ctx({}, role="candidate"))
    assert r is not None and r.code == "not_own_record"
    # An admin may act on anyone's record, and on a record with no user.
    assert g.own_record(_guard_ctx(theirs, role="admin")) is None
    assert g.own_record(_guard_ctx({}, role="admin")) is None


def test_guard_own_record_through_the_engine():
    facts = {"owner_user_id": "u-2", "selection_state": "publicizing"}
    with pytest.raises(GuardRefused) as info:
        WORKFLOW.decide("candidate", "withdraw", "applicant", ctx("candidate", facts=facts))
    assert info.value.code == "not_own_record"
    assert info.value.status == 409
    assert info.value.details["guard"] == "own_record"
    d = WORKFLOW.decide("candidate", "withdraw", "applicant", ctx("admin", facts=facts))
    assert (d.target, d.role) == ("withdrawn", "admin")
    d = WORKFLOW.decide("candidate", "withdraw", "applicant",
                        ctx("candidate", facts={**facts, "owner_user_id": "u-1"}))
    assert (d.target, d.role) == ("withdrawn", "candidate")


OWN_RECORD_ROWS = [
    (m, a) for m in EXPECTED_TABLE for a, row in EXPECTED_TABLE[m].items()
    if "own_record" in row[3]
]


@pytest.mark.parametrize("machine,action", OWN_RECORD_ROWS)
def test_every_own_record_action_refuses_a_candidate_on_someone_elses_record(machine, action):
    sources, target, roles, _g, _r = EXPECTED_TABLE[machine][action]
    facts = {**HAPPY_FACTS[action], "owner_user_id": "u-2"}
    with pytest.raises(GuardRefused) as info:
        WORKFLOW.decide(machine, action, sources[0], ctx("candidate", facts=facts))
    assert info.value.code == "not_own_record"
    with pytest.raises(GuardRefused) as info:
        WORKFLOW.decide(machine, action, sources[0],
                        ctx("candidate", facts={**facts, "owner_user_id": None}))
    assert info.value.code == "not_own_record"
    assert "admin" in roles
    d = WORKFLOW.decide(machine, action, sources[0], ctx("admin", facts=facts))
    assert (d.target, d.role) == (target, "admin")


def test_nomination_answers_only_while_the_selection_is_publicizing():
    for action in ("consent", "decline"):
        facts = {**HAPPY_FACTS[action], "selection_state": "reviewing"}
        with pytest.raises(GuardRefused) as info:
            WORKFLOW.decide("candidate", action, "nominated", ctx("candidate", facts=facts))
        assert info.value.code == "selection_state_mismatch"
        assert info.value.details["guard"] == "selection_publicizing"


def test_lapse_waits_for_the_end_of_publicity():
    end = date(2025, 3, 10)
    with pytest.raises(GuardRefused) as info:
        WORKFLOW.decide("candidate", "lapse", "nominated",
                        ctx("admin", facts={"publicity_end_on": end, "today": end}))
    assert info.value.code == "publicity_not_ended"
    d = WORKFLOW.decide("candidate", "lapse", "nominated",
                        ctx("admin", facts={"publicity_end_on": end,
                                            "today": end + timedelta(days=1)}))
    assert d.target == "declined"


def test_guard_has_duties():
    assert g.has_duties(_guard_ctx({"duties_count": 1})) is None
    assert g.has_duties(_guard_ctx({"duties_count": 5})) is None
    for facts in ({}, {"duties_count": 0}, {"duties_count": None}):
        r = g.has_duties(_guard_ctx(facts))
        assert r is not None and r.code == "job_description_incomplete", facts


AGE = {"requirement": "max_age", "label": "年龄", "required": "≤ 45 岁", "found": "50 岁"}
EDU = {"requirement": "min_education", "label": "最低学历", "required": "本科及以上",
       "found": "大专"}


def _prereview_ctx(failed, exception=None, lang="zh-CN"):
    params = {"exception": exception} if exception is not None else {}
    return Context(actor=Actor("u-1", frozenset({"admin"})), role="admin",
                   facts={"eligibility_failed": failed, "lang": lang}, params=params)


def test_guard_eligibility_met_or_exception():
    check = g.eligibility_met_or_exception
    assert check(_prereview_ctx([])) is None
    r = check(_prereview_ctx([AGE, EDU]))
    assert r is not None and r.code == "requirement_not_met"
    assert "年龄（max_age）" in r.text and "最低学历（min_education）" in r.text
    assert r.details["failed"] == [AGE, EDU]
    assert r.details["needs"]["exception"]["requirements"] == ["max_age", "min_education"]
    r = check(_prereview_ctx([{**AGE, "label": "Age"}], lang="en"))
    assert r is not None and "Requirements of the job description not met: Age (max_age)" \
        in r.text
    # an exception for one of two failed requirements still leaves the other
    r = check(_prereview_ctx([AGE, EDU], {"requirements": ["max_age"], "reason": "破格"}))
    assert r is not None and r.code == "requirement_not_met"
    assert [f["requirement"] for f in r.details["failed"]] == ["min_education"]
    assert check(_prereview_ctx([AGE, EDU], {"requirements": ["max_age", "min_education"],
                                             "reason": "破格"})) is None
    # an exception for a requirement met is refused, also when none failed
    for failed in ([AGE], []):
        r = check(_prereview_ctx(failed, {"requirements": ["max_age", "min_work_years"],
                                          "reason": "破格"}))
        assert r is not None and r.code == "exception_not_needed"
        assert "min_work_years" in r.details["not_failed"]


def test_guard_eligibility_through_the_engine_and_the_options():
    ctx = _prereview_ctx([AGE])
    ctx = Context(actor=ctx.actor, facts={**ctx.facts, "selection_state": "reviewing"})
    with pytest.raises(GuardRefused) as e:
        WORKFLOW.decide("candidate", "pass_prereview", "applicant", ctx)
    assert e.value.code == "requirement_not_met"
    assert e.value.guard == "eligibility_met_or_exception"
    opts = {o.transition.action: o for o in WORKFLOW.options("candidate", "applicant", ctx)}
    assert opts["pass_prereview"].allowed is False
    assert opts["pass_prereview"].error.code == "requirement_not_met"
    assert opts["fail_prereview"].allowed is True


def test_guard_publicity_ended():
    end = date(2025, 3, 10)
    r = g.publicity_ended(_guard_ctx({"publicity_end_on": end, "today": end}))
    assert r is not None and r.code == "publicity_not_ended"
    assert r.details == {"publicity_end_on": "2025-03-10", "today": "2025-03-10"}
    r = g.publicity_ended(_guard_ctx({"publicity_end_on": end, "today": end - timedelta(days=3)}))
    assert r is not None and r.code == "publicity_not_ended"
    assert g.publicity_ended(
        _guard_ctx({"publicity_end_on": end, "today": end + timedelta(days=1)})) is None
    assert g.publicity_ended(
        _guard_ctx({"publicity_end_on": end, "today": end + timedelta(days=40)})) is None
    for facts in ({"today": end}, {"publicity_end_on": end}, {}):
        r = g.publicity_ended(_guard_ctx(facts))
        assert r is not None and r.code == "publicity_period_unknown", facts


def test_guard_publicity_ended_through_the_engine():
    end = date(2025, 3, 10)
    with pytest.raises(GuardRefused) as info:
        WORKFLOW.decide("selection", "close_nominations", "publicizing",
                        ctx("admin", facts={"publicity_end_on": end, "today": end}))
    assert info.value.code == "publicity_not_ended"
    assert info.value.details["guard"] == "publicity_ended"
    assert info.value.details["publicity_end_on"] == "2025-03-10"
    d = WORKFLOW.decide("selection", "close_nominations", "publicizing",
                        ctx("admin", facts={"publicity_end_on": end,
                                            "today": end + timedelta(days=1)}))
    assert d.target == "reviewing"


def test_guard_selection_publicizing():
    assert g.selection_publicizing(_guard_ctx({"selection_state": "publicizing"})) is None
    for state in ("drafting", "reviewing", "deciding", "following_up", "closed", "cancelled",
                  None):
        r = g.selection_publicizing(_guard_ctx({"selection_state": state}))
        assert r is not None and r.code == "selection_state_mismatch", state
        assert r.details == {"selection_state": state, "required": ["publicizing"]}


def test_guard_selection_open_for_candidates():
    for state in ("publicizing", "reviewing", "deciding"):
        assert g.selection_open_for_candidates(_guard_ctx({"selection_state": state})) is None
    for state in ("drafting", "following_up", "closed", "cancelled", None):
        r = g.selection_open_for_candidates(_guard_ctx({"selection_state": state}))
        assert r is not None and r.code == "selection_state_mismatch", state


def test_guard_selection_open_through_the_engine():
    with pytest.raises(GuardRefused) as info:
        WORKFLOW.decide("candidate", "withdraw", "applicant",
                        ctx("admin", facts={"selection_state": "cancelled"}))
    assert info.value.code == "selection_state_mismatch"
    assert info.value.details["guard"] == "selection_open"


WAITING_AT_REVIEW = ("nominated", "applicant", "qualified", "shortlisted")


def test_guard_review_finished():
    assert g.review_finished(_guard_ctx({})) is None
    assert g.review_finished(_guard_ctx({"candidate_counts": {}})) is None
    assert g.review_finished(_guard_ctx({"candidate_counts": {
        "inspected": 2, "not_qualified": 3, "withdrawn": 1, "declined": 1, "applicant": 0,
    }})) is None
    for state in WAITING_AT_REVIEW:
        r = g.review_finished(_guard_ctx({"candidate_counts": {state: 1, "inspected": 2}}))
        assert r is not None and r.code == "review_unfinished", state
        assert r.details == {"candidates_waiting": {state: 1}}


def test_guard_some_inspected():
    assert g.some_inspected(_guard_ctx({"candidate_counts": {"inspected": 1}})) is None
    for counts in ({}, {"inspected": 0}, {"appointed": 2, "not_qualified": 1}):
        r = g.some_inspected(_guard_ctx({"candidate_counts": counts}))
        assert r is not None and r.code == "nobody_to_submit", counts
    r = g.some_inspected(_guard_ctx({}))
    assert r is not None and r.code == "nobody_to_submit"


def test_submit_to_committee_reports_the_first_guard_that_refuses():
    with pytest.raises(GuardRefused) as info:
        WORKFLOW.decide("selection", "submit_to_committee", "reviewing",
                        ctx("admin", facts={"candidate_counts": {"applicant": 1}}))
    assert info.value.code == "review_unfinished"
    with pytest.raises(GuardRefused) as info:
        WORKFLOW.decide("selection", "submit_to_committee", "reviewing",
                        ctx("admin", facts={"candidate_counts": {"not_qualified": 1}}))
    assert info.value.code == "nobody_to_submit"


def test_guard_all_decided():
    assert g.all_decided(_guard_ctx({})) is None
    assert g.all_decided(_guard_ctx({"candidate_counts": {"appointed": 1, "reserve": 2,
                                                          "inspected": 0}})) is None
    r = g.all_decided(_guard_ctx({"candidate_counts": {"inspected": 1, "appointed": 1}}))
    assert r is not None and r.code == "decision_unfinished"
    assert r.details == {"candidates_waiting": {"inspected": 1}}


@pytest.mark.parametrize("state", ["nominated", "applicant", "qualified", "shortlisted",
                                   "inspected", "appointed", "on_trial"])
def test_guard_all_followed_up_refuses_while_a_story_is_open(state):
    r = g.all_followed_up(_guard_ctx({"candidate_counts": {state: 2, "confirmed": 1}}))
    assert r is not None and r.code == "follow_up_unfinished"
    assert r.details == {"candidates_waiting": {state: 2}}


def test_guard_all_followed_up_passes_when_every_story_ended():
    final = EXPECTED_STATES["candidate"]["final"]
    assert g.all_followed_up(_guard_ctx({"candidate_counts": {s: 1 for s in final}})) is None
    assert g.all_followed_up(_guard_ctx({})) is None


def test_guards_pass_on_the_happy_facts_and_check_guards_false_skips_them():
    for machine, rows in EXPECTED_TABLE.items():
        for action, (sources, target, roles, _g, _r) in rows.items():
            d = WORKFLOW.decide(machine, action, sources[0],
                                ctx(roles[0], facts=HAPPY_FACTS[action]))
            assert d.target == target
            # With no facts, guards are skipped only when asked.
            d = WORKFLOW.decide(machine, action, sources[0], ctx(roles[0], facts={}),
                                check_guards=False)
            assert d.target == target


def test_guard_objections_settled_names_the_objection_that_holds_the_appointment():
    assert g.objections_settled(_guard_ctx({"objections_pending": [],
                                            "objections_upheld": []})) is None
    r = g.objections_settled(_guard_ctx({"objections_pending": [
        {"id": "o-1", "state": "investigating"}, {"id": "o-2", "state": "received"}]}))
    assert (r.code, r.details["objection_id"], r.details["objection_state"]) == (
        "objection_pending", "o-1", "investigating")
    r = g.objections_settled(_guard_ctx({"objections_pending": [],
                                         "objections_upheld": ["o-3"]}))
    assert (r.code, r.details["objection_id"]) == ("objection_upheld", "o-3")


def test_guard_final_assessment_passed():
    assert g.final_assessment_passed(_guard_ctx({})).code == "final_assessment_missing"
    r = g.final_assessment_passed(_guard_ctx({"final_assessment": {
        "id": "a-1", "grade": "incompetent", "passed": False}}))
    assert (r.code, r.details["assessment_id"]) == ("final_assessment_failed", "a-1")
    assert g.final_assessment_passed(_guard_ctx({"final_assessment": {
        "id": "a-1", "grade": "basically_competent", "passed": True}})) is None


def test_guard_assessment_in_order():
    def check(kind, done):
        c = Context(actor=actor("admin"), facts={"assessment_kinds": done},
                    params={"kind": kind}, role="admin")
        r = g.assessment_in_order(c)
        return r.code if r else None

    assert check("mid_term", []) is None
    assert check("final", ["mid_term"]) is None
    assert check("final", []) is None
    assert check("mid_term", ["mid_term"]) == "mid_term_assessment_recorded"
    assert check("mid_term", ["final"]) == "final_assessment_recorded"
    assert check("final", ["mid_term", "final"]) == "final_assessment_recorded"


def test_guards_of_the_objection_machine():
    def team(members, needed):
        c = Context(actor=actor("admin"), facts={"investigators_needed": needed},
                    params={"investigators": members}, role="admin")
        return g.investigating_team_ready(c)

    assert team(["u-1", "u-2"], 2) is None
    r = team(["u-1", "u-1"], 2)
    assert (r.code, r.details) == ("investigating_team_incomplete", {"members": 1, "needed": 2})
    assert team(["u-1", "u-2"], 3).code == "investigating_team_incomplete"

    def by(who):
        c = Context(actor=actor("admin"), facts={"investigators": ["u-1", "u-2"]},
                    params={"investigator_id": who}, role="admin")
        return g.by_an_investigator(c)

    assert by("u-2") is None
    assert by("u-9").code == "not_an_investigator"
    assert g.findings_recorded(_guard_ctx({"findings_recorded": False})).code == \
        "findings_missing"
    assert g.findings_recorded(_guard_ctx({"findings_recorded": True})) is None


def test_guards_see_the_role_the_engine_chose():
    seen = []

    def spy(c: Context):
        seen.append(c.role)
        return None

    from service.workflow.engine import Machine, State, Transition

    m = Machine("m", "a", (State("a", "甲", "A"), State("b", "乙", "B")), (
        Transition("m", "go", ("a",), "b", ("judge", "candidate"), "走", "Go",
                   (Guard("spy", "spy", spy),)),
    ))
    Workflow([m]).decide("m", "go", "a", ctx("candidate", "judge", "admin"))
    assert seen == ["judge"]


# ---------------------------------------------------------------- the diagram


@pytest.mark.parametrize("machine", list(EXPECTED_TABLE))
def test_mermaid_has_an_arrow_per_source_and_action(machine):
    text = mermaid(WORKFLOW.machine(machine))
    lines = [line.strip() for line in text.splitlines()]
    assert lines[0] == "stateDiagram-v2"
    assert f"[*] --> {EXPECTED_STATES[machine]['initial']}" in lines
    expected_arrows = set()
    for action, (sources, target, _roles, _g, _r) in EXPECTED_TABLE[machine].items():
        for src in sources:
            arrow = f"{src} --> {target} : {action}"
            assert arrow in lines, arrow
            expected_arrows.add(arrow)
    action_arrows = {line for line in lines if re.fullmatch(r"\w+ --> \w+ : \w+", line)}
    assert action_arrows == expected_arrows
    for s in EXPECTED_STATES[machine]["final"]:
        assert f"{s} --> [*]" in lines
    for s in EXPECTED_STATES[machine]["open"]:
        assert f"{s} --> [*]" not in lines


# ---------------------------------------------------------------- named posts
_POSTS = {"b1": {"count": 1, "taken": 0}, "b2": {"count": 2, "taken": 2}}


@pytest.mark.parametrize(("post", "stands", "posts", "code"), [
    (None, ["b1"], _POSTS, "post_required"),
    ("b9", ["b1"], _POSTS, "unknown_post"),
    ("b1", ["b2"], _POSTS, "post_not_stood_for"),
    ("b2", ["b1", "b2"], _POSTS, "post_filled"),
    ("b1", ["b1", "b2"], _POSTS, None),
    (None, ["b1"], {"b1": {"count": 1, "taken": 0}}, None),  # the only post, unnamed
    (None, ["b1"], {"b1": {"count": 1, "taken": 1}}, "post_filled"),
])
def test_an_appointment_names_a_post_the_candidate_stands_for_with_a_place_left(
        post, stands, posts, code):
    c = Context(actor=actor("admin"), facts={"named_posts": posts, "candidate_posts": stands},
                params={"post": post}, role="admin")
    refusal = g.appointed_post(c)
    assert (refusal.code if refusal else None) == code

