"""Example data the OpenAPI document shows: ids and pieces shared by several models' examples,
so that they read as one selection (机关第一党支部, 2026), and the way enums get an example.

Each model keeps its own example in its `model_config`; tests/api/test_openapi_docs.py checks
that every example is valid against its schema. FastAPI leaves `null` values out of the
document, so a required field that may be null shows a value here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SELECTION_ID = "5b0c2f6a-9d1e-4c7b-8a3f-2e1d0c9b8a7f"
CANDIDATE = "7d3e1a52-4c8b-4f0e-9b6a-1c2d3e4f5a6b"  # 李明
CANDIDATE_2 = "8e4f2b63-5d9c-4a1f-8c7b-2d3e4f5a6b7c"  # 王芳
CANDIDATE_USER = "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"  # 李明's own account
ADMIN = "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"
JUDGE = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
INSPECTOR = "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7"
INSPECTOR_2 = "3f4a5b6c-7d8e-4f9a-b0c1-d2e3f4a5b6c7"
COMMITTEE = "4a5b6c7d-8e9f-4a0b-b1c2-d3e4f5a6b7c8"
MENTOR = "5c6d7e8f-9a0b-4c1d-a2e3-f4a5b6c7d8e9"
NOMINATION_ID = "6d7e8f9a-0b1c-4d2e-b3f4-a5b6c7d8e9f0"
MEETING = "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"
NOTIFICATION = "6f7a8b9c-0d1e-4f2a-b3c4-d5e6f7a8b9c0"
OBJECTION = "8a9b0c1d-2e3f-4a4b-85c6-d7e8f9a0b1c2"
EVENT_ID = "9b0c1d2e-3f4a-4b5c-96d7-e8f9a0b1c2d3"
RESERVE_ENTRY = "0c1d2e3f-4a5b-4c6d-a7e8-f9a0b1c2d3e4"
SHEET_ID = "1d2e3f4a-5b6c-4d7e-b8f9-a0b1c2d3e4f5"
CORRECTION = "5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f"
DECLARATION = "2e3f4a5b-6c7d-4e8f-89a0-b1c2d3e4f5a6"
RECORD = "3a4b5c6d-7e8f-4a9b-8c0d-e1f2a3b4c5d6"
FOLLOW_UP_RECORD_ID = "4b5c6d7e-8f9a-4b0c-9d1e-f2a3b4c5d6e7"

SETTINGS = {
    "require_if_match": True, "publicity_working_days": 5, "publicity_counts_start_day": False,
    "interview_criteria": [
        {"key": "self_introduction", "label": "自我介绍", "weight": 20, "max_score": 100},
        {"key": "role_cognition", "label": "岗位认知", "weight": 30, "max_score": 100},
        {"key": "answers", "label": "回答评委提问", "weight": 35, "max_score": 100},
        {"key": "overall_impression", "label": "综合印象", "weight": 15, "max_score": 100}],
    "min_judges": 7, "judges_odd": True, "trim_extremes_min_sheets": 5,
    "candidates_per_post": 3, "spread_flag_points": 20,
    "tie_break_criterion": "role_cognition", "min_inspectors": 2,
    "appointment_publicity_working_days": 5, "trial_months": 12,
    "min_party_lesson_hours": 8, "min_branch_life_hours": 12, "reserve_valid_years": 2,
    "committee_quorum": 2 / 3, "committee_majority": 1 / 2, "eligibility_reference_on": None,
    "mentor_meeting_interval_days": 30, "min_objection_investigators": 2}

SELECTION = {
    "id": SELECTION_ID, "title": "第一党支部书记公开选拔", "organization": "机关第一党支部",
    "posts": 1, "named_posts": [{"code": "p1", "branch": "机关第一党支部", "title": "党支部书记",
                                 "count": 1}],
    "state": "publicizing", "state_label": "公示与推荐", "version": 2,
    "job_description": {
        "duties": ["主持支部全面工作", "落实党建工作责任制"], "experience": "",
        "requirements": {"min_education": "bachelor", "min_party_years": 3, "max_age": 45},
        "judged_requirements": [{"key": "political_quality", "description": "良好的政治素质"},
                                {"key": "mass_base", "description": "广泛的群众基础"}]},
    "settings": SETTINGS,
    "publicity_start_on": "2026-09-30", "publicity_end_on": "2026-10-13",
    "created_at": "2026-09-30T01:05:00Z", "updated_at": "2026-09-30T01:20:00Z",
    "warnings": [],
}

PROFILE = {
    "full_name": "李明", "gender": "male", "birth_date": "1988-05-12", "education": "bachelor",
    "party_joined_on": "2012-07-01", "work_started_on": "2010-07-01",
    "current_post": "办公室副主任", "unit": "机关办公室", "email": "liming@example.cn",
    "phone": "13800000000",
}

NOMINATION = {
    "id": NOMINATION_ID, "candidate_id": CANDIDATE, "kind": "party_organization",
    "body_name": "机关党委", "nominated_by": ADMIN, "reasons": "政治素质好，群众基础扎实",
    "groundwork": "走访同事8人，查阅档案，无不良记录", "created_at": "2026-09-30T02:15:00Z",
}

ELIGIBILITY = {
    "computed_on": "2026-10-13", "reference": "publicity_end", "passed": True, "items": [
        {"requirement": "min_education", "label": "最低学历", "required": "本科及以上",
         "found": "本科", "passed": True},
        {"requirement": "min_party_years", "label": "党龄", "required": "≥ 3 年",
         "found": "14.28 年", "passed": True},
        {"requirement": "max_age", "label": "年龄", "required": "≤ 45 岁", "found": "38 岁",
         "passed": True}],
}

CANDIDATE_DETAIL = {
    "id": CANDIDATE, "selection_id": SELECTION_ID, "full_name": "李明", "state": "applicant",
    "state_label": "参选人", "version": 2, "user_id": CANDIDATE_USER, "profile": PROFILE,
    "eligible": True, "eligibility": ELIGIBILITY, "posts": ["p1"], "nominations": [NOMINATION],
    "created_at": "2026-09-30T02:15:00Z", "updated_at": "2026-10-08T03:00:00Z",
}

EVENT = {
    "id": EVENT_ID, "subject_type": "candidate", "subject_id": CANDIDATE, "seq": 2,
    "selection_id": SELECTION_ID, "action": "consent", "from_state": "nominated",
    "to_state": "applicant", "actor_id": CANDIDATE_USER, "actor_role": "candidate",
    "reason": "愿意参选", "params": {"note": ""}, "request_id": "85f07d7adff84c1cb13381af7e46ea76",
    "occurred_at": "2026-11-21T08:57:13Z", "simulated_at": "2026-10-08T03:00:00Z",
    "prev_hash": "204de2d50ab57d5315cd2ff685d9b23462c685a96cc99c2f7bade172d71cd7ee",
    "hash": "9c1f0e3b7a4d2c5e8f6a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e",
    "action_label": "本人同意参选", "to_state_label": "参选人",
}

ASSESSMENT = {item: {"satisfactory": True, "note": ""} for item in (
    "ideas_and_plans", "role_understanding", "moral", "intellectual", "physical", "integrity",
    "mass_recognition")}

SHEET = {
    "id": SHEET_ID, "candidate_id": CANDIDATE, "judge_id": JUDGE, "version": 2, "current": True,
    "scores": {"self_introduction": 85, "role_cognition": 90, "answers": 88,
               "overall_impression": 86},
    "total": 87.9, "comment": "思路清晰，对支部工作认识深刻",
    "supersede_reason": "誊写时“回答评委提问”一项分数有误", "created_at": "2026-10-20T03:30:00Z",
}

RANKING_ENTRY = {
    "candidate_id": CANDIDATE, "full_name": "李明", "state": "shortlisted",
    "state_label": "面议评审通过", "score": 86.98, "tie_break": 89.4, "rank": 1, "tied": False,
    "within_ratio": True, "posts": ["p1"],
}

POST_RANKING = {"code": "p1", "branch": "机关第一党支部", "title": "党支部书记",
                "name": "机关第一党支部书记", "count": 1, "cutoff": 3,
                "entries": [RANKING_ENTRY]}

RANKING = {
    "selection_id": SELECTION_ID,
    "tie_rule": "Equal scores are ordered by the mean of role_cognition (岗位认知); what stays"
                " tied is decided by the admin with a recorded reason",
    "cutoff": 3, "entries": [RANKING_ENTRY], "posts": [POST_RANKING],
}

MENTORSHIP = {"kind": "senior_guides_new", "kind_label": "老带新",
              "mentor_standing": {"kind": "confirmed_secretary", "post": "机关第二党支部书记",
                                  "candidate_id": "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7",
                                  "selection_id": "2d3e4f5a-6b7c-4d8e-9f0a-b1c2d3e4f5a6"},
    "candidate_id": CANDIDATE, "mentor_id": MENTOR,
    "plan": "每季度谈心一次，带教支部“三会一课”组织和党员发展工作", "meeting_interval_days": 90,
    "assigned_on": "2026-11-16",
}

FOLLOW_UP_RECORD = {
    "id": FOLLOW_UP_RECORD_ID, "candidate_id": CANDIDATE, "kind": "party_lesson",
    "held_on": "2026-12-10", "subject": "学习贯彻党章专题党课", "hours": 4, "attended": True,
    "assessment": "认真听讲，撰写心得体会", "recorded_by": ADMIN,
    "created_at": "2026-12-10T08:00:00Z",
}

REPORT_DECISION = {
    "candidate_id": CANDIDATE, "full_name": "李明", "votes_for": 7, "votes_against": 0,
    "abstentions": 0, "members_voting": 7, "outcome": "appointed", "outcome_label": "上岗使用",
    "reason": "综合评议第一名，考察结论优秀",
}

REPORT_MEETING = {
    "id": MEETING, "held_on": "2026-11-05", "members_due": 9, "members_present": 8,
    "recusals": [{"member_id": COMMITTEE, "candidate_id": CANDIDATE_2, "full_name": "王芳",
                  "reason": "近姻亲"}],
    "decisions": [REPORT_DECISION], "minutes": "党委会审议第一党支部书记人选，同意李明同志上岗使用",
    "created_at": "2026-11-05T07:00:00Z",
}


def enum_example(value: str) -> Callable[[Any], Any]:
    """Give an enum's JSON Schema an example (an enum takes no `json_schema_extra`)."""

    def add(cls):
        def js(inner_cls, core_schema, handler):
            json_schema = handler(core_schema)
            handler.resolve_ref_schema(json_schema)["examples"] = [value]
            return json_schema

        cls.__get_pydantic_json_schema__ = classmethod(js)
        return cls

    return add


# ---------------------------------------------------------------- the interview session
SEGMENTS = [
    {"segment": "self_introduction", "label": "自我介绍", "began_at": "2026-10-20T01:30:00Z",
     "ended_at": "2026-10-20T01:35:00Z", "seconds": 300.0},
    {"segment": "role_cognition", "label": "岗位认知", "began_at": "2026-10-20T01:35:10Z",
     "ended_at": "2026-10-20T01:43:10Z", "seconds": 480.0},
    {"segment": "questions", "label": "评委提问", "began_at": "2026-10-20T01:43:20Z",
     "ended_at": "2026-10-20T01:50:20Z", "seconds": 420.0},
    {"segment": "answers", "label": "选手回答", "began_at": "2026-10-20T01:50:30Z",
     "ended_at": "2026-10-20T01:55:30Z", "seconds": 300.0},
]
QUESTION = {"judge_id": JUDGE, "question": "如何推动党建与业务深度融合？",
            "answer_summary": "以项目化方式把党建任务嵌入业务流程，设立党员先锋岗",
            "asked_at": "2026-10-20T01:44:00Z"}
SHEET_TIMING = {"judge_id": JUDGE, "version": 1, "submitted_at": "2026-10-20T01:57:00Z",
                "seconds_after_appearance": 1620.0, "timing": "after_session"}
APPEARANCE = {"position": 1, "candidate_id": CANDIDATE, "full_name": "李明",
              "appeared_at": "2026-10-20T01:30:00Z", "finished_at": "2026-10-20T01:55:30Z",
              "segments": SEGMENTS, "questions": [QUESTION], "sheets": [SHEET_TIMING]}
BRIEFING = {"held_at": "2026-10-20T00:30:00Z", "held_by": ADMIN, "attendees": [JUDGE],
            "note": "讲解评分标准、回避规定和现场纪律", "recorded_by": ADMIN}
RECEIPT = {"judge_id": JUDGE, "received_at": "2026-10-20T00:50:00Z",
           "materials": ["参选人材料汇编", "评分登记表"], "note": "已收到"}
DRAW = {"seed": "20261020-0900",
        "algorithm": "python3: ids = sorted(str(id) for id in candidate_ids);"
                     " random.Random(seed).shuffle(ids); order = ids",
        "candidate_ids": [CANDIDATE], "order": [CANDIDATE],
        "drawn_at": "2026-10-20T01:00:00Z", "drawn_by": ADMIN, "redraw": False}
INTERVIEW_SESSION = {"selection_id": SELECTION_ID, "briefings": [BRIEFING],
                     "materials_receipts": [RECEIPT], "judges_without_receipt": [],
                     "draw": DRAW, "started_at": "2026-10-20T01:20:00Z",
                     "appearances": [APPEARANCE]}
