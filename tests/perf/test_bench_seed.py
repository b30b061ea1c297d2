"""The benchmark's population is a record the service itself would have written: seeded
straight into the tables (for speed), it still verifies as intact, so the benchmark measures
the service on data it accepts, and a change of what events or deciding rows carry that the
seeder does not follow fails here rather than in a half-hour run."""

from __future__ import annotations

from bench.seed import seed
from service.core.db import get_engine, open_session
from service.record import service as record


def test_the_seeded_population_verifies_as_intact():
    info = seed(get_engine(), 120)
    assert info["counts"]["candidate"] >= 120 and info["counts"]["score_sheet"] > 0
    with open_session() as session:
        report = record.verify_report(session)
    assert report.broken is None, report.broken
    assert report.events == info["counts"]["event"]
    assert report.details.get("score_sheet") == info["counts"]["score_sheet"]
    assert report.rows_not_covered == 0
