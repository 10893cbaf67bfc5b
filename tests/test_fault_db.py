"""PostgreSQL restarted under load, on real processes: a cluster of the test's own, stopped and
started again while an open-loop load of reads and signups runs against `ugene serve`."""
import asyncio
import shutil

import asyncpg
import pytest

from ugene.embedded_pg import EmbeddedPostgres

from .conftest import free_port
from .served import CHEAP_ARGON2, Server, call, client, eventually, figure, get_status, serve_env
from .soak.load import open_loop, summary

pytestmark = pytest.mark.check
PASSWORD = {"pass": "Correct7Horse"}
ACQUIRE = 2.0          # UGENE_POOL_ACQUIRE_TIMEOUT: no request may wait much longer than this
MARGIN = 1.5           # for the answer itself on a loaded two-core machine
RECOVERY = 10.0        # service is back this soon after PostgreSQL accepts connections again
RATE, SECONDS = 40, 14  # 560 requests; PostgreSQL goes down at 3 s, comes back at about 7 s


@pytest.fixture
def own_pg(tmp_path):
    """A cluster this test may stop and start; the session's shared one stays up for the others.
    Durable as in production (fast=False): with synchronous_commit off, a crash would lose commits
    already answered, and the test would blame Ugene for PostgreSQL's setting."""
    cluster = EmbeddedPostgres(tmp_path / "pg", fast=False, log=lambda line: None)
    cluster.start()
    yield cluster
    cluster.stop()
    if cluster.cluster != cluster.root:    # moved out of a folder the postgres user cannot enter
        shutil.rmtree(cluster.cluster, ignore_errors=True)


def stop(cluster: EmbeddedPostgres, mode: str) -> None:
    """`fast`: an operator's restart (sessions told to end); `immediate`: as a crash (no goodbye, crash
    recovery on the next start)."""
    result = cluster._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(cluster.cluster))
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_postgres_restart_under_load_fails_fast_with_002008_and_recovers_by_itself(mode, own_pg, smtp,
                                                                                         tmp_path):
    env = serve_env(tmp_path / "data", free_port(), UGENE_DATABASE_URL=own_pg.dsn(), UGENE_SMTP_HOST="127.0.0.1",
                    UGENE_SMTP_PORT=str(smtp.port), UGENE_POOL_ACQUIRE_TIMEOUT=str(ACQUIRE),
                    UGENE_MAIL_RETRY_BASE_SECONDS="0.2", **CHEAP_ARGON2)
    server = Server(env, tmp_path / "serve.log").start()
    loop = asyncio.get_running_loop()
    try:
        async with client() as http:
            def plan(i):
                if i % 3:
                    return "status", lambda: call(http, server.base, "general", "status"), None
                name = f"load{i}"
                return "signup", lambda: call(http, server.base, "reg", "signup", uname=name,
                                              email=f"{name}@example.test", **PASSWORD), name

            load = asyncio.create_task(open_loop(RATE, SECONDS, plan))
            await asyncio.sleep(3)
            stopping = loop.time()
            await asyncio.to_thread(stop, own_pg, mode)
            await eventually(lambda: _ready_is(http, server.base, 503), 5, "/readyz red while PostgreSQL is down")
            await asyncio.sleep(3)
            await asyncio.to_thread(own_pg.start)
            up = loop.time()                   # pg_ctl start -w returned: PostgreSQL accepts connections
            await eventually(lambda: _ready_is(http, server.base, 200), RECOVERY, "/readyz green again")
            ready_after = loop.time() - up
            samples, lag = await load
        assert server.process.poll() is None   # never restarted
        check_answers(samples)
        recovery = check_recovery(samples, up, loop.time())
        worst = max(s.latency for s in samples)
        assert worst <= ACQUIRE + MARGIN, f"a request waited {worst:.2f} s"
        accounts, ambiguous = await check_signups(own_pg.dsn(), samples)
        # No mail lost or sent twice across the outage: one confirmation per account, all delivered.
        await smtp.wait(len(accounts), timeout=20)
        await asyncio.sleep(1.5)               # another sender tick: nothing more arrives
        assert sorted(m["To"] for m in smtp.messages) == sorted(f"{name}@example.test" for name in accounts)
        down = [s for s in samples if stopping <= s.due <= up]
        figure(f"postgres-restart-{mode}", requests=len(samples), during_outage=len(down), mails=len(accounts),
               failed_002008=sum(s.code == "002008" for s in samples), other_errors=0,
               max_latency_ms=worst * 1000, outage_p99_ms=summary(down)["p99_ms"], recovered_s=recovery,
               readyz_green_s=ready_after, ambiguous_signups=ambiguous, generator_lag_ms=lag * 1000)
    finally:
        server.stop()


async def _ready_is(http, base: str, status: int) -> bool:
    return await get_status(http, f"{base}/readyz") == status


def check_answers(samples) -> None:
    """Every answer is a success or 002008 with Retry-After: no 002005, no reset, no timeout."""
    wrong = [s for s in samples if not s.ok and not (s.code == "002008" and s.status == 503 and s.retry_after)]
    assert not wrong, [(s.kind, s.status, s.code, s.error) for s in wrong[:10]]
    assert any(s.code == "002008" for s in samples), "the outage was not seen"


def check_recovery(samples, up: float, end: float) -> float:
    """Seconds from PostgreSQL accepting connections to the last failure; the load ran well past it."""
    late = [s.finished for s in samples if not s.ok and s.due >= up]
    recovered = max(late, default=up)
    assert recovered - up <= RECOVERY
    assert any(s.ok for s in samples if s.due > recovered + 2), "no load left to show the recovery"
    return recovered - up


async def check_signups(dsn: str, samples) -> tuple[set, int]:
    """No partial writes: each account has its confirmation token and mail, and each answered success
    exists once. A signup answered 002008 may still have committed if the connection died after the
    commit; those are counted (the client cannot tell), never half-written."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """SELECT u.username,
                      (SELECT count(*) FROM ugene_outbox o
                        WHERE o.user_id = u.id AND o.template = 'confirm_email') AS mails,
                      (SELECT count(*) FROM ugene_token t WHERE t.user_id = u.id) AS tokens
               FROM ugene_user u WHERE u.username LIKE 'load%'""")
    finally:
        await conn.close()
    accounts = {r["username"]: r for r in rows}
    assert len(accounts) == len(rows)
    assert all(r["mails"] == 1 and r["tokens"] == 1 for r in rows), [dict(r) for r in rows if r["mails"] != 1]
    signups = [s for s in samples if s.kind == "signup"]
    assert all(s.tag in accounts for s in signups if s.ok)
    assert set(accounts) <= {s.tag for s in signups}
    return set(accounts), sum(1 for s in signups if not s.ok and s.tag in accounts)
