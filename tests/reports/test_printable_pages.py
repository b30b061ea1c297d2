"""Documents fit to print: each page rendered by a real headless Chromium, printed to an A4
PDF, and read back with pdftotext — the Chinese text is there (a CJK font, not boxes), the
letterhead, the footer with the record's hash, page numbers, and a sane number of pages.

Set WRITE_SCREENSHOTS=1 to refresh the README's screenshots in docs/screenshots/."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser import chromium, pdf_text, print_to_pdf, screenshot

from ..followup.test_follow_up import ORG, TITLE, Flow, flow  # noqa: F401  (the fixture)

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
EN = {"Accept-Language": "en"}


def _pdf(tmp_path: Path, name: str, page: str) -> tuple[str, int]:
    html = tmp_path / f"{name}.html"
    html.write_text(page, encoding="utf-8")
    pdf = tmp_path / f"{name}.pdf"
    print_to_pdf(html.as_uri(), str(pdf))
    if os.environ.get("WRITE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        screenshot(html.as_uri(), str(SHOTS / f"{name}.png"))
    text, pages = pdf_text(str(pdf))
    return re.sub(r"[ \t]+", " ", text), pages


def _ok(r, status: int = 200) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/html")
    return r.text


@pytest.fixture
def decided(flow):  # noqa: F811
    """李明 appointed and in his pre-appointment publicity, 王芳 reserve, 周国庆 failed;
    and a second selection publicized now."""
    chromium()
    f: Flow = flow.standard()
    f.other = f._make_selection(title="机关第三党支部书记公开选拔", organization=ORG)["id"]
    r = f.client.post(f"/api/v1/selections/{f.other}/actions/publish",
                      json={"params": {"start_on": f.today()}}, headers=f.admin)
    assert r.status_code == 200, r.text
    return f


def test_the_evaluation_report_prints_in_chinese_with_its_chart_and_anonymous_judges(
        decided, tmp_path, login, make_user):
    f = decided
    page = _ok(f.get(f"/api/v1/candidates/{f.c['li']}/evaluation.html"))
    assert "<svg" in page and "评委1" not in page  # an admin sees the judges by name
    text, pages = _pdf(tmp_path, "evaluation", page)
    for words in ("综合评议报告", ORG, TITLE, "李明", "评分项目", "权重", "平均分", "分差",
                  "评委会负责人", "记录人", "组织部门（盖章）", "第 1 页，共", "纪实记录"):
        assert words in text, (words, text)
    assert 1 <= pages <= 3
    committee, pw = make_user("committee")
    page = _ok(f.client.get(f"/api/v1/candidates/{f.c['li']}/evaluation.html",
                            headers=login(committee.username, pw)))
    assert "评委1" in page  # anonymized for anyone but an admin
    en = _ok(f.client.get(f"/api/v1/candidates/{f.c['li']}/evaluation.html?lang=en",
                          headers=f.admin))
    assert "Comprehensive evaluation report" in en and 'lang="en"' in en


def test_the_score_sheet_prints_blank_and_filled(decided, tmp_path):
    f = decided
    text, pages = _pdf(tmp_path, "score-sheet",
                       _ok(f.get(f"/api/v1/selections/{f.sel}/score-sheet.html")))
    assert "评分登记表" in text and "权重" in text and "评委签名" in text and pages == 1
    text, pages = _pdf(tmp_path, "score-sheets-filled",
                       _ok(f.get(f"/api/v1/candidates/{f.c['li']}/score-sheets.html")))
    assert "评分登记表" in text and "李明" in text and "90" in text and pages >= 1


def test_the_selection_report_prints_with_letterhead_signatures_and_local_times(
        decided, tmp_path):
    f = decided
    page = _ok(f.get(f"/api/v1/selections/{f.sel}/report.html"))
    assert "UTC" not in page
    text, pages = _pdf(tmp_path, "report", page)
    for words in ("选拔报告", ORG, "候选人漏斗", "党委会审核记录", "审核人", "盖章", "第 1 页"):
        assert words in text, (words, text)
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", text)
    assert 1 <= pages <= 6


def test_the_public_announcement_and_the_pre_appointment_notice_print_without_a_login(
        decided, tmp_path):
    f = decided
    page = _ok(f.client.get(f"/api/v1/public/selections/{f.other}/announcement.html"))
    assert "/api/" not in page
    text, pages = _pdf(tmp_path, "announcement", page)
    for words in ("公示", "机关第三党支部书记公开选拔", "报名", "联系方式", "公示期"):
        assert words in text, (words, text)
    assert pages in (1, 2)
    page = _ok(f.client.get(f"/api/v1/public/appointments/{f.c['li']}/notice.html"))
    text, pages = _pdf(tmp_path, "appointment-notice", page)
    for words in ("任前公示", "李明", "性别", "男", "出生年月", "1988年5月", "学历", "入党时间",
                  "现任职务", "拟任职务", "公示期", "反映", "联系方式"):
        assert words in text, (words, text)
    assert pages == 1
    assert f.client.get(f"/api/v1/public/appointments/{f.c['wang']}/notice.html"
                        ).status_code == 404  # not in a publicity
