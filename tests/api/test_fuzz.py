"""Property-based fuzzing of the whole API with Schemathesis 4, from the committed OpenAPI document.

Every operation in `openapi/openapi.json` is called in process (the app's ASGI callable, on the
test database of conftest.py) with generated input — the schema's examples, boundary values
(coverage phase) and random valid and invalid data (fuzzing phase) — once authenticated as an
admin and once as a candidate. Every response goes through all of Schemathesis's checks:

* not_a_server_error            no 5xx
* status_code_conformance       every status code is documented
* content_type_conformance      every media type is documented
* response_headers_conformance  documented response headers are present and valid
* response_schema_conformance   every body matches its documented schema
* negative_data_rejection       schema-violating input is refused (4xx)
* positive_data_acceptance      schema-valid input is not refused with 400/422
* missing_required_header       a missing required header is refused
* unsupported_method            an undocumented method answers 405 with `Allow`
* allow_header_conformance      `Allow` lists exactly the documented methods
* ignored_auth                  an operation that declares auth refuses no / invalid tokens
* use_after_free, ensure_resource_availability, object_level_authorization
                                stateful / multi-identity checks: run, but they only have
                                something to compare in Schemathesis's stateful runner
* max_response_time             on only when a limit is configured; none is (timing on
                                shared CI runners is not a property of the service)

No check is excluded. To exclude one, add it to EXCLUDED_CHECKS below with the reason.

Randomly generated UUIDs would reach nothing but 404s, so each test builds a small world (a
selection being drafted, a published one with a candidate linked to the candidate user) and
some of the generated ids that are valid UUIDs are swapped for the ids of that world before the
call (each action has its own path in the document, so action names need no help): the input
stays as valid or as invalid as generated, but it reaches the handlers behind the lookups.

Bounded for CI: at most MAX_EXAMPLES random cases per operation and role (plus the examples and
boundary cases), derandomized so that every run sends the same input.

Where the document cannot state a rule the service enforces (interview weights adding up to
100, the dates of a person's profile, a national ID's check digit), `schemathesis.toml` at the
project's root widens the expected statuses of those operations alone, each with its reason;
an If-Match 412 is expected everywhere, and a 428 where If-Match is left out of a write to a
selection or candidate whose `require_if_match` is on (the world's selections have it on).
Opaque cursors are handled in `World.aim` below, and so
are Idempotency-Keys: a schema-valid key is made unique per request (what a key is for), since
a generated one repeats, and a key sent again with another body is refused (422
`idempotency_key_reused`, as documented); an invalid key is kept, and its refusal checked.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from schemathesis.config import SchemathesisConfig

from service.core import idempotency, security
from service.main import app
from tests.conftest import empty_tables

DOCUMENT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"

# The committed document, not the one the app would serve: test_openapi.py checks they are
# the same, and this is the document clients are given.
schema = schemathesis.openapi.from_path(
    DOCUMENT, config=SchemathesisConfig.from_path(DOCUMENT.parents[1] / "schemathesis.toml"))
schema.app = app  # requests go to the ASGI app in process (host `testserver`)

MAX_EXAMPLES = 10

# Built-in checks turned off, each with its reason. Empty: every check runs.
EXCLUDED_CHECKS: list[Any] = []



@pytest.fixture(scope="module", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """Argon2 at its lowest cost while this module runs. At the production cost a hash takes
    about 0.3 s on 2 cores, and these tests hash and verify passwords about a thousand times
    (users for each test, generated logins, generated users); the hashes stay argon2."""
    fast = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    saved = security._hasher
    security._hasher = fast
    security._dummy_hash.cache_clear()  # made again, with the cheap hasher, on first use
    yield
    security._hasher = saved
    security._dummy_hash.cache_clear()


def drop_made_up_cursor(case) -> None:
    """A schema-valid cursor is dropped: see World.aim."""
    query = case.query or {}
    cursor = query.get("cursor")
    if isinstance(cursor, str) and len(cursor) <= 500 and case.meta is not None and \
            case.meta.generation.mode.is_positive:
        del query["cursor"]


def fresh_idempotency_key(case) -> None:
    """A schema-valid Idempotency-Key is made unique to this request: see the module's text."""
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and re.fullmatch(idempotency.KEY_PATTERN, key):
        headers["Idempotency-Key"] = uuid.uuid4().hex


class World:
    """Resources that exist, so that generated requests can reach them."""

    def __init__(self, headers: dict[str, str], ids: dict[str, list[str]]):
        self.headers = headers
        self.ids = ids
        self._turn = itertools.count()

    def aim(self, case) -> None:
        """Swap some generated path values for real ones, keeping their validity.

        A schema-valid `cursor` is dropped: a cursor is an opaque token that is valid only
        when this service issued it (a made-up one is refused with 422 `invalid_cursor`, as
        documented), so a generated one cannot be known to be valid. Invalid cursors (too
        long, wrong type) are kept: their refusal is still checked."""
        drop_made_up_cursor(case)
        fresh_idempotency_key(case)
        params = case.path_parameters
        if not params:
            return
        for name, real in self.ids.items():
            value = params.get(name)
            if not isinstance(value, str):
                continue
            try:
                if str(uuid.UUID(value)) != value:  # only canonical, schema-valid UUIDs
                    continue
            except ValueError:
                continue
            pick = next(self._turn) % (len(real) + 1)
            if pick:  # 0 keeps the generated (unknown) id: the 404 path is tested too
                params[name] = real[pick - 1]


@pytest.fixture(params=["admin", "candidate"])
def world(request, client, admin, make_user, login, make_selection,
          make_candidate) -> Iterator[World]:
    """Per test (conftest empties the tables after each one): the caller's token and a few
    resources — one selection drafting, one publicizing with a candidate who is the
    candidate user."""
    # as new selections are by default: writes to them and their candidates need If-Match
    strict = {"settings": {"require_if_match": True}}
    drafting = make_selection(**strict)["id"]
    published = make_selection(**strict)
    r = client.post(f"/api/v1/selections/{published['id']}/actions/publish",
                    headers={**admin, "If-Match": f'"selection-{published["id"].replace("-", "")}-v1"'},
                    json={"params": {"working_days": 5}})
    published = published["id"]
    assert r.status_code == 200, r.text
    person, password = make_user("candidate")
    candidate = make_candidate(published, user_id=person.id)
    headers = admin if request.param == "admin" else login(person.username, password)
    me = client.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200, me.text
    ids = {
        "selection_id": [drafting, published],
        "candidate_id": [str(candidate)],
        "user_id": [me.json()["id"], str(person.id)],
    }
    yield World(headers, ids)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,  # the same input on every run: a failure in CI is reproducible
    database=None,  # no example database: nothing from earlier runs changes what is sent
    deadline=None,  # a request's time depends on the machine, not on the input
    # `world` is per test on purpose (conftest empties the tables after each test); the
    # examples of one test share it. Generating large bodies can be slow on 2 cores.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
def test_api(case, world: World) -> None:
    world.aim(case)
    case.call_and_validate(headers=world.headers, excluded_checks=EXCLUDED_CHECKS)


# ---------------------------------------------------------------- the stateful phase
# Chains of calls where one response feeds the next (create a selection → read it, patch it,
# run its actions; apply → the candidate's routes; create a webhook → its deliveries), along
# the links Schemathesis infers from the document (response schemas, ids in paths, Location
# headers). Each scenario starts from empty tables and runs as a fresh admin.
STATEFUL_SCENARIOS = 100
STATEFUL_STEPS = 10


class APIWorkflow(schema.as_state_machine()):  # type: ignore[misc]
    """Schemathesis's state machine over the whole API, as an admin, with every check."""

    new_admin: Any = None  # set by the test: makes an admin and returns its headers

    def setup(self) -> None:
        self.headers = type(self).new_admin()

    def before_call(self, case) -> None:
        drop_made_up_cursor(case)
        fresh_idempotency_key(case)

    def teardown(self) -> None:
        # Every scenario starts from the same (empty) database: a scenario's choices then
        # meet the same responses when Hypothesis replays or shrinks it.
        empty_tables()

    def get_call_kwargs(self, case) -> dict[str, Any]:
        return {"headers": self.headers}

    def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
        case.validate_response(response, additional_checks=additional_checks,
                               excluded_checks=EXCLUDED_CHECKS, transport_kwargs=kwargs or None,
                               recorder=getattr(self, "recorder", None))


def test_stateful(make_user, login) -> None:
    # No webhook sender runs in the background (conftest): a delivery it made or failed
    # between a scenario's first run and its replay would change what the lists answer, and
    # Hypothesis would then meet other responses for the same choices (FlakyStrategyDefinition).
    def new_admin() -> dict[str, str]:
        user, password = make_user("admin")
        return login(user.username, password)

    APIWorkflow.new_admin = staticmethod(new_admin)
    APIWorkflow.run(settings=settings(
        max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS,
        derandomize=True, database=None, deadline=None,
        suppress_health_check=list(HealthCheck)))
