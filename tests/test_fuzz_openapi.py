"""schemathesis against a real `ugene serve`: every operation of /openapi.json, with data that follows
the document (positive) and data that breaks it (negative), never answers a server error (5xx).

Bounded and reproducible: a fixed number of derandomized examples per operation and mode. Each call
carries a fresh admin session, so a logout or a delete-account in one example spoils no other.
"""
import asyncio
import itertools

import asyncpg
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from ugene.accounts import create_user
from ugene.clock import Clock
from ugene.sessions import Sessions

from .conftest import free_port
from .served import CHEAP_ARGON2, Server, serve_env

pytestmark = pytest.mark.check

SECRET = "openapi-fuzz-secret-" + "s" * 40
# POST /api holds every param as a oneOf of envelopes: it gets the most examples.
EXAMPLES = {"POST /api": 120, "PUT /api": 10}
DEFAULT_EXAMPLES = 6
SERIAL = itertools.count()


@pytest.fixture(scope="module")
def live(pg, tmp_path_factory):
    root = tmp_path_factory.mktemp("openapi")
    env = serve_env(root / "data", free_port(), **CHEAP_ARGON2, UGENE_DATABASE_URL=pg, UGENE_SECRET=SECRET)
    server = Server(env, root / "ugene.log").start()
    yield server
    server.stop()


def fresh_token(dsn: str) -> str:
    """A new completed admin account and session, written straight into the server's database."""
    async def make() -> str:
        conn = await asyncpg.connect(dsn)
        try:
            n = next(SERIAL)
            async with conn.transaction():
                user = await create_user(conn, Clock(), username=f"st{n}-{id(conn) % 10000}",
                                         email=f"st{n}-{id(conn) % 10000}@example.test", password_hash="x",
                                         completed=True, is_admin=True)
            issued = await Sessions(SECRET, Clock(), 3600, 86400).create(conn, user, completed=True)
            return issued.token
        finally:
            await conn.close()
    return asyncio.run(make())


def test_no_operation_of_the_openapi_document_answers_a_server_error(live, pg):
    schema = schemathesis.openapi.from_url(f"{live.base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10
    failures, calls = [], []
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(max_examples=EXAMPLES.get(label, DEFAULT_EXAMPLES), deadline=None, derandomize=True,
                      database=None, suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                calls.append(label)
                headers = {"X-Authorization-Token": f"Bearer {fresh_token(pg)}"}
                response = case.call(base_url=live.base, headers=headers, timeout=30)
                case.validate_response(response, checks=[not_a_server_error])

            try:
                run()
            except Unsatisfiable:
                continue                        # nothing can break this operation's document (no input)
            except Exception as error:          # collect them all: one report for every operation
                failures.append(f"{label} ({mode.value}): {str(error)[:2000]}")
    print(f"FIGURE schemathesis: calls={len(calls)} operations={len(set(calls))}/{len(operations)} "
          f"server_errors={len(failures)}", flush=True)
    assert not failures, "\n\n".join(failures)
    assert "Traceback" not in live.output()
