"""Reports and exports of a selection: the report as JSON and as a printable page, and the
candidate table as CSV and XLSX, over a selection run through the API up to the committee's
decision (the scenario of test_review.py), plus two candidates written straight to the
database: 孙悟空, who declined to stand, and an applicant named `<script>…` whose unit and post
begin like spreadsheet formulas, who withdraws at the pre-review.

Where everyone ends: 李明 appointed (follow-up), 王芳 reserve and 陈静 not qualified (the
committee), 赵强 not qualified at the interview, 周国庆 at the pre-review, the `<script>`
applicant withdrew at the pre-review, 孙悟空 declined at nomination.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date, datetime
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest

from tests.review.test_review import SEL, Story, expected_result
from tests.statements import request_statements

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EVIL = "<script>alert('x')</script>"
EVIL_PROFILE = {"full_name": EVIL, "gender": "female", "education": "master",
                "birth_date": "1991-02-03", "phone": "13700000000",
                "email": "evil@example.cn", "national_id": "110101199102030021",
                "party_joined_on": "2015-07-01", "unit": '=HYPERLINK("http://x.example","点我")',
                "current_post": "+86 主任", "work_started_on": "2013-07-01"}
FUNNEL = {  # gate: (entered, pending, passed, failed, withdrew, reserve)
    "nomination": (7, 0, 6, 1, 0, 0),
    "prereview": (6, 0, 4, 1, 1, 0),
    "interview": (4, 0, 3, 1, 0, 0),
    "inspection": (3, 0, 3, 0, 0, 0),
    "decision": (3, 0, 1, 1, 0, 1),
    "followup": (1, 1, 0, 0, 0, 0),
}
ZH_HEADERS = ["候选人编号", "姓名", "状态代码", "状态", "环节代码", "所处环节", "性别", "学历",
              "入党时间", "参加工作时间", "工作单位", "现任职务", "推荐情况", "资格条件",
              "身份证号（脱敏）", "破格", "面议得分", "评分更正", "面议排名", "党委会决定代码",
              "党委会决定",
              "登记时间"]
LI_STATE_EN = "To be appointed (pre-appointment publicity)"
KEYS = ["id", "full_name", "state", "state_label", "gate", "gate_label", "gender", "education",
        "party_joined_on", "work_started_on", "unit", "current_post", "nominated_by",
        "eligible", "national_id_masked", "prereview_exception", "interview_score",
        "score_corrected", "rank", "outcome",
        "outcome_label", "created_at"]


def _insert(selection_id: str, state: str, full_name: str, profile: dict | None = None) -> str:
    """A candidate written straight to the database, with a nomination by a body."""
    from service.core.db import open_session
    from service.nomination.models import Candidate, Nomination

    with open_session(write=True) as s:
        c = Candidate(selection_id=uuid.UUID(selection_id), state=state, full_name=full_name,
                      identity_key=uuid.uuid4().hex, profile=profile or {})
        s.add(c)
        s.flush()
        s.add(Nomination(selection_id=c.selection_id, candidate_id=c.id, kind="trade_union",
                         body_name="机关工会"))
        s.commit()
        return str(c.id)


@pytest.fixture
def decided(client, admin, make_user, login, make_selection, make_candidate) -> Story:
    """The scenario, decided by the committee (the selection stays `deciding`)."""
    s = Story(client, admin, make_user, login, make_selection, make_candidate).reviewing()
    s.c["sun"] = _insert(s.sel, "declined", "孙悟空")
    s.c["evil"] = _insert(s.sel, "applicant", EVIL, EVIL_PROFILE)
    r = s.act("evil", "withdraw", {"reason": "个人原因退出"})
    assert r.status_code == 200, r.text
    s.prereview().appoint_panel().declare_all().score_all().decide_interviews()
    s.appoint_inspectors().inspect().seat_committee()
    assert s.act_selection("submit_to_committee").json()["state"] == "deciding"
    r = s.post(f"{SEL}/{s.sel}/committee-meetings", s.meeting())
    assert r.status_code == 201, r.text
    return s


def _csv(r) -> list[list[str]]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline="")))


# ---------------------------------------------------------------- the JSON report
def _check_report_funnel_outcomes_ranking_and_committee(s: Story) -> None:
    rep = s.get(f"{SEL}/{s.sel}/report").json()
    assert rep["selection_id"] == s.sel and rep["state"] == "deciding"
    assert rep["state_label"] == "党委会审核" and rep["language"] == "zh-CN"
    assert rep["candidates"] == 7
    funnel = {f["gate"]: (f["entered"], f["pending"], f["passed"], f["failed"], f["withdrew"],
                          f["reserve"]) for f in rep["funnel"]}
    assert funnel == FUNNEL
    assert [f["gate"] for f in rep["funnel"]] == list(FUNNEL)
    assert rep["funnel"][1]["label"] == "资格预审"
    for f in rep["funnel"]:
        assert f["entered"] == f["pending"] + f["passed"] + f["failed"] + f["withdrew"] + \
            f["reserve"]
    assert {o["outcome"]: (o["count"], o["outcome_label"]) for o in rep["outcomes"]} == {
        "appointed": (1, "上岗使用"), "reserve": (1, "储备人选"), "not_qualified": (1, "不符合")}
    assert {x["state"]: x["count"] for x in rep["states"]} == {
        "appointed": 1, "reserve": 1, "not_qualified": 3, "withdrawn": 1, "declined": 1}

    ranking = rep["ranking"]
    assert ranking["cutoff"] == 3
    by_name = {e["full_name"]: e for e in ranking["entries"]}
    assert set(by_name) == {"李明", "王芳", "赵强", "陈静"}
    for key, name in (("li", "李明"), ("wang", "王芳"), ("zhao", "赵强"), ("chen", "陈静")):
        assert by_name[name]["score"] == pytest.approx(expected_result(key)["score"], abs=0.011)
    assert [e["rank"] for e in ranking["entries"]] == [1, 2, 3, 4]

    (meeting,) = rep["meetings"]
    assert (meeting["members_due"], meeting["members_present"]) == (9, 7)
    assert [(d["full_name"], d["outcome"], d["outcome_label"], d["votes_for"],
             d["votes_against"], d["abstentions"]) for d in meeting["decisions"]] == [
        ("李明", "appointed", "上岗使用", 6, 1, 0), ("王芳", "reserve", "储备人选", 5, 1, 1),
        ("陈静", "not_qualified", "不符合", 1, 4, 1)]
    assert meeting["minutes"] == "党委会审议面议及考察情况，逐人表决"

    en = s.get(f"{SEL}/{s.sel}/report", headers={**s.admin, "Accept-Language": "en"})
    assert en.headers["content-language"] == "en"
    body = en.json()
    assert body["language"] == "en" and body["funnel"][1]["label"] == "Qualification pre-review"
    assert body["meetings"][0]["decisions"][0]["outcome_label"] == "Appointed"
    assert en.headers["cache-control"] == "private, no-store"


def test_report_of_a_selection_without_candidates(client, admin, make_selection):
    sel = make_selection()["id"]
    rep = client.get(f"{SEL}/{sel}/report", headers=admin).json()
    assert rep["candidates"] == 0 and rep["meetings"] == [] and rep["outcomes"] == []
    assert all(f["entered"] == 0 for f in rep["funnel"]) and len(rep["funnel"]) == 6
    page = client.get(f"{SEL}/{sel}/report.html", headers=admin)
    assert page.status_code == 200 and "<svg" in page.text
    rows = _csv(client.get(f"{SEL}/{sel}/candidates.csv", headers=admin))
    assert rows == [ZH_HEADERS]


# ---------------------------------------------------------------- the printable page
def _check_report_html_is_self_contained_with_an_svg_chart_and_escapes_names(s: Story) -> None:
    r = s.get(f"{SEL}/{s.sel}/report.html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert '<html lang="zh-CN">' in page
    assert "<svg" in page and "</svg>" in page and page.count("<rect") >= 6
    assert "@media print" in page
    assert "<script" not in page.lower()
    assert "李明" in page and "党委会审核" in page and "上岗使用" in page
    for forbidden in ("http://", "https://", "src=", "<link"):
        assert forbidden not in page.replace('xmlns="http://www.w3.org/2000/svg"', ""), forbidden
    en = s.get(f"{SEL}/{s.sel}/report.html", headers={**s.admin, "Accept-Language": "en"}).text
    assert '<html lang="en">' in en and "Candidate funnel" in en


def test_report_html_escapes_user_text(client, admin, make_selection):
    """A title, a name and minutes full of markup come out as text."""
    sel = make_selection(title="<b>标题</b>")["id"]
    evil = _insert(sel, "applicant", EVIL)
    from service.core.db import open_session
    from service.review.models import CommitteeMeeting

    with open_session(write=True) as s:  # a meeting on that candidate, its minutes marked up
        s.add(CommitteeMeeting(
            selection_id=uuid.UUID(sel), held_on=date(2026, 10, 28), members_due=[],
            present=[], recusals=[{"member_id": str(uuid.uuid4()), "candidate_id": evil,
                                   "reason": "<i>近亲属</i>"}],
            decisions=[{"candidate_id": evil, "votes_for": 1, "votes_against": 0,
                        "abstentions": 0, "outcome": "postponed", "reason": "<u>待议</u>",
                        "members_voting": 1}],
            minutes="<img src=x onerror=alert(1)>"))
        s.commit()
    page = client.get(f"{SEL}/{sel}/report.html", headers=admin).text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<b>标题</b>" not in page and "&lt;b&gt;标题&lt;/b&gt;" in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;i&gt;近亲属&lt;/i&gt;" in page and "&lt;u&gt;待议&lt;/u&gt;" in page
    assert "<script" not in page.lower() and "<i>" not in page and "<u>" not in page
    rep = client.get(f"{SEL}/{sel}/report", headers=admin).json()
    assert rep["outcomes"] == [{"outcome": "postponed", "count": 1, "outcome_label": "缓议"}]


# ---------------------------------------------------------------- CSV
def _check_candidates_csv_chinese_by_default_english_on_request(s: Story) -> None:
    r = s.get(f"{SEL}/{s.sel}/candidates.csv")
    rows = _csv(r)
    assert rows[0] == ZH_HEADERS
    assert len(rows) == 1 + 7
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert f'filename="selection-{s.sel}-candidates.csv"' in disposition
    star = re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)
    assert unquote(star) == "第一党支部书记公开选拔-候选人名单.csv"

    table = [dict(zip(KEYS, row, strict=True)) for row in rows[1:]]
    by_name = {t["full_name"]: t for t in table}
    li = by_name["李明"]
    assert (li["state"], li["state_label"], li["gate"], li["gate_label"]) == (
        "appointed", "拟上岗使用（任职前公示）", "followup", "后期跟进")
    assert (li["gender"], li["education"], li["unit"], li["current_post"]) == (
        "男", "本科", "机关办公室", "办公室副主任")
    assert (li["party_joined_on"], li["work_started_on"]) == ("2012-07-01", "2010-07-01")
    assert li["nominated_by"] == "党组织推荐（机关党委）"
    assert (li["rank"], li["outcome"], li["outcome_label"]) == ("1", "appointed", "上岗使用")
    assert float(li["interview_score"]) == pytest.approx(expected_result("li")["score"],
                                                         abs=0.011)
    assert li["eligible"] == "符合"
    # a time in the selection's time zone, with its offset (ISO 8601), the same moment
    created = datetime.fromisoformat(li["created_at"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", li["created_at"])
    stored = datetime.fromisoformat(s.get(f"/api/v1/candidates/{li['id']}").json()["created_at"])
    assert created == stored.replace(microsecond=0)
    assert by_name["王芳"]["nominated_by"] == "个人报名"
    assert (by_name["赵强"]["gate"], by_name["赵强"]["outcome"]) == ("interview", "")
    assert (by_name["周国庆"]["gate"], by_name["孙悟空"]["gate"]) == ("prereview", "nomination")
    assert by_name["陈静"]["gate"] == "decision"
    # privacy: no birth date, phone or email anywhere; the ID number masked
    text = r.content.decode("utf-8-sig")
    for secret in ("1988-05-12", "13800000000", "liming@example.cn", "110101199102030021",
                   "1991-02-03", "13700000000"):
        assert secret not in text
    assert by_name[EVIL]["national_id_masked"] == "110***********0021"

    en = _csv(s.get(f"{SEL}/{s.sel}/candidates.csv",
                    headers={**s.admin, "Accept-Language": "en-US,en;q=0.9"}))
    assert en[0][:4] == ["Candidate ID", "Name", "State", "State label"]
    li_en = next(row for row in en[1:] if row[1] == "李明")
    assert (li_en[3], li_en[5], li_en[6], li_en[7]) == (
        LI_STATE_EN, "Follow-up", "Male", "Bachelor")
    assert li_en[12] == "Party organization (机关党委)"
    keys = _csv(s.get(f"{SEL}/{s.sel}/candidates.csv", params={"header": "key"}))
    assert keys[0] == KEYS


def _check_csv_cells_that_look_like_formulas_are_defused(s: Story) -> None:
    rows = _csv(s.get(f"{SEL}/{s.sel}/candidates.csv"))
    evil = dict(zip(KEYS, next(r for r in rows if r[1] == EVIL), strict=True))
    assert evil["unit"] == "'" + EVIL_PROFILE["unit"]
    assert evil["current_post"] == "'+86 主任"
    assert (evil["state"], evil["gate"]) == ("withdrawn", "prereview")
    for row in rows[1:]:
        assert not any(cell[:1] in ("=", "+", "-", "@") for cell in row), row


def test_csv_defuses_every_formula_start():
    from service.reports.service import defuse

    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert defuse(start + "1+1") == "'" + start + "1+1"
    assert defuse("李明") == "李明" and defuse("a=b") == "a=b"


# ---------------------------------------------------------------- XLSX
def _check_candidates_xlsx_has_typed_cells_a_frozen_header_and_the_funnel(s: Story) -> None:
    from openpyxl import load_workbook

    r = s.get(f"{SEL}/{s.sel}/candidates.xlsx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    star = re.search(r"filename\*=UTF-8''(\S+)", r.headers["content-disposition"]).group(1)
    assert unquote(star) == "第一党支部书记公开选拔-候选人名单.xlsx"
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["候选人", "漏斗"]
    ws = wb["候选人"]
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]] == ZH_HEADERS
    assert all(c.font.bold for c in ws[1])
    assert ws.max_row == 1 + 7
    col = {k: i for i, k in enumerate(KEYS)}
    rows = {row[col["full_name"]].value: row for row in ws.iter_rows(min_row=2)}
    li = rows["李明"]
    assert isinstance(li[col["interview_score"]].value, float)
    assert li[col["interview_score"]].value == pytest.approx(expected_result("li")["score"],
                                                             abs=0.011)
    assert li[col["rank"]].value == 1 and isinstance(li[col["rank"]].value, int)
    assert li[col["party_joined_on"]].value == datetime(2012, 7, 1)  # a date cell
    assert li[col["party_joined_on"]].is_date
    assert li[col["created_at"]].is_date
    assert li[col["created_at"]].number_format == 'yyyy-mm-dd hh:mm:ss"+08:00"'
    stored = datetime.fromisoformat(s.get(f"/api/v1/candidates/{li[col['id']].value}").json()[
        "created_at"])
    assert li[col["created_at"]].value == stored.astimezone(ZoneInfo("Asia/Shanghai")).replace(
        tzinfo=None, microsecond=0)
    assert li[col["state"]].value == "appointed"
    assert rows["孙悟空"][col["interview_score"]].value is None
    evil = rows[EVIL]
    assert evil[col["unit"]].value == EVIL_PROFILE["unit"]
    assert evil[col["unit"]].data_type == "s"  # text, never a formula
    assert ws.column_dimensions["A"].width >= 30

    fs = wb["漏斗"]
    assert fs.freeze_panes == "A2"
    assert [c.value for c in fs[1]][:3] == ["环节代码", "环节", "进入"]
    got = {row[0].value: tuple(c.value for c in row[2:]) for row in fs.iter_rows(min_row=2)}
    assert got == {g: (e, p, rs, pe, f, w) for g, (e, pe, p, f, w, rs) in FUNNEL.items()}
    assert fs._charts  # the funnel drawn

    en = load_workbook(io.BytesIO(s.get(f"{SEL}/{s.sel}/candidates.xlsx", headers={
        **s.admin, "Accept-Language": "en"}).content))
    assert en.sheetnames == ["Candidates", "Funnel"]
    assert en["Candidates"]["A1"].value == "Candidate ID"


# ---------------------------------------------------------------- who may read
def _check_access_to_reports_and_exports(s: Story) -> None:
    urls = {k: f"{SEL}/{s.sel}/{k}" for k in ("report", "report.html", "candidates.csv",
                                              "candidates.xlsx")}
    committee = s.committee[0][1]
    judge = s.judges[0][1]
    inspector = s.inspectors[0][1]
    nominator = s.user("nominator")[1]
    for name, url in urls.items():
        expected = 200 if name.startswith("report") else 403
        assert s.get(url, committee).status_code == expected, name
        for who in (s.wang_user, judge, inspector, nominator):
            r = s.get(url, who)
            assert r.status_code == 403, (name, r.status_code)
            assert r.headers["content-type"].startswith("application/problem+json")
        assert s.client.get(url).status_code == 401
        assert s.get(url.replace(s.sel, str(uuid.uuid4()))).status_code == 404


def test_a_drafting_selection_is_hidden_from_committee_members(client, admin, as_role,
                                                               make_selection):
    sel = make_selection()["id"]
    committee = as_role("committee")
    assert client.get(f"{SEL}/{sel}/report", headers=committee).status_code == 404
    assert client.get(f"{SEL}/{sel}/report", headers=admin).status_code == 200


# ---------------------------------------------------------------- no N+1
def _check_reports_read_a_fixed_number_of_queries(s: Story) -> None:
    paths = ("report", "report.html", "candidates.csv", "candidates.xlsx")

    def queries() -> dict[str, int]:
        out = {}
        for p in paths:
            with request_statements() as (mark, statements):
                assert s.get(f"{SEL}/{s.sel}/{p}", headers={**s.admin, **mark}).status_code == 200
            out[p] = len(statements)
        return out

    before = queries()
    for i in range(15):
        _insert(s.sel, "declined", f"候选人{i}", {"unit": "机关办公室", "gender": "male"})
    after = queries()
    assert after == before, (before, after)
    assert s.get(f"{SEL}/{s.sel}/report").json()["candidates"] == 22


# ---------------------------------------------------------------- all of it, on one selection
def test_reports_and_exports_of_a_decided_selection(decided):
    """The scenario is costly to build (some 25 users, 30 sheets, a meeting): every check on it
    runs here, in turn; the query count last, as it adds candidates."""
    _check_report_funnel_outcomes_ranking_and_committee(decided)
    _check_report_html_is_self_contained_with_an_svg_chart_and_escapes_names(decided)
    _check_candidates_csv_chinese_by_default_english_on_request(decided)
    _check_csv_cells_that_look_like_formulas_are_defused(decided)
    _check_candidates_xlsx_has_typed_cells_a_frozen_header_and_the_funnel(decided)
    _check_access_to_reports_and_exports(decided)
    _check_reports_read_a_fixed_number_of_queries(decided)
