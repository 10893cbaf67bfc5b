"""Fuzzing with Hypothesis over real HTTP: the envelope parser with arbitrary bytes and JSON, and every
param's arguments drawn from the JSON Schema that GET /api/schema publishes for it. Whatever comes in,
the answer is an envelope with a status below 500, no trace in it and no error logged by the server.

Bounded and reproducible: a fixed number of examples per test, derandomized, no example database.
"""
import itertools
import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from argon2 import PasswordHasher
from hypothesis_jsonschema import from_schema

from ugene.accounts import create_user
from ugene.registry import discover

pytestmark = pytest.mark.check

FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])
REGISTRY = discover()
PARAMS = sorted(f"{m.name}/{p}" for m in REGISTRY.modules.values() for p in m.params)
# One stored password hash for every fuzzing account: hashing once per example would only cost time.
DIGEST = PasswordHasher(memory_cost=8192, time_cost=1).hash("Correct7Horse")
NAMES = sorted({*REGISTRY.modules, *(p for m in REGISTRY.modules.values() for p in m.params)})

# Strings that broke or could break something somewhere: NUL, lone surrogates, line breaks, huge numbers
# as text, SQL and path fragments, right-to-left marks, astral characters, format strings.
NASTY = st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff", "\r\nX-Injected: 1", "\u2028", "%00", "%ff",
                         "' OR '1'='1", "1; DROP TABLE ugene_user; --", "../../etc/passwd", "\u202e", "𝔘𝔤𝔢𝔫𝔢",
                         "%s%n{0}{}", "9" * 400, "-1", "0", "", " ", "true", "null", "NaN", "1e309", "A" * 5000])
SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2 ** 63 - 2, max_value=2 ** 70)
           | st.floats() | st.text(max_size=40) | NASTY)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
NAME = st.sampled_from(NAMES) | st.text(max_size=20) | JSON
ENVELOPE = st.fixed_dictionaries({"module": NAME, "param": NAME}, optional={
    "args": st.dictionaries(st.text(max_size=12), JSON, max_size=5) | JSON,
    "language": st.sampled_from(["en", "vi", "ru", "chi"]) | JSON, "timestamp": JSON})
BODY = (st.binary(max_size=400) | JSON.map(json.dumps).map(str.encode)
        | ENVELOPE.map(lambda e: json.dumps(e, ensure_ascii=False).encode("utf-8", "surrogatepass")))


def assert_clean(status: int, text: str, caplog):
    """An envelope below 500, no trace in the body, and nothing the server logged as an error."""
    assert status < 500, text
    body = json.loads(text)
    assert body["success"] in (0, 1) and "timestamp" in body and "session" in body, text
    assert "Traceback" not in text and 'File "' not in text, text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith(("ugene", "aiohttp"))]
    assert not errors, [r.getMessage() for r in errors]


@FUZZ
@given(body=BODY)
async def test_the_envelope_parser_takes_any_body(api, caplog, body):
    caplog.clear()
    response = await api.client.post("/api", data=body, headers={"Content-Type": "application/json"})
    assert_clean(response.status, await response.text(), caplog)


SERIAL = itertools.count()
STRATEGIES: dict[str, st.SearchStrategy] = {}


async def arguments(api, module: str, param: str) -> st.SearchStrategy:
    """Valid-looking arguments from the published schema (they reach the handler), or arbitrary ones
    (they test the argument model's edges)."""
    key = f"{module}/{param}"
    if key not in STRATEGIES:
        schema = (await api.get("/api/schema")).answer["data"]["modules"][module]["params"][param]["args"]
        properties = sorted(schema.get("properties", {}))
        names = st.sampled_from(properties or ["x"]) | st.text(max_size=8)
        # Every declared argument with a hostile value: what reaches the handler's string handling.
        hostile = st.fixed_dictionaries({}, optional={name: NASTY | JSON for name in properties})
        STRATEGIES[key] = from_schema(schema) | hostile | st.dictionaries(names, JSON, max_size=4)
    return STRATEGIES[key]


async def fresh_token(api, access) -> str | None:
    """A new account and session for every example, so one example cannot spoil the next (a
    delete-account or logout with valid arguments really ends its account or session)."""
    if access.kind == "public":
        return None
    services, n = api.services, next(SERIAL)
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            user = await create_user(conn, services.clock, username=f"fuzz{n}", email=f"fuzz{n}@example.test",
                                     password_hash=DIGEST, completed=True, is_admin=access.kind == "admin")
        issued = await services.sessions.create(conn, user, completed=access.kind != "partial")
    return issued.token


@pytest.mark.parametrize("name", PARAMS)
@FUZZ
@given(data=st.data())
async def test_every_param_takes_any_arguments_its_schema_allows_and_more(api, caplog, name, data):
    module, param = name.split("/")
    args = data.draw(await arguments(api, module, param), label="args")
    caplog.clear()
    token = await fresh_token(api, api.services.registry.find(module, param).access)
    headers = {"X-Authorization-Token": f"Bearer {token}"} if token else {}
    body = json.dumps({"module": module, "param": param, "args": args, "language": "en"})
    response = await api.client.post("/api", data=body, headers={"Content-Type": "application/json", **headers})
    assert_clean(response.status, await response.text(), caplog)
