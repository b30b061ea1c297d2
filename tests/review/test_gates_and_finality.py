"""Step 3 as it is really run: eligibility as a gate (严把资格预审关) with the exception (破格),
score sheets final once unsealed and corrected only by the judge and an admin together
(评分更正), the committee's quorum and majority as settings, and eligibility judged as of a
reference date.

The candidates are nominated through the API, so each has an eligibility report. The
selection asks for age ≤ 45; 老赵 (born 1976) is 50 at the publicity's end, 李明 is 38.
"""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from service.core.db import get_engine, open_session
from service.record.service import verify

from .test_review import (
    CAND,
    CLOCK,
    LI,
    SEL,
    SIM_DAY,
    Story,
    _approx,
    _ok,
    _problem,
    assessment,
    expected_result,
    weighted,
)

OLD = {"full_name": "老赵", "gender": "male", "birth_date": "1976-03-01",
       "education": "bachelor", "party_joined_on": "2000-07-01",
       "work_started_on": "1998-07-01", "current_post": "车间主任", "unit": "一车间",
       "email": "laozhao@example.cn", "phone": "13700000000"}
# 45 at the publicity's end (2026-10-13), 46 from 2026-11-01
TURNING = {**OLD, "full_name": "钱进", "birth_date": "1980-11-01",
           "email": "qianjin@example.cn", "phone": "13700000001"}
EXCEPTION = {"requirements": ["max_age"], "reason": "长期扎根基层，群众公认度高，经组织部研究同意破格"}


@pytest.fixture
def story(client, admin, make_user, login, make_selection, make_candidate) -> Story:
    return Story(client, admin, make_user, login, make_selection, make_candidate)


def _nominate(s: Story, profile: dict) -> str:
    cid = _ok(s.post(f"{SEL}/{s.sel}/nominations", {
        "kind": "party_organization", "body_name": "机关党委", "nominee": profile,
        "reasons": "群众基础好", "groundwork": "走访同事6人"}), 201)["candidate"]["id"]
    _ok(s.post(f"{CAND}/{cid}/actions/consent", {"params": {
        "confirmed_by": "机关党委 张书记", "confirmed_at": "2026-09-30T08:30:00+08:00"}}))
    return cid


def _reviewing(s: Story, *profiles: tuple[str, dict], **selection) -> Story:
    _ok(s.put(CLOCK, {"day": SIM_DAY}))
    s.sel = s._make_selection(**selection)["id"]
    _ok(s.act_selection("publish", {"params": {"start_on": SIM_DAY}}))
    for key, profile in profiles:
        s.c[key] = _nominate(s, profile)
    _ok(s.post(f"{CLOCK}/advance", {"days": 14}))
    assert _ok(s.act_selection("close_nominations"))["state"] == "reviewing"
    return s


def _pass(exception: dict | None = None) -> dict:
    params: dict = {"assessment": assessment()}
    if exception is not None:
        params["exception"] = exception
    return {"params": params}


# ================================================================ 1. eligibility as a gate
def test_an_ineligible_candidate_passes_only_as_a_reasoned_exception(story, client):
    s = _reviewing(story, ("old", OLD), ("li", LI))
    report = _ok(s.get(f"{CAND}/{s.c['old']}"))["eligibility"]
    assert report["passed"] is False and report["computed_on"] == "2026-10-13"
    assert [i["requirement"] for i in report["items"] if not i["passed"]] == ["max_age"]
    before = s.events("old")

    # the actions list says pass_prereview is not plainly allowed, and what it needs
    opts = {a["action"]: a for a in _ok(s.get(f"{CAND}/{s.c['old']}/actions"))["actions"]}
    assert opts["pass_prereview"]["allowed"] is False
    assert opts["pass_prereview"]["refusal_code"] == "requirement_not_met"
    assert opts["pass_prereview"]["refusal_details"]["needs"]["exception"]["requirements"] \
        == ["max_age"]
    assert "exception" in opts["pass_prereview"]["params_schema"]["properties"]
    assert opts["fail_prereview"]["allowed"] is True

    # refused, naming the requirement in the user's language with its code beside
    p = _problem(s.act("old", "pass_prereview", _pass()), 409, "requirement_not_met")
    assert "年龄（max_age）" in p["detail"] and "50 岁" in p["detail"]
    assert p["details"]["failed"] == [{"requirement": "max_age", "label": "年龄",
                                       "required": "≤ 45 岁", "found": "50 岁"}]
    r = client.post(f"{CAND}/{s.c['old']}/actions/pass_prereview", json=_pass(),
                    headers={**s.admin, "Accept-Language": "en"})
    p = _problem(r, 409, "requirement_not_met")
    assert "Age (max_age)" in p["detail"] and "50 years old" in p["detail"]
    # an exception must name the failed requirement, only it, and give a reason
    _problem(s.act("old", "pass_prereview", _pass({"requirements": ["min_education"],
                                                    "reason": "破格"})),
             409, "exception_not_needed")
    _problem(s.act("old", "pass_prereview", _pass({"requirements": ["max_age"],
                                                    "reason": "  "})), 422)
    _problem(s.act("old", "pass_prereview", _pass({"requirements": [], "reason": "破格"})), 422)
    # an eligible candidate needs no exception
    _problem(s.act("li", "pass_prereview", _pass(EXCEPTION)), 409, "exception_not_needed")
    assert s.events("old") == before and s.state("old") == "applicant"

    # the admin's explicit exception passes them, recorded whole in the event
    assert _ok(s.act("old", "pass_prereview", _pass(EXCEPTION)))["state"] == "qualified"
    assert _ok(s.act("li", "pass_prereview", _pass()))["state"] == "qualified"
    ev = s.events("old")[-1]
    assert ev["action"] == "pass_prereview"
    exc = ev["params"]["exception"]
    assert (exc["requirements"], exc["reason"]) == (["max_age"], EXCEPTION["reason"])
    assert exc["by"] == ev["actor_id"]
    # what the requirement asked and what was found, as codes and numbers: each reader
    # reads them in their own language
    assert exc["excepted"] == [{"requirement": "max_age", "asked": 45, "shown": 50}]

    # flagged in the ranking, the evaluation, the report and the exports
    s.appoint_panel()
    entries = {e["candidate_id"]: e for e in _ok(s.get(f"{SEL}/{s.sel}/ranking"))["entries"]}
    assert entries[s.c["old"]]["exception"]["reason"] == EXCEPTION["reason"]
    assert entries[s.c["li"]]["exception"] is None
    assert entries[s.c["old"]]["exception"]["excepted"] == [
        {"requirement": "max_age", "label": "年龄", "required": "≤ 45 岁", "found": "50 岁"}]
    en = client.get(f"{SEL}/{s.sel}/ranking", headers={**s.admin, "Accept-Language": "en"})
    assert {e["candidate_id"]: e for e in en.json()["entries"]}[s.c["old"]]["exception"][
        "excepted"] == [{"requirement": "max_age", "label": "Age", "required": "≤ 45 years old",
                         "found": "50 years old"}]
    assert _ok(s.get(f"{CAND}/{s.c['old']}/evaluation"))["exception"]["requirements"] \
        == ["max_age"]
    assert "破格" in s.get(f"{CAND}/{s.c['old']}/evaluation.html").text
    rep = _ok(s.get(f"{SEL}/{s.sel}/report"))
    flagged = {e["full_name"]: e["exception"] for e in rep["ranking"]["entries"]}
    assert flagged["老赵"]["requirements"] == ["max_age"] and flagged["李明"] is None
    assert "破格（年龄）" in s.get(f"{SEL}/{s.sel}/report.html").text
    rows = list(csv.DictReader(io.StringIO(
        s.get(f"{SEL}/{s.sel}/candidates.csv", params={"header": "key"})
        .content.decode("utf-8-sig"))))
    by_name = {r["full_name"]: r for r in rows}
    assert by_name["老赵"]["prereview_exception"] == f"破格（年龄）：{EXCEPTION['reason']}"
    assert by_name["李明"]["prereview_exception"] == ""
    ws = load_workbook(io.BytesIO(s.get(f"{SEL}/{s.sel}/candidates.xlsx").content)).active
    head = [c.value for c in ws[1]]
    col = head.index("破格")
    values = {row[head.index("姓名")].value: row[col].value for row in ws.iter_rows(min_row=2)}
    assert values["老赵"].startswith("破格（年龄）") and values["李明"] is None
    with open_session() as db:
        assert verify(db)[1] is None


def test_bulk_prereview_refuses_the_ineligible_alone_and_takes_an_exception(story):
    s = _reviewing(story, ("old", OLD), ("li", LI))
    url = f"{SEL}/{s.sel}/prereview"
    before = s.events("old")
    out = _ok(s.post(url, {"decisions": [
        {"candidate_id": s.c["old"], "decision": "pass", "assessment": assessment()},
        {"candidate_id": s.c["li"], "decision": "pass", "assessment": assessment()}]}))
    assert (out["succeeded"], out["failed"]) == (1, 1)
    refused = out["results"][0]
    assert refused["ok"] is False and refused["error"]["code"] == "requirement_not_met"
    assert refused["error"]["details"]["failed"][0]["requirement"] == "max_age"
    assert out["results"][1]["state"] == "qualified"
    assert s.events("old") == before and s.state("old") == "applicant"
    # an exception belongs to a pass only: a fail with one fails alone
    out = _ok(s.post(url, {"decisions": [
        {"candidate_id": s.c["old"], "decision": "fail", "reason": "年龄超过规定",
         "assessment": assessment(), "exception": EXCEPTION}]}))
    assert out["failed"] == 1
    assert out["results"][0]["error"]["code"] == "exception_not_for_a_fail"
    assert s.events("old") == before and s.state("old") == "applicant"
    out = _ok(s.post(url, {"decisions": [
        {"candidate_id": s.c["old"], "decision": "pass", "assessment": assessment(),
         "exception": EXCEPTION}]}))
    assert out["results"][0]["state"] == "qualified"
    assert s.events("old")[-1]["params"]["exception"]["reason"] == EXCEPTION["reason"]


# ================================================================ 2. sheets final once unsealed
def _panel_with_an_admin_judge(s: Story) -> Story:
    """Seven judges, the first also an admin (to show that nobody approves their own)."""
    s.judges = [s.user("judge", "admin")] + [s.user("judge") for _ in range(6)]
    _ok(s.put(f"{SEL}/{s.sel}/panel", {"judge_ids": [j for j, _ in s.judges]}))
    return s


def test_a_sheet_is_final_once_unsealed_and_corrected_by_judge_and_admin(story):
    s = story.reviewing().prereview()
    _panel_with_an_admin_judge(s).declare_all().score_all(only=("li", "wang", "zhao"))
    # 陈静's sheets are still sealed: a judge supersedes, and may not ask for a correction
    chen = f"{CAND}/{s.c['chen']}/score-sheet-corrections"
    _ok(s.sheet(0, "chen", {"self_introduction": 70, "role_cognition": 70, "answers": 70,
                            "overall_impression": 70}), 201)
    _problem(s.post(chen, {"scores": {"self_introduction": 71, "role_cognition": 70,
                                      "answers": 70, "overall_impression": 70},
                           "reason": "笔误"}, s.judges[0][1]), 409, "sheets_sealed")
    assert _ok(s.sheet(0, "chen", {"self_introduction": 71, "role_cognition": 70,
                                   "answers": 70, "overall_impression": 70},
                       supersede_reason="誊写错误"), 201)["version"] == 2

    # 李明's sheets are all in: superseding is refused, nothing written
    li = f"{CAND}/{s.c['li']}"
    events = s.events("li")
    ranking = _ok(s.get(f"{SEL}/{s.sel}/ranking"))
    p = _problem(s.sheet(1, "li", {"self_introduction": 99, "role_cognition": 99,
                                   "answers": 99, "overall_impression": 99},
                         supersede_reason="再想了想"), 409, "score_sheet_final")
    assert "score-sheet-corrections" in p["detail"]
    assert s.events("li") == events

    # judge 2 slipped: 90 for 'answers' was meant to be 60; they ask for a correction
    fixed = {"self_introduction": 85, "role_cognition": 92, "answers": 60,
             "overall_impression": 88}
    reason = "誊写时将“回答评委提问”的60分误填为90分"
    _problem(s.post(f"{li}/score-sheet-corrections", {"scores": fixed, "reason": reason}),
             403)  # an admin is no judge: only the sheet's judge asks
    _problem(s.post(f"{li}/score-sheet-corrections", {"scores": fixed, "reason": " "},
                    s.judges[1][1]), 422)
    _problem(s.post(f"{li}/score-sheet-corrections", {"scores": {**fixed, "answers": 101},
                                                      "reason": reason}, s.judges[1][1]), 422)
    _problem(s.post(f"{li}/score-sheet-corrections", {
        "scores": {"self_introduction": 85, "role_cognition": 92, "answers": 90,
                   "overall_impression": 88}, "reason": reason}, s.judges[1][1]),
        422, "correction_changes_nothing")
    corr = _ok(s.post(f"{li}/score-sheet-corrections", {"scores": fixed, "reason": reason},
                      s.judges[1][1]), 201)
    assert corr["status"] == "pending" and corr["total"] == weighted(fixed)
    _problem(s.post(f"{li}/score-sheet-corrections", {"scores": fixed, "reason": reason},
                    s.judges[1][1]), 409, "correction_pending")
    # nothing changes until an admin approves
    assert _ok(s.get(f"{SEL}/{s.sel}/ranking")) == ranking
    decide = f"{li}/score-sheet-corrections/{corr['id']}/decision"
    note = {"approve": True, "note": "经核对评分登记表原件，确属誊写错误"}
    _problem(s.post(decide, note, s.judges[2][1]), 403)  # a judge does not approve
    _problem(s.post(f"{li}/score-sheet-corrections/{uuid.uuid4()}/decision", note), 404)

    # the admin who is also judge 1 cannot approve their own correction
    own = _ok(s.post(f"{li}/score-sheet-corrections", {
        "scores": {"self_introduction": 92, "role_cognition": 90, "answers": 88,
                   "overall_impression": 91}, "reason": "综合印象一项笔误"}, s.judges[0][1]), 201)
    _problem(s.post(f"{li}/score-sheet-corrections/{own['id']}/decision", note,
                    s.judges[0][1]), 403, "correction_needs_two_people")
    refused = _ok(s.post(f"{li}/score-sheet-corrections/{own['id']}/decision",
                         {"approve": False, "note": "原评分无误"}))
    assert refused["status"] == "rejected" and refused["new_sheet_id"] is None

    approved = _ok(s.post(decide, note))
    assert approved["status"] == "approved" and approved["decided_by"]
    _problem(s.post(decide, note), 409, "correction_already_decided")

    # a new version, flagged, and the score recomputed from it
    sheets = _ok(s.get(f"{li}/score-sheets"))["sheets"]
    judge2 = [sh for sh in sheets if sh["judge_id"] == s.judges[1][0]]
    assert [(sh["version"], sh["current"], sh["corrected"]) for sh in judge2] == [
        (1, False, False), (2, True, True)]
    assert judge2[1]["id"] == approved["new_sheet_id"]
    assert judge2[1]["supersede_reason"] == f"更正：{reason}"
    rejected_judge = [sh for sh in sheets if sh["judge_id"] == s.judges[0][0]]
    assert [sh["corrected"] for sh in rejected_judge] == [False, False]  # decoy, then real
    totals = sorted(weighted(sc) for sc in [
        *[x for i, x in enumerate(expected_sheets("li")) if i != 1], fixed])
    evaluation = _ok(s.get(f"{li}/evaluation"))
    assert evaluation["score"] == _approx(round(sum(totals[1:-1]) / 5, 2))
    assert evaluation["score"] != _approx(expected_result("li")["score"])
    assert [c["reason"] for c in evaluation["corrections"]] == [reason]
    assert "评分更正" in s.get(f"{li}/evaluation.html").text
    entry = next(e for e in _ok(s.get(f"{SEL}/{s.sel}/ranking"))["entries"]
                 if e["candidate_id"] == s.c["li"])
    assert entry["corrected"] is True and entry["score"] == evaluation["score"]
    assert entry["corrections"][0]["approved_by"] == approved["decided_by"]
    rows = {r["full_name"]: r for r in csv.DictReader(io.StringIO(
        s.get(f"{SEL}/{s.sel}/candidates.csv", params={"header": "key"})
        .content.decode("utf-8-sig")))}
    assert rows["李明"]["score_corrected"] == f"评分已更正（1处）：{reason}"
    assert rows["王芳"]["score_corrected"] == ""
    assert "评分已更正" in s.get(f"{SEL}/{s.sel}/report.html").text
    actions = [e["action"] for e in s.events("li")]
    assert actions[-4:] == ["request_sheet_correction", "request_sheet_correction",
                            "reject_sheet_correction", "approve_sheet_correction"]
    # the judge sees their own corrections, the admin all
    assert [c["id"] for c in _ok(s.get(f"{li}/score-sheet-corrections", s.judges[1][1]))] \
        == [corr["id"]]
    assert len(_ok(s.get(f"{li}/score-sheet-corrections"))) == 2

    # verification notices any other change of the correction or of its sheet
    with open_session() as db:
        assert verify(db)[1] is None
    with get_engine().begin() as conn:
        conn.execute(text("UPDATE score_sheet_correction SET reason = 'x' WHERE id = :i"),
                     {"i": uuid.UUID(corr["id"]).hex if _is_sqlite() else corr["id"]})
    with open_session() as db:
        broken = verify(db)[1]
    assert broken is not None and "score_sheet_correction" in broken.problem


def expected_sheets(cand: str) -> list[dict]:
    from .test_review import SCORES
    return [x for x in SCORES[cand] if x is not None]


def _is_sqlite() -> bool:
    return get_engine().dialect.name == "sqlite"


# ================================================================ 3. the committee's numbers
def test_the_committee_quorum_and_majority_are_settings(story):
    settings = {"committee_quorum": 0.8, "committee_majority": 2 / 3}
    s = story.reviewing(settings=settings).prereview().appoint_panel().declare_all().score_all()
    # judge 7 is recused from 陈静: no sheet of his to correct
    _problem(s.post(f"{CAND}/{s.c['chen']}/score-sheet-corrections", {
        "scores": {"self_introduction": 70, "role_cognition": 70, "answers": 70,
                   "overall_impression": 70}, "reason": "笔误"}, s.judges[6][1]),
        409, "no_sheet_to_correct")
    s.decide_interviews().appoint_inspectors().inspect().seat_committee()
    assert _ok(s.act_selection("submit_to_committee"))["state"] == "deciding"
    url = f"{SEL}/{s.sel}/committee-meetings"
    # 7 of 9 present is two thirds, not this selection's four fifths
    p = _problem(s.post(url, s.meeting(present=7)), 409, "quorum_not_met")
    assert p["details"]["needed"] == 8 and p["details"]["committee_quorum"] == 0.8
    assert "4/5" in p["detail"] and "9 人中的 8 人" in p["detail"]
    # more than two thirds of 9 is 7 votes: 6 is not enough here
    p = _problem(s.post(url, s.meeting(present=8, decisions=[
        s.decision("li", "appointed", 6, 1, 1)])), 409, "vote_threshold_not_met")
    assert (p["details"]["needed"], p["details"]["votes_for"]) == (7, 6)
    assert "2/3" in p["detail"]
    assert _ok(s.get(url)) == []
    _ok(s.post(url, s.meeting(present=8, decisions=[
        s.decision("li", "appointed", 7, 1, 0), s.decision("wang", "reserve", 7, 0, 1),
        s.decision("chen", "not_qualified", 1, 6, 1)])), 201)

    # after the committee's decision, a sheet is no longer corrected
    _problem(s.post(f"{CAND}/{s.c['li']}/score-sheet-corrections", {
        "scores": {"self_introduction": 90, "role_cognition": 90, "answers": 90,
                   "overall_impression": 90}, "reason": "笔误"}, s.judges[1][1]),
        409, "correction_too_late")


@pytest.mark.parametrize("settings, field, words", [
    ({"committee_quorum": 0.4}, "committee_quorum", "应不低于 1/2"),
    ({"committee_quorum": 1.2}, "committee_quorum", "不高于 1，不能是 1.2"),
    ({"committee_majority": 1}, "committee_majority", "且小于 1，不能是 1"),
    ({"committee_majority": 0.3}, "committee_majority", "应不低于 1/2"),
    ({"eligibility_reference_on": "2026-13-01"}, "eligibility_reference_on", "日期"),
])
def test_committee_fractions_and_the_reference_date_are_validated(client, admin, make_selection,
                                                                  settings, field, words):
    from tests.conftest import SELECTION_BODY

    r = client.post(SEL, json={**SELECTION_BODY, "settings": settings}, headers=admin)
    body = _problem(r, 422)
    assert any(field in e["field"] for e in body["errors"]), body
    assert words in body["detail"] or any(words in e["message"] for e in body["errors"]), body
    sel = make_selection()
    r = client.patch(f"{SEL}/{sel['id']}", json={"settings": settings}, headers=admin)
    _problem(r, 422)
    defaults = _ok(client.get(f"{SEL}/{sel['id']}", headers=admin))["settings"]
    assert defaults["committee_quorum"] == _approx(2 / 3)
    assert defaults["committee_majority"] == 0.5
    assert defaults["eligibility_reference_on"] is None


# ================================================================ 4. the reference date
@pytest.mark.parametrize("reference, eligible, basis", [
    (None, True, "publicity_end"),  # 45 on 2026-10-13
    ("2026-11-01", False, "selection_setting"),  # 46 on 2026-11-01
])
def test_eligibility_is_judged_as_of_the_reference_date(story, client, reference, eligible,
                                                        basis):
    settings = {} if reference is None else {"eligibility_reference_on": reference}
    s = story
    _ok(s.put(CLOCK, {"day": SIM_DAY}))
    s.sel = s._make_selection(settings=settings)["id"]
    _ok(s.act_selection("publish", {"params": {"start_on": SIM_DAY}}))
    shown = reference or "2026-10-13"
    ann = _ok(client.get(f"/api/v1/public/selections/{s.sel}"))
    assert ann["publicity_end_on"] == "2026-10-13"
    assert ann["eligibility_reference_on"] == shown
    y, m, d = (int(x) for x in shown.split("-"))
    assert f"以{y}年{m}月{d}日为准" in ann["how_to_apply"]
    s.c["qian"] = _nominate(s, TURNING)
    report = _ok(s.get(f"{CAND}/{s.c['qian']}"))["eligibility"]
    assert (report["computed_on"], report["reference"], report["passed"]) == (
        shown, basis, eligible)
    age = next(i for i in report["items"] if i["requirement"] == "max_age")
    assert age["found"] == ("45 岁" if eligible else "46 岁")
    _ok(s.post(f"{CLOCK}/advance", {"days": 14}))
    _ok(s.act_selection("close_nominations"))
    check = [e for e in s.events("qian") if e["action"] == "check_eligibility"][-1]
    assert (check["params"]["computed_on"], check["params"]["eligible"]) == (shown, eligible)
    r = s.act("qian", "pass_prereview", _pass())
    if eligible:
        assert _ok(r)["state"] == "qualified"
    else:
        _problem(r, 409, "requirement_not_met")
