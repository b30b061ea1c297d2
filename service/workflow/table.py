"""The transition table: every state and every action of both machines, as data.

Later steps add rows here (and guards in guards.py); nothing else in the service
decides which state follows which.
"""

from __future__ import annotations

from . import guards as g
from .engine import Machine, State, Transition
from .roles import ADMIN, CANDIDATE, INSPECTOR

SELECTION = "selection"
CANDIDATE_MACHINE = "candidate"
OBJECTION = "objection"

SELECTION_STATES = (
    State("drafting", "起草职务说明书", "Drafting the job description"),
    State("publicizing", "公示与推荐", "Publicity and nomination"),
    State("reviewing", "三次审核", "Three reviews"),
    State("deciding", "党委会审核", "Party committee decision"),
    State("following_up", "后期跟进", "Follow-up"),
    State("closed", "已结束", "Closed", final=True),
    State("cancelled", "已取消", "Cancelled", final=True),
)
_SELECTION_OPEN = tuple(s.name for s in SELECTION_STATES if not s.final)


def _sel(action, sources, target, zh, en, guards=(), roles=(ADMIN,), reason_required=False):
    return Transition(
        SELECTION, action, tuple(sources), target, tuple(roles), zh, en, tuple(guards),
        reason_required,
    )


SELECTION_TRANSITIONS = (
    _sel("publish", ["drafting"], "publicizing", "发布公示", "Publish the post",
         [g.has_duties]),
    _sel("close_nominations", ["publicizing"], "reviewing", "截止推荐报名",
         "Close nominations", [g.publicity_ended]),
    _sel("submit_to_committee", ["reviewing"], "deciding", "提交党委会审核",
         "Submit to the party committee", [g.review_finished, g.some_inspected]),
    _sel("finish_decision", ["deciding"], "following_up", "完成党委会决定",
         "Finish the committee's decision", [g.all_decided]),
    _sel("close", ["following_up"], "closed", "结束选拔", "Close the selection",
         [g.all_followed_up]),
    _sel("cancel", _SELECTION_OPEN, "cancelled", "取消选拔", "Cancel the selection",
         reason_required=True),
)

CANDIDATE_STATES = (
    State("nominated", "已被推荐（待本人同意）", "Nominated, awaiting consent"),
    State("applicant", "参选人", "Applicant"),
    State("qualified", "资格预审通过", "Passed qualification pre-review"),
    State("shortlisted", "面议评审通过", "Passed the interview review"),
    State("inspected", "组织考察通过", "Passed the organizational inspection"),
    State("appointed", "拟上岗使用（任职前公示）", "To be appointed (pre-appointment publicity)"),
    State("on_trial", "试用锻炼", "On trial"),
    # not final: a reserve may yet fill a vacated post of the selection (递补)
    State("reserve", "储备人选", "Reserve"),
    State("confirmed", "正式任职", "Confirmed in the post", final=True),
    State("not_qualified", "不符合", "Not qualified", final=True),
    State("declined", "本人不同意参选", "Declined to stand", final=True),
    State("withdrawn", "本人退出", "Withdrawn", final=True),
    State("revoked", "取消任用", "Appointment revoked", final=True),
    State("dismissed", "试用不胜任", "Found unfit on trial", final=True),
    State("not_elected", "支部党员大会选举未当选", "Not elected by the branch", final=True),
    State("not_approved", "上级党委未批准", "Not approved by the higher committee", final=True),
)
_BEFORE_DECISION = ("nominated", "applicant", "qualified", "shortlisted", "inspected")


def _cand(action, sources, target, zh, en, guards=(), roles=(ADMIN,), reason_required=False):
    return Transition(
        CANDIDATE_MACHINE, action, tuple(sources), target, tuple(roles), zh, en, tuple(guards),
        reason_required,
    )


CANDIDATE_TRANSITIONS = (
    _cand("consent", ["nominated"], "applicant", "本人同意参选", "Consent to stand",
          [g.own_record, g.selection_publicizing], roles=(CANDIDATE, ADMIN)),
    _cand("decline", ["nominated"], "declined", "本人不同意参选", "Decline to stand",
          [g.own_record, g.selection_publicizing], roles=(CANDIDATE, ADMIN),
          reason_required=True),
    _cand("lapse", ["nominated"], "declined", "逾期未确认参选", "Lapse without consent",
          [g.publicity_ended]),
    _cand("pass_prereview", ["applicant"], "qualified", "资格预审通过", "Pass pre-review",
          [g.selection_reviewing, g.eligibility_met_or_exception]),
    _cand("fail_prereview", ["applicant"], "not_qualified", "资格预审不通过",
          "Fail pre-review", [g.selection_reviewing], reason_required=True),
    _cand("pass_interview", ["qualified"], "shortlisted", "面议评审通过", "Pass the interview",
          [g.selection_reviewing, g.sheets_complete, g.within_ratio_or_reason]),
    _cand("fail_interview", ["qualified"], "not_qualified", "面议评审不通过",
          "Fail the interview", [g.selection_reviewing], reason_required=True),
    _cand("pass_inspection", ["shortlisted"], "inspected", "组织考察通过", "Pass inspection",
          [g.selection_reviewing, g.on_inspection_team, g.inspection_team_ready],
          roles=(INSPECTOR, ADMIN)),
    _cand("fail_inspection", ["shortlisted"], "not_qualified", "组织考察不通过",
          "Fail inspection",
          [g.selection_reviewing, g.on_inspection_team, g.inspection_team_ready],
          roles=(INSPECTOR, ADMIN), reason_required=True),
    _cand("decide_appoint", ["inspected"], "appointed", "党委会决定：上岗使用",
          "Committee: appoint", [g.selection_deciding, g.appointed_post]),
    _cand("decide_reserve", ["inspected"], "reserve", "党委会决定：储备人选",
          "Committee: reserve", [g.selection_deciding]),
    _cand("decide_not_qualified", ["inspected"], "not_qualified", "党委会决定：不符合",
          "Committee: not qualified", [g.selection_deciding], reason_required=True),
    _cand("start_trial", ["appointed"], "on_trial", "安排一线岗位实习锻炼",
          "Place on trial", [g.objections_settled, g.appointment_publicity_over,
                             g.election_approved]),
    # 递补: a reserve of this selection fills a vacated post, by a committee meeting held
    # during follow-up (POST /selections/{id}/backfill-meetings), in rank order or with a
    # reason; the publicity, the election (when on) and the trial follow as for the first.
    _cand("backfill", ["reserve"], "appointed", "党委会决定：递补上岗使用",
          "Committee: backfill a vacated post",
          [g.selection_following_up, g.decided_in_backfill_meeting, g.post_vacant,
           g.in_rank_order_or_reason]),
    # The branch's election (选举), when the selection's branch_election is on: the branch's
    # meeting after a clean publicity, then the higher committee's approval (批准).
    _cand("record_election", ["appointed"], "appointed", "支部党员大会选举",
          "Record the branch's election",
          [g.election_required, g.objections_settled, g.appointment_publicity_over,
           g.election_not_held, g.election_quorum_met]),
    _cand("fail_election", ["appointed"], "not_elected", "选举未当选", "Not elected",
          [g.election_lost]),
    _cand("approve_election", ["appointed"], "appointed", "上级党委批准",
          "The higher committee approves", [g.elected, g.approval_not_recorded]),
    _cand("refuse_approval", ["appointed"], "not_approved", "上级党委不予批准",
          "The higher committee does not approve", [g.elected, g.approval_not_recorded],
          reason_required=True),
    _cand("revoke", ["appointed"], "revoked", "取消任用", "Revoke the appointment",
          reason_required=True),
    _cand("record_assessment", ["on_trial"], "on_trial", "试用期考核",
          "Record a trial assessment", [g.assessment_in_order]),
    _cand("confirm", ["on_trial"], "confirmed", "试用胜任，正式任职", "Confirm in the post",
          [g.objections_settled, g.trial_complete, g.final_assessment_passed]),
    _cand("dismiss", ["on_trial"], "dismissed", "试用不胜任", "End the trial: unfit",
          reason_required=True),
    _cand("withdraw_appointment", ["appointed", "on_trial"], "withdrawn", "本人辞去拟任职务",
          "Withdraw from the appointment", [g.own_record], roles=(ADMIN, CANDIDATE),
          reason_required=True),
    _cand("withdraw", _BEFORE_DECISION, "withdrawn", "退出选拔", "Withdraw",
          [g.own_record, g.selection_open_for_candidates], roles=(ADMIN, CANDIDATE),
          reason_required=True),
)

# An objection (异议) to a proposed appointment: received (受理), investigated by a team
# (调查核实), concluded (成立 / 部分成立 / 不成立) with reasons.
OBJECTION_STATES = (
    State("received", "已受理", "Received"),
    State("investigating", "调查核实中", "Under investigation"),
    State("upheld", "异议成立", "Upheld", final=True),
    State("partly_upheld", "异议部分成立", "Partly upheld", final=True),
    State("not_upheld", "异议不成立", "Not upheld", final=True),
)


def _obj(action, sources, target, zh, en, guards=(), reason_required=False):
    return Transition(OBJECTION, action, tuple(sources), target, (ADMIN,), zh, en,
                      tuple(guards), reason_required)


OBJECTION_TRANSITIONS = (
    _obj("start_investigation", ["received"], "investigating", "组成调查组，开始调查核实",
         "Start the investigation", [g.investigating_team_ready]),
    _obj("record_investigation", ["investigating"], "investigating", "调查谈话或核实情况记录",
         "Record a conversation or a finding", [g.by_an_investigator]),
    _obj("conclude_upheld", ["investigating"], "upheld", "调查结论：异议成立",
         "Conclude: upheld", [g.findings_recorded], reason_required=True),
    _obj("conclude_partly_upheld", ["investigating"], "partly_upheld",
         "调查结论：异议部分成立", "Conclude: partly upheld", [g.findings_recorded],
         reason_required=True),
    _obj("conclude_not_upheld", ["investigating"], "not_upheld", "调查结论：异议不成立",
         "Conclude: not upheld", [g.findings_recorded], reason_required=True),
)

SELECTION_MACHINE_DEF = Machine(SELECTION, "drafting", SELECTION_STATES, SELECTION_TRANSITIONS)
CANDIDATE_MACHINE_DEF = Machine(
    CANDIDATE_MACHINE, "nominated", CANDIDATE_STATES, CANDIDATE_TRANSITIONS
)
OBJECTION_MACHINE_DEF = Machine(OBJECTION, "received", OBJECTION_STATES, OBJECTION_TRANSITIONS)
MACHINES = (SELECTION_MACHINE_DEF, CANDIDATE_MACHINE_DEF, OBJECTION_MACHINE_DEF)
