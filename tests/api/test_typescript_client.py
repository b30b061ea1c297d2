"""A front-end integrates from the OpenAPI document alone: a TypeScript client generated from
openapi/openapi.json with openapi-typescript, used through openapi-fetch, runs one selection
from step 1 to step 4 against a live server, and refuses wrong actions at compile time.

clients/ts/ pins openapi-typescript, openapi-fetch and TypeScript (package.json and
package-lock.json; `.ci/run` runs `npm ci` there). The test copies the scripts beside a client
generated now from the committed document, type-checks them with `tsc --strict`, and runs the
compiled scenario with node. Without node and npm the test is skipped, saying so; with
REQUIRE_NODE=1 (or REQUIRE_BROWSER=1, as CI sets) it fails instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.api.conftest import ADMIN, PASSWORD
from tests.reliability._live import ROOT

CLIENTS = ROOT / "clients" / "ts"
DOCUMENT = ROOT / "openapi" / "openapi.json"
SCRIPTS = ("scenario.ts", "wrong-actions.ts", "tsconfig.json", "tsconfig.wrong.json",
           "package.json")


def _run(args: list[str], cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def typescript(tmp_path_factory) -> Path:
    """A directory with the scripts, the pinned packages and `api.d.ts` generated from the
    committed document."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        reason = "node and npm are needed for the TypeScript client (apt-get install nodejs npm)"
        if os.environ.get("REQUIRE_NODE") == "1" or os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason + "; REQUIRE_NODE=1 / REQUIRE_BROWSER=1 makes that a failure")
        pytest.skip(reason)
    modules = CLIENTS / "node_modules"
    if not (modules / ".bin" / "tsc").exists():
        r = _run([npm, "ci", "--no-audit", "--no-fund"], CLIENTS)
        assert r.returncode == 0, "npm ci in clients/ts failed:\n" + r.stdout + r.stderr
    work = tmp_path_factory.mktemp("ts-client")
    for name in SCRIPTS:
        shutil.copy(CLIENTS / name, work / name)
    (work / "node_modules").symlink_to(modules, target_is_directory=True)
    r = _run([str(modules / ".bin" / "openapi-typescript"), str(DOCUMENT), "-o",
              str(work / "api.d.ts")], work)
    assert r.returncode == 0, r.stdout + r.stderr
    return work


def test_the_generated_client_runs_a_selection_from_step_1_to_step_4(typescript, live_server):
    tsc = str(typescript / "node_modules" / ".bin" / "tsc")
    r = _run([tsc, "-p", "tsconfig.json"], typescript)
    assert r.returncode == 0, "tsc --strict refused the scenario:\n" + r.stdout + r.stderr
    r = _run(["node", "build/scenario.js", live_server.base_url, ADMIN, PASSWORD], typescript,
             timeout=240)
    assert r.returncode == 0, r.stderr + live_server.log_tail()
    seen = json.loads(r.stdout.strip().splitlines()[-1])

    assert seen["created"] == {"state": "drafting", "status": 201,
                               "location": seen["created"]["location"]}
    assert seen["created"]["location"].startswith("/api/v1/selections/")
    assert seen["stale_patch"] == {"status": 412, "code": "precondition_failed"}
    assert seen["published"] == {"state": "publicizing", "publicity_end_on": "2026-10-13"}
    assert seen["not_modified"] == 304
    assert seen["nominator"] == {"roles": ["nominator"], "nominating_body": {
        "kind": "party_organization", "name": "机关党委"}}
    assert seen["early_close"] == {"status": 409, "code": "publicity_not_ended"}
    assert seen["inspected"] == "inspected"
    assert seen["decisions"] == [{"outcome": "appointed", "votes_for": 4}]
    final = seen["final"]
    assert final["selection_state"] == "following_up"
    assert final["candidate_state"] == "on_trial"
    assert final["follow_up_state"] == "on_trial"
    assert final["records"] == ["party_lesson"]
    assert final["state_label_en"] == "On trial"
    assert final["actions"][:2] == ["nominate", "consent"]
    for action in ("pass_prereview", "pass_interview", "pass_inspection", "decide_appoint",
                   "start_trial"):
        assert action in final["actions"]


def test_a_wrong_action_or_wrong_params_do_not_compile(typescript):
    source = (typescript / "wrong-actions.ts").read_text().splitlines()
    marked = {n for n, line in enumerate(source, 1)
              if "// wrong:" in line and not line.lstrip().startswith("//")}
    assert len(marked) == 6
    tsc = str(typescript / "node_modules" / ".bin" / "tsc")
    r = _run([tsc, "-p", "tsconfig.wrong.json"], typescript)
    assert r.returncode != 0, "tsc accepted the wrong calls"
    errors = re.findall(r"^wrong-actions\.ts\((\d+),\d+\): error (TS\d+): (.*)$", r.stdout,
                        re.MULTILINE)
    # Every mistake is refused, each on its own line, and nothing else is.
    assert {int(line) for line, _, _ in errors} == marked, r.stdout
    by_line = {int(line): message for line, _, message in errors}
    lines = sorted(marked)
    assert "actions/pubish" in by_line[lines[0]]
    assert "'string' is not assignable to type 'number'" in by_line[lines[1]]
    assert "'start_day' does not exist" in by_line[lines[2]]
    assert "reason" in by_line[lines[3]]
    assert "actions/consent" in by_line[lines[4]]
    assert "'\"publicity_not_ended\"'" in by_line[lines[5]] and "no overlap" in by_line[lines[5]]
