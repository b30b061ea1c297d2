"""The interview session on record (面议评审): the judges' briefing, each judge's receipt of
the materials, the order of appearance drawn by lot from a recorded seed, each candidate's
segments in order, the questions asked and the answers' summaries, and sheets scored on the
spot, each refusal with its code; the evaluation report draws on it."""

from __future__ import annotations

import random
import uuid

import pytest

from tests.review.test_review import (
    CAND,
    INTERVIEWED,
    SCORES,
    SEL,
    Story,
    _ok,
    _problem,
)


@pytest.fixture
def story(client, admin, make_user, login, make_selection, make_candidate) -> Story:
    return Story(client, admin, make_user, login, make_selection, make_candidate)

SEGMENTS = ("self_introduction", "role_cognition", "questions", "answers")
BRIEFING = {"held_at": "2026-10-14T01:00:00Z", "note": "讲解评分标准、回避规定和现场纪律"}


def _rederive(candidate_ids: list[str], seed: str) -> list[str]:
    """What anyone can do with the recorded seed: the documented algorithm, written out."""
    ids = sorted(candidate_ids)
    random.Random(seed).shuffle(ids)
    return ids


def _seg(s, cand_id: str, segment: str, mark: str):
    return s.post(f"{CAND}/{cand_id}/interview/segments/{segment}/{mark}")


def _walk(s, cand_id: str, question_judge: str | None = None) -> None:
    for seg in SEGMENTS:
        _ok(_seg(s, cand_id, seg, "begin"))
        if seg == "questions" and question_judge:
            _ok(s.post(f"{CAND}/{cand_id}/interview/questions", {
                "judge_id": question_judge, "question": "如何抓好支部党员教育？",
                "answer_summary": "落实三会一课，结合业务开展主题党日"}), 201)
        _ok(_seg(s, cand_id, seg, "end"))


def _prepared(story):
    """Reviewing, four candidates qualified, the panel appointed and its declarations made."""
    s = story.reviewing().prereview().appoint_panel().declare_all()
    s.session_url = f"{SEL}/{s.sel}/interview"
    return s


def test_preparation_draw_and_opening_are_recorded_with_their_refusals(story):
    s = _prepared(story)
    url, judges = s.session_url, s.judges
    admin_id = _ok(s.get("/api/v1/auth/me"))["id"]

    # nothing can begin before the session opens, and it opens only when prepared
    _problem(_seg(s, s.c["li"], "self_introduction", "begin"), 409,
             "interview_session_not_started")
    _problem(s.post(f"{url}/start"), 409, "order_not_drawn")

    # 评委沟通: who attended must be judges of the panel; it is recorded once held
    outsider = s.user("judge")
    _problem(s.post(f"{url}/briefings", {**BRIEFING, "held_by": admin_id,
                                         "attendees": [outsider[0]]}), 422, "not_on_panel")
    _problem(s.post(f"{url}/briefings", {**BRIEFING, "held_at": "2026-12-31T01:00:00Z",
                                         "held_by": admin_id,
                                         "attendees": [j for j, _ in judges]}),
             409, "time_in_future")

    # 抽签: reproducible from the recorded seed; drawn again until the session opens
    first = _ok(s.post(f"{url}/draw", {"seed": "20261014-a"}), 201)["draw"]
    qualified = [s.c[k] for k in INTERVIEWED]
    assert sorted(first["candidate_ids"]) == sorted(qualified)
    assert first["order"] == _rederive(qualified, "20261014-a")
    assert first["seed"] == "20261014-a" and "random.Random(seed).shuffle" in first["algorithm"]
    assert first["redraw"] is False
    second = _ok(s.post(f"{url}/draw", {"seed": "20261014-b"}), 201)["draw"]
    assert second["order"] == _rederive(qualified, "20261014-b")
    assert second["redraw"] is True
    made = _ok(s.post(f"{url}/draw", {}), 201)["draw"]  # a seed the service makes
    assert made["order"] == _rederive(qualified, made["seed"])
    draws = [e for e in s.selection_events() if e["action"] == "draw_appearance_order"]
    assert [d["params"]["seed"] for d in draws] == ["20261014-a", "20261014-b", made["seed"]]
    assert draws[1]["params"]["previous_seed"] == "20261014-a"

    _problem(s.post(f"{url}/start"), 409, "briefing_not_held")
    view = _ok(s.post(f"{url}/briefings", {**BRIEFING, "held_by": admin_id,
                                           "attendees": [j for j, _ in judges]}), 201)
    assert view["briefings"][0]["attendees"] == [j for j, _ in judges]
    assert view["briefings"][0]["held_by"] == admin_id

    # 资料传递: each judge confirms themself, once; an outsider cannot
    missing = _problem(s.post(f"{url}/start"), 409, "materials_not_received")
    assert sorted(missing["details"]["judge_ids"]) == sorted(j for j, _ in judges)
    _problem(s.post(f"{url}/materials-receipts", {}, outsider[1]), 403, "not_on_panel")
    for _, headers in judges[:-1]:
        _ok(s.post(f"{url}/materials-receipts", {"note": "已收到"}, headers), 201)
    _problem(s.post(f"{url}/materials-receipts", {}, judges[0][1]), 409, "already_confirmed")
    missing = _problem(s.post(f"{url}/start"), 409, "materials_not_received")
    assert missing["details"]["judge_ids"] == [judges[-1][0]]
    view = _ok(s.post(f"{url}/materials-receipts", {}, judges[-1][1]), 201)
    assert view["judges_without_receipt"] == []
    assert view["materials_receipts"][0]["materials"] == ["职务说明书", "参选人简历", "评分登记表"]

    opened = _ok(s.post(f"{url}/start"))
    assert opened["started_at"] is not None
    assert [a["candidate_id"] for a in opened["appearances"]] == made["order"]
    _problem(s.post(f"{url}/draw", {"seed": "again"}), 409, "interview_session_started")
    _problem(s.post(f"{url}/start"), 409, "interview_session_started")
    actions = [e["action"] for e in s.selection_events()]
    assert actions.count("hold_judges_briefing") == 1
    assert actions.count("confirm_materials_received") == 7
    assert actions.count("open_interview_session") == 1


def _opened(story):
    s = _prepared(story)
    admin_id = _ok(s.get("/api/v1/auth/me"))["id"]
    _ok(s.post(f"{s.session_url}/draw", {"seed": "fixed-seed"}), 201)
    _ok(s.post(f"{s.session_url}/briefings", {**BRIEFING, "held_by": admin_id,
                                                "attendees": [j for j, _ in s.judges]}), 201)
    for _, headers in s.judges:
        _ok(s.post(f"{s.session_url}/materials-receipts", {}, headers), 201)
    s.order = _ok(s.post(f"{s.session_url}/start"))["draw"]["order"]
    return s


def test_segments_follow_their_order_and_candidates_the_draw(story):
    s = _opened(story)
    first, second = s.order[0], s.order[1]

    _problem(_seg(s, second, "self_introduction", "begin"), 409, "not_their_turn")
    _problem(_seg(s, first, "role_cognition", "begin"), 409, "segment_out_of_order")
    _problem(_seg(s, first, "self_introduction", "end"), 409, "segment_not_begun")
    _problem(_seg(s, first, "speech", "begin"), 422)
    _problem(_seg(s, s.c["zhou"], "self_introduction", "begin"), 409, "not_in_draw")

    ap = _ok(_seg(s, first, "self_introduction", "begin"))
    assert ap["position"] == 1 and ap["appeared_at"] is not None
    _problem(_seg(s, first, "self_introduction", "begin"), 409, "segment_already_begun")
    _problem(s.post(f"{CAND}/{first}/interview/questions", {
        "judge_id": s.judges[0][0], "question": "提早的问题"}), 409, "segment_not_begun")
    _ok(_seg(s, first, "self_introduction", "end"))
    _ok(_seg(s, first, "role_cognition", "begin"))
    _problem(_seg(s, first, "questions", "begin"), 409, "segment_out_of_order")
    _ok(_seg(s, first, "role_cognition", "end"))
    _ok(_seg(s, first, "questions", "begin"))

    outsider = s.user("judge")
    _problem(s.post(f"{CAND}/{first}/interview/questions", {
        "judge_id": outsider[0], "question": "？"}), 422, "not_on_panel")
    ap = _ok(s.post(f"{CAND}/{first}/interview/questions", {
        "judge_id": s.judges[2][0], "question": "如何推动党建与业务融合？",
        "answer_summary": "以项目化方式嵌入业务流程"}), 201)
    assert ap["questions"] == [{"judge_id": s.judges[2][0], "question": "如何推动党建与业务融合？",
                                "answer_summary": "以项目化方式嵌入业务流程",
                                "asked_at": ap["questions"][0]["asked_at"]}]
    for seg in ("questions",):
        _ok(_seg(s, first, seg, "end"))
    _problem(_seg(s, second, "self_introduction", "begin"), 409, "not_their_turn")
    _ok(_seg(s, first, "answers", "begin"))
    ap = _ok(_seg(s, first, "answers", "end"))
    _problem(_seg(s, first, "answers", "end"), 409, "segment_already_ended")
    assert [g["segment"] for g in ap["segments"]] == list(SEGMENTS)
    assert all(g["began_at"] and g["ended_at"] and g["seconds"] >= 0 for g in ap["segments"])
    assert [g["label"] for g in ap["segments"]] == ["自我介绍", "岗位认知", "评委提问", "选手回答"]
    assert ap["finished_at"] is not None

    # the next one's turn now; a candidate who left no longer holds the others up
    _ok(_seg(s, second, "self_introduction", "begin"))
    events = [e["action"] for e in s.events(s.name_of(first))]
    assert events.count("begin_interview_segment") == 4
    assert events.count("end_interview_segment") == 4
    assert events.count("record_interview_question") == 1


def test_a_question_by_a_recused_judge_is_refused(story):
    s = _opened(story)
    chen = s.c["chen"]
    for cid in s.order[:s.order.index(chen)]:
        _walk(s, cid)
    for seg in SEGMENTS[:3]:
        _ok(_seg(s, chen, seg, "begin"))
        if seg != "questions":
            _ok(_seg(s, chen, seg, "end"))
    # judge 7 declared a conflict with 陈静 (see tests/review/test_review.py)
    _problem(s.post(f"{CAND}/{chen}/interview/questions", {
        "judge_id": s.judges[6][0], "question": "？"}), 409, "recused")


def test_sheets_are_scored_on_the_spot_and_the_report_shows_the_session(story):
    s = _opened(story)
    first = s.order[0]
    name = s.name_of(first)
    scores = SCORES[name][1]
    _problem(s.sheet(1, name, scores), 409, "candidate_not_yet_appeared")

    _ok(_seg(s, first, "self_introduction", "begin"))
    _ok(s.sheet(1, name, scores), 201)  # on the spot, during the session
    for seg in SEGMENTS:
        if seg != "self_introduction":
            _ok(_seg(s, first, seg, "begin"))
        if seg == "questions":
            _ok(s.post(f"{CAND}/{first}/interview/questions", {
                "judge_id": s.judges[0][0], "question": "如何抓好支部党员教育？",
                "answer_summary": "落实三会一课"}), 201)
        _ok(_seg(s, first, seg, "end"))
    _ok(s.sheet(2, name, SCORES[name][2]), 201)  # after the candidate's session ended

    sheet_events = [e for e in s.events(name) if e["action"] == "submit_score_sheet"]
    assert [e["params"]["session_timing"] for e in sheet_events] == ["during_session",
                                                                     "after_session"]
    assert all(e["params"]["seconds_after_appearance"] >= 0 for e in sheet_events)

    view = _ok(s.get(f"{s.session_url}/session"))
    mine = view["appearances"][0]
    assert mine["candidate_id"] == first and mine["position"] == 1
    assert [(t["judge_id"], t["timing"]) for t in mine["sheets"]] == [
        (s.judges[1][0], "during_session"), (s.judges[2][0], "after_session")]
    # a judge of the panel reads the session, without the sheets' timing
    judge_view = _ok(s.get(f"{s.session_url}/session", s.judges[0][1]))
    assert judge_view["appearances"][0]["sheets"] == []
    assert judge_view["appearances"][0]["questions"][0]["question"] == "如何抓好支部党员教育？"
    _problem(s.get(f"{s.session_url}/session", s.user("judge")[1]), 403, "not_on_panel")

    report = _ok(s.get(f"{CAND}/{first}/evaluation"))["interview"]
    assert report["position"] == 1
    assert [g["segment"] for g in report["segments"]] == list(SEGMENTS)
    assert report["questions"][0]["answer_summary"] == "落实三会一课"
    page = s.get(f"{CAND}/{first}/evaluation.html").text
    assert "出场顺序（抽签）：第 1 位" in page and "落实三会一课" in page
    # a candidate not yet appeared: in the draw, no times yet
    later = _ok(s.get(f"{CAND}/{s.order[1]}/evaluation"))["interview"]
    assert later["position"] == 2 and later["appeared_at"] is None


def test_without_a_session_on_record_sheets_score_as_before_and_no_draw_follows(story):
    s = _prepared(story)
    _ok(s.sheet(0, "li", SCORES["li"][0]), 201)
    ev = [e for e in s.events("li") if e["action"] == "submit_score_sheet"][0]
    assert "session_timing" not in ev["params"]
    _problem(s.post(f"{s.session_url}/draw", {"seed": "late"}), 409, "scoring_started")
    assert _ok(s.get(f"{CAND}/{s.c['li']}/evaluation"))["interview"] is None


def test_a_draw_needs_candidates_waiting_for_the_interview(story):
    s = story.reviewing().appoint_panel()  # nobody passed the pre-review yet
    _problem(s.post(f"{SEL}/{s.sel}/interview/draw", {"seed": "x"}), 409, "nobody_to_draw")
    _problem(s.post(f"{SEL}/{s.sel}/interview/draw", {"seed": "not a seed!"}), 422)
    assert "draw_appearance_order" not in [e["action"] for e in s.selection_events()]


def test_who_left_does_not_hold_the_others_up_and_who_came_later_was_not_drawn(
        story, make_candidate):
    s = _opened(story)
    first, second = s.order[0], s.order[1]
    _ok(s.post(f"{CAND}/{first}/actions/withdraw", {"reason": "本人因工作调动退出"}))
    _problem(_seg(s, first, "self_introduction", "begin"), 409, "not_being_interviewed")
    _ok(_seg(s, second, "self_introduction", "begin"))  # the withdrawn one is skipped

    late = str(make_candidate(s.sel, state="qualified", full_name="迟到者"))
    _problem(_seg(s, late, "self_introduction", "begin"), 409, "not_in_draw")
    _ok(s.post(f"{SEL}/{s.sel}/declarations", {"candidate_id": late, "conflict": "none"},
               s.judges[0][1]), 201)
    _problem(s.post(f"{CAND}/{late}/score-sheets", {"scores": SCORES["li"][0]},
                    s.judges[0][1]), 409, "not_in_draw")


def test_receipts_need_the_preparation_and_a_briefing_names_a_real_user(story):
    s = story.reviewing().prereview()
    judges = [s.user("judge") for _ in range(7)]
    _ok(s.put(f"{SEL}/{s.sel}/panel", {"judge_ids": [j for j, _ in judges]}))
    url = f"{SEL}/{s.sel}/interview"
    _problem(s.post(f"{url}/materials-receipts", {}, judges[0][1]), 409,
             "interview_not_prepared")
    _problem(s.post(f"{url}/briefings", {**BRIEFING, "held_by": judges[0][0],
                                         "attendees": [judges[0][0], judges[0][0]]}),
             422, "duplicate_member")
    body = _problem(s.post(f"{url}/briefings", {**BRIEFING, "held_by": str(uuid.uuid4()),
                                                "attendees": [judges[0][0]]}),
                    422, "unknown_user")
    assert body["errors"][0]["field"] == "body.held_by"
    actions = [e["action"] for e in s.selection_events()]
    assert "hold_judges_briefing" not in actions and "confirm_materials_received" not in actions


def test_a_briefing_time_without_an_offset_is_china_time(story):
    s = _prepared(story)
    admin_id = _ok(s.get("/api/v1/auth/me"))["id"]
    view = _ok(s.post(f"{s.session_url}/briefings", {
        "held_at": "2026-10-14T08:30:00", "held_by": admin_id,
        "attendees": [s.judges[0][0]]}), 201)
    assert view["briefings"][0]["held_at"] == "2026-10-14T00:30:00Z"
    _problem(s.post(f"{s.session_url}/briefings", {
        "held_at": "0001-01-01T00:00:00+14:00", "held_by": admin_id,
        "attendees": [s.judges[0][0]]}), 422, "time_out_of_range")
