"""Instructions per request, counted by valgrind's callgrind: Ugene's cases beside the baseline's.

    .venv/bin/python bench/instructions.py [seconds]

`make bench`'s requests/s and CPU times move with whatever else the machine runs; an instruction count
does not (the same binary, inputs and environment give the same total), so this is the figure to
compare two versions of a hot path by. It counts user-space instructions only: system calls and cache
misses, which make bench sees, are not in it.

Starts `ugene serve` (embedded PostgreSQL, 10,000 accounts) and bench/baseline.py, each under
`valgrind --tool=callgrind` (about 50 times slower: a start takes a minute or two), warms each case up
with wrk, zeroes the counters, drives the case for `seconds` (6) with 4 connections, and divides the
instructions the server ran by the requests wrk made. Cases: general/status vs hello, user/profile vs
JWT + pk select. Needs valgrind (Debian package `valgrind`).
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import asyncpg  # noqa: E402
import jwt  # noqa: E402

from data import PASSWORD, USER_PREFIX, load_request_users, password_hash  # noqa: E402
from load import STATUS, api, wrk  # noqa: E402
from servers import LOAD_CORE, free_port, pin_postgres, start_baseline, start_ugene, stop, work_dir  # noqa: E402

from ugene.embedded_pg import EmbeddedPostgres  # noqa: E402

TOKENS = 4          # sign-ins under valgrind take a second or more each


def callgrind(work: Path, name: str) -> tuple[str, ...]:
    return ("valgrind", "--tool=callgrind", f"--callgrind-out-file={work}/{name}.%p")


def instructions_per_request(pid: int, dumps: str, url: str, args: list[str], seconds: int) -> tuple[int, int]:
    """(instructions per request, requests) of the server `pid` while wrk drives `url`."""
    wrk(url, "api.lua", args, 3, 4)                                          # warm-up, not counted
    subprocess.run(["callgrind_control", "-z", str(pid)], check=True, capture_output=True)
    figures = wrk(url, "api.lua", args, seconds, 4)
    before = set(Path(dumps).parent.glob(f"{Path(dumps).name}.{pid}.*"))
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True)
    deadline = time.monotonic() + 60
    while not (new := set(Path(dumps).parent.glob(f"{Path(dumps).name}.{pid}.*")) - before):
        if time.monotonic() > deadline:
            raise RuntimeError("callgrind wrote no dump")
        time.sleep(0.2)
    text = max(new, key=lambda p: p.stat().st_mtime).read_text(errors="replace")
    total = int(re.search(r"^(?:totals|summary): (\d+)", text, re.M).group(1))
    return total // max(1, figures.requests), figures.requests


async def _load(dsn: str) -> tuple[str, list[int]]:
    conn = await asyncpg.connect(dsn)
    try:
        digest = password_hash()
        await load_request_users(conn, 10_000, digest)
        ids = [row["id"] for row in await conn.fetch(
            "SELECT id FROM ugene_user WHERE username LIKE $1 || '%' ORDER BY id LIMIT $2", USER_PREFIX, TOKENS)]
        return digest, ids
    finally:
        await conn.close()


def main() -> int:
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        raise SystemExit("valgrind is missing: install it with `sudo apt-get install -y valgrind`")
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    os.sched_setaffinity(0, {LOAD_CORE})
    work = work_dir("instructions")
    ugene = baseline = None
    try:
        print("starting ugene serve under callgrind (a minute or two)", flush=True)
        ugene, _ = start_ugene(work / "data", free_port(), work, under=callgrind(work, "ugene"))
        cluster = EmbeddedPostgres(work / "data" / "pg", log=lambda line: None)
        pin_postgres(cluster.cluster)
        dsn = cluster.dsn()
        digest, ids = asyncio.run(_load(dsn))
        port = re.search(r"ugene serving on http://127.0.0.1:(\d+)", ugene.log.read_text()).group(1)
        ugene_url = f"http://127.0.0.1:{port}"
        tokens = [api(ugene_url, "auth", "signin", uname=f"{USER_PREFIX}{i}", **{"pass": PASSWORD})["answer"]["token"]
                  for i in range(1, TOKENS + 1)]
        secret = os.urandom(32).hex()
        print("starting the baseline under callgrind", flush=True)
        base_port = free_port()
        baseline = start_baseline(base_port, dsn, secret, digest, work, under=callgrind(work, "baseline"))
        baseline_url = f"http://127.0.0.1:{base_port}"
        (work / "tokens").write_text("\n".join(tokens) + "\n")
        (work / "baseline-tokens").write_text(
            "\n".join(jwt.encode({"uid": uid}, secret, algorithm="HS256") for uid in ids) + "\n")
        pairs = [
            ("POST /api general/status", f"{ugene_url}/api", ["post", STATUS],
             "hello", f"{baseline_url}/hello", ["post", "{}"]),
            ("GET /api/user/profile/en", f"{ugene_url}/api/user/profile/en", ["get", str(work / "tokens")],
             "JWT + pk select", f"{baseline_url}/pk", ["get", str(work / "baseline-tokens")]),
        ]
        print(f"\n{'case':<28} {'instructions/request':>21} {'baseline':>18} {'instructions/request':>21} {'ratio':>6}")
        for name, url, args, base_name, base_url, base_args in pairs:
            mine, _ = instructions_per_request(ugene.pid, str(work / "ugene"), url, args, seconds)
            theirs, _ = instructions_per_request(baseline.pid, str(work / "baseline"), base_url, base_args, seconds)
            print(f"{name:<28} {mine:>21,} {base_name:>18} {theirs:>21,} {theirs / mine:>6.2f}", flush=True)
        print("\nratio: the baseline's instructions per request over Ugene's (1.0: Ugene does no more work)")
        return 0
    finally:
        stop(baseline, ugene)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
