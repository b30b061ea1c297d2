"""Taking over another nominee's candidacy is refused: a nominee's record is linked to an
account only by a claim that proves it (a code sent to the nominee's email on file, or an
admin's confirmation), never by an application repeating their public facts (issue 14,
point 1)."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlmodel import select

from service.core.db import open_session
from service.followup.models import Notification
from service.nomination.models import Candidate
from tests.nomination.test_nominations import (
    CAND,
    LI,
    PASSWORD,
    SEL,
    SIM_DAY,
    ZHAO,
    _act_candidate,
    _act_selection,
    _new_candidate_user,
    _nominate,
    _set_clock,
)


@pytest.fixture
def published(client, admin, make_selection) -> dict:
    """A selection publicized from 2026-09-30 (the clock set to that day)."""
    _set_clock(client, admin, SIM_DAY)
    sel = make_selection()
    r = _act_selection(client, admin, sel["id"], "publish", {"params": {"start_on": SIM_DAY}})
    assert r.status_code == 200, r.text
    return r.json()

PUBLIC_FACTS = {k: LI[k] for k in ("full_name", "gender", "birth_date", "education",
                                   "party_joined_on", "work_started_on", "current_post",
                                   "unit")}


def _events(client, admin, cand_id) -> list[dict]:
    r = client.get(f"{CAND}/{cand_id}/events", headers=admin)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _stored(cand_id) -> Candidate:
    with open_session() as s:
        return s.get(Candidate, uuid.UUID(cand_id))


def _code_sent_to(address: str) -> str:
    """The newest claim code in the outbox for this address (what the nominee would read)."""
    with open_session() as s:
        rows = list(s.exec(select(Notification).where(Notification.outcome == "claim_code",
                                                      Notification.to_address == address)
                           .order_by(Notification.created_at)))
    assert rows, f"no claim code sent to {address}"
    # in the nominee's own language (Chinese unless they chose English), never both
    said = rows[-1]
    assert said.language == "zh" and "分钟内有效" in said.body and "valid for" not in said.body
    return re.search(r"\b(\d{6})\b", rows[-1].body).group(1)


def test_an_application_with_a_nominees_facts_neither_links_nor_shows_the_record(
        client, admin, as_role, login, published):
    sel_id = published["id"]
    li = _nominate(client, as_role("nominator"), sel_id, LI)["candidate"]["id"]
    events_before = len(_events(client, admin, li))
    _, impostor = _new_candidate_user(client, admin, login, "impostor", "impostor@example.cn")

    r = client.post(f"{SEL}/{sel_id}/applications",
                    json={"profile": PUBLIC_FACTS, "statement": "我来参选"}, headers=impostor)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == "nomination_claim_required"
    assert problem["details"]["candidate_id"] == li
    for secret in (LI["national_id"], LI["phone"], "走访同事8人"):
        assert secret not in r.text
    # Nothing changed, nothing recorded.
    assert _stored(li).user_id is None
    assert len(_events(client, admin, li)) == events_before
    # The record stays out of reach, and consent cannot be given in the nominee's name.
    assert client.get(f"{CAND}/{li}", headers=impostor).status_code == 404
    assert _act_candidate(client, impostor, li, "consent").status_code == 404
    assert _stored(li).state == "nominated"


def test_a_claim_code_goes_to_the_nominees_address_and_a_guesser_runs_out(
        client, admin, as_role, login, published):
    sel_id = published["id"]
    li = _nominate(client, as_role("nominator"), sel_id, LI)["candidate"]["id"]
    _, impostor = _new_candidate_user(client, admin, login, "impostor", "impostor@example.cn")
    r = client.post(f"{SEL}/{sel_id}/claims", json={"candidate_id": li}, headers=impostor)
    assert r.status_code == 202, r.text
    assert r.json()["sent_to"] == "l***@example.cn"
    with open_session() as s:
        [n] = s.exec(select(Notification).where(Notification.outcome == "claim_code")).all()
        assert n.to_address == LI["email"] and n.state == "queued"
    real = _code_sent_to(LI["email"])
    wrong = [c for c in ("000000", "111111", "222222", "333333", "444444", "555555")
             if c != real][:5]
    for guess in wrong:
        r = client.post(f"{SEL}/{sel_id}/claims/confirm", json={"candidate_id": li,
                                                                "code": guess},
                        headers=impostor)
        assert (r.status_code, r.json()["code"]) == (422, "invalid_claim_code"), r.text
    r = client.post(f"{SEL}/{sel_id}/claims/confirm", json={"candidate_id": li, "code": real},
                    headers=impostor)
    assert (r.status_code, r.json()["code"]) == (409, "claim_expired")
    assert _stored(li).user_id is None
    assert client.get(f"{CAND}/{li}", headers=impostor).status_code == 404


def test_the_nominee_claims_with_the_emailed_code_then_consents(client, admin, as_role, login,
                                                                 published):
    sel_id = published["id"]
    li = _nominate(client, as_role("nominator"), sel_id, LI)["candidate"]["id"]
    owner_id, owner = _new_candidate_user(client, admin, login, "liming-own")
    r = client.post(f"{SEL}/{sel_id}/claims", json={"candidate_id": li}, headers=owner)
    assert r.status_code == 202, r.text
    r = client.post(f"{SEL}/{sel_id}/claims/confirm",
                    json={"candidate_id": li, "code": _code_sent_to(LI["email"])},
                    headers=owner)
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == owner_id
    assert r.json()["profile"]["national_id"] == LI["national_id"]  # now their own record
    linked = [e for e in _events(client, admin, li) if e["action"] == "link_account"]
    assert [e["params"]["via"] for e in linked] == ["email_code"]
    assert linked[0]["params"]["user_id"] == owner_id
    r = _act_candidate(client, owner, li, "consent")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "applicant"
    # A second claim of a linked record is refused.
    _, other = _new_candidate_user(client, admin, login, "other")
    r = client.post(f"{SEL}/{sel_id}/claims", json={"candidate_id": li}, headers=other)
    assert (r.status_code, r.json()["code"]) == (409, "identity_claimed")


def test_an_admin_links_a_record_on_confirmation_recorded(client, admin, as_role, login,
                                                           published):
    sel_id = published["id"]
    zhao = _nominate(client, as_role("nominator", body=("youth_league", "公司团委")), sel_id,
                     ZHAO, "youth_league", "公司团委")["candidate"]["id"]
    owner_id, owner = _new_candidate_user(client, admin, login, "zhaoqiang-own")
    body = {"user_id": owner_id, "confirmed_by": "组织部 张科长", "note": "当面核对身份证"}
    r = client.put(f"{CAND}/{zhao}/account", json=body, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == owner_id
    [ev] = [e for e in _events(client, admin, zhao) if e["action"] == "link_account"]
    assert (ev["params"]["via"], ev["params"]["confirmed_by"]) == ("admin", "组织部 张科长")
    assert ev["actor_role"] == "admin"
    assert client.get(f"{CAND}/{zhao}", headers=owner).status_code == 200
    other_id, _ = _new_candidate_user(client, admin, login, "other")
    r = client.put(f"{CAND}/{zhao}/account", json={**body, "user_id": other_id}, headers=admin)
    assert (r.status_code, r.json()["code"]) == (409, "identity_claimed")
    assert PASSWORD  # the helper's password, used by login above
