"""Seed a database with a realistic population, fast (SQLAlchemy Core bulk inserts), valid
(every event hash-chained with service.record.service.event_hash, so `verify-record` passes; every
state reachable by the workflow table), and describe what a load scenario needs in a JSON
sidecar: the users' passwords and the ids each scenario targets.

Run alone: `.venv/bin/python -m bench.seed --size 10000 --url sqlite:///bench/.data/x.db`
(the database must be migrated; bench.run does that).
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine

# Bump when the population changes, so cached databases are seeded anew.
SEED_VERSION = 10
PASSWORD = "bench-passphrase-1"
JUDGES = 21
PANEL = 7
GENESIS = "0" * 64

# How a selection's candidates are spread over the candidate states, per selection state.
MIX: dict[str, list[tuple[str, float]]] = {
    "publicizing": [("nominated", .40), ("applicant", .50), ("declined", .05), ("withdrawn", .05)],
    "reviewing": [("applicant", .15), ("qualified", .30), ("shortlisted", .15),
                  ("inspected", .10), ("not_qualified", .25), ("withdrawn", .05)],
    "deciding": [("inspected", .40), ("not_qualified", .55), ("withdrawn", .05)],
    "following_up": [("appointed", .10), ("on_trial", .10), ("reserve", .20),
                     ("not_qualified", .55), ("declined", .05)],
    "closed": [("confirmed", .10), ("reserve", .25), ("not_qualified", .60), ("declined", .05)],
    "cancelled": [("nominated", .20), ("applicant", .40), ("qualified", .20), ("declined", .20)],
}
# Share of the candidates in selections of each state (drafting selections have none).
SHARE = {"publicizing": .35, "reviewing": .30, "deciding": .10, "following_up": .10,
         "closed": .10, "cancelled": .05}
SELECTION_PATH = {
    "drafting": [], "publicizing": ["publish"],
    "reviewing": ["publish", "close_nominations"],
    "deciding": ["publish", "close_nominations", "submit_to_committee"],
    "following_up": ["publish", "close_nominations", "submit_to_committee", "finish_decision"],
    "closed": ["publish", "close_nominations", "submit_to_committee", "finish_decision", "close"],
    "cancelled": ["publish", "cancel"],
}
SEL_TARGET = {"publish": "publicizing", "close_nominations": "reviewing",
              "submit_to_committee": "deciding", "finish_decision": "following_up",
              "close": "closed", "cancel": "cancelled"}
_INSPECTED = ["nominate", "consent", "check_eligibility", "pass_prereview", "@declare",
              "@sheets", "pass_interview", "pass_inspection"]
CANDIDATE_PATH = {
    "nominated": ["nominate"], "applicant": ["nominate", "consent"],
    "declined": ["nominate", "decline"], "withdrawn": ["nominate", "consent", "withdraw"],
    "not_qualified": ["nominate", "consent", "check_eligibility", "fail_prereview"],
    "qualified": ["nominate", "consent", "check_eligibility", "pass_prereview", "@declare",
                  "@some_sheets"],
    "shortlisted": _INSPECTED[:-1], "inspected": _INSPECTED,
    "appointed": [*_INSPECTED, "decide_appoint"],
    "on_trial": [*_INSPECTED, "decide_appoint", "start_trial"],
    "confirmed": [*_INSPECTED, "decide_appoint", "start_trial", "confirm"],
    "reserve": [*_INSPECTED, "decide_reserve"],
}
CAND_TARGET = {"nominate": "nominated", "consent": "applicant", "decline": "declined",
               "withdraw": "withdrawn", "pass_prereview": "qualified",
               "fail_prereview": "not_qualified", "pass_interview": "shortlisted",
               "pass_inspection": "inspected", "decide_appoint": "appointed",
               "decide_reserve": "reserve", "start_trial": "on_trial", "confirm": "confirmed"}
CRITERIA = [("self_introduction", 20), ("role_cognition", 30), ("answers", 30),
            ("overall_impression", 20)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "明华建国军强伟芳娜静丽敏杰涛鹏宇平刚勇艳"
UNITS = ["机关办公室", "第一车间", "第二车间", "财务部", "人力资源部", "团委", "工会", "后勤服务中心"]
POSTS = ["办公室副主任", "车间副主任", "科员", "主任科员", "团委书记", "工会干事"]


class Chains:
    """Event rows with per-subject sequence numbers and hash chains, as the service writes."""

    def __init__(self, t0: datetime):
        self.rows: list[dict[str, Any]] = []
        self.t = t0

    def subject(self, subject_type: str, subject_id: uuid.UUID, selection_id: uuid.UUID | None,
                steps: list[tuple[str, str | None, str | None, str, uuid.UUID | None, dict,
                                  str | None]]) -> None:
        """Append a subject's whole chain: (action, from, to, role, actor, params, reason)."""
        from service.record.keys import keyring
        from service.record.service import sealed

        ring = keyring()  # signed as the service signs: HMAC-SHA256 with the current key
        prev = GENESIS
        for seq, (action, from_state, to_state, role, actor, params, reason) in enumerate(
                steps, 1):
            self.t += timedelta(microseconds=137)
            ev = SimpleNamespace(
                id=uuid.uuid4(), subject_type=subject_type, subject_id=subject_id, seq=seq,
                selection_id=selection_id, action=action, from_state=from_state,
                to_state=to_state, actor_id=actor, actor_role=role, reason=reason,
                params=params, request_id=uuid.uuid4().hex, occurred_at=self.t,
                simulated_at=None, key_id=ring.current)
            ev.prev_hash = prev
            # the bytes hashed, kept with the event (its body), as the service keeps them
            ev.body, ev.hash = sealed(vars(ev), ring.keys[ring.current])
            prev = ev.hash
            self.rows.append(vars(ev))


def _profile(rng: random.Random, i: int) -> dict[str, Any]:
    birth = date(1975 + rng.randrange(20), 1 + rng.randrange(12), 1 + rng.randrange(28))
    return {
        "full_name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
        "gender": rng.choice(["male", "female"]), "birth_date": birth.isoformat(),
        "education": rng.choice(["junior_college", "bachelor", "bachelor", "master"]),
        "party_joined_on": date(birth.year + 22 + rng.randrange(5), 7, 1).isoformat(),
        "work_started_on": date(birth.year + 22, 7, 1).isoformat(),
        "current_post": rng.choice(POSTS), "unit": rng.choice(UNITS),
        "email": f"cand{i}@example.cn", "phone": f"139{i:08d}", "national_id": None,
    }


def _split(n: int, mix: list[tuple[str, float]], rng: random.Random) -> list[str]:
    states = rng.choices([s for s, _ in mix], [w for _, w in mix], k=n)
    rng.shuffle(states)
    return states


def seed(engine: Engine, size: int, *, per_selection: int = 50, rng_seed: int = 8) -> dict:
    """Write the population for `size` candidates; return the targets the scenarios need."""
    from service.core.models import User
    from service.core.security import hash_password
    from service.followup.models import Notification
    from service.nomination.eligibility import check
    from service.nomination.models import Candidate, Nomination
    from service.record import service as record
    from service.record.models import Event
    from service.review.models import Declaration, PanelMember, ScoreSheet
    from service.review.service import SCORE_SHEETS
    from service.selection.models import Selection
    from service.selection.schemas import JobDescription, SelectionSettings

    rng = random.Random(rng_seed)
    started = time.monotonic()
    now = datetime.now(UTC)
    today = now.date()
    chains = Chains(now - timedelta(days=200))
    pw_hash = hash_password(PASSWORD)

    def user(name, roles):
        return {"id": uuid.uuid4(), "username": name, "full_name": name, "email": None,
                "roles": roles, "password_hash": pw_hash, "is_active": True, "token_version": 1,
                "version": 1, "created_at": now, "updated_at": now}

    admin = user("admin", ["admin"])
    judges = [user(f"judge{j:02d}", ["judge"]) for j in range(JUDGES)]
    nominators = [user(f"nominator{j}", ["nominator"]) for j in range(5)]
    users = [admin, *judges, *nominators]
    a_id = admin["id"]
    for u in users:
        chains.subject("user", u["id"], None, [("create_user", None, None, "system", None,
                                                {"username": u["username"], "roles": u["roles"]},
                                                None)])

    jd = JobDescription.model_validate({
        "duties": ["主持支部全面工作", "落实党建工作责任制", "组织党员学习教育"],
        "experience": "三年以上基层工作经历",
        "requirements": {"min_education": "bachelor", "min_party_years": 3, "max_age": 50},
    }).model_dump(mode="json")
    settings = SelectionSettings().model_dump(mode="json")

    # Selections: per state, enough of them at ~per_selection candidates each; one big
    # reviewing selection holds a tenth of all candidates (the listing scenario's worst case).
    big_n = size // 10
    # And one publicizing selection whose nominees (as many as all candidates, 20,000 at
    # most) all wait for their consent: the action scenario's targets (each consents, then
    # withdraws; each action runs once, and the targets' runs take many: at 10k, the
    # targets' rounds send some 18,000).
    sel_specs: list[tuple[str, int]] = [("reviewing", big_n),
                                        ("publicizing", min(size, 20_000))]
    for st, share in SHARE.items():
        n = round(size * share) - (big_n if st == "reviewing" else 0)
        k = max(1, n // per_selection)
        sel_specs += [(st, n // k + (1 if i < n % k else 0)) for i in range(k)]
    sel_specs += [("drafting", 0)] * max(2, size // 2000)
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "selection", "candidate", "nomination", "panel", "declaration", "sheet", "notification")}
    targets: dict[str, Any] = {"consent": [], "withdraw": [], "sheet_pairs": [], "list": [],
                               "read": [], "big_selection": None,
                               "versions": {}}  # a candidate's version, for its If-Match
    cand_no = 0
    for s_no, (s_state, n_cands) in enumerate(sel_specs):
        sid = uuid.uuid4()
        start = today - timedelta(days=3) if s_state == "publicizing" else today - timedelta(
            days=60)
        published = s_state != "drafting"
        rows["selection"].append({
            "id": sid, "title": f"第{s_no + 1}党支部书记公开选拔", "organization":
            f"机关第{s_no + 1}党支部", "posts": 1, "state": s_state,
            "named_posts": [{"code": "p1", "branch": f"机关第{s_no + 1}党支部",
                             "title": "党支部书记", "count": 1}],
            "version": 1 + len(SELECTION_PATH[s_state]), "job_description": jd,
            "settings": settings, "publicity_start_on": start if published else None,
            "publicity_end_on": start + timedelta(days=9) if published else None,
            "created_by": a_id, "created_at": chains.t, "updated_at": chains.t})
        steps = [("create", None, "drafting", "admin", a_id, {"title": f"第{s_no + 1}"}, None)]
        state = "drafting"
        for act in SELECTION_PATH[s_state]:
            steps.append((act, state, SEL_TARGET[act], "admin", a_id, {}, "岗位调整"
                          if act == "cancel" else None))
            state = SEL_TARGET[act]
        panel = rng.sample(judges, PANEL) if s_state in (
            "reviewing", "deciding", "following_up", "closed") else []
        if panel:
            steps.append(("appoint_panel", state, state, "admin", a_id,
                          {"judge_ids": [str(j["id"]) for j in panel]}, None))
            rows["panel"] += [{"id": uuid.uuid4(), "selection_id": sid, "user_id": j["id"],
                               "appointed_at": now} for j in panel]
        chains.subject("selection", sid, sid, steps)
        if s_no == 0:
            targets["big_selection"] = str(sid)
        counts: dict[str, int] = {}
        mix = [("nominated", 1.0)] if s_no == 1 else MIX.get(s_state, [])
        for c_state in _split(n_cands, mix, rng) if n_cands else []:
            cand_no += 1
            cid = uuid.uuid4()
            prof = _profile(rng, cand_no)
            report = check(jd["requirements"], prof, start + timedelta(days=9))
            rows["candidate"].append({
                "id": cid, "selection_id": sid, "user_id": None, "state": c_state,
                "full_name": prof["full_name"], "identity_key": uuid.uuid4().hex,
                "profile": prof, "national_id_hash": None, "eligible": report["passed"],
                "eligibility": report, "appointment": None,
                "created_at": chains.t, "updated_at": chains.t})
            counts[c_state] = counts.get(c_state, 0) + 1
            noms = 2 if rng.random() < .1 else 1
            nom_ids = []
            for k in range(noms):
                nom_ids.append(uuid.uuid4())
                rows["nomination"].append({
                    "id": nom_ids[-1], "selection_id": sid, "candidate_id": cid,
                    "kind": rng.choice(["party_organization", "administration", "trade_union",
                                        "youth_league", "party_members_joint"]),
                    "body_name": "机关党委", "nominated_by": nominators[k]["id"],
                    "reasons": "政治素质好，群众基础扎实", "groundwork": "走访同事8人，查阅档案",
                    "reserve_entry_id": None, "created_at": chains.t})
            steps, state, version = [], None, 1
            for act in CANDIDATE_PATH[c_state]:
                if act == "@declare":
                    for j in panel:
                        rows["declaration"].append({
                            "id": uuid.uuid4(), "selection_id": sid, "candidate_id": cid,
                            "user_id": j["id"], "capacity": "judge", "conflict": "none",
                            "note": "", "created_at": chains.t})
                        steps.append(("declare_no_conflict", state, state, "judge", j["id"],
                                      {"capacity": "judge", "conflict": "none", "note": "",
                                       "recused": False}, None))
                    continue
                if act in ("@sheets", "@some_sheets"):
                    scoring = panel if act == "@sheets" else panel[:rng.randrange(PANEL)]
                    for j in scoring:
                        scores = {k: float(rng.randrange(60, 100)) for k, _ in CRITERIA}
                        sheet_id = uuid.uuid4()
                        rows["sheet"].append({
                            "id": sheet_id, "selection_id": sid, "candidate_id": cid,
                            "judge_id": j["id"], "version": 1, "scores": scores,
                            "total": round(sum(scores[k] * w / 100 for k, w in CRITERIA), 2),
                            "comment": "思路清晰", "supersede_reason": None, "correction_id": None,
                            "created_at": chains.t})
                        sheet = SimpleNamespace(**rows["sheet"][-1])
                        steps.append(("submit_score_sheet", state, state, "judge", j["id"],
                                      {"sheet_id": str(sheet_id), "judge_id": str(j["id"]),
                                       "version": 1, "supersede_reason": None,
                                       "scores": scores, "total": sheet.total,
                                       "covers": record.covers(SCORE_SHEETS, sheet)}, None))
                    continue
                if act == "nominate":
                    for nid in nom_ids:
                        steps.append(("nominate", state, "nominated", "nominator",
                                      nominators[0]["id"], {"nomination_id": str(nid),
                                                            "full_name": prof["full_name"]},
                                      None))
                        state = "nominated"
                    continue
                target = CAND_TARGET.get(act, state)
                steps.append((act, state, target, "admin", a_id, {},
                              "本人申请" if act in ("decline", "withdraw", "fail_prereview")
                              else None))
                state = target
                version += 1
            rows["candidate"][-1]["version"] = version
            chains.subject("candidate", cid, sid, steps)
            if s_state in ("following_up", "closed") and c_state != "declined":
                outcome = {"appointed": "appointed", "on_trial": "appointed",
                           "confirmed": "appointed", "reserve": "reserve"}.get(c_state,
                                                                              "not_qualified")
                rows["notification"].append({
                    "id": uuid.uuid4(), "dedupe_key": f"outcome:{cid}:zh", "candidate_id": cid,
                    "selection_id": sid, "outcome": outcome, "language": "zh",
                    "to_address": prof["email"], "subject": "党支部书记公开选拔结果通知",
                    "body": f"{prof['full_name']}同志：……", "state":
                    "sent" if s_state == "closed" else "queued", "attempts": 0,
                    "last_error": None, "next_attempt_at": now, "claimed_by": None,
                    "claimed_until": None, "sent_at": now if s_state == "closed" else None,
                    "created_at": chains.t})
            # What each scenario may target.
            if s_state == "publicizing" and c_state == "nominated":
                targets["consent"].append(str(cid))
                targets["versions"][str(cid)] = version
            # (not the qualified: the score-sheet scenario needs them to stay so)
            if s_state in ("publicizing", "reviewing", "deciding") and c_state in (
                    "nominated", "applicant", "shortlisted", "inspected"):
                targets["withdraw"].append(str(cid))
                targets["versions"][str(cid)] = version
            if s_state == "reviewing" and c_state == "qualified":
                # Not the panel's last judge, who never scores them (`@some_sheets` stops
                # before): their sheets are never all in, so a sheet supersedes and is never
                # refused as final (409 score_sheet_final) however long the scenario runs.
                targets["sheet_pairs"] += [[judges.index(j), str(cid)] for j in panel[:-1]]
            if len(targets["read"]) < 20000 and rng.random() < .2:
                targets["read"].append(str(cid))
        if counts and s_state != "drafting":
            st = max(counts, key=counts.get)
            targets["list"].append([str(sid), st])

    # One HR system subscribed to candidate changes: every candidate action then writes a
    # row to the webhook outbox in its transaction (when this version of the service has
    # webhooks; the bench servers do not deliver them).
    hooks = []
    try:
        from service.webhooks.models import WebhookSubscription
        from service.webhooks.service import new_secret
    except ImportError:
        WebhookSubscription = None
    if WebhookSubscription is not None:
        hooks = [WebhookSubscription(
            url="http://127.0.0.1:9/hr-system", description="HR system (bench)",
            event_types=["candidate.state_changed", "outcome.decided"], secret=new_secret(),
            created_by=a_id).model_dump()]
    tables = [(User, users), (Selection, rows["selection"]), (Candidate, rows["candidate"]),
              (Nomination, rows["nomination"]), (PanelMember, rows["panel"]),
              (Declaration, rows["declaration"]), (ScoreSheet, rows["sheet"]),
              (Notification, rows["notification"]), (Event, chains.rows)]
    if hooks:
        tables.append((WebhookSubscription, hooks))
    built = time.monotonic() - started
    with engine.begin() as conn:
        for model, data in tables:
            for i in range(0, len(data), 5000):
                conn.execute(insert(model.__table__), data[i:i + 5000])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    # Spread the list scenario over the big selection and ordinary ones.
    ordinary = [p for p in targets["list"][1:] if p[1] != "nominated"]
    rng.shuffle(ordinary)
    targets["list"] = [targets["list"][0]] * 25 + ordinary[:75]
    rng.shuffle(targets["withdraw"])
    rng.shuffle(targets["sheet_pairs"])
    targets["sheet_pairs"] = targets["sheet_pairs"][:20000]
    counts = {m.__tablename__: len(d) for m, d in tables}
    return {"seed_version": SEED_VERSION, "size": size, "password": PASSWORD,
            "judges": [j["username"] for j in judges], "counts": counts,
            "seconds": {"build": round(built, 1),
                        "insert": round(time.monotonic() - started - built, 1)},
            "targets": targets}


def main() -> None:
    """Seed one (migrated) database and print the sidecar's counts."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--out", help="where to write the JSON sidecar")
    args = p.parse_args()
    from sqlalchemy import create_engine

    info = seed(create_engine(args.url), args.size)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(info, f)
    print(json.dumps({k: info[k] for k in ("counts", "seconds")}))


if __name__ == "__main__":
    main()
