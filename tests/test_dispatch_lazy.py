"""The request's transaction begins with the handler's first statement (ugene.lazy)."""
from ugene import PUBLIC, Code, Module, NoArgs, Reply, UgeneError
from ugene.app import create_app
from ugene.registry import discover


def lazy_registry():
    registry = discover()
    module = Module("lazy", description="shows when the request's transaction begins")

    @module.param("idle", access=PUBLIC)
    async def idle(ctx, args: NoArgs) -> Reply:
        """Never query: no transaction is begun, no connection taken from the pool."""
        return Reply.data({"in_transaction": ctx.conn.is_in_transaction(), "connected": ctx.conn.raw is not None})

    @module.param("switches", access=PUBLIC)
    async def switches(ctx, args: NoArgs) -> Reply:
        """Read the runtime switches: a read of its own, no transaction begun."""
        found = await ctx.switches()
        return Reply.data({"registration": found["allow-registration"],
                           "in_transaction": ctx.conn.is_in_transaction()})

    @module.param("busy", access=PUBLIC)
    async def busy(ctx, args: NoArgs) -> Reply:
        """The first statement begins the transaction; a savepoint and a cursor run inside it."""
        before = ctx.conn.is_in_transaction()
        await ctx.conn.execute("INSERT INTO ugene_setting (key, value) VALUES ('outer', 'true')")
        try:
            async with ctx.conn.transaction():
                await ctx.conn.execute("INSERT INTO ugene_setting (key, value) VALUES ('inner', 'true')")
                raise UgeneError(Code.NOT_POSSIBLE)
        except UgeneError:
            pass
        rows = [row[0] async for row in ctx.conn.cursor("SELECT generate_series(1, 3)")]
        return Reply.data({"before": before, "after": ctx.conn.is_in_transaction(), "rows": rows})

    @module.param("savepoint-first", access=PUBLIC)
    async def savepoint_first(ctx, args: NoArgs) -> Reply:
        """A savepoint as the first statement begins the request's transaction around it; a failure undoes both."""
        async with ctx.conn.transaction():
            await ctx.conn.execute("INSERT INTO ugene_setting (key, value) VALUES ('first', 'true')")
        raise UgeneError(Code.NOT_POSSIBLE)

    registry.add(module)
    return registry


async def client_for(settings, clock, aiohttp_client):
    return await aiohttp_client(create_app(settings, clock=clock, registry=lazy_registry()))


async def test_handler_that_never_queries_begins_no_transaction(settings, clock, db, aiohttp_client):
    client = await client_for(settings, clock, aiohttp_client)
    body = await (await client.post("/api", json={"module": "lazy", "param": "idle"})).json()
    assert body["success"] == 1 and body["answer"]["data"] == {"in_transaction": False, "connected": False}


async def test_reading_the_switches_begins_no_transaction(settings, clock, db, aiohttp_client):
    client = await client_for(settings, clock, aiohttp_client)
    body = await (await client.post("/api", json={"module": "lazy", "param": "switches"})).json()
    assert body["answer"]["data"] == {"registration": True, "in_transaction": False}


async def test_first_statement_begins_the_transaction_and_savepoints_and_cursors_run_inside(
        settings, clock, db, aiohttp_client):
    client = await client_for(settings, clock, aiohttp_client)
    body = await (await client.post("/api", json={"module": "lazy", "param": "busy"})).json()
    assert body["answer"]["data"] == {"before": False, "after": True, "rows": [1, 2, 3]}
    keys = {row["key"] for row in await db.fetch("SELECT key FROM ugene_setting")}
    assert "outer" in keys and "inner" not in keys


async def test_failing_request_rolls_back_what_a_first_savepoint_wrote(settings, clock, db, aiohttp_client):
    client = await client_for(settings, clock, aiohttp_client)
    body = await (await client.post("/api", json={"module": "lazy", "param": "savepoint-first"})).json()
    assert body["error"] == Code.NOT_POSSIBLE.value
    assert await db.fetchval("SELECT count(*) FROM ugene_setting WHERE key = 'first'") == 0
