"""The full-process record as a whole: verify its hash chains."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..core.deps import AdminUser, ClockDep, SessionDep
from ..core.errors import problems
from ..core.examples import enum_example
from ..core.routing import api_router
from ..record import service as record

router = api_router(prefix="/api/v1/admin/record",
                   tags=["record"])


# The kinds of problem the verification names: identifiers, as the problem codes are.
BrokenCode = enum_example("row_changed")(StrEnum(  # type: ignore[misc]
    "BrokenCode", {c: c for c in record.BROKEN_CODES}))
BrokenCode.__doc__ = ("What kind of problem the record's verification found: a stable"
                      " identifier (`first_broken.problem` says it in the reader's language)")


class BrokenLinkPublic(BaseModel):
    """The first link of the record that does not hold, and why."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "event_id": "9b0c1d2e-3f4a-4b5c-96d7-e8f9a0b1c2d3", "subject_type": "candidate",
        "subject_id": "7d3e1a52-4c8b-4f0e-9b6a-1c2d3e4f5a6b", "seq": 2,
        "code": "hash_mismatch", "problem": "哈希值与事件内容不符"}})

    event_id: uuid.UUID | None = Field(description="None when events are missing")
    subject_type: str
    subject_id: uuid.UUID
    seq: int
    code: BrokenCode = Field(description="What kind of problem, a stable identifier")
    problem: str = Field(description="Why, in the request's language")


class Verification(BaseModel):
    """Whether every subject's chain of events holds, every row that decides an outcome and
    every subject's state match their events, and the first problem if not."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "intact": False, "events_verified": 1284, "unkeyed_events": 0, "rows_checked": 310,
        "rows_not_covered": 0, "subjects_checked": 0,
        "checkpoint_at": "2026-11-21T08:57:14.236248Z", "events_after_checkpoint": 12,
        "vouching": "每条链截至 2026年11月21日 16:57:14 的自动检查点均有担保；其后的 12 个事件"
                    "仅由带密钥的链担保；310 条决定结果的数据与其事件一致；0 个对象的状态与其最新事件一致",
        "first_broken": {
            "event_id": None, "subject_type": "candidate",
            "subject_id": "7d3e1a52-4c8b-4f0e-9b6a-1c2d3e4f5a6b", "seq": 5,
            "code": "row_changed",
            "problem": "score_sheet 9b0c1d2e-3f4a-4b5c-96d7-e8f9a0b1c2d3 与事件"
                       " 0c1d2e3f-4a5b-4c6d-97e8-f9a0b1c2d3e4 所记录的内容不一致：total 现为"
                       " 10.0，事件记录的是 86.8"}}})

    intact: bool
    events_verified: int
    unkeyed_events: int = Field(description="Events written before the record was keyed"
                                " (plain sha256 links)")
    rows_checked: int = Field(description="Score sheets, committee meetings and inspection"
                              " records that match the digest their event carries")
    rows_not_covered: int = Field(description="Older rows whose event carries no digest")
    subjects_checked: int = Field(description="Selections and candidates whose state is their"
                                  " newest event's to_state")
    checkpoint_at: datetime | None = Field(description="The newest automatic checkpoint")
    events_after_checkpoint: int = Field(description="Events newer than that checkpoint,"
                                         " covered by the keyed chain only")
    vouching: str = Field(description="How far back the record is vouched for, in a sentence")
    first_broken: BrokenLinkPublic | None


@router.get("/verification", response_model=Verification, responses=problems(401, 403))
def verify_record(session: SessionDep, admin: AdminUser) -> Verification:
    """Walk every keyed chain of the record (streaming), against the newest automatic
    checkpoint, then every row that decides an outcome and every subject's state against
    their events; name the first problem, if any — the same check as `python -m service
    verify-record`."""
    report = record.verify_report(session)
    broken = report.broken
    return Verification(
        intact=broken is None, events_verified=report.events,
        unkeyed_events=report.unkeyed_events, rows_checked=report.rows_checked,
        rows_not_covered=report.rows_not_covered, subjects_checked=report.subjects_checked,
        checkpoint_at=report.checkpoint_at, events_after_checkpoint=report.events_after_checkpoint,
        vouching=record.vouching(report),
        first_broken=BrokenLinkPublic(
            event_id=broken.event_id, subject_type=broken.subject_type,
            subject_id=broken.subject_id, seq=broken.seq, code=broken.code,
            problem=broken.text()) if broken else None)


class Checkpoint(BaseModel):
    """Every chain's newest event and one digest over them: keep it outside the database
    (a file, another system) and give it to `verify-record --checkpoint` later."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "format": 1, "created_at": "2026-11-21T08:57:14.236248+00:00", "chains": 2, "events": 3,
        "digest": "ba4f16ec95d2099022e020b973ad823cb62fc2dacac8b4fe60524d86f1f8bdb4",
        "heads": [
            ["candidate", "7d3e1a52-4c8b-4f0e-9b6a-1c2d3e4f5a6b", 1,
             "204de2d50ab57d5315cd2ff685d9b23462c685a96cc99c2f7bade172d71cd7ee"],
            ["selection", "5b0c2f6a-9d1e-4c7b-8a3f-2e1d0c9b8a7f", 2,
             "d6be31ca43ea608c25cd7cdf9312db98569a4eca827b7032ce23ac54c9d2e633"]]}})

    format: int = Field(description="1")
    created_at: str
    chains: int
    events: int
    digest: str = Field(description="sha256 over the heads, one line each")
    heads: list[list[str | int]] = Field(description="[subject_type, subject_id, seq, hash], in"
                                         " order")


@router.get("/checkpoint", response_model=Checkpoint, responses=problems(401, 403))
def record_checkpoint(session: SessionDep, admin: AdminUser, clock: ClockDep) -> dict[str, Any]:
    """A checkpoint of the record, as `python -m service checkpoint` writes it. Fetch it on a
    schedule and keep it where the database's operators cannot rewrite it: the hash links
    alone cannot show that a chain's newest events, or a whole chain, were removed; a
    checkpoint can."""
    return record.checkpoint(session, clock.real_now)
