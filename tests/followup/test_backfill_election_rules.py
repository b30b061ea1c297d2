"""The rules a new user met in backfill and election, through HTTP: a committee meeting is not
dated after today nor, for a backfill, before the vacancy arose, and the backfilled
appointee's publicity starts on the meeting's day; a meeting deciding more backfills for a
post than it has vacancies is refused as such; the branch's count adds up ballot by ballot;
the meetings' rule refusals share one title; an upheld objection is the answer to a trial
asked for during the publicity; an appointee's withdrawal is told as a change of the result.

Dates as in test_follow_up.py: the decision on 2026-10-14, the publicity to 2026-10-21.
"""

from __future__ import annotations

from service.outbox.mailer import send_due

from .test_backfill_election import (
    ELECTION,
    _backfill,
    _meetings,
    _members,
    _uphold_and_revoke,
    _vote,
    count,
)
from .test_follow_up import (
    CAND,
    DECISION_DAY,
    PEOPLE,
    PUBLIC,
    SEL,
    _ok,
    _problem,
    _smtp_settings,
    conclude,
)

RULE_TITLE = "不符合规则，操作被拒绝"


def _en(f) -> dict:
    return {**f.admin, "Accept-Language": "en"}


def _backfill_on(f, held_on: str, decisions: list[dict], headers: dict | None = None):
    members = _members(f)
    return f.post(f"{SEL}/{f.sel}/backfill-meetings", {
        "held_on": held_on, "members_due": members, "present": members[:7],
        "decisions": decisions, "minutes": "党委会研究递补人选"}, headers)


# ================================================================ 1. the meeting's day
def test_a_backfill_meeting_is_not_after_today_nor_before_the_vacancy(flow, client):
    f = flow.standard(appointed=("li",), reserve=("wang", "chen"))
    _uphold_and_revoke(f, client)  # revoked on 2026-10-15
    vacancy = _ok(f.get(f"{SEL}/{f.sel}/vacancies"))[0]
    assert vacancy["vacated_on"] == "2026-10-15" == f.today()
    meetings = _meetings()

    p = _problem(_backfill_on(f, "2027-10-15", [_vote(f, "wang")]), 422, "date_in_future")
    assert p["detail"] == ("递补党委会的日期2027年10月15日晚于今天（2026年10月15日）；"
                           "只能记录已经发生的事项。")
    assert p["errors"][0]["field"] == "body.held_on"
    p = _problem(_backfill_on(f, "2026-10-16", [_vote(f, "wang")], _en(f)), 422,
                 "date_in_future")
    assert "after today (October 15, 2026)" in p["detail"]
    assert "precede" not in p["detail"]

    p = _problem(_backfill_on(f, DECISION_DAY, [_vote(f, "wang")]), 422, "held_before_vacancy")
    assert p["details"] == {"post": "p1", "held_on": DECISION_DAY, "vacated_on": "2026-10-15"}
    assert "早于" in p["detail"]
    assert _meetings() == meetings and f.state("wang") == "reserve"

    # recorded two days later, held on the day of the vacancy: the publicity is the meeting's
    f.advance(2)
    meeting = _ok(_backfill_on(f, "2026-10-15", [_vote(f, "wang")]), 201)
    assert meeting["held_on"] == "2026-10-15"
    row = next(a for a in _ok(client.get(PUBLIC)) if a["candidate_id"] == f.c["wang"])
    assert row["publicity_start_on"] == "2026-10-15" != f.today()
    assert f.follow_up("wang")["appointment"]["decided_on"] == "2026-10-15"


def test_a_decision_meeting_is_not_dated_after_today(flow, client):
    f = flow.reviewing()
    for key in ("li", "wang"):
        f.add(key)
    f.scores()
    assert _ok(f.act_selection("submit_to_committee"))["state"] == "deciding"
    members = _members(f)
    body = {"held_on": "2026-10-15", "members_due": members, "present": members[:7],
            "decisions": [{"candidate_id": f.c["li"], "votes_for": 6, "votes_against": 1,
                           "abstentions": 0, "outcome": "appointed"}]}
    url = f"{SEL}/{f.sel}/committee-meetings"
    p = _problem(f.post(url, body), 422, "date_in_future")
    assert "党委会的日期2026年10月15日晚于今天（2026年10月14日）" in p["detail"]
    assert _ok(f.get(url)) == [] and f.state("li") == "inspected"
    # a meeting recorded the next day: the publicity is from the day it was held
    f.advance(1)
    _ok(f.post(url, {**body, "held_on": DECISION_DAY}), 201)
    row = next(a for a in _ok(client.get(PUBLIC)) if a["candidate_id"] == f.c["li"])
    assert (row["publicity_start_on"], row["publicity_end_on"]) == (DECISION_DAY, "2026-10-21")


# ================================================================ 2. more backfills than vacancies
def test_two_backfills_of_one_vacancy_at_one_meeting_are_refused_as_such(flow, client):
    f = flow.standard(appointed=("li",), reserve=("wang", "chen"))
    # a post with no vacancy at all
    p = _problem(_backfill(f, [_vote(f, "wang")]), 409, "no_vacancy")
    assert p["title"] == RULE_TITLE
    _uphold_and_revoke(f, client)
    meetings = _meetings()
    p = _problem(_backfill(f, [_vote(f, "wang"), _vote(f, "chen", reason="同时递补")]), 409,
                 "too_many_backfills")
    assert p["details"] == {"post": "p1", "open_vacancies": 1, "decided": 2}
    assert p["detail"] == "岗位“p1”有 1 个出缺待递补，本次会议却作出 2 项递补决定。"
    assert p["title"] == RULE_TITLE
    assert _meetings() == meetings
    assert (f.state("wang"), f.state("chen")) == ("reserve", "reserve")
    _ok(_backfill(f, [_vote(f, "wang")]), 201)
    # refilled now: that is its own refusal
    _problem(_backfill(f, [_vote(f, "chen", reason="再次递补")]), 409, "post_refilled")


# ================================================================ 3. the branch's count
def test_the_election_count_adds_up_ballot_by_ballot(flow):
    f = flow.standard(appointed=("li",), reserve=("wang",), branch_election=True)
    f.advance(9)  # 2026-10-23, after the publicity
    url = f"{CAND}/{f.c['li']}/actions/record_election"

    def refused(params: dict, field: str) -> dict:
        p = _problem(f.post(url, {"params": params}), 422, "validation_error")
        assert [(e["field"], e["type"]) for e in p["errors"]] == [
            (f"body.params.{field}", "counts_do_not_add_up")]
        return p

    # 27 present, 10 for, 1 against, 1 abstaining: 15 ballots unaccounted for
    p = refused({**ELECTION, "votes_for": 10}, "abstentions")
    assert p["detail"].endswith("：赞成票（body.params.votes_for）、反对票（body.params.votes_against）"
                                "和弃权票（body.params.abstentions）合计 12，而有效票"
                                "（body.params.ballots_valid）为 27")
    refused({**ELECTION, "ballots_returned": 28, "ballots_valid": 28, "votes_for": 26},
            "ballots_returned")
    refused({**ELECTION, "ballots_invalid": 1}, "ballots_invalid")
    refused({**ELECTION, "present_with_vote": 31}, "present_with_vote")
    assert "record_election" not in f.actions_of("li")
    # two ballots not returned, one invalid: 24 valid, 22 for is more than half of 27
    out = _ok(f.post(url, {"params": {**count(27, 22, 1, 1, invalid=1), "ballots_returned": 25,
                                      "ballots_valid": 24}}))
    assert out["state"] == "appointed"
    e = f.follow_up("li")["appointment"]["election"]
    assert (e["ballots_issued"], e["ballots_returned"], e["ballots_valid"],
            e["ballots_invalid"], e["elected"], e["votes_needed"]) == (27, 25, 24, 1, True, 14)


def test_an_election_is_not_dated_after_today(flow):
    f = flow.standard(appointed=("li",), reserve=("wang",), branch_election=True)
    f.advance(9)
    p = _problem(f.act("li", "record_election", {"params": {**ELECTION,
                                                             "held_on": "2027-10-23"}}),
                 422, "date_in_future")
    assert p["detail"].startswith("支部党员大会选举的日期2027年10月23日晚于今天（2026年10月23日）")


# ================================================================ 4. one title for the rules
def test_the_meetings_rule_refusals_share_the_guards_title(flow, client):
    f = flow.standard(appointed=("li",), reserve=("wang", "chen"), failed=("zhou",))
    _uphold_and_revoke(f, client)
    for body, code in (([_vote(f, "zhou")], "not_a_reserve"),
                       ([_vote(f, "chen")], "departs_from_rank_order"),
                       ([_vote(f, "wang", votes_for=4)], "vote_threshold_not_met")):
        assert _problem(_backfill(f, body), 409, code)["title"] == RULE_TITLE
    p = _problem(_backfill(f, [_vote(f, "wang")], present=5), 409, "quorum_not_met")
    assert p["title"] == RULE_TITLE
    members = _members(f)
    p = _problem(f.post(f"{SEL}/{f.sel}/backfill-meetings", {
        "held_on": f.today(), "members_due": members, "present": members[:5],
        "decisions": [_vote(f, "wang")]}, _en(f)), 409, "quorum_not_met")
    assert p["title"] == "Action refused by a rule"


# ================================================================ 5. the upheld objection first
def test_during_the_publicity_the_trial_is_refused_for_the_objection(flow, client):
    f = flow.standard(appointed=("li",), reserve=("wang",))
    f.advance(1)
    o = _ok(client.post(f"{PUBLIC}/{f.c['li']}/objections",
                        json={"content": "反映该同志隐瞒个人有关事项"}), 201)
    _problem(f.start_trial("li"), 409, "objection_pending")
    conclude(f, o["id"], "upheld", "经核查，确有隐瞒个人有关事项情况")
    p = _problem(f.start_trial("li"), 409, "objection_upheld")
    assert p["details"]["objection_id"] == o["id"]
    listed = next(a for a in _ok(f.get(f"{CAND}/{f.c['li']}/actions"))["actions"]
                  if a["action"] == "start_trial")
    assert listed["refusal_code"] == "objection_upheld"
    # after the publicity, still the objection
    f.advance(10)
    _problem(f.start_trial("li"), 409, "objection_upheld")


# ================================================================ 6. a later change is told as one
def test_an_appointees_withdrawal_is_told_as_a_change_of_the_result(flow, smtp_server):
    f = flow.standard(appointed=("li",), reserve=("wang",), appointment_publicity_working_days=0)
    inbox, port = smtp_server()
    settings = _smtp_settings(port)
    send_due(settings)
    before = len(inbox.envelopes)
    _ok(f.act("li", "withdraw_appointment", {"reason": "工作调动"}))
    assert send_due(settings) == 1
    recipients, msg = inbox.messages()[before]
    assert recipients == [PEOPLE["li"]["email"]]
    assert "任用结果变更通知：本人辞去拟任职务" in msg["Subject"]
    assert "辞去" in msg.get_content() and "工作调动" in msg.get_content()
    assert f.notifications("li")[-1]["outcome"] == "appointment_withdrawn"
