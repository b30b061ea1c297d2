"""Step 4 after the committee's decision, through HTTP and a real SMTP server: every later
change of an outcome told by email (confirmed, found unfit, revoked, reserve expired or used);
a nominee who never consented, declined or withdrew told what happened; objections in stages
(received, under investigation by a team, concluded) holding the appointment meanwhile, with
the objector known to admins only; the mentorship's kind and the mentor's standing; the
trial's mid-term and final assessments (试用期满考核) deciding confirmation or its end.

Dates as in test_follow_up.py: the decision on 2026-10-14, the publicity to 2026-10-21, the
trial from 2026-10-22 (to 2027-10-22 with the default 12 months).
"""

from __future__ import annotations

import uuid
from datetime import date

from service.core.db import open_session
from service.nomination.models import ReserveEntry
from service.outbox.mailer import send_due

from .test_follow_up import (
    AFTER_PUBLICITY,
    CAND,
    FINAL_ASSESSMENT,
    MENTORING,
    ORG,
    PEOPLE,
    POOL,
    PUBLIC,
    SEL,
    SIM_DAY,
    TITLE,
    Flow,
    _ok,
    _problem,
    _smtp_settings,
    conclude,
)

OBJ = "/api/v1/objections"
ASSESS = {**FINAL_ASSESSMENT, "kind": "mid_term", "held_on": AFTER_PUBLICITY}


def _long(day) -> str:
    """A date as the emails write it in Chinese: 2027年10月15日."""
    d = date.fromisoformat(str(day))
    return f"{d.year}年{d.month}月{d.day}日"


def _on_trial(f: Flow, key: str = "li") -> None:
    assert _ok(f.start_trial(key))["state"] == "on_trial"


def _assess(f: Flow, key: str = "li", **changes):
    """A final assessment held today (unless changed)."""
    return f.act(key, "record_assessment", {"params": {**FINAL_ASSESSMENT,
                                                       "held_on": f.today(), **changes}})


def _meetings_and_year(f: Flow, key: str = "li") -> None:
    """A mentor, monthly meetings for the year, and the year gone by."""
    mentor_id, mentor = f.user("mentor")
    _ok(f.put(f"{CAND}/{f.c[key]}/mentorship", {"mentor_id": mentor_id, "plan": "每月谈心",
                                                 "meeting_interval_days": 120, **MENTORING}))
    f.advance(366)
    for held_on in ("2026-10-22", "2027-02-20", "2027-06-20", "2027-10-10"):
        _ok(f.post(f"{CAND}/{f.c[key]}/follow-up-records", {
            "kind": "mentor_meeting", "held_on": held_on, "subject": "谈心谈话"}, mentor), 201)
    for kind in ("party_lesson", "branch_life"):
        _ok(f.post(f"{CAND}/{f.c[key]}/follow-up-records", {
            "kind": kind, "held_on": "2027-03-01", "subject": "学习与锻炼", "hours": 4}), 201)
    assert f.follow_up(key)["missing_for_confirmation"] == []


def _emails(f: Flow, key: str) -> list[dict]:
    return f.notifications(key)


# ================================================================ 2. every change told
def test_confirmation_revocation_and_an_unfit_trial_each_send_their_own_email(flow,
                                                                              smtp_server):
    f = flow.standard(appointed=("li", "zhao", "chen"), posts=3,
                      appointment_publicity_working_days=0)
    inbox, port = smtp_server()
    settings = _smtp_settings(port)
    assert send_due(settings) == 5  # the decision's emails: 3 appointed, 1 reserve, 1 failed
    # 赵强's appointment is revoked: one email telling so, with the reason
    _ok(f.act("zhao", "revoke", {"reason": "本人档案信息经核实不实"}))
    # 李明 and 陈静 go on trial
    _on_trial(f, "li")
    _on_trial(f, "chen")
    _meetings_and_year(f, "li")
    _ok(_assess(f, "li"))
    assert _ok(f.act("li", "confirm"))["state"] == "confirmed"
    # 陈静's final assessment is 不称职: the trial ends as unfit, citing it
    out = _ok(_assess(f, "chen", grade="incompetent", excellent=0, competent=3,
                      basically_competent=5, incompetent=17,
                      branch_opinion="支部工作推进不力，党员认可度低"))
    assert out["state"] == "dismissed"

    assert send_due(settings) == 3
    assert send_due(settings) == 0  # each once
    later = inbox.messages()[5:]
    by_to = {rcpts[0]: msg for rcpts, msg in later}
    assert set(by_to) == {PEOPLE[k]["email"] for k in ("li", "zhao", "chen")}
    revoked = by_to[PEOPLE["zhao"]["email"]]
    assert "取消任用" in revoked["Subject"]
    assert "原因：本人档案信息经核实不实" in revoked.get_content()
    confirmed = by_to[PEOPLE["li"]["email"]]
    assert "正式任职" in confirmed["Subject"]
    assert f"试用期满考核（{_long(f.today())}）：称职" in confirmed.get_content()
    dismissed = by_to[PEOPLE["chen"]["email"]]
    assert "试用不胜任" in dismissed["Subject"]
    body = dismissed.get_content()
    assert f"试用期满考核（{_long(f.today())}）：不称职" in body and "支部工作推进不力" in body

    # each email is recorded, cites the event of the change, and was sent by the sender
    for key, action, outcome in (("li", "confirm", "confirmed"), ("zhao", "revoke", "revoked"),
                                 ("chen", "dismiss", "dismissed")):
        change = next(e for e in f.events(key) if e["action"] == action)
        queued = [e for e in f.events(key) if e["action"] == "queue_notification"]
        assert [q["params"]["outcome"] for q in queued][1:] == [outcome]
        assert queued[-1]["params"]["event_id"] == change["id"]
        rows = _emails(f, key)
        assert [(n["outcome"], n["state"]) for n in rows][-1] == (outcome, "sent")
    dismiss = next(e for e in f.events("chen") if e["action"] == "dismiss")
    assessment = f.follow_up("chen")["assessments"][0]
    assert dismiss["params"]["assessment"]["id"] == assessment["id"]
    assert (assessment["grade"], assessment["passed"]) == ("incompetent", False)
    confirm = next(e for e in f.events("li") if e["action"] == "confirm")
    assert confirm["params"]["assessment"]["grade"] == "competent"

    # an admin's resend re-renders the change (here in English), not the first outcome
    n = _emails(f, "zhao")[-1]
    again = _ok(f.post(f"{CAND}/{f.c['zhao']}/notifications/{n['id']}/resend",
                       {"language": "en"}))
    assert again["outcome"] == "revoked" and "Appointment revoked" in again["subject"]
    assert "Reason: 本人档案信息经核实不实" in again["body"]


def test_a_reserve_is_told_when_the_entry_expires_and_when_a_later_selection_uses_it(
        flow, make_selection, smtp_server):
    f = flow.standard(reserve=("wang", "chen"))
    inbox, port = smtp_server()
    settings = _smtp_settings(port)
    send_due(settings)
    before = len(inbox.envelopes)
    pool = _ok(f.get(POOL))
    wang = next(e for e in pool if e["candidate_id"] == f.c["wang"])
    chen = next(e for e in pool if e["candidate_id"] == f.c["chen"])
    # 王芳 is nominated from the pool in a second selection: told where
    second = make_selection(title="第二党支部书记公开选拔", organization="机关第二党支部")["id"]
    _ok(f.act_selection("publish", sel=second))
    _ok(f.post(f"{SEL}/{second}/nominations", {
        "kind": "reserve_pool", "body_name": "机关党委", "reserve_entry_id": wang["id"],
        "reasons": "储备人选"}), 201)
    used = [e for e in f.events("wang") if e["action"] == "reserve_used"]
    assert len(used) == 1 and used[0]["params"]["reserve_entry_id"] == wang["id"]
    # 陈静's entry expires; the admin's call tells each expired reserve once
    with open_session(write=True) as s:
        entry = s.get(ReserveEntry, uuid.UUID(chen["id"]))
        entry.expires_on = date(2026, 10, 1)
        s.add(entry)
        s.commit()
    assert _ok(f.post(f"{POOL}/expiries"))["told"] == 1
    assert _ok(f.post(f"{POOL}/expiries"))["told"] == 0
    expired = [e for e in f.events("chen") if e["action"] == "reserve_expired"]
    assert len(expired) == 1 and expired[0]["params"]["expires_on"] == "2026-10-01"

    assert send_due(settings) == 2
    by_to = {r[0]: m for r, m in inbox.messages()[before:]}
    assert "第二党支部书记公开选拔" in by_to[PEOPLE["wang"]["email"]].get_content()
    assert "储备人选被推荐" in by_to[PEOPLE["wang"]["email"]]["Subject"]
    assert "储备期满" in by_to[PEOPLE["chen"]["email"]]["Subject"]
    assert "储备期至 2026年10月1日" in by_to[PEOPLE["chen"]["email"]].get_content()


# ================================================================ 3. what actually happened
def test_a_lapse_a_decline_and_a_withdrawal_are_each_told_as_such(flow, smtp_server):
    f = flow
    _ok(f.put("/api/v1/admin/clock", {"day": SIM_DAY}))
    f.sel = f._make_selection(title=TITLE, organization=ORG, posts=1, settings={})["id"]
    _ok(f.act_selection("publish", {"params": {"start_on": SIM_DAY}}))
    for key in ("sun", "zhao"):
        f.add(key, state="nominated", profile={**PEOPLE[key],
                                               "email": f"{key}@example.cn"})
    f.add("chen", state="applicant")
    f.add("li")
    _ok(f.act("zhao", "decline", {"reason": "家庭原因，本人暂不参选"}))
    f.advance(14)
    _ok(f.act_selection("close_nominations"))
    assert f.state("sun") == "declined"  # lapsed: never consented
    _ok(f.act("chen", "withdraw", {"reason": "工作调动"}))
    f.committee({"li": "appointed"})
    f.finish()
    outcomes = {k: f.notification(k)["outcome"] for k in ("sun", "zhao", "chen")}
    assert outcomes == {"sun": "lapsed", "zhao": "declined", "chen": "withdrawn"}
    inbox, port = smtp_server()
    send_due(_smtp_settings(port))
    got = {r[0]: m for r, m in inbox.messages()}
    sun = got["sun@example.cn"]
    assert "未确认参选" in sun["Subject"] and "不符合" not in sun["Subject"]
    assert "未确认参选" in sun.get_content()
    zhao = got["zhao@example.cn"]
    assert "本人不同意参选" in zhao["Subject"]
    assert "家庭原因，本人暂不参选" in zhao.get_content()
    chen = got[PEOPLE["chen"]["email"]]
    assert "本人退出" in chen["Subject"] and "工作调动" in chen.get_content()
    preview = _ok(f.get(f"{CAND}/{f.c['sun']}/notifications/preview",
                        params={"language": "en"}))
    assert preview["outcome_label"] == "未确认参选"  # the request's language labels it
    assert "did not confirm" in preview["body"]


# ================================================================ 4. objections in stages
def test_an_objection_is_acknowledged_investigated_and_concluded_holding_the_appointment(
        flow, client, smtp_server, as_role):
    f = flow.standard(appointed=("li",), reserve=(), failed=())
    f.advance(1)
    o = _ok(client.post(f"{PUBLIC}/{f.c['li']}/objections", json={
        "content": "反映该同志在原单位存在违规报销问题", "contact": "objector@example.org"}), 201)
    phone = _ok(client.post(f"{PUBLIC}/{f.c['li']}/objections", json={
        "content": "反映该同志工作作风问题", "contact": "13912345678"}), 201)
    inbox, port = smtp_server()
    settings = _smtp_settings(port)
    send_due(settings)
    acks = [(r, m) for r, m in inbox.messages() if r == ["objector@example.org"]]
    assert len(acks) == 1 and o["id"] in acks[0][1].get_content()
    # in the objector's language alone (they wrote in Chinese), from the catalogue
    ack = acks[0][1]
    assert ack["Subject"] == "【机关第一党支部】任职前公示异议受理回执"
    assert "受理（编号" in ack.get_content() and "received" not in ack.get_content()
    assert ack.get_content().rstrip().endswith("机关第一党支部组织部门")
    assert len(inbox.envelopes) == 2  # the outcome email and one acknowledgement
    # the acknowledgement is in the objection's record; the candidate's never names the objector
    o_events = _ok(f.get(f"{OBJ}/{o['id']}/events"))["items"]
    assert [e["action"] for e in o_events] == ["receive_objection", "acknowledge_objection",
                                               "notification_sent"]
    assert all("objector@example.org" not in str(e) and "13912345678" not in str(e)
               for e in f.events("li"))
    _problem(f.get(f"{OBJ}/{o['id']}", as_role("candidate")), 403)
    _problem(f.get(f"{OBJ}/{o['id']}", as_role("mentor")), 403)
    _problem(client.get(f"{OBJ}/{o['id']}"), 401)
    assert "objector@example.org" not in client.get(PUBLIC).text
    seen = _ok(f.get(f"{OBJ}/{o['id']}"))
    assert (seen["state"], seen["state_label"], seen["contact"], seen["acknowledgement"]) == (
        "received", "已受理", "objector@example.org", "sent")
    assert _ok(f.get(f"{OBJ}/{phone['id']}"))["acknowledgement"] is None
    # the acknowledgement is not among the candidate's own emails
    assert [n["outcome"] for n in f.notifications("li")] == ["appointed"]

    f.advance(7)  # the publicity is over; both objections hold the trial
    p = _problem(f.start_trial("li"), 409, "objection_pending")
    assert p["details"]["objection_id"] == o["id"]

    # the team: at least two (the setting), distinct, real users
    start = f"{OBJ}/{o['id']}/actions/start_investigation"
    a, b = f.user("inspector")[0], f.user("inspector")[0]
    p = _problem(f.post(start, {"params": {"investigators": [a]}}), 409,
                 "investigating_team_incomplete")
    assert p["details"] == {"guard": "investigating_team_ready", "members": 1, "needed": 2}
    _problem(f.post(start, {"params": {"investigators": [a, str(uuid.uuid4())]}}), 422,
             "not_a_user")
    assert _ok(f.get(f"{OBJ}/{o['id']}"))["state"] == "received"
    seen = _ok(f.post(start, {"params": {"investigators": [a, b]}}))
    assert (seen["state"], seen["investigators"]) == ("investigating", [a, b])
    p = _problem(f.start_trial("li"), 409, "objection_pending")
    assert p["details"]["objection_state"] == "investigating"

    rec = f"{OBJ}/{o['id']}/actions/record_investigation"
    talk = {"kind": "conversation", "held_on": f.today(), "investigator_id": a,
            "with_whom": "原单位财务负责人", "content": "核对有关报销凭证"}
    _problem(f.post(rec, {"params": {**talk, "investigator_id": f.user("inspector")[0]}}),
             409, "not_an_investigator")
    _ok(f.post(rec, {"params": talk}))
    _problem(f.post(f"{OBJ}/{o['id']}/actions/conclude_not_upheld", {"reason": "不属实"}),
             409, "findings_missing")
    _ok(f.post(rec, {"params": {**talk, "kind": "finding", "investigator_id": b,
                                "content": "报销手续齐全"}}))
    _problem(f.post(f"{OBJ}/{o['id']}/actions/conclude_not_upheld"), 422, "reason_required")
    done = _ok(f.post(f"{OBJ}/{o['id']}/actions/conclude_not_upheld",
                      {"reason": "经核查，报销手续齐全，反映问题不属实"}))
    assert (done["state"], done["state_label"]) == ("not_upheld", "异议不成立")
    assert [w["kind"] for w in done["work"]] == ["conversation", "finding"]
    concluded = next(e for e in f.events("li") if e["action"] == "conclude_objection")
    assert concluded["params"]["conclusion"] == "not_upheld"
    # the second one is partly upheld: the appointment may go on, the conclusion is recorded
    p = _problem(f.start_trial("li"), 409, "objection_pending")
    assert p["details"]["objection_id"] == phone["id"]
    assert conclude(f, phone["id"], "partly_upheld", "部分反映属实，已批评教育")["state"] == \
        "partly_upheld"
    _on_trial(f)
    o_events = [e["action"] for e in _ok(f.get(f"{OBJ}/{o['id']}/events"))["items"]]
    assert o_events[-4:] == ["start_investigation", "record_investigation",
                             "record_investigation", "conclude_not_upheld"]
    work = next(e for e in _ok(f.get(f"{OBJ}/{o['id']}/events"))["items"]
                if e["action"] == "record_investigation")
    assert list(work["params"]["covers"]) == [f"objection_work/{done['work'][0]['id']}"]
    opts = {x["action"]: x for x in _ok(f.get(f"{OBJ}/{o['id']}/actions"))["actions"]}
    assert not any(x["allowed"] for x in opts.values())


def test_an_upheld_objection_leads_to_a_revocation_that_leaves_the_post_vacant(flow, client):
    f = flow.standard(appointed=("li",), reserve=("wang",), failed=(),
                      min_objection_investigators=3)
    f.advance(1)
    o = _ok(client.post(f"{PUBLIC}/{f.c['li']}/objections",
                        json={"content": "反映该同志隐瞒个人有关事项"}), 201)
    start = f"{OBJ}/{o['id']}/actions/start_investigation"
    team = [f.user("inspector")[0] for _ in range(2)]
    p = _problem(f.post(start, {"params": {"investigators": team}}), 409,
                 "investigating_team_incomplete")
    assert p["details"]["needed"] == 3
    team.append(f.user("inspector")[0])
    _ok(f.post(start, {"params": {"investigators": team}}))
    _ok(f.post(f"{OBJ}/{o['id']}/actions/record_investigation", {"params": {
        "kind": "finding", "held_on": f.today(), "investigator_id": team[2],
        "content": "确有隐瞒个人有关事项情况"}}))
    _ok(f.post(f"{OBJ}/{o['id']}/actions/conclude_upheld",
               {"reason": "经核查，确有隐瞒个人有关事项情况"}))
    f.advance(7)
    p = _problem(f.start_trial("li"), 409, "objection_upheld")
    assert p["details"]["objection_id"] == o["id"]
    concluded = next(e for e in f.events("li") if e["action"] == "conclude_objection")
    assert concluded["params"]["next"] == "revoke"
    _problem(f.act("li", "revoke"), 422, "reason_required")
    _ok(f.act("li", "revoke", {"reason": "任职前公示异议经核实成立"}))
    revoke = next(e for e in f.events("li") if e["action"] == "revoke")
    assert revoke["params"]["objections_upheld"] == [o["id"]]
    assert revoke["params"]["vacated_post"] == f"{ORG}书记"
    assert f.notifications("li")[-1]["outcome"] == "revoked"


# ================================================================ 5. cultivation
def test_a_mentorship_has_its_kind_the_mentors_standing_and_the_selections_cadence(flow):
    f = flow.standard(appointment_publicity_working_days=0, mentor_meeting_interval_days=60)
    _on_trial(f)
    mentor_id, mentor = f.user("mentor")
    url = f"{CAND}/{f.c['li']}/mentorship"
    _problem(f.put(url, {"mentor_id": mentor_id, "plan": "谈心"}), 422)  # kind, standing
    _problem(f.put(url, {"mentor_id": mentor_id, "plan": "谈心", "kind": "whoever",
                         "mentor_standing": MENTORING["mentor_standing"]}), 422)
    # a confirmed secretary's standing names their own confirmed candidacy
    p = _problem(f.put(url, {"mentor_id": mentor_id, "plan": "谈心",
                             "kind": "excellent_guides_new",
                             "mentor_standing": {"kind": "confirmed_secretary",
                                                 "post": "机关第二党支部书记",
                                                 "candidate_id": f.c["wang"]}}), 422,
                 "standing_not_confirmed")
    assert p["details"]["candidate_id"] == f.c["wang"]
    m = _ok(f.put(url, {"mentor_id": mentor_id, "plan": "每两月谈心一次", **MENTORING}))
    assert (m["kind"], m["kind_label"], m["meeting_interval_days"]) == (
        "senior_guides_new", "老带新", 60)
    assert m["mentor_standing"] == {"kind": "serving_secretary", "post": "机关第二党支部书记"}
    en = f.client.get(url.replace("/mentorship", "/follow-up"),
                      headers={**f.admin, "Accept-Language": "en"}).json()
    assert en["mentorship"]["kind_label"] == "An experienced secretary guides"
    f.advance(366)
    missing = f.follow_up("li")["missing_for_confirmation"]
    assert missing[0] == "导师谈心：应 6 次，已 0 次"  # 365 days at 60 a meeting
    assign = next(e for e in f.events("li") if e["action"] == "assign_mentor")
    assert (assign["params"]["kind"], assign["params"]["meeting_interval_days"]) == (
        "senior_guides_new", 60)


# ================================================================ 6. trial assessments
def test_assessments_are_validated_ordered_and_decide_confirmation(flow):
    f = flow.standard(appointment_publicity_working_days=0)
    _problem(_assess(f), 409, "action_not_allowed_in_state")  # not on trial yet
    _on_trial(f)
    _problem(_assess(f, excellent=-1), 422)
    p = _problem(_assess(f, taking_part=20), 422)  # 12 + 10 + 2 = 24 > 20
    assert "24" in p["detail"]
    _problem(_assess(f, grade="good"), 422)
    _problem(_assess(f, held_on="2027-10-23"), 422, "date_in_future")
    assert f.follow_up("li")["assessments"] == []
    _ok(f.act("li", "record_assessment", {"params": {**ASSESS, "held_on": "2026-10-14"}}))
    _problem(f.act("li", "record_assessment", {"params": {**ASSESS, "held_on": "2026-10-14"}}),
             409, "mid_term_assessment_recorded")
    _meetings_and_year(f)
    _problem(f.act("li", "confirm"), 409, "final_assessment_missing")
    final = _ok(_assess(f, grade="basically_competent"))
    assert final["state"] == "on_trial"
    _problem(_assess(f), 409, "final_assessment_recorded")
    view = f.follow_up("li")["assessments"]
    assert [(a["kind"], a["grade"], a["passed"]) for a in view] == [
        ("mid_term", "competent", True), ("final", "basically_competent", True)]
    event = next(e for e in f.events("li") if e["action"] == "record_assessment"
                 and e["params"]["kind"] == "final")
    assert list(event["params"]["covers"]) == [f"trial_assessment/{view[1]['id']}"]
    done = _ok(f.act("li", "confirm"))
    assert done["state"] == "confirmed"
    confirm = f.events("li")[-2]
    assert confirm["action"] == "confirm"
    assert confirm["params"]["assessment"]["id"] == view[1]["id"]
