"""The guards of 递补 (backfill) and of the branch's election, pure: each refusal a person
reads, in Chinese by default and in English on request."""

from __future__ import annotations

import pytest

from service.core import i18n
from service.workflow import guards as g
from service.workflow.engine import Actor, Context


def _zh(r) -> str:
    """A refusal as a Chinese reader sees it (the guard gives the catalogue's msgid)."""
    return i18n.refusal_text(r.message, r.params, "zh-CN")


@pytest.fixture(autouse=True)
def clean_tables():
    """No database here (overrides conftest's)."""
    yield


def _ctx(facts: dict, *, params: dict | None = None, reason: str | None = None,
         lang: str = "zh-CN") -> Context:
    return Context(actor=Actor("u-1", frozenset({"admin"})), facts={"lang": lang, **facts},
                   params=params or {}, reason=reason, role="admin")


POSTS = {"p1": {"count": 1, "taken": 0}, "p2": {"count": 1, "taken": 1}}
VACANT = {"named_posts": POSTS, "candidate_posts": ["p1", "p2"],
          "vacancies": {"p1": {"vacated": ["c-0"], "open": ["c-0"]},
                        "p2": {"vacated": [], "open": []}}}


def test_a_backfill_needs_a_meeting():
    r = g.decided_in_backfill_meeting(_ctx({"backfill_meetings": []}))
    assert r.code == "backfill_needs_meeting" and "党委会" in _zh(r)
    assert g.decided_in_backfill_meeting(_ctx({"backfill_meetings": ["m-1"]})) is None


@pytest.mark.parametrize("params,facts,code,zh", [
    ({}, {}, "post_required", "须写明所递补的岗位"),
    ({"post": "p9"}, {}, "unknown_post", "不是本次选拔的岗位"),
    ({"post": "p2"}, {"candidate_posts": ["p1"]}, "post_not_stood_for", "未参选岗位"),
    ({"post": "p2"}, {}, "no_vacancy", "没有出缺"),
    ({"post": "p1"}, {"vacancies": {"p1": {"vacated": ["c-0"], "open": []}}}, "post_refilled",
     "已经递补"),
])
def test_post_vacant_refusals(params, facts, code, zh):
    r = g.post_vacant(_ctx({**VACANT, **facts}, params=params))
    assert r.code == code and zh in _zh(r)
    en = g.post_vacant(_ctx({**VACANT, **facts}, params=params, lang="en"))
    assert en.code == code and i18n.refusal_text(en.message, en.params, 'en').isascii()


def test_post_vacant_passes_and_names_the_only_post_itself():
    assert g.post_vacant(_ctx(VACANT, params={"post": "p1"})) is None
    one = {**VACANT, "named_posts": {"p1": POSTS["p1"]}}
    assert g.post_vacant(_ctx(one)) is None


def test_out_of_rank_order_needs_a_reason():
    facts = {**VACANT, "candidate_id": "c-2", "backfill_order": {"p1": ["c-1", "c-2"]}}
    r = g.in_rank_order_or_reason(_ctx(facts, params={"post": "p1"}))
    assert r.code == "departs_from_rank_order" and "第 2 位" in _zh(r)
    assert r.details["rank_order"] == ["c-1", "c-2"]
    assert g.in_rank_order_or_reason(_ctx(facts, params={"post": "p1"},
                                          reason="排名第一者已调离本单位")) is None
    first = {**facts, "candidate_id": "c-1"}
    assert g.in_rank_order_or_reason(_ctx(first, params={"post": "p1"})) is None


def test_the_election_needs_the_setting_and_happens_once():
    assert g.election_required(_ctx({"branch_election": False})).code == "election_not_required"
    assert g.election_required(_ctx({"branch_election": True})) is None
    assert g.election_not_held(_ctx({"election": {"elected": True}})).code == "election_recorded"
    assert g.election_not_held(_ctx({"election": None})) is None


@pytest.mark.parametrize("due,present,valid", [
    (30, 24, False),   # exactly 4/5 is not more than 4/5
    (30, 25, True),
    (5, 4, False),
    (5, 5, True),
])
def test_the_election_meeting_is_valid_only_above_four_fifths(due, present, valid):
    r = g.election_quorum_met(_ctx({"election_quorum": 0.8},
                                   params={"members_due": due, "present_with_vote": present}))
    assert (r is None) is valid
    if not valid:
        assert r.code == "election_quorum_not_met" and "4/5" in _zh(r)


def test_the_quorum_follows_the_setting():
    r = g.election_quorum_met(_ctx({"election_quorum": 2 / 3},
                                   params={"members_due": 30, "present_with_vote": 21}))
    assert r is None


def test_approval_and_trial_follow_the_election():
    on = {"branch_election": True}
    assert g.elected(_ctx({**on, "election": None})).code == "election_not_held"
    assert g.elected(_ctx({**on, "election": {"elected": True}})) is None
    assert g.approval_not_recorded(_ctx({"approval": {"approved": True}})).code == \
        "approval_recorded"
    assert g.election_lost(_ctx({"election": {"elected": True}})).code == "election_not_lost"
    assert g.election_lost(_ctx({"election": {"elected": False}})) is None
    assert g.election_approved(_ctx({"branch_election": False})) is None
    assert g.election_approved(_ctx({**on, "election": None})).code == "election_not_held"
    r = g.election_approved(_ctx({**on, "election": {"elected": True}, "approval": None}))
    assert r.code == "approval_missing" and "批准" in _zh(r)
    r = g.election_approved(_ctx({**on, "election": {"elected": True}, "approval": None},
                                 lang="en"))
    assert "approval" in r.message
    assert g.election_approved(_ctx({**on, "election": {"elected": True},
                                     "approval": {"approved": True}})) is None
