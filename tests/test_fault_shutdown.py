"""SIGTERM under load, on a real `ugene serve`: requests in flight finish and commit, new connections
are refused at once, and the process exits within UGENE_SHUTDOWN_TIMEOUT even when one request would
run far longer (it is cut and rolled back)."""
import asyncio
import re
import signal
import socket
import time
from pathlib import Path

import aiohttp
import pytest

from .conftest import free_port
from .served import CHEAP_ARGON2, Server, call, client, eventually, figure, serve_env

pytestmark = pytest.mark.check
PLUGINS = Path(__file__).parent / "fault_plugins"
SHUTDOWN = 4.0         # UGENE_SHUTDOWN_TIMEOUT
IN_FLIGHT, NAP = 16, 1.5
MARGIN = 1.5           # the process's own cleanup: pool closed, claims given back


async def test_sigterm_finishes_requests_in_flight_refuses_new_ones_and_exits_within_its_timeout(pg, db, tmp_path):
    env = serve_env(tmp_path / "data", free_port(), UGENE_DATABASE_URL=pg, UGENE_MODULES_DIR=str(PLUGINS),
                    UGENE_SHUTDOWN_TIMEOUT=str(SHUTDOWN), UGENE_POOL_MAX="30", **CHEAP_ARGON2)
    server = Server(env, tmp_path / "serve.log").start()
    try:
        async with client() as http:
            naps = [asyncio.create_task(call(http, server.base, "slow", "nap", seconds=NAP, mark=f"n{i}"))
                    for i in range(IN_FLIGHT)]
            stuck = asyncio.create_task(call(http, server.base, "slow", "nap", seconds=60, mark="stuck"))
            await eventually(lambda: _in_use(server.base, IN_FLIGHT + 1), 10, "every slow request under way")
            server.signal(signal.SIGTERM)
            signalled = time.monotonic()
            await eventually(lambda: _refused(server.port), 2, "new connections refused")
            refused_after = time.monotonic() - signalled
            with pytest.raises(aiohttp.ClientConnectionError):
                async with aiohttp.ClientSession() as fresh:
                    await call(fresh, server.base, "general", "status", timeout=5)
            answers = await asyncio.gather(*naps)
            finished_after = time.monotonic() - signalled
            cut = (await asyncio.gather(stuck, return_exceptions=True))[0]
        status = await asyncio.to_thread(server.wait, SHUTDOWN + 10)
        exited_after = time.monotonic() - signalled
    finally:
        server.stop()
    assert [a.ok for a in answers] == [True] * IN_FLIGHT, [a.body for a in answers if not a.ok]
    assert isinstance(cut, aiohttp.ClientError)          # the connection closed without an answer
    assert status == 0
    assert exited_after <= SHUTDOWN + MARGIN
    marks = {r["key"] for r in await db.fetch("SELECT key FROM ugene_setting WHERE key LIKE 'nap:%'")}
    assert marks == {f"nap:n{i}" for i in range(IN_FLIGHT)}   # the cut request's write was rolled back
    figure("sigterm", in_flight=IN_FLIGHT + 1, completed=IN_FLIGHT, cut=1, refused_ms=refused_after * 1000,
           in_flight_done_s=finished_after, exit_s=exited_after, shutdown_timeout_s=SHUTDOWN)


async def _in_use(base: str, count: int) -> bool:
    """The pool gauge of /metrics: that many connections are held by requests."""
    async with aiohttp.ClientSession() as fresh:
        async with fresh.get(f"{base}/metrics") as response:
            text = await response.text()
    return float(re.search(r"^ugene_db_pool_in_use (\S+)$", text, re.M).group(1)) >= count


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        try:
            probe.connect(("127.0.0.1", port))
        except (ConnectionRefusedError, ConnectionResetError):   # a reset is the listener closing on us
            return True
    return False
