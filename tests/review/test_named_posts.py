"""Named posts (岗位): a selection's list of posts, each for a branch; candidates stand for
post(s); the cut-off and the ranking per post; the committee appoints to a named post; the
announcement, the pre-appointment publicity and the outcome emails name it."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from tests.review.test_review import (
    CAND,
    CLOCK,
    LI,
    PASSWORD,
    SEL,
    SIM_DAY,
    WANG,
    Story,
    _ok,
    _problem,
)


@pytest.fixture
def story(client, admin, make_user, login, make_selection, make_candidate) -> Story:
    return Story(client, admin, make_user, login, make_selection, make_candidate)


ORG = "机关党委"
TWO_POSTS = [
    {"code": "b1", "branch": "机关第一党支部", "title": "党支部书记", "count": 1},
    {"code": "b2", "branch": "机关第二党支部", "title": "党支部书记", "count": 1},
]
JD = {"duties": ["主持支部全面工作"], "requirements": {"min_education": "bachelor",
                                                      "min_party_years": 3, "max_age": 45}}


def _create(client, admin, **body):
    return client.post(SEL, json={"title": "两个党支部书记公开选拔", "organization": ORG,
                                  "job_description": JD, **body}, headers=admin)


def test_a_selection_with_only_posts_gets_one_post_named_after_its_organization(client, admin):
    sel = _ok(_create(client, admin, posts=2), 201)
    assert sel["posts"] == 2
    assert sel["named_posts"] == [{"code": "p1", "branch": ORG, "title": "党支部书记",
                                   "count": 2}]
    default = _ok(_create(client, admin), 201)
    assert (default["posts"], default["named_posts"][0]["count"]) == (1, 1)

    two = _ok(_create(client, admin, named_posts=TWO_POSTS), 201)
    assert two["posts"] == 2 and two["named_posts"] == TWO_POSTS
    _ok(_create(client, admin, posts=2, named_posts=TWO_POSTS), 201)  # the total, matching
    assert _problem(_create(client, admin, posts=3, named_posts=TWO_POSTS), 422)
    assert _problem(_create(client, admin, named_posts=[TWO_POSTS[0], {**TWO_POSTS[1],
                                                                       "code": "b1"}]), 422)
    _problem(_create(client, admin, named_posts=[{**TWO_POSTS[0], "code": "第一"}]), 422)
    _problem(_create(client, admin, named_posts=[]), 422)

    # while drafting: posts alone changes the only post's count; with several, the list
    url = f"{SEL}/{sel['id']}"
    etag = client.get(url, headers=admin).headers["etag"]
    patched = _ok(client.patch(url, json={"posts": 3}, headers={**admin, "If-Match": etag}))
    assert patched["named_posts"][0]["count"] == 3 and patched["posts"] == 3
    # the one post named after the organization follows its new name
    etag = client.get(url, headers=admin).headers["etag"]
    renamed = _ok(client.patch(url, json={"organization": "机关第五党支部"},
                               headers={**admin, "If-Match": etag}))
    assert renamed["named_posts"][0]["branch"] == "机关第五党支部"
    url2 = f"{SEL}/{two['id']}"
    etag = client.get(url2, headers=admin).headers["etag"]
    _problem(client.patch(url2, json={"posts": 3}, headers={**admin, "If-Match": etag}), 422,
             "posts_mismatch")
    three = [*TWO_POSTS, {"code": "b3", "branch": "机关第三党支部", "count": 2}]
    patched = _ok(client.patch(url2, json={"named_posts": three},
                               headers={**admin, "If-Match": etag}))
    assert patched["posts"] == 4 and patched["named_posts"][2]["title"] == "党支部书记"
    edit = client.get(f"{url2}/events", headers=admin).json()["items"][-1]
    assert edit["params"]["changes"]["posts"] == {"before": 2, "after": 4}


class TwoPosts(Story):
    """The review story on a selection for two branches: 李明 stands for both, 王芳 for the
    first, 赵强 and 陈静 for the second."""

    STANDS = {"li": ["b1", "b2"], "wang": ["b1"], "zhao": ["b2"], "chen": ["b2"]}

    def reviewing(self, **overrides) -> TwoPosts:
        _ok(self.put(CLOCK, {"day": SIM_DAY}))
        self.sel = self._make_selection(organization=ORG, posts=2, named_posts=TWO_POSTS,
                                        settings={"candidates_per_post": 1}, **overrides)["id"]
        _ok(self.act_selection("publish", {"params": {"start_on": SIM_DAY}}))
        nomination = {"kind": "party_organization", "body_name": "机关党委", "nominee": LI}
        p = _problem(self.post(f"{SEL}/{self.sel}/nominations", nomination), 422,
                     "post_required")
        assert p["details"]["posts"] == ["b1", "b2"]
        _problem(self.post(f"{SEL}/{self.sel}/nominations", {**nomination, "posts": ["b9"]}),
                 422, "unknown_post")
        li = _ok(self.post(f"{SEL}/{self.sel}/nominations", {**nomination, "posts": ["b1"]}),
                 201)["candidate"]
        assert li["posts"] == ["b1"]
        # nominated again for the other post: one candidate, standing for both
        li = _ok(self.post(f"{SEL}/{self.sel}/nominations", {
            **nomination, "body_name": "机关党委", "posts": ["b2"]}), 201)["candidate"]
        assert li["posts"] == ["b1", "b2"]
        self.c["li"] = li["id"]
        _ok(self.act("li", "consent", {"params": {
            "confirmed_by": "机关党委 张书记", "confirmed_at": "2026-09-30T08:30:00+08:00"}}))
        _ok(self.post("/api/v1/users", {"username": "wangfang", "roles": ["candidate"],
                                        "password": PASSWORD, "email": WANG["email"]}), 201)
        wang = self._login("wangfang", PASSWORD)
        _problem(self.post(f"{SEL}/{self.sel}/applications", {"profile": WANG}, wang), 422,
                 "post_required")
        self.c["wang"] = _ok(self.post(f"{SEL}/{self.sel}/applications", {
            "profile": WANG, "posts": ["b1"]}, wang), 201)["candidate"]["id"]
        _ok(self.post(f"{CLOCK}/advance", {"days": 14}))
        _ok(self.act_selection("close_nominations"))
        for key in ("zhao", "chen", "zhou"):
            self.c[key] = str(self._make_candidate(self.sel, state="applicant",
                                                   full_name=key))
        _stand_for({self.c[k]: v for k, v in self.STANDS.items() if k in ("zhao", "chen")})
        return self


def _stand_for(codes: dict[str, list[str]]) -> None:
    from service.core.db import open_session
    from service.nomination.models import Candidate

    with open_session(write=True) as s:
        for c in s.exec(select(Candidate).where(Candidate.id.in_(
                [uuid.UUID(k) for k in codes]))):
            c.post_codes = codes[str(c.id)]
            s.add(c)
        s.commit()


def _two(client, admin, make_user, login, make_selection, make_candidate) -> TwoPosts:
    return TwoPosts(client, admin, make_user, login, make_selection, make_candidate)


def test_candidates_rank_per_post_and_the_cut_off_is_per_post(
        client, admin, make_user, login, make_selection, make_candidate):
    s = _two(client, admin, make_user, login, make_selection, make_candidate)
    s.reviewing().prereview().appoint_panel().declare_all().score_all()
    ranking = _ok(s.get(f"{SEL}/{s.sel}/ranking"))
    # overall: 李明 1, 王芳 2, 赵强 3, 陈静 4; the cut-off over the selection is 2 × 1
    assert [s.name_of(e["candidate_id"]) for e in ranking["entries"]] == [
        "li", "wang", "zhao", "chen"]
    assert ranking["cutoff"] == 2
    by_post = {p["code"]: p for p in ranking["posts"]}
    assert (by_post["b1"]["name"], by_post["b1"]["cutoff"]) == ("机关第一党支部书记", 1)
    assert [(s.name_of(e["candidate_id"]), e["rank"], e["within_ratio"])
            for e in by_post["b1"]["entries"]] == [("li", 1, True), ("wang", 2, False)]
    assert [(s.name_of(e["candidate_id"]), e["rank"], e["within_ratio"])
            for e in by_post["b2"]["entries"]] == [("li", 1, True), ("zhao", 2, False),
                                                   ("chen", 3, False)]
    assert {s.name_of(e["candidate_id"]): e["posts"] for e in ranking["entries"]}["li"] == [
        "b1", "b2"]

    assert _ok(s.get(f"{CAND}/{s.c['wang']}/evaluation"))["within_ratio"] is False
    assert _ok(s.get(f"{CAND}/{s.c['li']}/evaluation"))["within_ratio"] is True
    # 王芳 is 2nd over the selection, within 2; but 2nd for her post, whose cut-off is 1
    p = _problem(s.act("wang", "pass_interview"), 409, "departs_from_ranking")
    assert (p["details"]["rank"], p["details"]["cutoff"], p["details"]["post"]) == (2, 1, "b1")
    assert _ok(s.act("li", "pass_interview"))["state"] == "shortlisted"
    _ok(s.act("wang", "pass_interview", {"reason": "第一支部岗位需要财务背景，党委研究同意"}))
    _ok(s.act("zhao", "pass_interview", {"reason": "第二支部岗位递补"}))
    _ok(s.act("chen", "fail_interview", {"reason": "综合得分偏低"}))


def test_the_committee_appoints_to_a_named_post_and_everyone_hears_which(
        client, admin, make_user, login, make_selection, make_candidate):
    s = _two(client, admin, make_user, login, make_selection, make_candidate)
    s.reviewing().prereview().appoint_panel().declare_all().score_all()
    _ok(s.act("li", "pass_interview"))
    _ok(s.act("wang", "pass_interview", {"reason": "党委研究同意"}))
    _ok(s.act("zhao", "pass_interview", {"reason": "党委研究同意"}))
    _ok(s.act("chen", "fail_interview", {"reason": "综合得分偏低"}))
    s.TEAMS = {"li": (0, 1), "wang": (0, 1), "zhao": (1, 2)}
    s.RECORDER = {"li": 0, "wang": 0, "zhao": 2}
    s.appoint_inspectors().inspect(only=("li", "wang", "zhao"))
    _ok(s.act_selection("submit_to_committee"))
    s.seat_committee()

    def meeting(*decisions):
        return s.post(f"{SEL}/{s.sel}/committee-meetings", s.meeting(decisions=list(decisions)))

    def appoint(cand, post=None):
        return {**s.decision(cand, "appointed", 7, 0, 0), **({"post": post} if post else {})}

    reserve = s.decision("zhao", "reserve", 6, 1, 0)
    _problem(meeting(appoint("li")), 409, "post_required")
    _problem(meeting(appoint("li", "b9")), 422, "unknown_post")
    p = _problem(meeting(appoint("wang", "b2")), 409, "post_not_stood_for")
    assert p["details"] == {"guard": "appointed_post", "post": "b2", "stands_for": ["b1"]}
    p = _problem(meeting(appoint("li", "b1"), appoint("wang", "b1")), 409, "post_filled")
    assert p["details"] == {"guard": "appointed_post", "post": "b1", "count": 1,
                            "already_appointed": 1}
    # refused whole: nothing recorded, nobody moved
    assert _ok(s.get(f"{SEL}/{s.sel}/committee-meetings")) == []
    assert (s.state("li"), s.state("wang")) == ("inspected", "inspected")

    m = _ok(meeting(appoint("li", "b2"), appoint("wang", "b1"), reserve), 201)
    assert [d.get("post") for d in m["decisions"]] == ["b2", "b1", None]
    ev = [e for e in s.events("li") if e["action"] == "decide_appoint"][0]
    assert ev["params"]["post"] == "b2"
    assert ev["params"]["appointment"]["proposed_post"] == "机关第二党支部书记"
    assert ev["params"]["appointment"]["branch"] == "机关第二党支部"

    public = {a["full_name"]: a for a in _ok(client.get("/api/v1/public/appointments"))}
    assert (public["李明"]["proposed_post"], public["李明"]["branch"], public["李明"]["post"]) \
        == ("机关第二党支部书记", "机关第二党支部", "b2")
    assert public["王芳"]["proposed_post"] == "机关第一党支部书记"

    _ok(s.act_selection("finish_decision"))
    li = _ok(s.get(f"{CAND}/{s.c['li']}/notifications/preview"))
    assert "拟任岗位：机关第二党支部书记（机关第二党支部）" in li["body"]
    en = _ok(s.get(f"{CAND}/{s.c['wang']}/notifications/preview", params={"language": "en"}))
    assert "Post: 机关第一党支部书记 (机关第一党支部)" in en["body"]
    zhao = _ok(s.get(f"{CAND}/{s.c['zhao']}/notifications/preview"))
    assert "参选岗位：机关第二党支部书记（机关第二党支部）" in zhao["body"]


def test_a_single_post_selection_appoints_without_naming_the_post(story):
    s = story.reviewing().prereview().appoint_panel().declare_all().score_all()
    s.decide_interviews().appoint_inspectors().inspect()
    _ok(s.act_selection("submit_to_committee"))
    s.seat_committee()
    m = _ok(s.post(f"{SEL}/{s.sel}/committee-meetings", s.meeting()), 201)
    assert m["decisions"][0]["post"] == "p1"
    cand = _ok(s.get(f"{CAND}/{s.c['li']}"))
    assert cand["posts"] == ["p1"]
    public = _ok(s.client.get("/api/v1/public/appointments"))
    assert public[0]["proposed_post"] == "机关第一党支部书记" and public[0]["post"] == "p1"
