"""No param may hold the last quarter of the pool: a flood of slow calls leaves connections for the others."""
import asyncio

from ugene import PUBLIC, Module, NoArgs, Reply
from ugene.app import create_app
from ugene.registry import discover


def slow_registry(entered: list, release: asyncio.Event):
    registry = discover()
    module = Module("slow", description="holds its connection until released")

    @module.param("wait", access=PUBLIC)
    async def wait(ctx, args: NoArgs) -> Reply:
        """Hold the request's connection (like a sign-in waiting for argon2) until released."""
        await ctx.conn.fetchval("SELECT 1")
        entered.append(1)
        await release.wait()
        return Reply.data(len(entered))

    registry.add(module)
    return registry


async def until(condition, rounds: int = 500):
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


async def test_flood_of_one_param_leaves_connections_for_other_params(settings, clock, db, aiohttp_client):
    entered, release = [], asyncio.Event()
    app = create_app(settings.with_(pool_max=4, pool_acquire_timeout=3), clock=clock,
                     registry=slow_registry(entered, release))
    client = await aiohttp_client(app)
    flood = [asyncio.create_task(client.post("/api", json={"module": "slow", "param": "wait"})) for _ in range(5)]
    await until(lambda: len(entered) == 3)
    status = await client.post("/api", json={"module": "general", "param": "status"})
    assert status.status == 200 and (await status.json())["success"] == 1
    assert len(entered) == 3          # the other two wait for a share, not holding connections
    release.set()
    answers = [await (await task).json() for task in flood]
    assert [a["success"] for a in answers] == [1, 1, 1, 1, 1]


async def test_call_waiting_longer_than_the_acquire_timeout_for_its_share_is_002008(settings, clock, db,
                                                                                     aiohttp_client):
    entered, release = [], asyncio.Event()
    app = create_app(settings.with_(pool_max=2, pool_acquire_timeout=0.3), clock=clock,
                     registry=slow_registry(entered, release))
    client = await aiohttp_client(app)
    held = asyncio.create_task(client.post("/api", json={"module": "slow", "param": "wait"}))
    await until(lambda: len(entered) == 1)
    late = await client.post("/api", json={"module": "slow", "param": "wait"})
    body = await late.json()
    assert late.status == 503 and body["error"] == "002008" and late.headers["Retry-After"] == "2"
    release.set()
    assert (await (await held).json())["success"] == 1
