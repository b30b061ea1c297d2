"""After the decision, through HTTP and a real SMTP server: a vacated post filled from this
selection's reserves (递补) by a committee meeting held during follow-up, in rank order or with
a reason, with its own pre-appointment publicity and emails; the branch's election (选举) with
its 4/5 quorum and its majority, then the higher committee's approval (批准) before the trial;
and the pre-appointment notice (任前公示) as real notices print it.

Dates as in test_follow_up.py: the decision on 2026-10-14, the publicity to 2026-10-21. 王芳
(85) ranks before 陈静 (80) among the reserves.
"""

from __future__ import annotations

from sqlmodel import select

from service.core.db import open_session
from service.outbox.mailer import send_due
from service.review.models import CommitteeMeeting

from ..conftest import SELECTION_BODY
from .test_follow_up import (
    CAND,
    ORG,
    PEOPLE,
    POOL,
    PUBLIC,
    SEL,
    Flow,
    _ok,
    _problem,
    _smtp_settings,
    conclude,
)

ELECTION = {"held_on": "2026-10-23", "members_due": 30, "present_with_vote": 27,
            "ballots_returned": 27, "ballots_valid": 27, "ballots_invalid": 0,
            "votes_for": 25, "votes_against": 1, "abstentions": 1,
            "minutes": "支部党员大会选举支部书记"}


def count(present: int, votes_for: int, against: int, abstaining: int, *, invalid: int = 0,
          **extra) -> dict:
    """ELECTION with a count that adds up: every ballot issued is returned."""
    return {**ELECTION, "present_with_vote": present, "ballots_returned": present,
            "ballots_valid": present - invalid, "ballots_invalid": invalid,
            "votes_for": votes_for, "votes_against": against, "abstentions": abstaining,
            **extra}
APPROVAL = {"approved_by": "中共某某公司委员会", "decided_on": "2026-10-26",
            "document_number": "某党组〔2026〕12号"}


def _members(f: Flow, n: int = 9) -> list[str]:
    return [f.user("committee")[0] for _ in range(n)]


def _backfill(f: Flow, decisions: list[dict], *, members: list[str] | None = None,
              present: int = 7):
    members = members or _members(f)
    return f.post(f"{SEL}/{f.sel}/backfill-meetings", {
        "held_on": f.today(), "members_due": members, "present": members[:present],
        "decisions": decisions, "minutes": "党委会研究递补人选"})


def _vote(f: Flow, key: str, votes_for: int = 6, **extra) -> dict:
    return {"candidate_id": f.c[key], "votes_for": votes_for, "votes_against": 1,
            "abstentions": 0, **extra}


def _meetings() -> int:
    with open_session() as s:
        return len(s.exec(select(CommitteeMeeting)).all())


def _uphold_and_revoke(f: Flow, client, key: str = "li") -> None:
    f.advance(1)
    o = _ok(client.post(f"{PUBLIC}/{f.c[key]}/objections",
                        json={"content": "反映该同志隐瞒个人有关事项"}), 201)
    conclude(f, o["id"], "upheld", "经核查，确有隐瞒个人有关事项情况")
    _ok(f.act(key, "revoke", {"reason": "任职前公示异议经核实成立"}))


# ================================================================ 1. backfill (递补)
def test_a_post_vacated_by_an_upheld_objection_is_backfilled_in_rank_order(
        flow, client, smtp_server):
    f = flow.standard(appointed=("li",), reserve=("wang", "chen"))
    inbox, port = smtp_server()
    settings = _smtp_settings(port)
    send_due(settings)
    before = len(inbox.envelopes)
    # nothing is vacant yet: a backfill meeting is refused whole
    p = _problem(_backfill(f, [_vote(f, "wang")]), 409, "no_vacancy")
    assert "没有出缺" in p["detail"]
    _uphold_and_revoke(f, client)

    vacancies = _ok(f.get(f"{SEL}/{f.sel}/vacancies"))
    assert len(vacancies) == 1
    v = vacancies[0]
    assert (v["post"], v["cause"], v["cause_label"], v["vacated_by"], v["refilled_by"]) == (
        "p1", "revoked", "取消任用", f.c["li"], None)
    assert v["rank_order"] == [f.c["wang"], f.c["chen"]]
    revoke = next(e for e in f.events("li") if e["action"] == "revoke")
    assert revoke["id"] == v["vacated_event_id"]
    assert revoke["params"]["vacancy"]["post"] == "p1"

    meetings = _meetings()
    # 陈静 before 王芳 without a reason: refused, nothing recorded
    p = _problem(_backfill(f, [_vote(f, "chen")]), 409, "departs_from_rank_order")
    assert "第 2 位" in p["detail"] and p["details"]["rank_order"][0] == f.c["wang"]
    # the decision meeting's rules: 2/3 present, more than half of the members due for
    p = _problem(_backfill(f, [_vote(f, "wang")], present=5), 409, "quorum_not_met")
    p = _problem(_backfill(f, [_vote(f, "wang", votes_for=4)]), 409, "vote_threshold_not_met")
    assert p["details"]["needed"] == 5
    _problem(_backfill(f, [_vote(f, "wang", votes_for=7)]), 422, "too_many_votes")
    # only a reserve of this selection
    _problem(_backfill(f, [_vote(f, "zhou")]), 409, "not_a_reserve")
    # a backfill is the meeting's, never a bare action
    _problem(f.act("wang", "backfill"), 409, "backfill_needs_meeting")
    assert _meetings() == meetings
    assert (f.state("wang"), f.state("chen")) == ("reserve", "reserve")

    meeting = _ok(_backfill(f, [_vote(f, "wang")]), 201)
    assert meeting["decisions"][0]["outcome"] == "backfilled"
    assert meeting["decisions"][0]["post"] == "p1"
    assert f.state("wang") == "appointed"
    ev = next(e for e in f.events("wang") if e["action"] == "backfill")
    assert (ev["from_state"], ev["to_state"]) == ("reserve", "appointed")
    assert ev["params"]["meeting_id"] == meeting["id"]
    assert (ev["params"]["votes_for"], ev["params"]["members_due"],
            ev["params"]["members_present"]) == (6, 9, 7)
    assert ev["params"]["vacancy"] == {"post": "p1", "vacated_by": f.c["li"],
                                       "cause": "revoked"}
    assert ev["params"]["position"] == 1
    sel_events = _ok(f.get(f"{SEL}/{f.sel}/events"))["items"]
    recorded = [e for e in sel_events if e["action"] == "record_backfill_meeting"]
    assert len(recorded) == 1 and recorded[0]["params"]["meeting_id"] == meeting["id"]
    assert recorded[0]["action_label"] == "递补党委会记录"
    assert recorded[0]["params"]["decisions"][0]["members_voting"] == 7

    # the vacancy is refilled; the pool no longer lists 王芳
    assert _ok(f.get(f"{SEL}/{f.sel}/vacancies"))[0]["refilled_by"] == f.c["wang"]
    pool = [e["candidate_id"] for e in _ok(f.get(POOL))]
    assert f.c["wang"] not in pool and f.c["chen"] in pool
    _problem(_backfill(f, [_vote(f, "chen", reason="再次递补")]), 409, "post_refilled")

    # 王芳's own pre-appointment publicity, from the meeting's day
    public = {a["candidate_id"]: a for a in _ok(client.get(PUBLIC))}
    assert public[f.c["wang"]]["backfilled"] is True
    assert public[f.c["wang"]]["publicity_start_on"] == f.today()
    # her email: backfilled, with the post
    assert send_due(settings) >= 1
    got = {r[0]: m for r, m in inbox.messages()[before:]}
    msg = got[PEOPLE["wang"]["email"]]
    assert "递补上岗使用" in msg["Subject"]
    body = msg.get_content()
    assert "李明" in body and f"{ORG}书记" in body and "不再列入储备人选库" in body
    assert f.notifications("wang")[-1]["outcome"] == "backfilled"

    # the same path as the first appointee: the trial after her publicity
    _problem(f.start_trial("wang"), 409, "appointment_publicity_not_ended")
    f.advance(10)
    assert _ok(f.start_trial("wang"))["state"] == "on_trial"


def test_out_of_rank_order_with_a_reason_and_a_withdrawal_on_trial(flow, smtp_server):
    f = flow.standard(appointed=("li",), reserve=("wang", "chen"),
                      appointment_publicity_working_days=0,
                      user_ids={"li": None})
    # 李明 withdraws from the appointment during the trial: the post is vacant
    assert _ok(f.start_trial("li"))["state"] == "on_trial"
    _problem(f.act("li", "withdraw_appointment"), 422, "reason_required")
    assert _ok(f.act("li", "withdraw_appointment", {"reason": "工作调动"}))["state"] == \
        "withdrawn"
    assert f.notifications("li")[-1]["outcome"] == "appointment_withdrawn"
    assert _ok(f.get(f"{SEL}/{f.sel}/vacancies"))[0]["cause"] == "withdrawn"
    reason = "王芳同志已调任其他岗位，本人申请不参加递补"
    meeting = _ok(_backfill(f, [_vote(f, "chen", reason=reason)]), 201)
    assert meeting["decisions"][0]["reason"] == reason
    ev = next(e for e in f.events("chen") if e["action"] == "backfill")
    assert ev["reason"] == reason and ev["params"]["position"] == 2
    assert f.state("wang") == "reserve"


def test_a_trial_ended_as_unfit_leaves_the_post_to_the_next_reserve(flow):
    f = flow.standard(appointed=("li",), reserve=("wang",), appointment_publicity_working_days=0)
    _ok(f.start_trial("li"))
    _ok(f.act("li", "dismiss", {"reason": "试用期间不能胜任支部书记工作"}))
    v = _ok(f.get(f"{SEL}/{f.sel}/vacancies"))
    assert [(x["cause"], x["cause_label"]) for x in v] == [("dismissed", "试用不胜任")]
    _ok(_backfill(f, [_vote(f, "wang")]), 201)
    assert f.state("wang") == "appointed"


def test_a_backfill_waits_for_the_follow_up(flow):
    f = flow.standard(appointed=("li",), reserve=("wang",), finish=False)
    p = _problem(_backfill(f, [_vote(f, "wang")]), 409, "selection_not_following_up")
    assert "跟进" in p["detail"]


# ================================================================ 7. the branch's election
def test_the_branch_elects_then_the_higher_committee_approves_then_the_trial(flow):
    f = flow.standard(appointed=("li",), reserve=("wang",), branch_election=True)
    election = f"{CAND}/{f.c['li']}/actions/record_election"
    # not during the publicity
    _problem(f.post(election, {"params": ELECTION}), 409, "appointment_publicity_not_ended")
    f.advance(9)  # 2026-10-23
    p = _problem(f.start_trial("li"), 409, "election_not_held")
    assert "选举" in p["detail"]
    # counts that do not add up
    _problem(f.post(election, {"params": {**ELECTION, "present_with_vote": 31}}), 422)
    _problem(f.post(election, {"params": {**ELECTION, "votes_for": 27}}), 422)
    # 24 of 30 is not more than 4/5: the meeting is not valid, nothing is recorded
    p = _problem(f.post(election, {"params": count(24, 20, 2, 2)}), 409,
                 "election_quorum_not_met")
    assert "4/5" in p["detail"]
    assert "record_election" not in f.actions_of("li")
    out = _ok(f.post(election, {"params": ELECTION}))
    assert out["state"] == "appointed"
    e = f.follow_up("li")["appointment"]["election"]
    assert (e["elected"], e["votes_needed"], e["election_quorum"]) == (True, 14, 0.8)
    _problem(f.post(election, {"params": ELECTION}), 409, "election_recorded")
    p = _problem(f.start_trial("li"), 409, "approval_missing")
    approve = f"{CAND}/{f.c['li']}/actions/approve_election"
    _problem(f.post(approve, {"params": {**APPROVAL, "decided_on": "2026-10-20"}}), 422,
             "approval_before_election")
    f.advance(3)
    _ok(f.post(approve, {"params": APPROVAL}))
    assert f.follow_up("li")["appointment"]["approval"] == {**APPROVAL, "approved": True}
    assert _ok(f.start_trial("li"))["state"] == "on_trial"
    assert [a for a in f.actions_of("li") if a in (
        "record_election", "approve_election", "start_trial")] == [
        "record_election", "approve_election", "start_trial"]


def test_not_elected_leaves_the_post_vacant_and_the_backfill_is_elected_too(flow,
                                                                            smtp_server):
    f = flow.standard(appointed=("li",), reserve=("wang",), branch_election=True)
    inbox, port = smtp_server()
    settings = _smtp_settings(port)
    send_due(settings)
    before = len(inbox.envelopes)
    f.advance(9)
    # 13 of 27 present is not more than half
    out = _ok(f.act("li", "record_election", {"params": count(27, 13, 12, 1, invalid=1)}))
    assert out["state"] == "not_elected"
    fail = next(e for e in f.events("li") if e["action"] == "fail_election")
    assert "14" in fail["reason"] and fail["params"]["vacancy"]["post"] == "p1"
    assert send_due(settings) == 1
    msg = inbox.messages()[before][1]
    assert "选举未当选" in msg["Subject"] and "赞成 13 票，实到 27 人" in msg.get_content()
    assert _ok(f.get(f"{SEL}/{f.sel}/vacancies"))[0]["cause"] == "not_elected"
    _ok(_backfill(f, [_vote(f, "wang")]), 201)
    f.advance(10)
    _problem(f.start_trial("wang"), 409, "election_not_held")
    _ok(f.act("wang", "record_election", {"params": {**ELECTION, "held_on": f.today()}}))
    _problem(f.act("wang", "refuse_approval", {"params": {**APPROVAL,
                                                               "decided_on": f.today()}}),
                 422, "reason_required")
    out = _ok(f.act("wang", "refuse_approval", {"reason": "任职资格复核未通过",
                                                "params": {**APPROVAL, "decided_on": f.today()}}))
    assert out["state"] == "not_approved"
    assert f.notifications("wang")[-1]["outcome"] == "not_approved"
    assert [v["cause"] for v in _ok(f.get(f"{SEL}/{f.sel}/vacancies"))] == [
        "not_elected", "not_approved"]


def test_with_the_election_off_nothing_changes_and_it_cannot_be_recorded(flow):
    f = flow.standard(appointed=("li",), reserve=("wang",))
    f.advance(9)
    p = _problem(f.act("li", "record_election", {"params": ELECTION}), 409,
                 "election_not_required")
    assert "branch_election" in p["detail"]
    assert _ok(f.start_trial("li"))["state"] == "on_trial"


def test_the_election_rules_are_settings(flow):
    f = flow.standard(appointed=("li",), reserve=("wang",), branch_election=True,
                      election_quorum=2 / 3, election_majority=2 / 3)
    f.advance(9)
    # 21 of 30 exceeds 2/3; 14 of 21 is not more than 2/3 of those present
    out = _ok(f.act("li", "record_election", {"params": count(21, 14, 6, 1)}))
    assert out["state"] == "not_elected"
    p = _problem(f.post(SEL, {**SELECTION_BODY, "settings": {"election_quorum": 1}}), 422)
    assert "election_quorum" in str(p["errors"])


# ================================================================ 8. the notice
def test_the_pre_appointment_notice_prints_what_real_notices_print(flow, client):
    f = flow.standard(appointed=("li",), reserve=("wang",))
    row = next(a for a in _ok(client.get(PUBLIC)) if a["candidate_id"] == f.c["li"])
    assert {k: row[k] for k in ("full_name", "gender", "gender_label", "birth_month",
                                "education", "education_label", "party_joined_on",
                                "current_post", "unit", "proposed_post", "branch",
                                "backfilled")} == {
        "full_name": "李明", "gender": "male", "gender_label": "男", "birth_month": "1988-05",
        "education": "bachelor", "education_label": "本科", "party_joined_on": "2012-07-01",
        "current_post": "办公室副主任", "unit": "机关办公室", "proposed_post": f"{ORG}书记",
        "branch": ORG, "backfilled": False}
    assert (row["publicity_start_on"], row["publicity_end_on"]) == ("2026-10-14", "2026-10-21")
    assert "birth_date" not in row and "phone" not in row and "email" not in row
    assert "1988-05-12" not in str(row)
    en = next(a for a in _ok(client.get(PUBLIC, headers={"Accept-Language": "en"}))
              if a["candidate_id"] == f.c["li"])
    assert (en["gender_label"], en["education_label"]) == ("Male", "Bachelor")
    assert "during the publicity" in en["how_to_object"].lower()
