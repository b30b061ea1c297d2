"""Guards: named, side-effect-free predicates over a Context. Each returns a Refusal or None."""

from __future__ import annotations

from fractions import Fraction

from .engine import Context, Guard, Refusal
from .roles import CANDIDATE


def _own_record(ctx: Context) -> Refusal | None:
    if ctx.role != CANDIDATE:
        return None
    owner = ctx.facts.get("owner_user_id")
    if owner is None or owner != ctx.actor.user_id:
        return Refusal("not_own_record", "A candidate may act only on their own record.")
    return None


def _has_duties(ctx: Context) -> Refusal | None:
    if not ctx.facts.get("duties_count"):
        return Refusal(
            "job_description_incomplete",
            "The job description needs at least one duty before it is published.",
        )
    return None


def _publicity_ended(ctx: Context) -> Refusal | None:
    end = ctx.facts.get("publicity_end_on")
    today = ctx.facts.get("today")
    if end is None or today is None:
        return Refusal("publicity_period_unknown", "The publicity period has no end date.")
    if today <= end:
        return Refusal(
            "publicity_not_ended",
            "The publicity period runs until {end} inclusive; nominations can be closed "
            "from the next day on (today is {today}).",
            {"publicity_end_on": end.isoformat(), "today": today.isoformat()},
            params={"end": end, "today": today},
        )
    return None


def _selection_is(*states: str):
    def check(ctx: Context) -> Refusal | None:
        current = ctx.facts.get("selection_state")
        if current not in states:
            return Refusal(
                "selection_state_mismatch",
                "The selection is '{current}'; this needs it to be {states}.",
                {"selection_state": current, "required": list(states)}, params={"current": current, "states": list(states)},
            )
        return None

    return check


def _none_in(states: tuple[str, ...], code: str, what: str):
    """`what`: the English sentence, its `{listed}` filled with the candidates waiting."""
    def check(ctx: Context) -> Refusal | None:
        counts = ctx.facts.get("candidate_counts") or {}
        waiting = {s: counts[s] for s in states if counts.get(s)}
        if waiting:
            return Refusal(code, what, {"candidates_waiting": waiting}, params={"listed": waiting})
        return None

    return check


def _some_in(state: str, code: str, message: str):
    def check(ctx: Context) -> Refusal | None:
        counts = ctx.facts.get("candidate_counts") or {}
        if not counts.get(state):
            return Refusal(code, message)
        return None

    return check


own_record = Guard("own_record", "A candidate acts only on their own record.", _own_record)
has_duties = Guard("has_duties", "The job description lists at least one duty.", _has_duties)
publicity_ended = Guard(
    "publicity_ended", "The publicity period's end date has passed.", _publicity_ended
)
selection_publicizing = Guard(
    "selection_publicizing",
    "The selection is in its publicity and nomination period.",
    _selection_is("publicizing"),
)
selection_open_for_candidates = Guard(
    "selection_open",
    "The selection is still running (publicizing, reviewing or deciding).",
    _selection_is("publicizing", "reviewing", "deciding"),
)
review_finished = Guard(
    "review_finished",
    "No candidate is still waiting at a review gate.",
    _none_in(
        ("nominated", "applicant", "qualified", "shortlisted"),
        "review_unfinished",
        "Some candidates are still waiting at a review gate ({listed}).",
    ),
)
some_inspected = Guard(
    "some_inspected",
    "At least one candidate has passed the organizational inspection.",
    _some_in(
        "inspected",
        "nobody_to_submit",
        "No candidate has passed the organizational inspection, so there is nothing to submit.",
    ),
)
all_decided = Guard(
    "all_decided",
    "Every candidate put to the committee has an outcome.",
    _none_in(
        ("inspected",), "decision_unfinished", "Some candidates have no outcome from the committee ({listed})."
    ),
)
all_followed_up = Guard(
    "all_followed_up",
    "Every candidate's story has ended.",
    _none_in(
        ("nominated", "applicant", "qualified", "shortlisted", "inspected", "appointed",
         "on_trial"),
        "follow_up_unfinished",
        "Some candidates' stories have not ended ({listed}).",
    ),
)

selection_reviewing = Guard(
    "selection_reviewing", "The selection is in its review stage.", _selection_is("reviewing")
)
selection_deciding = Guard(
    "selection_deciding", "The selection is before the party committee.",
    _selection_is("deciding"),
)


def _eligibility_met_or_exception(ctx: Context) -> Refusal | None:
    """严把资格预审关: every failed machine-checked requirement must be excepted (破格)."""
    failed = list(ctx.facts.get("eligibility_failed") or ())
    zh = ctx.facts.get("lang", "zh-CN") != "en"
    exception = ctx.params.get("exception") or None
    excepted = list((exception or {}).get("requirements") or ())
    codes = [f["requirement"] for f in failed]
    needless = [c for c in excepted if c not in codes]
    if needless:
        return Refusal(
            "exception_not_needed",
            "An exception (破格) is only for a requirement not met; the candidate meets:"
            " {needless}.",
            {"not_failed": needless, "failed": codes}, params={"needless": needless})
    missing = [f for f in failed if f["requirement"] not in excepted]
    if not missing:
        return None
    # the facts name each requirement in the reader's language already
    sep, form = (("；", "{label}（{requirement}）：要求 {required}，本人 {found}") if zh else
                 ("; ", "{label} ({requirement}): required {required}, found {found}"))
    listed = sep.join(form.format(**f) for f in missing)
    return Refusal("requirement_not_met",
                   "Requirements of the job description not met: {listed}. Passing needs an"
                   " admin's explicit exception (破格, params.exception) naming the requirements"
                   " excepted and the reason.", params={"listed": listed}, details={
        "failed": missing,
        "needs": {"exception": {"requirements": [f["requirement"] for f in missing],
                                "reason": "…"}}})


eligibility_met_or_exception = Guard(
    "eligibility_met_or_exception",
    "The eligibility report shows every machine-checked requirement met, or an admin passes"
    " the candidate as an explicit exception (破格) naming each failed requirement, with a"
    " reason.",
    _eligibility_met_or_exception,
)


def _sheets_complete(ctx: Context) -> Refusal | None:
    expected, submitted = ctx.facts.get("sheets_expected", 0), ctx.facts.get("sheets_submitted", 0)
    if not expected or submitted < expected:
        return Refusal("score_sheets_incomplete",
                       "{submitted} of {expected} judges' score sheets are in; the interview result is "
                       "known when all are.",
                       {"expected": expected, "submitted": submitted}, params={"submitted": submitted, "expected": expected})
    return None


def _within_ratio_or_reason(ctx: Context) -> Refusal | None:
    rank, cutoff = ctx.facts.get("rank"), ctx.facts.get("cutoff")
    tied = ctx.facts.get("tied_at_cutoff", False)
    if rank is None or cutoff is None:
        return None  # _sheets_complete speaks for an unranked candidate
    if (rank > cutoff or tied) and not (ctx.reason or "").strip():
        why = "is tied at the cut-off" if tied and rank <= cutoff else \
            f"ranks {rank}, beyond the {cutoff} who go on at the selection's ratio"
        post = ctx.facts.get("ranking_post")
        where = f" for the post '{post}'" if post else ""
        return Refusal("departs_from_ranking",
                       "The candidate {why}{where}; passing them needs a recorded reason.",
                       {"rank": rank, "cutoff": cutoff, "tied": tied, "post": post}, params={"why": why, "where": where})
    return None


def _appointed_post(ctx: Context) -> Refusal | None:
    posts = ctx.facts.get("named_posts") or {}
    stands = list(ctx.facts.get("candidate_posts") or ())
    code = (ctx.params or {}).get("post")
    if code is None:
        if len(posts) == 1:
            code = next(iter(posts))
        else:
            return Refusal("post_required",
                           "The selection has {posts} posts; the appointment names the post.", {"posts": list(posts)}, params={"posts": len(posts)})
    if code not in posts:
        return Refusal("unknown_post", "'{code}' is not a post of this selection.",
                       {"post": code, "posts": list(posts)}, params={"code": code})
    if code not in stands:
        return Refusal("post_not_stood_for",
                       "The candidate does not stand for the post '{code}' (they stand for {value}).", {"post": code, "stands_for": stands}, params={"code": code, "value": ', '.join(stands) or 'none'})
    count, taken = posts[code]["count"], posts[code]["taken"]
    if taken >= count:
        return Refusal("post_filled",
                       "The post '{code}' has {count} place(s) and {taken} appointee(s) already.", {"post": code, "count": count, "already_appointed": taken}, params={"code": code, "count": count, "taken": taken})
    return None


def _inspection_team_ready(ctx: Context) -> Refusal | None:
    active, needed = ctx.facts.get("team_active", 0), ctx.facts.get("team_needed", 2)
    if active < needed:
        return Refusal("inspection_team_incomplete",
                       "The inspection team has {active} member(s) not recused; it needs at least "
                       "{needed}.", {"active": active, "needed": needed}, params={"active": active, "needed": needed})
    if not ctx.facts.get("inspection_records", 0):
        return Refusal("inspection_not_done",
                       "No inspection work (conversations, opinion forms, visits, files) is"
                       " recorded yet.")
    return None


def _on_inspection_team(ctx: Context) -> Refusal | None:
    if ctx.role != "inspector":
        return None
    if ctx.actor.user_id not in ctx.facts.get("team_member_ids", ()):
        return Refusal("not_on_inspection_team",
                       "Only a member of this candidate's inspection team, not recused, can"
                       " record its conclusion.")
    return None


sheets_complete = Guard("sheets_complete", "Every judge not recused has submitted a sheet.",
                        _sheets_complete)
within_ratio_or_reason = Guard(
    "within_ratio_or_reason",
    "The candidate is within the ratio of a post they stand for (ranked per post), or a reason"
    " for departing is given.",
    _within_ratio_or_reason,
)
appointed_post = Guard(
    "appointed_post",
    "The appointment names a post of the selection that the candidate stands for and that"
    " has a place left.",
    _appointed_post,
)
inspection_team_ready = Guard(
    "inspection_team_ready",
    "The inspection team has enough members not recused, and has recorded its work.",
    _inspection_team_ready,
)
on_inspection_team = Guard(
    "on_inspection_team", "An inspector acts only for a candidate whose team they are on.",
    _on_inspection_team,
)


def _objections_settled(ctx: Context) -> Refusal | None:
    pending = list(ctx.facts.get("objections_pending") or ())
    if pending:
        first = pending[0]
        return Refusal("objection_pending",
                       "Objection {id} is '{state}'; the appointment waits until every objection is "
                       "concluded.",
                       {"objection_id": first["id"], "objection_state": first["state"],
                        "objections_pending": pending}, params={"id": first['id'], "state": first['state']})
    upheld = list(ctx.facts.get("objections_upheld") or ())
    if upheld:
        return Refusal("objection_upheld",
                       "Objection {upheld} was upheld (成立); the appointment is to be revoked, not "
                       "carried on.", {"objection_id": upheld[0], "objections_upheld": upheld}, params={"upheld": upheld[0]})
    return None


def _appointment_publicity_over(ctx: Context) -> Refusal | None:
    end, today = ctx.facts.get("appointment_publicity_end_on"), ctx.facts.get("today")
    if end is not None and today is not None and today <= end:
        return Refusal("appointment_publicity_not_ended",
                       "The pre-appointment publicity runs until {end} inclusive.",
                       {"publicity_end_on": end.isoformat(), "today": today.isoformat()}, params={"end": end})
    return None


def _final_assessment_passed(ctx: Context) -> Refusal | None:
    final = ctx.facts.get("final_assessment")
    if final is None:
        return Refusal("final_assessment_missing",
                       "Confirmation needs the final assessment of the trial (试用期满考核).")
    if not final["passed"]:
        return Refusal("final_assessment_failed",
                       "The final assessment {id} graded '{grade}': the trial ends as unfit (dismiss), "
                       "not in confirmation.",
                       {"assessment_id": final["id"], "grade": final["grade"]}, params={"id": final['id'], "grade": final['grade']})
    return None


def _assessment_in_order(ctx: Context) -> Refusal | None:
    kind = ctx.params.get("kind")
    done = ctx.facts.get("assessment_kinds") or ()
    if "final" in done:
        return Refusal("final_assessment_recorded",
                       "The final assessment is recorded; the trial is assessed no more.")
    if kind == "mid_term" and "mid_term" in done:
        return Refusal("mid_term_assessment_recorded",
                       "The mid-term assessment is recorded already.")
    return None


def _investigating_team_ready(ctx: Context) -> Refusal | None:
    team = list(ctx.params.get("investigators") or ())
    needed = ctx.facts.get("investigators_needed", 2)
    if len(set(team)) < needed:
        return Refusal("investigating_team_incomplete",
                       "The investigating team has {team} member(s); it needs at least {needed}.", {"members": len(set(team)), "needed": needed}, params={"team": len(set(team)), "needed": needed})
    return None


def _by_an_investigator(ctx: Context) -> Refusal | None:
    who = ctx.params.get("investigator_id")
    if who is not None and str(who) not in {str(x) for x in ctx.facts.get("investigators", ())}:
        return Refusal("not_an_investigator",
                       "The conversation or finding must be by a member of the investigating"
                       " team.", {"investigator_id": str(who)})
    return None


def _findings_recorded(ctx: Context) -> Refusal | None:
    if not ctx.facts.get("findings_recorded"):
        return Refusal("findings_missing",
                       "The investigating team has recorded no finding (核实情况) yet; an"
                       " objection is concluded on its findings.")
    return None


objections_settled = Guard(
    "objections_settled",
    "No objection to the appointment is still received or under investigation, and none was"
    " upheld.", _objections_settled)
final_assessment_passed = Guard(
    "final_assessment_passed",
    "The trial's final assessment (试用期满考核) is recorded with a passing grade.",
    _final_assessment_passed)
assessment_in_order = Guard(
    "assessment_in_order",
    "One mid-term assessment, then one final; nothing after the final.", _assessment_in_order)
investigating_team_ready = Guard(
    "investigating_team_ready",
    "The investigating team has at least the selection's minimum of members (2 by default).",
    _investigating_team_ready)
by_an_investigator = Guard(
    "by_an_investigator", "Conversations and findings are by a member of the team.",
    _by_an_investigator)
findings_recorded = Guard(
    "findings_recorded", "The team has recorded at least one finding.", _findings_recorded)


def _trial_complete(ctx: Context) -> Refusal | None:
    missing = list(ctx.facts.get("trial_missing") or ())
    if missing:
        return Refusal("trial_records_incomplete",
                       "The trial cannot be confirmed yet: {missing}.",
                       {"missing": missing}, params={"missing": "; ".join(missing)})
    return None


appointment_publicity_over = Guard(
    "appointment_publicity_over",
    "The pre-appointment publicity has ended.",
    _appointment_publicity_over,
)
trial_complete = Guard(
    "trial_complete",
    "The trial has run its length with a mentor, the mentor's meetings and the training hours"
    " the settings require.",
    _trial_complete,
)


# ---------------------------------------------------------------- 递补 and the branch's election
def _decided_in_backfill_meeting(ctx: Context) -> Refusal | None:
    if not ctx.facts.get("backfill_meetings"):
        return Refusal("backfill_needs_meeting",
                       "A backfill is decided by a committee meeting held during follow-up"
                       " ({path}).", params={"path": "POST /api/v1/selections/{id}/backfill-meetings"})
    return None


def backfill_post(ctx: Context) -> str | None:
    """The post a backfill names, or the selection's only post."""
    code = (ctx.params or {}).get("post")
    posts = ctx.facts.get("named_posts") or {}
    return code if code is not None else (next(iter(posts)) if len(posts) == 1 else None)


def _post_vacant(ctx: Context) -> Refusal | None:
    posts = ctx.facts.get("named_posts") or {}
    code = backfill_post(ctx)
    if code is None:
        return Refusal("post_required", "The selection has {count} posts; the backfill names"
                       " the post.", {"posts": list(posts)}, params={"count": len(posts)})
    if code not in posts:
        return Refusal("unknown_post", "'{post}' is not a post of this selection.",
                       {"post": code, "posts": list(posts)}, params={"post": code})
    stands = list(ctx.facts.get("candidate_posts") or ())
    if code not in stands:
        return Refusal("post_not_stood_for", "The reserve did not stand for the post '{post}'.",
                       {"post": code, "stands_for": stands}, params={"post": code})
    v = (ctx.facts.get("vacancies") or {}).get(code) or {"vacated": [], "open": []}
    if not v["vacated"]:
        return Refusal("no_vacancy", "The post '{post}' has no vacancy (nobody revoked, found"
                       " unfit, withdrawn, not elected or not approved): there is nothing to"
                       " backfill.", {"post": code}, params={"post": code})
    if not v["open"]:
        return Refusal("post_refilled", "The vacancy of the post '{post}' is filled already.",
                       {"post": code, "vacated_by": v["vacated"]}, params={"post": code})
    return None


def _in_rank_order_or_reason(ctx: Context) -> Refusal | None:
    code = backfill_post(ctx)
    order = list((ctx.facts.get("backfill_order") or {}).get(code) or ())
    me = ctx.facts.get("candidate_id")
    if not order or me not in order or order[0] == me or (ctx.reason or "").strip():
        return None
    return Refusal("departs_from_rank_order",
                   "The reserve is number {position} in the rank order of the reserves for the"
                   " post '{post}'; backfilling out of rank order needs a recorded reason.",
                   {"post": code, "position": order.index(me) + 1, "rank_order": order},
                   params={"post": code, "position": order.index(me) + 1})


selection_following_up = Guard(
    "selection_following_up", "The selection is in its follow-up.",
    _selection_is("following_up"))
decided_in_backfill_meeting = Guard(
    "decided_in_backfill_meeting",
    "A committee meeting held during follow-up decided the backfill (its quorum and votes"
    " as for the decision).", _decided_in_backfill_meeting)
post_vacant = Guard(
    "post_vacant",
    "The post named (or the only post) was vacated and not yet refilled, and the reserve"
    " stood for it.", _post_vacant)
in_rank_order_or_reason = Guard(
    "in_rank_order_or_reason",
    "The reserve comes first in the rank order of this selection's reserves for the post, or"
    " a reason for departing is given.", _in_rank_order_or_reason)


def _election_required(ctx: Context) -> Refusal | None:
    if not ctx.facts.get("branch_election"):
        return Refusal("election_not_required", "This selection has no branch election"
                       " (settings.branch_election is off).")
    return None


def _election_not_held(ctx: Context) -> Refusal | None:
    if ctx.facts.get("election"):
        return Refusal("election_recorded", "The branch's election is recorded already.")
    return None


def _election_quorum_met(ctx: Context) -> Refusal | None:
    due, present = ctx.params.get("members_due"), ctx.params.get("present_with_vote")
    if due is None or present is None:
        return None  # asked before the meeting's counts are given (the action's options)
    share = Fraction(ctx.facts.get("election_quorum", 0.8)).limit_denominator(1000)
    if present > due * share:
        return None
    return Refusal("election_quorum_not_met",
                   "{present} of {due} members with a vote are present; the election meeting"
                   " is valid only when those present exceed {share} of those due. It is to be"
                   " held again.",
                   {"members_due": due, "present_with_vote": present,
                    "election_quorum": ctx.facts.get("election_quorum")},
                   params={"present": present, "due": due,
                           "share": f"{share.numerator}/{share.denominator}"})


def _election_lost(ctx: Context) -> Refusal | None:
    e = ctx.facts.get("election")
    if not e or e.get("elected"):
        return Refusal("election_not_lost",
                       "Only a recorded election that did not elect ends as not elected.")
    return None


def _elected(ctx: Context) -> Refusal | None:
    e = ctx.facts.get("election")
    if not ctx.facts.get("branch_election"):
        return _election_required(ctx)
    if not e:
        return Refusal("election_not_held",
                       "The branch has not held its election; the approval follows it.")
    return None


def _approval_not_recorded(ctx: Context) -> Refusal | None:
    if ctx.facts.get("approval"):
        return Refusal("approval_recorded",
                       "The higher committee's decision is recorded already.")
    return None


def _election_approved(ctx: Context) -> Refusal | None:
    if not ctx.facts.get("branch_election"):
        return None
    if not ctx.facts.get("election"):
        return Refusal("election_not_held",
                       "This selection has the branch's election: after the publicity, the"
                       " branch elects and the higher committee approves before the trial"
                       " starts.")
    if not ctx.facts.get("approval"):
        return Refusal("approval_missing", "The election awaits the higher committee's"
                       " approval; the trial starts after it.")
    return None


election_required = Guard("election_required",
                          "The selection's settings have the branch's election on.",
                          _election_required)
election_not_held = Guard("election_not_held", "No election is recorded yet.",
                          _election_not_held)
election_quorum_met = Guard(
    "election_quorum_met",
    "Those present with a vote exceed the selection's election_quorum (4/5 by default) of"
    " the members due.", _election_quorum_met)
election_lost = Guard("election_lost", "The recorded election did not elect.", _election_lost)
elected = Guard("elected", "The branch's election is recorded (and elected: otherwise the"
                " candidate is not elected).", _elected)
approval_not_recorded = Guard("approval_not_recorded",
                              "The higher committee's decision is not recorded yet.",
                              _approval_not_recorded)
election_approved = Guard(
    "election_approved",
    "With the branch's election on: elected by the branch and approved by the higher"
    " committee.", _election_approved)
