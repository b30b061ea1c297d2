"""Languages: display fields follow Accept-Language (Chinese by default); identifiers never do."""

from __future__ import annotations

import pytest

from service.core import i18n

SEL = "/api/v1/selections"
CAND = "/api/v1/candidates"
EN = {"Accept-Language": "en-US,en;q=0.9"}
ZH = {"Accept-Language": "zh-CN"}


@pytest.mark.parametrize(("header", "expected"), [
    (None, "zh-CN"), ("", "zh-CN"), ("zh", "zh-CN"), ("zh-Hans-CN", "zh-CN"), ("en", "en"),
    ("EN-gb", "en"), ("fr-FR, en;q=0.8", "en"), ("en;q=0.5, zh;q=0.9", "zh-CN"),
    ("zh;q=0.5, en;q=0.9", "en"), ("de", "zh-CN"), ("*", "zh-CN"), ("en;q=0", "zh-CN"),
    ("en;q=abc", "zh-CN"), (";;,,", "zh-CN"), ("en, zh", "en"), ("zh, en", "zh-CN"),
])
def test_accept_language_is_negotiated(header, expected):
    assert i18n.negotiate(header) == expected


def test_a_selection_is_labelled_in_the_language_asked_for(client, admin, make_selection):
    sel = make_selection()
    zh = client.get(f"{SEL}/{sel['id']}", headers=admin)
    en = client.get(f"{SEL}/{sel['id']}", headers={**admin, **EN})
    assert zh.headers["content-language"] == "zh-CN"
    assert en.headers["content-language"] == "en"
    assert "accept-language" in zh.headers["vary"].lower()
    assert zh.json()["state_label"] == "起草职务说明书"
    assert en.json()["state_label"] == "Drafting the job description"
    # identifiers and every other field are the same in both languages
    strip = lambda body: {k: v for k, v in body.items() if k != "state_label"}  # noqa: E731
    assert strip(zh.json()) == strip(en.json())
    assert en.json()["state"] == "drafting"


def test_actions_and_events_are_labelled_but_keep_their_ids(client, admin, make_selection):
    sel = make_selection()
    opts_en = client.get(f"{SEL}/{sel['id']}/actions", headers={**admin, **EN}).json()
    opts_zh = client.get(f"{SEL}/{sel['id']}/actions", headers=admin).json()
    publish_en = next(a for a in opts_en["actions"] if a["action"] == "publish")
    publish_zh = next(a for a in opts_zh["actions"] if a["action"] == "publish")
    assert (publish_en["label"], publish_zh["label"]) == ("Publish the post", "发布公示")
    assert publish_en["label_zh"] == publish_zh["label_zh"] == "发布公示"
    assert publish_en["label_en"] == publish_zh["label_en"] == "Publish the post"
    assert (opts_en["state_label"], opts_zh["state_label"]) == (
        "Drafting the job description", "起草职务说明书")
    assert publish_en["refusal_code"] == publish_zh["refusal_code"]

    r = client.post(f"{SEL}/{sel['id']}/actions/cancel", json={"reason": "岗位调整"},
                    headers={**admin, **EN})
    assert r.status_code == 200, r.text
    events = client.get(f"{SEL}/{sel['id']}/events", headers={**admin, **EN}).json()["items"]
    cancel = events[-1]
    assert (cancel["action"], cancel["action_label"]) == ("cancel", "Cancel the selection")
    assert (cancel["to_state"], cancel["to_state_label"]) == ("cancelled", "Cancelled")
    events_zh = client.get(f"{SEL}/{sel['id']}/events", headers=admin).json()["items"]
    assert events_zh[-1]["action_label"] == "取消选拔"
    # the stored record is the same whatever language it is read in
    assert events_zh[-1]["hash"] == cancel["hash"]


def test_the_workflow_description_follows_the_language(client):
    en = client.get("/api/v1/workflow", headers=EN).json()
    zh = client.get("/api/v1/workflow").json()
    cand_en = next(m for m in en["machines"] if m["name"] == "candidate")
    cand_zh = next(m for m in zh["machines"] if m["name"] == "candidate")
    reserve_en = next(s for s in cand_en["states"] if s["name"] == "reserve")
    reserve_zh = next(s for s in cand_zh["states"] if s["name"] == "reserve")
    assert (reserve_en["label"], reserve_zh["label"]) == ("Reserve", "储备人选")
    assert [s["name"] for s in cand_en["states"]] == [s["name"] for s in cand_zh["states"]]
    role_en = next(r for r in en["roles"] if r["role"] == "judge")
    role_zh = next(r for r in zh["roles"] if r["role"] == "judge")
    assert role_en["label"] == role_en["label_en"] and role_zh["label"] == role_zh["label_zh"]
    assert role_en["label"] != role_zh["label"]


def test_candidates_are_labelled_in_lists_and_in_detail(client, admin, make_selection,
                                                         make_candidate):
    sel = make_selection()
    cid = make_candidate(sel["id"], state="qualified")
    one = client.get(f"{CAND}/{cid}", headers={**admin, **EN}).json()
    assert (one["state"], one["state_label"]) == ("qualified", "Passed qualification pre-review")
    listed = client.get(f"{SEL}/{sel['id']}/candidates", headers=admin).json()["items"]
    assert [(c["state"], c["state_label"]) for c in listed] == [("qualified", "资格预审通过")]


def test_problem_titles_follow_the_language_and_codes_do_not(client, admin, make_selection):
    sel = make_selection()
    url = f"{SEL}/{sel['id']}/actions/close"
    zh = client.post(url, json={}, headers=admin)
    en = client.post(url, json={}, headers={**admin, **EN})
    assert zh.status_code == en.status_code == 409
    assert zh.headers["content-type"].startswith("application/problem+json")
    assert zh.json()["code"] == en.json()["code"] == "action_not_allowed_in_state"
    assert en.json()["title"] == "Action not allowed in this state"
    assert zh.json()["title"] == "当前状态下不能进行该操作"
    assert zh.headers["content-language"] == "zh-CN"

    missing = client.get(f"{SEL}/00000000-0000-0000-0000-000000000000", headers=EN)
    assert (missing.status_code, missing.json()["title"]) == (401, "Not authenticated")
    bad = client.post(SEL, json={"title": 5}, headers={**admin, **ZH})
    assert (bad.status_code, bad.json()["code"], bad.json()["title"]) == (
        422, "validation_error", "输入有误")
    nowhere = client.get("/api/v1/nowhere", headers=ZH)
    assert (nowhere.json()["code"], nowhere.json()["title"]) == ("not_found", "未找到")


def test_lang_in_the_link_wins_over_the_header_and_every_answer_says_its_language(client):
    """`?lang=` is for pages a person opens from a link; every answer, a problem too, carries
    Content-Language and Vary: Accept-Language."""
    for path, headers, expected in [
        ("/api/v1/public/selections?lang=en", ZH, "en"),
        ("/api/v1/public/selections?lang=zh-CN", EN, "zh-CN"),
        ("/api/v1/public/selections?lang=fr", EN, "en"),  # unknown: the header decides
        ("/api/v1/public/selections", {}, "zh-CN"),
        ("/api/v1/nowhere?lang=en", {}, "en"),
        ("/api/v1/auth/me", {}, "zh-CN"),
    ]:
        r = client.get(path, headers=headers)
        assert r.headers["content-language"] == expected, path
        assert "Accept-Language" in r.headers["vary"], path
    assert client.get("/api/v1/nowhere?lang=en").json()["title"] == "Not found"


def test_a_refusal_reads_in_chinese_with_labels_and_in_english_with_identifiers(
        client, admin, make_selection):
    sel = make_selection()
    url = f"{SEL}/{sel['id']}/actions/close_nominations"
    zh = client.post(url, json={}, headers={**admin, **ZH}).json()
    en = client.post(url, json={}, headers={**admin, **EN}).json()
    assert zh["detail"] == ("选拔当前状态为“起草职务说明书”，不能进行“截止推荐报名”；"
                            "该操作只能在以下状态进行：公示与推荐。")
    assert en["detail"] == ("'close_nominations' cannot run while the selection is"
                            " 'drafting'; it runs from: publicizing.")
    options = client.get(f"{SEL}/{sel['id']}/actions", headers={**admin, **ZH}).json()
    refusal = next(o for o in options["actions"] if o["action"] == "close_nominations")
    assert refusal["refusal"] == zh["detail"]


def test_a_wrong_password_is_titled_as_such(client):
    r = client.post("/api/v1/auth/token", data={"username": "nobody", "password": "x-2026-y"})
    assert (r.status_code, r.json()["title"], r.json()["detail"]) == (
        401, "用户名或密码不正确", "用户名或密码不正确。")
    r = client.post("/api/v1/auth/token", data={"username": "nobody", "password": "x-2026-y"},
                    headers=EN)
    assert (r.json()["title"], r.json()["detail"]) == (
        "Invalid credentials", "Incorrect username or password.")


def test_a_validators_own_message_reads_in_the_language_with_the_fields_named(
        client, admin, make_selection):
    """A rule a validator checks (not pydantic's own) reads in the reader's language, the
    fields it names by their names with their JSON paths — never 值无效：<English>."""
    body = {"title": "第一党支部书记公开选拔", "organization": "机关第一党支部",
            "job_description": {"duties": ["主持支部全面工作"]},
            "settings": {"min_judges": 8, "judges_odd": True}}
    zh = client.post(SEL, json=body, headers={**admin, **ZH})
    en = client.post(SEL, json=body, headers={**admin, **EN})
    assert zh.status_code == en.status_code == 422
    [err_zh], [err_en] = zh.json()["errors"], en.json()["errors"]
    assert err_zh["field"] == err_en["field"] == "body.settings"
    assert err_zh["type"] == err_en["type"] == "judges_not_odd"
    assert err_zh["message"] == ("评委须为奇数（body.settings.judges_odd）为 true 时，"
                                 "评委最少人数（body.settings.min_judges）须为奇数")
    assert zh.json()["detail"] == "选拔设置（body.settings）：" + err_zh["message"]
    assert err_en["message"] == ("body.settings.min_judges must be odd when"
                                 " body.settings.judges_odd is true")

    # a rule of one field, checked when a change is merged in
    sel = make_selection()
    url = f"{SEL}/{sel['id']}"
    etag = client.get(url, headers=admin).headers["etag"]
    r = client.patch(url, json={"settings": {"committee_quorum": 0.3}},
                     headers={**admin, **ZH, "If-Match": etag,
                              "Content-Type": "application/merge-patch+json"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["message"] == (
        "指应到会委员中须实到会的比例，应不低于 1/2（0.5）、不高于 1，不能是 0.3")
    assert r.json()["detail"].startswith("党委会到会比例（body.settings.committee_quorum）：指")
    assert "Value error" not in r.text and "值无效" not in r.text
