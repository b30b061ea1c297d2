"""Step 3, the three reviews (三次审核把关) and the party committee's decision (党委会审核),
through HTTP: qualification pre-review (one by one and in bulk), the interview panel and its
preparation, declarations of conflict (回避), sealed score registration sheets (评分登记表),
the comprehensive evaluation report (综合评议报告) and the ranking, the organizational
inspection (组织考察), and the committee meeting with its quorum and vote thresholds.

The "done" scenario, built step by step by `Story`: one post; 李明 nominated by a body, 王芳
applying with her own account, 赵强, 陈静 and 周国庆 inserted as applicants once the selection
is reviewing. The pre-review passes four and fails 周国庆; seven judges score the four, one of
them recused from 陈静 (spouse); 李明's judges disagree widely; 陈静 ranks 4th, beyond the
cut-off of 3 per post. 赵强 fails the interview; 李明, 王芳 and 陈静 are inspected; the committee
appoints 李明, keeps 王芳 in reserve and finds 陈静 not qualified.
"""

from __future__ import annotations

import uuid
from statistics import mean
from typing import Any

import pytest

SEL = "/api/v1/selections"
CAND = "/api/v1/candidates"
CLOCK = "/api/v1/admin/clock"
PROBLEM = "application/problem+json"
PASSWORD = "correct-horse-9"
SIM_DAY = "2026-09-30"
REVIEW_DAY = "2026-10-14"  # the first day after the publicity period (to 2026-10-13)

PREREVIEW_ITEMS = ("ideas_and_plans", "role_understanding", "moral", "intellectual", "physical",
                   "integrity", "mass_recognition")
DEFAULT_WEIGHTS = {"self_introduction": 20, "role_cognition": 30, "answers": 35,
                   "overall_impression": 15}
DEFAULT_CRITERIA = [
    {"key": "self_introduction", "label": "自我介绍", "weight": 20, "max_score": 100},
    {"key": "role_cognition", "label": "岗位认知", "weight": 30, "max_score": 100},
    {"key": "answers", "label": "回答评委提问", "weight": 35, "max_score": 100},
    {"key": "overall_impression", "label": "综合印象", "weight": 15, "max_score": 100},
]
PERSONAL = {"birth_date", "phone", "email", "national_id"}

LI = {"full_name": "李明", "gender": "male", "birth_date": "1988-05-12",
      "education": "bachelor", "party_joined_on": "2012-07-01",
      "work_started_on": "2010-07-01", "current_post": "办公室副主任", "unit": "机关办公室",
      "email": "liming@example.cn", "phone": "13800000000"}
WANG = {"full_name": "王芳", "gender": "female", "birth_date": "1990-03-08",
        "education": "master", "party_joined_on": "2014-06-01",
        "work_started_on": "2013-07-01", "current_post": "财务科科长", "unit": "财务部",
        "email": "wangfang@example.cn", "phone": "13900000001"}
NAMES = {"li": "李明", "wang": "王芳", "zhao": "赵强", "chen": "陈静", "zhou": "周国庆"}
INTERVIEWED = ("li", "wang", "zhao", "chen")


def S(si: float, rc: float, an: float, oi: float) -> dict[str, float]:  # noqa: N802
    """One score sheet's scores, in the order of the default criteria."""
    return {"self_introduction": si, "role_cognition": rc, "answers": an,
            "overall_impression": oi}


# Judges 1..7, in panel order. 李明's judges disagree (judge 6 far below, judge 5 far above);
# judge 7 is recused from 陈静. Judge 1 first sends LI_DECOY for 李明 and then supersedes it.
SCORES: dict[str, list[dict[str, float] | None]] = {
    "li": [S(92, 90, 88, 90), S(85, 92, 90, 88), S(90, 95, 93, 91), S(88, 86, 84, 87),
           S(95, 94, 96, 93), S(60, 62, 58, 65), S(89, 91, 90, 92)],
    "wang": [S(84, 86, 85, 83), S(80, 84, 86, 82), S(88, 85, 84, 86), S(82, 83, 85, 84),
             S(86, 88, 87, 85), S(79, 82, 80, 81), S(85, 84, 83, 88)],
    "zhao": [S(78, 80, 76, 79), S(75, 78, 80, 77), S(80, 76, 78, 82), S(77, 79, 75, 78),
             S(82, 80, 79, 80), S(74, 77, 78, 76), S(79, 78, 81, 77)],
    "chen": [S(70, 72, 68, 71), S(68, 70, 72, 69), S(72, 69, 70, 73), S(66, 71, 69, 70),
             S(74, 72, 73, 71), S(69, 68, 70, 72), None],
}
LI_DECOY = S(40, 40, 40, 40)


def weighted(scores: dict[str, float], weights: dict[str, float] = DEFAULT_WEIGHTS) -> float:
    """A sheet's weighted total out of 100 (every criterion scored out of 100)."""
    return round(sum(scores[k] * w / 100 for k, w in weights.items()), 2)


def expected_result(cand: str) -> dict[str, Any]:
    """What the evaluation report should say, computed here from SCORES."""
    sheets = [s for s in SCORES[cand] if s is not None]
    totals = sorted(weighted(s) for s in sheets)
    kept = totals[1:-1] if len(totals) >= 5 else totals
    return {"totals": totals, "score": round(mean(kept), 2),
            "spread": round(totals[-1] - totals[0], 2),
            "means": {k: round(mean(s[k] for s in sheets), 2) for k in DEFAULT_WEIGHTS}}


def assessment(ok: bool = True, skip: tuple[str, ...] = ()) -> dict[str, dict]:
    return {i: {"satisfactory": ok, "note": "符合" if ok else "不符合"}
            for i in PREREVIEW_ITEMS if i not in skip}


APPRAISAL = {"participants": 45, "excellent": 30, "competent": 12, "basically_competent": 2,
             "incompetent": 1}
FINDINGS = {"de": "政治立场坚定，作风正派", "neng": "组织协调能力强", "qin": "工作勤勉",
            "ji": "所在部门连续三年考核优秀", "lian": "廉洁自律，无不良反映"}


# ---------------------------------------------------------------- small helpers
def _problem(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    body = r.json()
    if code is not None:
        assert body["code"] == code, body
    return body


def _ok(r, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _reweighted(*weights: float) -> list[dict]:
    return [{**c, "weight": w} for c, w in zip(DEFAULT_CRITERIA, weights, strict=True)]


def _approx(value):
    return pytest.approx(value, abs=0.011)


# ---------------------------------------------------------------- the scenario
class Story:
    """The done scenario, one step at a time; each step asserts only that it worked."""

    def __init__(self, client, admin, make_user, login, make_selection, make_candidate):
        self.client, self.admin = client, admin
        self._make_user, self._login = make_user, login
        self._make_selection, self._make_candidate = make_selection, make_candidate
        self.c: dict[str, str] = {}
        self.judges: list[tuple[str, dict]] = []
        self.inspectors: list[tuple[str, dict]] = []
        self.committee: list[tuple[str, dict]] = []

    # -- plumbing
    def user(self, *roles: str) -> tuple[str, dict]:
        u, pw = self._make_user(*roles)
        return str(u.id), self._login(u.username, pw)

    def get(self, path: str, headers: dict | None = None, **kw):
        return self.client.get(path, headers=headers or self.admin, **kw)

    def post(self, path: str, body: Any = None, headers: dict | None = None):
        return self.client.post(path, json=body if body is not None else {},
                                headers=headers or self.admin)

    def put(self, path: str, body: Any, headers: dict | None = None):
        return self.client.put(path, json=body, headers=headers or self.admin)

    def act(self, cand: str, action: str, body: dict | None = None, headers: dict | None = None):
        return self.post(f"{CAND}/{self.c[cand]}/actions/{action}", body or {}, headers)

    def act_selection(self, action: str, body: dict | None = None):
        return self.post(f"{SEL}/{self.sel}/actions/{action}", body or {})

    def state(self, cand: str) -> str:
        return _ok(self.get(f"{CAND}/{self.c[cand]}"))["state"]

    def states(self) -> dict[str, str]:
        return {k: self.state(k) for k in self.c}

    def events(self, cand: str) -> list[dict]:
        return _ok(self.get(f"{CAND}/{self.c[cand]}/events"))["items"]

    def selection_events(self) -> list[dict]:
        return _ok(self.get(f"{SEL}/{self.sel}/events"))["items"]

    def name_of(self, cand_id: str) -> str:
        return {v: k for k, v in self.c.items()}[cand_id]

    # -- step 2, briefly: publish, nominate, apply, close
    def reviewing(self, **selection_overrides) -> Story:
        _ok(self.put(CLOCK, {"day": SIM_DAY}))
        self.sel = self._make_selection(**selection_overrides)["id"]
        _ok(self.act_selection("publish", {"params": {"start_on": SIM_DAY}}))
        li = _ok(self.post(f"{SEL}/{self.sel}/nominations", {
            "kind": "party_organization", "body_name": "机关党委", "nominee": LI,
            "reasons": "政治素质好", "groundwork": "走访同事8人"}), 201)["candidate"]["id"]
        self.c["li"] = li
        _ok(self.act("li", "consent", {"params": {
            "confirmed_by": "机关党委 张书记", "confirmed_at": "2026-09-30T08:30:00+08:00"}}))
        created = _ok(self.post("/api/v1/users", {
            "username": "wangfang", "roles": ["candidate"], "password": PASSWORD,
            "email": WANG["email"]}), 201)
        self.wang_user = self._login("wangfang", PASSWORD)
        self.wang_user_id = created["id"]
        self.c["wang"] = _ok(self.post(f"{SEL}/{self.sel}/applications",
                                       {"profile": WANG, "statement": "愿为支部建设出力"},
                                       self.wang_user), 201)["candidate"]["id"]
        _ok(self.post(f"{CLOCK}/advance", {"days": 14}))
        assert _ok(self.act_selection("close_nominations"))["state"] == "reviewing"
        for key in ("zhao", "chen", "zhou"):
            self.c[key] = str(self._make_candidate(self.sel, state="applicant",
                                                   full_name=NAMES[key]))
        return self

    # -- gate 1
    def prereview(self) -> Story:
        decisions = [{"candidate_id": self.c[k], "decision": "pass",
                      "assessment": assessment()} for k in INTERVIEWED]
        decisions.append({"candidate_id": self.c["zhou"], "decision": "fail",
                          "reason": "群众认可度不足", "assessment": assessment(False)})
        out = _ok(self.post(f"{SEL}/{self.sel}/prereview", {"decisions": decisions}))
        assert out["succeeded"] == 5, out
        return self

    # -- gate 2
    def appoint_panel(self, n: int = 7) -> Story:
        self.judges = [self.user("judge") for _ in range(n)]
        _ok(self.put(f"{SEL}/{self.sel}/panel", {"judge_ids": [j for j, _ in self.judges]}))
        _ok(self.put(f"{SEL}/{self.sel}/interview", {
            "held_on": "2026-10-20", "place": "党委会议室", "briefing": "会前统一培训评分标准",
            "materials": ["职务说明书", "参选人简历", "评分登记表"]}))
        return self

    def declare(self, judge: int, cand: str, conflict: str = "none", note: str = ""):
        return self.post(f"{SEL}/{self.sel}/declarations",
                         {"candidate_id": self.c[cand], "conflict": conflict, "note": note},
                         self.judges[judge][1])

    def declare_all(self) -> Story:
        for j in range(len(self.judges)):
            for cand in INTERVIEWED:
                if (j, cand) == (6, "chen"):
                    _ok(self.declare(j, cand, "spouse", "与参选人系夫妻关系"), 201)
                else:
                    _ok(self.declare(j, cand), 201)
        return self

    def sheet(self, judge: int, cand: str, scores: dict, **extra):
        return self.post(f"{CAND}/{self.c[cand]}/score-sheets",
                         {"scores": scores, "comment": f"评委{judge + 1}：表达清楚", **extra},
                         self.judges[judge][1])

    def score_all(self, only: tuple[str, ...] = INTERVIEWED) -> Story:
        for cand in only:
            for j, scores in enumerate(SCORES[cand]):
                if scores is None:
                    continue
                if (j, cand) == (0, "li"):
                    _ok(self.sheet(j, cand, LI_DECOY), 201)
                    _ok(self.sheet(j, cand, scores, supersede_reason="誊写错误，重新填写"), 201)
                else:
                    _ok(self.sheet(j, cand, scores), 201)
        return self

    def decide_interviews(self) -> Story:
        for cand in ("li", "wang"):
            assert _ok(self.act(cand, "pass_interview"))["state"] == "shortlisted"
        assert _ok(self.act("zhao", "fail_interview", {"reason": "综合得分偏低"}))["state"] \
            == "not_qualified"
        assert _ok(self.act("chen", "pass_interview", {
            "reason": "前三名中一人已退出，党委研究决定递补"}))["state"] == "shortlisted"
        return self

    # -- gate 3
    TEAMS = {"li": (0, 1), "wang": (0, 1), "chen": (1, 2)}
    RECORDER = {"li": 0, "wang": 0, "chen": 2}

    def appoint_inspectors(self) -> Story:
        self.inspectors = [self.user("inspector") for _ in range(3)]
        for cand, team in self.TEAMS.items():
            _ok(self.put(f"{CAND}/{self.c[cand]}/inspection-team",
                         {"inspector_ids": [self.inspectors[i][0] for i in team]}))
        return self

    def record_work(self, cand: str, inspector: int | None = None):
        i = self.RECORDER[cand] if inspector is None else inspector
        return self.post(f"{CAND}/{self.c[cand]}/inspection-records", {
            "kind": "conversation", "held_on": REVIEW_DAY, "count": 12,
            "summary": "与所在部门干部群众12人个别谈话，反映良好"}, self.inspectors[i][1])

    def conclude(self, cand: str, appraisal: dict | None = None, inspector: int | None = None):
        i = self.RECORDER[cand] if inspector is None else inspector
        return self.act(cand, "pass_inspection", {"params": {
            "appraisal": appraisal or APPRAISAL, "findings": FINDINGS,
            "summary": "考察组一致认为该同志符合支部书记任职条件"}}, self.inspectors[i][1])

    def inspect(self, only: tuple[str, ...] = ("li", "wang", "chen")) -> Story:
        for cand in only:
            _ok(self.record_work(cand), 201)
            assert _ok(self.conclude(cand))["state"] == "inspected"
        return self

    # -- the committee
    def seat_committee(self) -> Story:
        self.committee = [self.user("committee") for _ in range(9)]
        return self

    def meeting(self, *, present: int = 7, decisions: list[dict] | None = None,
                recusals: list[dict] | None = None) -> dict:
        ids = [m for m, _ in self.committee]
        return {"held_on": REVIEW_DAY, "members_due": ids, "present": ids[:present],
                "recusals": recusals if recusals is not None else [],
                "decisions": decisions if decisions is not None else self.decisions(),
                "minutes": "党委会审议面议及考察情况，逐人表决"}

    def decision(self, cand: str, outcome: str, f: int, a: int, b: int, reason: str = ""):
        return {"candidate_id": self.c[cand], "votes_for": f, "votes_against": a,
                "abstentions": b, "outcome": outcome, "reason": reason}

    def decisions(self) -> list[dict]:
        return [self.decision("li", "appointed", 6, 1, 0),
                self.decision("wang", "reserve", 5, 1, 1),
                self.decision("chen", "not_qualified", 1, 4, 1)]


@pytest.fixture
def story(client, admin, make_user, login, make_selection, make_candidate) -> Story:
    return Story(client, admin, make_user, login, make_selection, make_candidate)


# ================================================================ gate 1: pre-review
def test_bulk_prereview_passes_four_fails_one_and_an_unknown_id_fails_alone(story):
    s = story.reviewing()
    assert s.states() == {k: "applicant" for k in s.c}
    unknown = str(uuid.uuid4())
    decisions = [{"candidate_id": s.c["li"], "decision": "pass", "assessment": assessment()},
                 {"candidate_id": s.c["wang"], "decision": "pass", "assessment": assessment()},
                 {"candidate_id": unknown, "decision": "pass", "assessment": assessment()},
                 {"candidate_id": s.c["zhao"], "decision": "pass", "assessment": assessment()},
                 {"candidate_id": s.c["chen"], "decision": "pass", "assessment": assessment()},
                 {"candidate_id": s.c["zhou"], "decision": "fail", "reason": "群众认可度不足",
                  "assessment": {**assessment(), "mass_recognition": {
                      "satisfactory": False, "note": "民主推荐得票率低"}}}]
    out = _ok(s.post(f"{SEL}/{s.sel}/prereview", {"decisions": decisions}))
    assert (out["succeeded"], out["failed"]) == (5, 1)
    results = out["results"]
    assert [r["candidate_id"] for r in results] == [d["candidate_id"] for d in decisions]
    assert [(r["ok"], r["state"]) for r in results] == [
        (True, "qualified"), (True, "qualified"), (False, None), (True, "qualified"),
        (True, "qualified"), (True, "not_qualified")]
    err = results[2]["error"]
    assert (err["status"], err["code"]) == (404, "candidate_not_found")
    assert all(r["error"] is None for i, r in enumerate(results) if i != 2)

    assert s.states() == {"li": "qualified", "wang": "qualified", "zhao": "qualified",
                          "chen": "qualified", "zhou": "not_qualified"}
    ev = s.events("zhou")[-1]
    assert (ev["action"], ev["from_state"], ev["to_state"]) == (
        "fail_prereview", "applicant", "not_qualified")
    assert ev["reason"] == "群众认可度不足"
    assert ev["params"]["assessment"]["mass_recognition"] == {
        "satisfactory": False, "note": "民主推荐得票率低"}
    assert set(ev["params"]["assessment"]) == set(PREREVIEW_ITEMS)
    ev = s.events("li")[-1]
    assert (ev["action"], ev["to_state"]) == ("pass_prereview", "qualified")

    # the same batch again: every decision fails on its own, nothing changes
    again = _ok(s.post(f"{SEL}/{s.sel}/prereview", {"decisions": decisions}))
    assert (again["succeeded"], again["failed"]) == (0, 6)
    assert {r["error"]["code"] for r in again["results"]} == {
        "action_not_allowed_in_state", "candidate_not_found"}


def test_a_failing_decision_without_a_reason_fails_alone(story):
    s = story.reviewing()
    a, b = s.c["zhao"], s.c["chen"]
    out = _ok(s.post(f"{SEL}/{s.sel}/prereview", {"decisions": [
        {"candidate_id": a, "decision": "pass", "assessment": assessment()},
        {"candidate_id": b, "decision": "fail", "assessment": assessment(False)},
        {"candidate_id": s.c["zhou"], "decision": "fail", "reason": "  ",
         "assessment": assessment(False)}]}))
    assert (out["succeeded"], out["failed"]) == (1, 2)
    assert out["results"][0]["state"] == "qualified"
    for r in out["results"][1:]:
        assert r["ok"] is False
        assert (r["error"]["status"], r["error"]["code"]) == (422, "reason_required")
    assert (s.state("zhao"), s.state("chen"), s.state("zhou")) == (
        "qualified", "applicant", "applicant")
    assert [e["action"] for e in s.events("chen")] == []  # inserted directly, nothing recorded

    # a malformed batch is refused as a whole
    _problem(s.post(f"{SEL}/{s.sel}/prereview", {"decisions": []}), 422, "validation_error")
    _problem(s.post(f"{SEL}/{s.sel}/prereview", {"decisions": [
        {"candidate_id": b, "decision": "maybe", "assessment": assessment()}]}), 422)
    # only admins pre-review
    judge = s.user("judge")[1]
    _problem(s.post(f"{SEL}/{s.sel}/prereview", {"decisions": [
        {"candidate_id": b, "decision": "pass", "assessment": assessment()}]}, judge), 403)
    assert s.state("chen") == "applicant"


def test_single_pass_prereview_records_all_seven_items(story):
    s = story.reviewing()
    body = _problem(s.act("li", "pass_prereview", {"params": {
        "assessment": assessment(skip=("integrity", "physical"))}}), 422, "validation_error")
    assert any(e["field"].startswith("body.params.assessment") for e in body["errors"]), body
    assert "integrity" in body["detail"] and "physical" in body["detail"], body["detail"]
    _problem(s.act("li", "pass_prereview", {"params": {}}), 422, "validation_error")
    _problem(s.act("li", "pass_prereview", {"params": {"assessment": {
        **assessment(), "charm": {"satisfactory": True}}}}), 422, "validation_error")
    assert s.state("li") == "applicant"

    out = _ok(s.act("li", "pass_prereview", {"params": {"assessment": assessment()}}))
    assert out["state"] == "qualified"
    ev = s.events("li")[-1]
    assert (ev["action"], ev["from_state"], ev["to_state"]) == (
        "pass_prereview", "applicant", "qualified")
    assert ev["params"]["assessment"] == assessment()

    # failing one by one needs a reason too
    _problem(s.act("wang", "fail_prereview", {"params": {"assessment": assessment(False)}}),
             422, "reason_required")
    assert _ok(s.act("wang", "fail_prereview", {"reason": "本人参选思路不清晰", "params": {
        "assessment": assessment(False)}}))["state"] == "not_qualified"
    # and it happens only while reviewing: a candidate already decided is not pre-reviewed again
    _problem(s.act("li", "pass_prereview", {"params": {"assessment": assessment()}}), 409,
             "action_not_allowed_in_state")


# ================================================================ gate 2: panel and preparation
def test_the_panel_is_seven_judges_or_an_odd_number_above(story):
    s = story.reviewing().prereview()
    judges = [s.user("judge") for _ in range(8)]
    ids = [j for j, _ in judges]
    inspector_id, _ = s.user("inspector")

    body = _problem(s.put(f"{SEL}/{s.sel}/panel", {"judge_ids": ids[:6]}), 422, "panel_size")
    assert body["details"] == {"judges": 6, "min_judges": 7, "odd": True}
    _problem(s.put(f"{SEL}/{s.sel}/panel", {"judge_ids": ids}), 422, "panel_size")
    body = _problem(s.put(f"{SEL}/{s.sel}/panel", {"judge_ids": ids[:6] + [inspector_id]}),
                    422, "not_a_judge")
    assert body["details"]["user_ids"] == [inspector_id]
    _problem(s.put(f"{SEL}/{s.sel}/panel", {"judge_ids": ids[:6] + [ids[0]]}), 422,
             "duplicate_member")
    _problem(s.put(f"{SEL}/{s.sel}/panel", {"judge_ids": ids[:7]}, judges[0][1]), 403)
    assert _ok(s.get(f"{SEL}/{s.sel}/panel"))["judge_ids"] == []

    panel = _ok(s.put(f"{SEL}/{s.sel}/panel", {"judge_ids": ids[:7]}))
    assert panel["judge_ids"] == ids[:7]
    assert panel["interview"] is None
    assert [c["key"] for c in panel["criteria"]] == list(DEFAULT_WEIGHTS)
    # a judge on the panel reads it; the eighth judge, not on it, does not
    assert _ok(s.get(f"{SEL}/{s.sel}/panel", judges[0][1]))["judge_ids"] == ids[:7]
    _problem(s.get(f"{SEL}/{s.sel}/panel", judges[7][1]), 403, "not_on_panel")
    ev = s.selection_events()[-1]
    assert ev["action"] == "appoint_panel" and ev["params"]["judge_ids"] == ids[:7]


def test_interview_preparation_and_criteria_change_until_the_first_score(story):
    s = story.reviewing().prereview().appoint_panel()
    changed = _reweighted(25, 25, 25, 25)
    out = _ok(s.put(f"{SEL}/{s.sel}/interview", {
        "held_on": "2026-10-21", "place": "二楼会议室", "briefing": "评委会前沟通",
        "materials": ["职务说明书", "参选人材料汇编"], "interview_criteria": changed}))
    assert out["interview"]["held_on"] == "2026-10-21"
    assert out["interview"]["materials"] == ["职务说明书", "参选人材料汇编"]
    assert [c["weight"] for c in out["criteria"]] == [25, 25, 25, 25]
    assert [c["weight"] for c in _ok(s.get(f"{SEL}/{s.sel}"))["settings"][
        "interview_criteria"]] == [25, 25, 25, 25]
    ev = s.selection_events()[-1]
    assert ev["action"] == "prepare_interview"
    assert [c["weight"] for c in ev["params"]["interview_criteria"]] == [25, 25, 25, 25]
    # back to the default weights, still before any score
    out = _ok(s.put(f"{SEL}/{s.sel}/interview", {
        "held_on": "2026-10-21", "materials": ["职务说明书"], "interview_criteria": [
            {"key": c["key"], "label": c["label"], "weight": c["weight"]}
            for c in DEFAULT_CRITERIA]}))
    assert {c["key"]: c["weight"] for c in out["criteria"]} == DEFAULT_WEIGHTS

    # a refused sheet does not start the scoring
    s.declare_all()
    _problem(s.sheet(0, "li", {**SCORES["li"][0], "answers": 120}), 422)
    _ok(s.put(f"{SEL}/{s.sel}/interview", {"held_on": "2026-10-21", "materials": ["职务说明书"],
                                          "interview_criteria": DEFAULT_CRITERIA}))

    _ok(s.sheet(1, "wang", SCORES["wang"][1]), 201)
    body = _problem(s.put(f"{SEL}/{s.sel}/interview", {
        "held_on": "2026-10-22", "materials": ["别的材料"], "interview_criteria": changed}),
        409, "scoring_started")
    assert "评分项目" in body["detail"]
    # refused whole: the date and materials are not changed either, nor the weights
    panel = _ok(s.get(f"{SEL}/{s.sel}/panel"))
    assert panel["interview"]["held_on"] == "2026-10-21"
    assert panel["interview"]["materials"] == ["职务说明书"]
    assert {c["key"]: c["weight"] for c in panel["criteria"]} == DEFAULT_WEIGHTS
    # the panel is fixed too; the preparation without criteria can still be completed
    _problem(s.put(f"{SEL}/{s.sel}/panel", {"judge_ids": [j for j, _ in s.judges]}), 409,
             "scoring_started")
    out = _ok(s.put(f"{SEL}/{s.sel}/interview", {
        "held_on": "2026-10-21", "materials": ["职务说明书", "面议记录"]}))
    assert out["interview"]["materials"] == ["职务说明书", "面议记录"]


@pytest.mark.parametrize("criteria, words", [
    (_reweighted(20, 30, 35, 10), "须为 100，现为 95"),
    (_reweighted(20, 30, 35, 25), "100"),
    ([{**DEFAULT_CRITERIA[2], "weight": 50}, {**DEFAULT_CRITERIA[2], "weight": 50}], "不能重复"),
], ids=["95", "110", "duplicate-key"])
def test_interview_criteria_weights_must_add_up_to_100(story, criteria, words):
    s = story.reviewing()
    body = _problem(s.put(f"{SEL}/{s.sel}/interview", {
        "held_on": "2026-10-21", "interview_criteria": criteria}), 422)
    assert words in body["detail"], body
    panel = _ok(s.get(f"{SEL}/{s.sel}/panel"))
    assert panel["interview"] is None
    assert {c["key"]: c["weight"] for c in panel["criteria"]} == DEFAULT_WEIGHTS


# ================================================================ gate 2: declarations and sheets
def test_declarations_recusal_and_sealed_superseded_score_sheets(story):
    s = story.reviewing().prereview().appoint_panel()
    outsider = s.user("judge")[1]
    li, chen = s.c["li"], s.c["chen"]

    # a sheet before declaring
    _problem(s.sheet(0, "li", SCORES["li"][0]), 409, "declaration_required")
    # a judge not on the panel declares nothing
    _problem(s.post(f"{SEL}/{s.sel}/declarations", {"candidate_id": li, "conflict": "none"},
                    outsider), 403, "not_on_panel")
    s.declare_all()
    body = _problem(s.declare(0, "li"), 409, "already_declared")
    assert body["details"] == {"conflict": "none"}
    _problem(s.declare(6, "chen", "none"), 409, "already_declared")
    # the recused judge cannot score 陈静, but scores the others
    _problem(s.sheet(6, "chen", SCORES["li"][6]), 403, "recused")
    decls = _ok(s.get(f"{CAND}/{chen}/declarations"))
    assert len(decls) == 7
    recused = [d for d in decls if d["recused"]]
    assert [(d["user_id"], d["conflict"]) for d in recused] == [(s.judges[6][0], "spouse")]
    declared = [(e["actor_id"], e["action"], e["params"]["recused"]) for e in s.events("chen")
                if e["action"].startswith("declare")]
    assert len(declared) == 7
    assert [d for d in declared if d[2]] == [(s.judges[6][0], "declare_conflict", True)]
    assert {d[1] for d in declared if not d[2]} == {"declare_no_conflict"}

    # malformed sheets are refused, each naming the field
    for scores, field, kind in (
            ({**SCORES["li"][0], "answers": 101}, "body.scores.answers", "out_of_range"),
            ({**SCORES["li"][0], "answers": -1}, "body.scores.answers", "out_of_range"),
            ({**SCORES["li"][0], "charisma": 80}, "body.scores.charisma", "unknown_criterion"),
            ({k: v for k, v in SCORES["li"][0].items() if k != "overall_impression"},
             "body.scores.overall_impression", "missing")):
        body = _problem(s.sheet(0, "li", scores), 422)
        assert [(e["field"], e["type"]) for e in body["errors"]] == [(field, kind)], body
    assert _ok(s.get(f"{CAND}/{li}/score-sheets"))["sheets"] == []

    # the first sheet, sealed: each judge sees only their own
    first = _ok(s.sheet(0, "li", LI_DECOY), 201)
    assert (first["version"], first["current"], first["total"]) == (1, True, 40)
    mine = _ok(s.get(f"{CAND}/{li}/score-sheets", s.judges[0][1]))
    assert (mine["sealed"], mine["expected"], mine["submitted"]) == (True, 7, 1)
    assert [sh["judge_id"] for sh in mine["sheets"]] == [s.judges[0][0]]
    other = _ok(s.get(f"{CAND}/{li}/score-sheets", s.judges[1][1]))
    assert (other["sealed"], other["sheets"]) == (True, [])
    assert len(_ok(s.get(f"{CAND}/{li}/score-sheets"))["sheets"]) == 1  # admins see all
    _problem(s.get(f"{CAND}/{li}/score-sheets", outsider), 404)

    # the result is not known before every sheet is in
    body = _problem(s.act("li", "pass_interview"), 409, "score_sheets_incomplete")
    assert (body["details"]["expected"], body["details"]["submitted"]) == (7, 1)

    # a second sheet supersedes the first, with a reason; both are kept
    _problem(s.sheet(0, "li", SCORES["li"][0]), 422, "supersede_reason_required")
    _problem(s.sheet(0, "li", SCORES["li"][0], supersede_reason="   "), 422,
             "supersede_reason_required")
    second = _ok(s.sheet(0, "li", SCORES["li"][0], supersede_reason="誊写错误，重新填写"), 201)
    assert (second["version"], second["supersede_reason"]) == (2, "誊写错误，重新填写")
    assert second["total"] == _approx(weighted(SCORES["li"][0]))
    mine = _ok(s.get(f"{CAND}/{li}/score-sheets", s.judges[0][1]))
    assert (mine["sealed"], mine["submitted"]) == (True, 1)
    assert [(sh["version"], sh["current"]) for sh in mine["sheets"]] == [(1, False), (2, True)]

    for j in range(1, 7):
        _ok(s.sheet(j, "li", SCORES["li"][j]), 201)
        if j < 6:
            assert _ok(s.get(f"{CAND}/{li}/score-sheets", s.judges[j][1]))["sealed"] is True
    # all seven in: unsealed, every sheet visible to the panel, the superseded one too
    view = _ok(s.get(f"{CAND}/{li}/score-sheets", s.judges[3][1]))
    assert (view["sealed"], view["expected"], view["submitted"]) == (False, 7, 7)
    assert len(view["sheets"]) == 8
    assert sorted(sh["judge_id"] for sh in view["sheets"] if sh["current"]) == sorted(
        j for j, _ in s.judges)
    assert [sh["version"] for sh in view["sheets"] if not sh["current"]] == [1]
    ev = _ok(s.get(f"{CAND}/{li}/evaluation"))
    assert ev["submitted_sheets"] == 7
    assert ev["judge_totals"] == _approx(expected_result("li")["totals"])
    assert 40 not in ev["judge_totals"]

    # 陈静: six sheets are all that are expected
    for j in range(6):
        _ok(s.sheet(j, "chen", SCORES["chen"][j]), 201)
    view = _ok(s.get(f"{CAND}/{chen}/score-sheets", s.judges[2][1]))
    assert (view["sealed"], view["expected"], view["submitted"]) == (False, 6, 6)
    assert len(view["sheets"]) == 6
    assert s.judges[6][0] not in {sh["judge_id"] for sh in view["sheets"]}
    # the recused judge also sees them once they are all in (they are on the panel)
    assert _ok(s.get(f"{CAND}/{chen}/score-sheets", s.judges[6][1]))["sealed"] is False


# ================================================================ gate 2: evaluation and ranking
def test_evaluation_report_ranking_and_interview_decisions(story, make_selection,
                                                           make_candidate):
    s = story.reviewing().prereview().appoint_panel().declare_all()
    s.score_all(only=("li", "wang", "zhao"))
    for j in range(3):
        _ok(s.sheet(j, "chen", SCORES["chen"][j]), 201)
    body = _problem(s.act("chen", "pass_interview"), 409, "score_sheets_incomplete")
    assert (body["details"]["expected"], body["details"]["submitted"]) == (6, 3)
    for j in range(3, 6):
        _ok(s.sheet(j, "chen", SCORES["chen"][j]), 201)

    evals = {}
    for cand in INTERVIEWED:
        ev = _ok(s.get(f"{CAND}/{s.c[cand]}/evaluation"))
        exp = expected_result(cand)
        assert ev["full_name"] == NAMES[cand]
        assert ev["complete"] is True
        assert ev["judge_totals"] == _approx(exp["totals"]), cand
        assert ev["trimmed"] is True
        assert ev["score"] == _approx(exp["score"]), cand
        assert ev["spread"] == _approx(exp["spread"]), cand
        assert ev["criterion_means"] == _approx(exp["means"]), cand
        evals[cand] = ev
    # 李明: the highest (judge 5) and lowest (judge 6) are dropped; the judges disagree widely
    li = evals["li"]
    assert (li["expected_sheets"], li["submitted_sheets"]) == (7, 7)
    assert li["score"] == _approx(mean(sorted(weighted(x) for x in SCORES["li"])[1:-1]))
    assert li["spread"] > 20 and li["spread_flagged"] is True
    assert (li["rank"], li["within_ratio"], li["tied_with"]) == (1, True, [])
    assert sorted(li["comments"]) == sorted(f"评委{j}：表达清楚" for j in range(1, 8))
    assert li["recusals"] == []
    assert evals["wang"]["spread_flagged"] is False
    assert evals["zhao"]["spread_flagged"] is False
    # 陈静: six sheets from judges not recused, the recusal listed, fourth: beyond the cut-off
    chen = evals["chen"]
    assert (chen["expected_sheets"], chen["submitted_sheets"]) == (6, 6)
    assert len(chen["judge_totals"]) == 6
    assert [(r["user_id"], r["conflict"], r["recused"]) for r in chen["recusals"]] == [
        (s.judges[6][0], "spouse", True)]
    assert (chen["rank"], chen["within_ratio"]) == (4, False)

    # the printable report
    r = s.get(f"{CAND}/{s.c['li']}/evaluation.html")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert "综合评议报告" in r.text and "李明" in r.text
    assert f"{li['score']:g}" in r.text
    assert "评委意见分歧较大" in r.text  # the spread flag is shown
    r = s.get(f"{CAND}/{s.c['wang']}/evaluation.html")
    assert "王芳" in r.text and "李明" not in r.text and "评委意见分歧较大" not in r.text

    # the ranking: by score, cut-off 3 for one post
    ranking = _ok(s.get(f"{SEL}/{s.sel}/ranking"))
    assert ranking["cutoff"] == 3
    assert "role_cognition" in ranking["tie_rule"]
    ranked = [e for e in ranking["entries"] if e["rank"] is not None]
    assert [(s.name_of(e["candidate_id"]), e["rank"], e["within_ratio"], e["tied"])
            for e in ranked] == [("li", 1, True, False), ("wang", 2, True, False),
                                 ("zhao", 3, True, False), ("chen", 4, False, False)]
    assert [e["score"] for e in ranked] == [evals[k]["score"] for k in INTERVIEWED]
    assert [e["score"] for e in ranked] == sorted((e["score"] for e in ranked), reverse=True)
    assert ranked[0]["tie_break"] == _approx(expected_result("li")["means"]["role_cognition"])

    # the interview decisions
    body = _problem(s.act("chen", "pass_interview"), 409, "departs_from_ranking")
    assert (body["details"]["rank"], body["details"]["cutoff"]) == (4, 3)
    _problem(s.act("chen", "pass_interview", {"reason": "  "}), 409, "departs_from_ranking")
    assert s.state("chen") == "qualified"
    _problem(s.act("zhao", "fail_interview"), 422, "reason_required")
    assert s.state("zhao") == "qualified"
    s.decide_interviews()
    ev = s.events("chen")[-1]
    assert (ev["action"], ev["to_state"]) == ("pass_interview", "shortlisted")
    assert ev["reason"] == "前三名中一人已退出，党委研究决定递补"
    assert (s.events("zhao")[-1]["action"], s.events("zhao")[-1]["reason"]) == (
        "fail_interview", "综合得分偏低")
    _problem(s.act("li", "pass_interview"), 409, "action_not_allowed_in_state")
    # the sheets stay closed once the interview is decided for the candidate
    _problem(s.sheet(1, "li", SCORES["li"][1], supersede_reason="再改"), 409,
             "not_being_interviewed")

    # who sees what: a judge on the panel sees the candidate without personal data
    other = make_selection(title="第二党支部书记公开选拔")["id"]
    elsewhere = str(make_candidate(other, state="qualified", full_name="钱多"))
    admin_view = _ok(s.get(f"{CAND}/{s.c['li']}"))
    assert PERSONAL - {"national_id"} <= set(admin_view["profile"])
    judge = s.judges[0][1]
    r = s.get(f"{CAND}/{s.c['li']}", judge)
    seen = _ok(r)
    assert seen["full_name"] == "李明" and seen["profile"]["unit"] == "机关办公室"
    assert not PERSONAL & set(seen["profile"]), seen["profile"]
    for private in (LI["birth_date"], LI["phone"], LI["email"]):
        assert private not in r.text
    assert seen["user_id"] is None
    _problem(s.get(f"{CAND}/{s.c['li']}/events", judge), 404)
    _problem(s.get(f"{CAND}/{elsewhere}", judge), 404)
    _problem(s.get(f"{CAND}/{s.c['zhou']}", judge), 404)  # failed pre-review: not interviewed
    # judges do not read the evaluation report or the ranking
    _problem(s.get(f"{CAND}/{s.c['li']}/evaluation", judge), 403)
    _problem(s.get(f"{SEL}/{s.sel}/ranking", judge), 403)


def test_ties_are_broken_by_role_cognition_and_a_full_tie_is_flagged(story):
    # three judges are enough when the selection says so (DOMAIN: a default, overridable)
    s = story.reviewing(settings={"min_judges": 3})
    names = {"a": "甲", "b": "乙", "c": "丙", "d": "丁"}
    for key, name in names.items():
        s.c[key] = str(s._make_candidate(s.sel, state="applicant", full_name=name))
    _ok(s.post(f"{SEL}/{s.sel}/prereview", {"decisions": [
        {"candidate_id": s.c[k], "decision": "pass", "assessment": assessment()}
        for k in names]}))
    s.judges = [s.user("judge") for _ in range(3)]
    _ok(s.put(f"{SEL}/{s.sel}/panel", {"judge_ids": [j for j, _ in s.judges]}))
    # 甲 90; 乙, 丙, 丁 81 each; 乙 with the higher role_cognition; 丙 and 丁 identical
    sheets = {"a": S(90, 90, 90, 90), "b": S(70, 90, 80, 80), "c": S(85, 80, 80, 80),
              "d": S(85, 80, 80, 80)}
    assert weighted(sheets["b"]) == weighted(sheets["c"]) == 81
    for j in range(3):
        for k, sc in sheets.items():
            _ok(s.declare(j, k), 201)
            extra = {"comment": "<script>alert(1)</script> 思路清晰"} if (j, k) == (0, "a") else {}
            _ok(s.post(f"{CAND}/{s.c[k]}/score-sheets", {"scores": sc, **extra},
                       s.judges[j][1]), 201)

    ranking = _ok(s.get(f"{SEL}/{s.sel}/ranking"))
    ranked = [e for e in ranking["entries"] if e["rank"] is not None]
    assert [(names[s.name_of(e["candidate_id"])], e["rank"], e["tied"], e["within_ratio"])
            for e in ranked[:2]] == [("甲", 1, False, True), ("乙", 2, False, True)]
    assert sorted((names[s.name_of(e["candidate_id"])], e["rank"], e["tied"])
                  for e in ranked[2:]) == [("丁", 3, True), ("丙", 3, True)]
    assert [e["score"] for e in ranked] == _approx([90, 81, 81, 81])
    assert [e["tie_break"] for e in ranked] == _approx([90, 90, 80, 80])

    # a judge's comment is shown in the printed report as text, never as markup
    page = s.get(f"{CAND}/{s.c['a']}/evaluation.html").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 思路清晰" in page
    assert "<script>" not in page

    ev = _ok(s.get(f"{CAND}/{s.c['b']}/evaluation"))
    assert (ev["score"], ev["rank"], ev["tied_with"]) == (_approx(81), 2, [])
    assert ev["trimmed"] is False  # three sheets: nothing dropped
    ev = _ok(s.get(f"{CAND}/{s.c['c']}/evaluation"))
    assert (ev["rank"], ev["tied_with"], ev["within_ratio"]) == (3, [s.c["d"]], True)

    # 乙 goes on as ranked; 丙 and 丁 share the last place: passing one needs a reason
    assert _ok(s.act("b", "pass_interview"))["state"] == "shortlisted"
    body = _problem(s.act("c", "pass_interview"), 409, "departs_from_ranking")
    assert body["details"]["tied"] is True
    assert _ok(s.act("c", "pass_interview", {"reason": "岗位认知答辩记录更完整，党委研究决定"}))[
        "state"] == "shortlisted"


def test_the_ranking_lists_only_candidates_who_reached_the_interview(story):
    s = story.reviewing(settings={"min_judges": 1})
    s.c.pop("li"), s.c.pop("wang")  # only the three inserted ones matter here
    _ok(s.post(f"{SEL}/{s.sel}/prereview", {"decisions": [
        {"candidate_id": s.c["zhao"], "decision": "pass", "assessment": assessment()},
        {"candidate_id": s.c["chen"], "decision": "pass", "assessment": assessment()},
        {"candidate_id": s.c["zhou"], "decision": "fail", "reason": "不符合",
         "assessment": assessment(False)}]}))
    s.judges = [s.user("judge")]
    _ok(s.put(f"{SEL}/{s.sel}/panel", {"judge_ids": [s.judges[0][0]]}))
    for k in ("zhao", "chen"):
        _ok(s.declare(0, k), 201)
        _ok(s.sheet(0, k, SCORES[k][0]), 201)
    ranking = _ok(s.get(f"{SEL}/{s.sel}/ranking"))
    listed = {e["full_name"]: e["rank"] for e in ranking["entries"]}
    # 周国庆 failed the pre-review: never interviewed, he has no place in the interview ranking
    assert "周国庆" not in listed, ranking["entries"]
    assert listed == {"赵强": 1, "陈静": 2}


# ================================================================ gate 3: inspection
def test_inspection_team_records_and_conclusion(story):
    s = story.reviewing().prereview().appoint_panel().declare_all().score_all()
    s.decide_interviews()
    i1, i2, i3 = [s.user("inspector") for _ in range(3)]
    s.inspectors = [i1, i2, i3]
    judge_id = s.judges[0][0]
    li = s.c["li"]

    body = _problem(s.put(f"{CAND}/{li}/inspection-team", {"inspector_ids": [i1[0]]}), 422,
                    "team_size")
    assert body["details"] == {"needed": 2}
    _problem(s.put(f"{CAND}/{li}/inspection-team", {"inspector_ids": [i1[0], judge_id]}), 422,
             "not_a_inspector")
    _problem(s.put(f"{CAND}/{s.c['zhao']}/inspection-team",
                   {"inspector_ids": [i1[0], i2[0]]}), 409, "not_being_inspected")
    # an inspector sees nobody before being put on a team
    _problem(s.get(f"{CAND}/{li}", i1[1]), 404)
    team = _ok(s.put(f"{CAND}/{li}/inspection-team", {"inspector_ids": [i1[0], i2[0]]}))
    assert sorted(team["team"]) == sorted([i1[0], i2[0]])
    assert (team["records"], team["report"]) == ([], None)
    _ok(s.put(f"{CAND}/{s.c['wang']}/inspection-team", {"inspector_ids": [i1[0], i2[0]]}))
    _ok(s.put(f"{CAND}/{s.c['chen']}/inspection-team", {"inspector_ids": [i2[0], i3[0]]}))

    # an inspector sees only the candidates whose team they are on, without personal data
    seen = _ok(s.get(f"{CAND}/{li}", i1[1]))
    assert seen["full_name"] == "李明" and not PERSONAL & set(seen["profile"])
    _ok(s.get(f"{CAND}/{s.c['wang']}", i1[1]))
    _problem(s.get(f"{CAND}/{s.c['chen']}", i1[1]), 404)
    _problem(s.get(f"{CAND}/{li}", i3[1]), 404)
    _ok(s.get(f"{CAND}/{s.c['chen']}", i3[1]))
    _problem(s.get(f"{CAND}/{li}/inspection", i3[1]), 404)
    _problem(s.get(f"{SEL}/{s.sel}/ranking", i1[1]), 403)

    # the conclusion needs recorded work first
    _problem(s.conclude("li", inspector=0), 409, "inspection_not_done")
    # an inspector not on the team records nothing and concludes nothing
    r = s.record_work("li", inspector=2)
    assert r.status_code in (403, 404), r.text
    r = s.conclude("li", inspector=2)
    assert r.status_code in (403, 404), r.text
    # nor is work recorded before it is done
    _problem(s.post(f"{CAND}/{li}/inspection-records", {
        "kind": "visit", "held_on": "2026-10-15", "summary": "走访"}, i1[1]), 409,
        "date_in_future")
    rec = _ok(s.record_work("li", inspector=0), 201)
    assert (rec["inspector_id"], rec["kind"], rec["count"]) == (i1[0], "conversation", 12)

    # the democratic appraisal cannot count more votes than participants
    too_many = {**APPRAISAL, "incompetent": 2}  # 30 + 12 + 2 + 2 = 46 > 45
    body = _problem(s.conclude("li", too_many, inspector=0), 422, "validation_error")
    assert any(e["field"].startswith("body.params.appraisal") for e in body["errors"]), body
    _problem(s.act("li", "pass_inspection", {"params": {"appraisal": APPRAISAL}},
                   i1[1]), 422, "validation_error")  # findings missing
    assert s.state("li") == "shortlisted"

    # the second team member concludes
    assert _ok(s.conclude("li", inspector=1))["state"] == "inspected"
    view = _ok(s.get(f"{CAND}/{li}/inspection", i1[1]))
    assert sorted(view["team"]) == sorted([i1[0], i2[0]])
    assert [r["summary"] for r in view["records"]] == ["与所在部门干部群众12人个别谈话，反映良好"]
    report = view["report"]
    assert report["conclusion"] == "pass"
    assert report["by"] == i2[0]
    assert report["appraisal"] == APPRAISAL
    assert report["findings"] == FINDINGS
    assert report["summary"] == "考察组一致认为该同志符合支部书记任职条件"
    assert view == _ok(s.get(f"{CAND}/{li}/inspection"))  # the admin sees the same
    ev = s.events("li")[-1]
    assert (ev["action"], ev["actor_role"], ev["to_state"]) == (
        "pass_inspection", "inspector", "inspected")
    assert ev["params"]["appraisal"]["participants"] == 45
    # after the conclusion no more work is recorded
    _problem(s.record_work("li", inspector=0), 409, "not_being_inspected")

    # an inspector with a conflict recuses; the team is then too small to conclude
    d = _ok(s.post(f"{SEL}/{s.sel}/declarations", {
        "candidate_id": s.c["chen"], "conflict": "close_in_law", "note": "参选人系其弟媳"},
        i3[1]), 201)
    assert (d["capacity"], d["recused"]) == ("inspector", True)
    _problem(s.post(f"{SEL}/{s.sel}/declarations", {
        "candidate_id": li, "conflict": "none"}, i3[1]), 403, "not_on_inspection_team")
    _problem(s.record_work("chen", inspector=2), 403, "not_on_inspection_team")
    _ok(s.record_work("chen", inspector=1), 201)
    body = _problem(s.act("chen", "pass_inspection", {"params": {
        "appraisal": APPRAISAL, "findings": FINDINGS}}), 409, "inspection_team_incomplete")
    assert body["details"]["active"] == 1
    assert _ok(s.get(f"{CAND}/{s.c['chen']}/inspection"))["recused"] == [i3[0]]
    assert s.state("chen") == "shortlisted"


# ================================================================ the committee
def test_submission_committee_meeting_and_finishing_the_decision(story):
    s = story.reviewing().prereview().appoint_panel().declare_all().score_all()
    s.decide_interviews().appoint_inspectors().inspect(only=("li",))
    s.seat_committee()
    k1 = s.committee[0][1]

    # candidates still at a gate: not yet
    body = _problem(s.act_selection("submit_to_committee"), 409, "review_unfinished")
    assert body["details"]["candidates_waiting"] == {"shortlisted": 2}
    _problem(s.post(f"{SEL}/{s.sel}/committee-meetings", s.meeting(decisions=[
        s.decision("li", "appointed", 6, 1, 0)])), 409, "selection_not_deciding")
    # the committee does not see candidates who are not submitted to it
    _problem(s.get(f"{CAND}/{s.c['wang']}/evaluation", k1), 404)
    s.inspect(only=("wang", "chen"))
    assert _ok(s.act_selection("submit_to_committee"))["state"] == "deciding"

    base = {k: s.state(k) for k in s.c}
    assert [base[k] for k in ("li", "wang", "chen")] == ["inspected"] * 3

    def refused(body: dict, status: int, code: str) -> dict:
        problem = _problem(s.post(f"{SEL}/{s.sel}/committee-meetings", body), status, code)
        assert _ok(s.get(f"{SEL}/{s.sel}/committee-meetings")) == []
        assert {k: s.state(k) for k in s.c} == base
        assert "record_committee_meeting" not in [e["action"] for e in s.selection_events()]
        return problem

    p = refused(s.meeting(present=5), 409, "quorum_not_met")
    assert p["details"] == {"present": 5, "due": 9, "needed": 6,
                            "committee_quorum": _approx(2 / 3)}
    assert "2/3" in p["detail"]
    p = refused(s.meeting(decisions=[s.decision("li", "appointed", 4, 2, 1),
                                     s.decision("wang", "reserve", 5, 1, 1),
                                     s.decision("chen", "not_qualified", 1, 4, 1)]),
                409, "vote_threshold_not_met")
    assert (p["details"]["needed"], p["details"]["votes_for"]) == (5, 4)
    refused(s.meeting(decisions=[s.decision("li", "appointed", 6, 1, 0),
                                 s.decision("wang", "appointed", 5, 1, 1),
                                 s.decision("chen", "not_qualified", 1, 4, 1)]),
            409, "too_many_appointments")
    p = refused(s.meeting(decisions=[s.decision("li", "appointed", 6, 1, 0),
                                     s.decision("wang", "reserve", 6, 1, 1),
                                     s.decision("chen", "not_qualified", 1, 4, 1)]),
                422, "too_many_votes")
    assert p["details"]["candidate_id"] == s.c["wang"]
    # a recused member does not vote: 6 votes on 陈静 from 7 present, one recused, is too many
    recusal = [{"member_id": s.committee[0][0], "candidate_id": s.c["chen"],
                "reason": "与参选人系近姻亲"}]
    refused(s.meeting(recusals=recusal, decisions=[
        s.decision("li", "appointed", 6, 1, 0), s.decision("wang", "reserve", 5, 1, 1),
        s.decision("chen", "not_qualified", 1, 5, 1)]), 422, "too_many_votes")
    # a committee member does not record the meeting
    _problem(s.post(f"{SEL}/{s.sel}/committee-meetings", s.meeting(), k1), 403)

    # finishing before the decision is refused
    _problem(s.act_selection("finish_decision"), 409, "decision_unfinished")

    body = s.meeting(recusals=recusal)
    meeting = _ok(s.post(f"{SEL}/{s.sel}/committee-meetings", body), 201)
    assert meeting["selection_id"] == s.sel
    assert meeting["members_due"] == body["members_due"]
    assert meeting["present"] == body["present"]
    assert [(d["candidate_id"], d["outcome"], d["votes_for"], d["members_voting"])
            for d in meeting["decisions"]] == [(s.c["li"], "appointed", 6, 7),
                                               (s.c["wang"], "reserve", 5, 7),
                                               (s.c["chen"], "not_qualified", 1, 6)]
    assert meeting["recusals"][0]["member_id"] == s.committee[0][0]
    assert meeting["minutes"] == body["minutes"]

    assert (s.state("li"), s.state("wang"), s.state("chen")) == (
        "appointed", "reserve", "not_qualified")
    for cand, action, votes in (("li", "decide_appoint", (6, 1, 0)),
                                ("wang", "decide_reserve", (5, 1, 1)),
                                ("chen", "decide_not_qualified", (1, 4, 1))):
        ev = s.events(cand)[-1]
        assert (ev["action"], ev["from_state"]) == (action, "inspected")
        p = ev["params"]
        assert (p["votes_for"], p["votes_against"], p["abstentions"]) == votes
        assert (p["members_due"], p["members_present"]) == (9, 7)
        assert p["meeting_id"] == meeting["id"]
    # the reason the service writes: in the catalogue's default form, and read in the
    # reader's language, the numbers kept as numbers
    chen = s.events("chen")[-1]
    assert chen["reason"] == chen["reason_label"] == "党委会审核（赞成 1、反对 4、弃权 1），决定不符合。"
    assert chen["params"]["reason_said"]["params"] == {
        "votes_for": 1, "votes_against": 4, "abstentions": 1}
    en = s.client.get(f"{CAND}/{s.c['chen']}/events",
                      headers={**s.admin, "Accept-Language": "en"}).json()["items"][-1]
    assert en["reason"] == chen["reason"]  # as recorded, and hashed
    assert en["reason_label"] == ("Decided not qualified by the party committee (for 1, against"
                                  " 4, abstaining 1).")
    assert s.events("li")[-1]["reason_label"] is None  # no reason, none made up
    ev = s.selection_events()[-1]
    assert ev["action"] == "record_committee_meeting"
    assert ev["params"]["meeting_id"] == meeting["id"]

    # the meeting read back whole, by the admin and by a committee member
    assert _ok(s.get(f"{SEL}/{s.sel}/committee-meetings/{meeting['id']}")) == meeting
    assert _ok(s.get(f"{SEL}/{s.sel}/committee-meetings/{meeting['id']}", k1)) == meeting
    assert _ok(s.get(f"{SEL}/{s.sel}/committee-meetings", k1)) == [meeting]
    _problem(s.get(f"{SEL}/{s.sel}/committee-meetings/{uuid.uuid4()}"), 404)
    _problem(s.get(f"{SEL}/{s.sel}/committee-meetings/{meeting['id']}", s.judges[0][1]), 403)

    assert _ok(s.act_selection("finish_decision"))["state"] == "following_up"
    assert s.selection_events()[-1]["action"] == "finish_decision"

    # committee members read the evaluation, the ranking and the inspection
    ev = _ok(s.get(f"{CAND}/{s.c['li']}/evaluation", k1))
    assert ev["score"] == _approx(expected_result("li")["score"])
    r = s.get(f"{CAND}/{s.c['li']}/evaluation.html", k1)
    assert r.status_code == 200 and "李明" in r.text
    assert _ok(s.get(f"{SEL}/{s.sel}/ranking", k1))["cutoff"] == 3
    assert _ok(s.get(f"{CAND}/{s.c['wang']}/inspection", k1))["report"]["conclusion"] == "pass"
    seen = _ok(s.get(f"{CAND}/{s.c['li']}", k1))
    assert not PERSONAL & set(seen["profile"])
    _problem(s.get(f"{CAND}/{s.c['zhao']}", k1), 404)  # failed the interview: not submitted


    # a candidate sees their own record, and nothing of the others or of the evaluation
    me = s.wang_user
    own = _ok(s.get(f"{CAND}/{s.c['wang']}", me))
    assert own["state"] == "reserve" and own["profile"]["birth_date"] == WANG["birth_date"]
    _problem(s.get(f"{CAND}/{s.c['wang']}/evaluation", me), 403)
    _problem(s.get(f"{CAND}/{s.c['wang']}/evaluation.html", me), 403)
    _problem(s.get(f"{SEL}/{s.sel}/ranking", me), 403)
    _problem(s.get(f"{CAND}/{s.c['li']}", me), 404)
    _problem(s.get(f"{CAND}/{s.c['li']}/evaluation", me), 404)
    _problem(s.get(f"{SEL}/{s.sel}/committee-meetings/{meeting['id']}", me), 403)
