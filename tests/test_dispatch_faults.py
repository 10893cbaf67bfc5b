"""Faults become envelopes: a handler's exception (002005), the database down (002008), the order of checks."""
import logging

import pytest

from ugene import PUBLIC, SESSION, Args, Code, Module, NoArgs, Reply, UgeneError, admin
from ugene.app import create_app
from ugene.registry import discover


def faulty_registry():
    registry = discover()
    module = Module("faulty", description="raises on purpose")

    @module.param("boom", access=PUBLIC)
    async def boom(ctx, args: NoArgs) -> Reply:
        """Fail with a secret in the message."""
        raise RuntimeError("SELECT secret FROM /etc/passwd")

    class Strict(Args):
        n: int

    @module.param("guarded", access=admin(1))
    async def guarded(ctx, args: Strict) -> Reply:
        """Need an admin."""
        return Reply.data(args.n)

    @module.param("mine", access=SESSION)
    async def mine(ctx, args: NoArgs) -> Reply:
        """Need a session."""
        return Reply.data(ctx.user["uid"])

    @module.param("keep", access=PUBLIC)
    async def keep(ctx, args: NoArgs) -> Reply:
        """Write, then fail while keeping the write."""
        await ctx.conn.execute("INSERT INTO ugene_setting (key, value) VALUES ('kept', 'true')")
        raise UgeneError(Code.NOT_POSSIBLE, commit=True)

    @module.param("undo", access=PUBLIC)
    async def undo(ctx, args: NoArgs) -> Reply:
        """Write, then fail: the write is rolled back."""
        await ctx.conn.execute("INSERT INTO ugene_setting (key, value) VALUES ('undone', 'true')")
        raise UgeneError(Code.NOT_POSSIBLE)

    registry.add(module)
    return registry


async def faulty_client(settings, clock, aiohttp_client):
    return await aiohttp_client(create_app(settings, clock=clock, registry=faulty_registry()))


@pytest.mark.check
async def test_handler_exception_is_002005_with_request_id_and_no_trace(settings, clock, db, aiohttp_client, caplog):
    client = await faulty_client(settings, clock, aiohttp_client)
    with caplog.at_level(logging.ERROR):
        response = await client.post("/api", json={"module": "faulty", "param": "boom"})
    text = await response.text()
    assert response.status == 500
    assert '"error":"002005"' in text
    assert "passwd" not in text and "SELECT" not in text and "Traceback" not in text
    request_id = response.headers["X-Request-Id"]
    assert any(request_id in record.getMessage() for record in caplog.records)


@pytest.mark.check
async def test_order_of_checks_anonymous_admin_call_with_bad_args_is_003012(settings, clock, db, aiohttp_client):
    client = await faulty_client(settings, clock, aiohttp_client)
    body = await (await client.post("/api", json={"module": "faulty", "param": "guarded",
                                                  "args": {"n": "x"}})).json()
    assert body["error"] == "003012"


async def test_session_param_without_token_is_004004(settings, clock, db, aiohttp_client):
    client = await faulty_client(settings, clock, aiohttp_client)
    response = await client.post("/api", json={"module": "faulty", "param": "mine"})
    assert response.status == 401 and (await response.json())["error"] == "004004"


async def test_get_on_a_post_only_param_is_002001(settings, clock, db, aiohttp_client):
    client = await faulty_client(settings, clock, aiohttp_client)
    body = await (await client.get("/api/faulty/keep/en")).json()
    assert body["error"] == "002001"


async def test_error_with_commit_keeps_writes_and_plain_error_rolls_back(settings, clock, db, aiohttp_client):
    client = await faulty_client(settings, clock, aiohttp_client)
    await client.post("/api", json={"module": "faulty", "param": "keep"})
    await client.post("/api", json={"module": "faulty", "param": "undo"})
    keys = {row["key"] for row in await db.fetch("SELECT key FROM ugene_setting")}
    assert "kept" in keys and "undone" not in keys


async def test_database_down_is_002008_with_retry_after(settings, clock, db, aiohttp_client, tmp_path):
    down = settings.with_(database_url=f"postgresql://ugene@/ugene?host={tmp_path}", pool_min=0,
                          pool_acquire_timeout=1)
    client = await aiohttp_client(create_app(down, clock=clock))
    response = await client.post("/api", json={"module": "general", "param": "status"})
    body = await response.json()
    assert response.status == 503 and body["error"] == "002008"
    assert response.headers["Retry-After"]
    assert (await client.get("/readyz")).status == 503
    assert (await client.get("/healthz")).status == 200
