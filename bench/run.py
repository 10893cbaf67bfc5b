"""`make bench`: Ugene side by side with a bare aiohttp baseline, on one machine, in one run.

Ugene runs as an operator starts it (`ugene serve`, embedded PostgreSQL, one worker) pinned to core 0
with `taskset`; the baseline (bench/baseline.py) on core 0 too; wrk, this script and PostgreSQL on core 1.
Each case gets a warm-up, then two measured runs. Figures are printed and written to
bench/results/latest.json. A benchmark, not a test: it prints figures and ratios, it asserts nothing.

Environment: BENCH_SECONDS (measured seconds per run, 15), BENCH_WARMUP (5), BENCH_CONNECTIONS (32),
BENCH_ADMIN_CONNECTIONS (1), BENCH_USERS (10000), BENCH_BIG_USERS (1000000), BENCH_CASES (a comma list
of status,profile,signin,signup,isolation,admin; all by default), BENCH_KEEP=1 keeps the temporary
data dir, BENCH_UGENE_<VAR> passes UGENE_<VAR> to Ugene (e.g. BENCH_UGENE_POOL_MAX=40),
BENCH_BASELINE_LOOP=uvloop runs the baseline on uvloop, the loop Ugene uses, instead of aiohttp's default.
"""
from __future__ import annotations

import asyncio
import os
import platform
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import asyncpg
import jwt

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import Bench, Case  # noqa: E402
from data import PASSWORD, USER_PREFIX, load_many_users, load_request_users, password_hash  # noqa: E402
from load import STATUS, api  # noqa: E402
from report import print_table, write_json  # noqa: E402
from servers import LOAD_CORE, MemoryWatch, free_port, pin_postgres, start_baseline, start_ugene, stop, work_dir  # noqa: E402

from ugene.embedded_pg import EmbeddedPostgres  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


ALL_CASES = ("status", "profile", "signin", "signup", "isolation", "admin")


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def chosen_cases() -> set[str]:
    wanted = {c.strip() for c in (os.environ.get("BENCH_CASES") or ",".join(ALL_CASES)).split(",") if c.strip()}
    unknown = wanted - set(ALL_CASES)
    if unknown:
        raise SystemExit(f"BENCH_CASES: unknown case(s) {', '.join(sorted(unknown))}; known: {', '.join(ALL_CASES)}")
    return wanted


def signin_tokens(base: str, count: int) -> list[str]:
    """Access tokens of the first `count` loaded accounts, obtained as a client does: auth/signin."""
    tokens = []
    for i in range(1, count + 1):
        answer = api(base, "auth", "signin", uname=f"{USER_PREFIX}{i}", **{"pass": PASSWORD})
        if answer.get("success") != 1:
            print(f"  cannot sign in {USER_PREFIX}{i}: {answer.get('error')} {answer.get('text', '')}")
            return []
        tokens.append(answer["answer"]["token"])
    return tokens


def main() -> int:
    if not {0, LOAD_CORE} <= os.sched_getaffinity(0):
        raise SystemExit("make bench needs two cores (0 and 1): Ugene on one, PostgreSQL and wrk on the other")
    os.sched_setaffinity(0, {LOAD_CORE})      # this script and every wrk it starts share PostgreSQL's core
    seconds, warmup = env_int("BENCH_SECONDS", 15), env_int("BENCH_WARMUP", 5)
    connections = env_int("BENCH_CONNECTIONS", 32)
    users, big_users = env_int("BENCH_USERS", 10_000), env_int("BENCH_BIG_USERS", 1_000_000)
    cases = chosen_cases()
    started, load_before = time.monotonic(), os.getloadavg()[0]
    if load_before > 1.0:
        print(f"note: the load average is {load_before:.1f} before starting: other processes compete for the "
              "cores and the figures will be noisy", flush=True)
    work = work_dir("bench")
    logs = RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    ugene = baseline = watch = None
    try:
        print("starting ugene serve (data in a temporary dir; logs in bench/results/logs/)", flush=True)
        port, base_port = free_port(), free_port()
        ugene, admin_password = start_ugene(work / "data", port, logs)
        cluster = EmbeddedPostgres(work / "data" / "pg", log=lambda line: None)
        pin_postgres(cluster.cluster)
        watch = MemoryWatch(ugene.pid).start()
        dsn = cluster.dsn()
        digest = password_hash()
        asyncio.run(_prepare(dsn, users, digest))
        secret = os.urandom(32).hex()
        baseline = start_baseline(base_port, dsn, secret, digest, logs)
        bench = Bench(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{base_port}", seconds, warmup, connections,
                      work, ugene.pid, baseline.pid)
        tokens = signin_tokens(bench.ugene_url, 50)
        ids = asyncio.run(_ids(dsn, 50))
        baseline_tokens = [jwt.encode({"uid": uid}, secret, algorithm="HS256") for uid in ids]
        results = run_cases(bench, tokens, baseline_tokens, users, cases)
        results["isolation"] = bench.isolation(users) if "isolation" in cases else {"skipped": "not chosen"}
        if "admin" in cases:
            after_id = asyncio.run(_big(dsn, big_users))
            results["admin"] = bench.show_users(admin_password, dsn, after_id,
                                                env_int("BENCH_ADMIN_CONNECTIONS", 1), big_users)
        else:
            results["admin"] = {"skipped": "not chosen"}
        watch.stop()
        results["memory"] = {"peak_rss_mb": round(watch.peak_kib / 1024, 1), "goal_mb": 150,
                             "met": watch.peak_kib / 1024 < 150}
        results["meta"] = {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "python": platform.python_version(),
            "cpus": os.cpu_count(), "seconds": seconds, "warmup": warmup, "connections": connections,
            "users": users, "big_users": big_users, "baseline_loop": os.environ.get("BENCH_BASELINE_LOOP") or "asyncio", "wall_seconds": round(time.monotonic() - started),
            "load_average_before": round(load_before, 2), "load_average_after": round(os.getloadavg()[0], 2)}
        print_table(results)
        path = write_json(results, RESULTS / "latest.json")
        print(f"\nfigures written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
        return 0
    finally:
        stop(baseline, ugene)
        if watch is not None and watch._thread.is_alive():
            watch.stop()
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run_cases(bench: Bench, tokens: list[str], baseline_tokens: list[str], users: int, cases: set[str]) -> dict:
    tokens_file, baseline_tokens_file = bench.write_lines("tokens", tokens), \
        bench.write_lines("baseline-tokens", baseline_tokens)
    pairs = {
        "status": Case("POST /api general/status", "hello", 0.8, "api.lua", ["post", STATUS],
                       "/hello", "api.lua", ["post", "{}"]),
        "profile": Case("GET /api/user/profile/en", "JWT + pk select", 0.8, "api.lua", ["get", str(tokens_file)],
                        "/pk", "api.lua", ["get", str(baseline_tokens_file)], path="/api/user/profile/en",
                        skip=None if tokens else "no tokens: auth/signin is not available"),
        "signin": Case("POST /api auth/signin", "one argon2 verify", 0.9, "signin.lua",
                       [USER_PREFIX, str(users), PASSWORD],
                       "/verify", "signin.lua", [USER_PREFIX, str(users), PASSWORD, "baseline"]),
        "signup": Case("POST /api reg/signup", "one argon2 hash", 0.8, "signup.lua", ["{tag}", PASSWORD],
                       "/hash", "signup.lua", ["{tag}", PASSWORD, "baseline"]),
    }
    return {"cases": [bench.pair(case) for key, case in pairs.items() if key in cases]}


async def _prepare(dsn: str, users: int, digest: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await load_request_users(conn, users, digest)
    finally:
        await conn.close()


async def _ids(dsn: str, count: int) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        return [row["id"] for row in await conn.fetch(
            "SELECT id FROM ugene_user WHERE username LIKE $1 || '%' ORDER BY id LIMIT $2", USER_PREFIX, count)]
    finally:
        await conn.close()


async def _big(dsn: str, count: int) -> int:
    """Load the million accounts of the admin case; returns the last id from before them."""
    conn = await asyncpg.connect(dsn)
    try:
        after_id = await conn.fetchval("SELECT coalesce(max(id), 0) FROM ugene_user")
        print(f"loading {count:,} accounts for admin/show-users", flush=True)
        await load_many_users(conn, count)
        return after_id
    finally:
        await conn.close()


if __name__ == "__main__":
    sys.exit(main())
