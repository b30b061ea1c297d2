"""An HR system integrates from the OpenAPI document alone: a Python client generated from
openapi/openapi.json with openapi-python-client runs a short selection against a live server.

The client is generated once per session, as an integrator would: `openapi-python-client
generate --path openapi/openapi.json --meta none --config openapi/client-config.yaml`, with
ruff (a dev dependency) as the generator's own formatting step; nothing is fetched from the
network. Any warning of the generator fails the test, since it means part of the document did
not become code.

What the generator cannot do, and how the document and the config deal with it:

* It writes typed code only for JSON, text and octet-stream bodies; the Excel export
  (`application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`) would be dropped, so
  openapi/client-config.yaml maps that media type to octet-stream (the client returns a
  `File`).
* It reads a `oneOf` beside `properties` as a bare union and drops the properties. The
  cross-field rule of `NominationCreate` (reserve_pool needs `reserve_entry_id`, every other
  kind a `nominee`) is therefore declared as `allOf: [{oneOf: [...]}]`, which says the same in
  JSON Schema and keeps the typed model.
* An optional request body left out is sent as `UNSET`, which httpx cannot encode: the
  test always passes the action's body (`SelectionPublishRequest()`, as the document allows).
* It writes no typed response headers: the ETag is read from the response's `headers`
  (`sync_detailed`), which the document declares but the client leaves a plain mapping.
* `minProperties`/`maxProperties` (ClockSet: exactly one of `day` or `at`) and patterns are not
  checked client-side; the server refuses such a body with a 422 problem, which the client
  parses like any other.

The client is used with `raise_on_unexpected_status=True`, so a status the document does not
declare fails, and every body is parsed into the generated models, so a field the document
declares required but the service does not send fails too.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType

import pytest

from tests.api.conftest import ADMIN, PASSWORD
from tests.reliability._live import ROOT

DOCUMENT = ROOT / "openapi" / "openapi.json"
CONFIG = ROOT / "openapi" / "client-config.yaml"
PACKAGE = "selection_client"


def _tool_env() -> dict[str, str]:
    """The environment with the virtualenv's scripts (ruff) first on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}


@pytest.fixture(scope="session")
def client_package(tmp_path_factory) -> ModuleType:
    """The client generated from the committed document, importable as `selection_client`."""
    out = tmp_path_factory.mktemp("generated-client")
    r = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(DOCUMENT),
         "--output-path", str(out / PACKAGE), "--meta", "none", "--config", str(CONFIG)],
        cwd=out, env=_tool_env(), capture_output=True, text=True, timeout=120)
    output = r.stdout + r.stderr
    assert r.returncode == 0, output
    assert "Warning" not in output and "Error" not in output, output
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _typed_problem(parsed, operation_id: str, status: int):
    """A problem parsed into the model of its operation's status: its `code` is an enum of
    exactly the codes the document declares there."""
    from tests.conformance import declared_codes, operation_by_id

    assert type(parsed).__name__.startswith("Problem") and parsed.status == status, parsed
    assert {c.value for c in type(parsed.code)} == declared_codes(
        operation_by_id(operation_id), status), (operation_id, status)
    return parsed


def test_a_client_generated_from_the_document_runs_a_selection(client_package, live_server):
    sc = client_package
    m = importlib.import_module(f"{PACKAGE}.models")
    auth, sel, nom, cand, clock = (
        f"{PACKAGE}.api.{tag}" for tag in ("auth", "step_1_selections",
                                          "step_2_publicity_and_nomination", "candidates",
                                          "calendar_and_clock"))

    def op(group: str, name: str) -> ModuleType:
        """The generated module of one operation, in the package of its tag."""
        return importlib.import_module(f"{group}.{name}")

    # Log in with the password flow's form; the token is a typed model.
    anonymous = sc.Client(base_url=live_server.base_url, raise_on_unexpected_status=True)
    token = op(auth, "login").sync(client=anonymous,
                                   body=m.LoginForm(username=ADMIN, password=PASSWORD))
    assert isinstance(token, m.Token) and token.token_type == "bearer", token
    bad = op(auth, "login").sync(client=anonymous,
                                 body=m.LoginForm(username=ADMIN, password="wrong-password-1"))
    assert _typed_problem(bad, "login", 401).code.value == "invalid_credentials", bad

    client = sc.AuthenticatedClient(base_url=live_server.base_url, token=token.access_token,
                                    raise_on_unexpected_status=True,
                                    headers={"Accept-Language": "zh-CN"})
    me = op(auth, "read_me").sync(client=client)
    assert isinstance(me, m.UserPublic) and me.username == ADMIN and me.roles == ["admin"]

    # A rehearsal (情景模拟): the service's clock on Wednesday 2026-09-30.
    now = op(clock, "set_clock").sync(client=client, body=m.ClockSet(day=dt.date(2026, 9, 30)))
    assert isinstance(now, m.ClockState) and now.simulated and now.today == dt.date(2026, 9, 30)

    # Step 1: the selection with its job description (职务说明书).
    created = op(sel, "create_selection").sync_detailed(client=client, body=m.SelectionCreate(
        title="第一党支部书记公开选拔", organization="机关第一党支部", posts=1,
        job_description=m.JobDescription(
            duties=["主持支部全面工作", "落实党建工作责任制"],
            requirements=m.MachineRequirements(min_education=m.EducationLevel.BACHELOR,
                                               min_party_years=3, max_age=45))))
    assert created.status_code == 201
    selection = created.parsed
    assert isinstance(selection, m.SelectionPublic), selection
    assert selection.state == "drafting" and selection.state_label == "起草职务说明书"
    assert created.headers["location"] == f"/api/v1/selections/{selection.id}"
    assert isinstance(selection.settings, m.SelectionSettings)
    assert selection.settings.publicity_working_days == 5
    assert [c.key for c in selection.settings.interview_criteria][:2] == [
        "self_introduction", "role_cognition"]

    options = op(sel, "list_selection_actions").sync(selection.id, client=client)
    assert isinstance(options, m.ActionOptions) and options.state == "drafting"
    by_action = {a.action: a for a in options.actions}
    assert by_action["publish"].allowed
    assert not by_action["close_nominations"].allowed
    assert by_action["close_nominations"].refusal_code == "action_not_allowed_in_state"

    # Step 2: publish for 5 working days; the National Day holiday pushes the end to 10-13.
    # One operation per action, with the action's own typed params.
    published = op(sel, "selection_publish").sync(
        selection.id, client=client, if_match=created.headers["etag"],
        body=m.SelectionPublishRequest(params=m.PublishParams(start_on=dt.date(2026, 9, 30),
                                                              working_days=5)))
    assert isinstance(published, m.SelectionPublic), published
    assert published.state == "publicizing" and published.version == selection.version + 1
    assert published.publicity_end_on == dt.date(2026, 10, 13)

    nominated = op(nom, "create_nomination").sync(selection.id, client=client, body=m.NominationCreate(
        kind=m.NominatingBody.PARTY_ORGANIZATION, body_name="机关党委",
        nominee=m.Profile(full_name="李明", gender=m.Gender.MALE, birth_date=dt.date(1988, 5, 12),
                          education=m.EducationLevel.BACHELOR,
                          party_joined_on=dt.date(2012, 7, 1),
                          work_started_on=dt.date(2010, 7, 1), current_post="办公室副主任",
                          unit="机关办公室", email="liming@example.cn"),
        reasons="政治素质好，群众基础扎实", groundwork="走访同事8人，查阅档案，无不良记录"))
    assert isinstance(nominated, m.NominationResult), nominated
    assert nominated.duplicate_of_existing is False
    candidate = nominated.candidate
    assert isinstance(candidate, m.CandidateDetail) and candidate.state == "nominated"
    assert isinstance(candidate.eligibility, m.EligibilityReport)
    assert candidate.eligibility.passed and candidate.eligibility.computed_on == dt.date(2026, 10, 13)
    assert nominated.nomination.kind == "party_organization"

    page = op(nom, "list_candidates").sync(selection.id, client=client, state="nominated",
                                           kind=m.NominationKind.PARTY_ORGANIZATION)
    assert isinstance(page, m.PageCandidateSummary), page
    assert [c.full_name for c in page.items] == ["李明"] and page.next_cursor is None
    assert isinstance(page.items[0], m.CandidateSummary)
    assert [n.body_name for n in page.items[0].nominations] == ["机关党委"]

    detail = op(cand, "read_candidate").sync(candidate.id, client=client)
    assert isinstance(detail, m.CandidateDetail) and detail.profile.unit == "机关办公室"
    assert isinstance(detail.profile, m.ProfilePublic)
    events = op(cand, "list_candidate_events").sync(candidate.id, client=client)
    assert isinstance(events, m.PageEventPublic), events
    assert [e.action for e in events.items][0] == "nominate"
    assert all(isinstance(e, m.EventPublic) and e.subject_id == candidate.id
               and e.simulated_at is not None for e in events.items)
    for earlier, later in zip(events.items, events.items[1:], strict=False):
        assert later.prev_hash == earlier.hash  # the hash chain (全程纪实)

    # Problems are typed too: a refused action is a 409 with a stable code and its facts.
    refused = op(sel, "selection_close_nominations").sync_detailed(
        selection.id, client=client, body=m.SelectionCloseNominationsRequest())
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.parsed
    assert _typed_problem(problem, "selection_close_nominations", 409).code.value == (
        "publicity_not_ended")
    assert problem.details["publicity_end_on"] == "2026-10-13"
    again = op(sel, "selection_publish").sync(selection.id, client=client,
                                              body=m.SelectionPublishRequest())
    assert _typed_problem(again, "selection_publish", 409).code.value == (
        "action_not_allowed_in_state")
    missing = op(cand, "read_candidate").sync(uuid.uuid4(), client=client)
    assert _typed_problem(missing, "read_candidate", 404).code.value == "candidate_not_found"
    invalid = op(clock, "set_clock").sync(client=client, body=m.ClockSet())
    assert _typed_problem(invalid, "set_clock", 422).code.value == "validation_error"
    assert invalid.errors
