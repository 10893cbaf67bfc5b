"""Profile one case of `make bench` with py-spy while wrk drives it: where does the worker spend its time?

    .venv/bin/pip install py-spy
    .venv/bin/python bench/profile.py status|profile|signin|signup [seconds]

Starts Ugene exactly as bench/run.py does (same pinning, same 10,000 accounts), runs wrk on the case
and `py-spy record` on the worker at once, then prints the functions holding the most samples (own time
and time including callees). The raw (collapsed) stacks stay in bench/results/profile-<case>.txt.
"""
from __future__ import annotations

import asyncio
import collections
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from data import PASSWORD, USER_PREFIX, load_request_users, password_hash  # noqa: E402
from load import STATUS, api, start_wrk, finish_wrk  # noqa: E402
from servers import LOAD_CORE, REPO, free_port, pin_postgres, start_ugene, work_dir  # noqa: E402

import asyncpg  # noqa: E402
from ugene.embedded_pg import EmbeddedPostgres  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def summarize(raw: Path, top: int = 25) -> None:
    """Own and inclusive sample counts per function from py-spy's collapsed stacks."""
    own, inclusive, total = collections.Counter(), collections.Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        n = int(count)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    print(f"\n{total} samples. Own time:")
    for frame, n in own.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {frame}")
    print("\nIncluding callees (ugene, modules, aiohttp, asyncpg, json, logging, prometheus):")
    keys = ("ugene", "modules", "aiohttp", "asyncpg", "json", "logging", "prometheus", "pydantic", "jwt")
    shown = 0
    for frame, n in inclusive.most_common():
        if any(k in frame for k in keys):
            print(f"  {100 * n / total:5.1f}%  {frame}")
            shown += 1
            if shown == top:
                break


def case_args(case: str, base: str, work: Path) -> tuple[str, str, list[str]]:
    if case == "status":
        return base + "/api", "api.lua", ["post", STATUS]
    if case == "profile":
        tokens = [api(base, "auth", "signin", uname=f"{USER_PREFIX}{i}", **{"pass": PASSWORD})["answer"]["token"]
                  for i in range(1, 21)]
        path = work / "tokens.txt"
        path.write_text("\n".join(tokens) + "\n")
        return base + "/api/user/profile/en", "api.lua", ["get", str(path)]
    if case == "signin":
        return base + "/api", "signin.lua", [USER_PREFIX, "10000", PASSWORD]
    if case == "signup":       # "{tag}": a new tag per wrk run, so no name is asked for twice
        return base + "/api", "signup.lua", ["{tag}", PASSWORD]
    raise SystemExit(f"unknown case {case!r}: status, profile, signin or signup")


async def _load(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await load_request_users(conn, 10_000, password_hash())
    finally:
        await conn.close()


def main() -> None:
    case = sys.argv[1] if len(sys.argv) > 1 else "status"
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    spy = shutil.which("py-spy") or str(REPO / ".venv/bin/py-spy")
    os.sched_setaffinity(0, {LOAD_CORE})
    work = work_dir("profile")
    RESULTS.mkdir(parents=True, exist_ok=True)
    ugene, _ = start_ugene(work / "data", free_port(), work)
    try:
        cluster = EmbeddedPostgres(work / "data" / "pg", log=lambda line: None)
        pin_postgres(cluster.cluster)
        asyncio.run(_load(cluster.dsn()))
        base = f"http://127.0.0.1:{ugene.log.read_text().split('http://127.0.0.1:')[1].split()[0]}"
        url, script, args = case_args(case, base, work)
        finish_wrk(start_wrk(url, script, [a.replace("{tag}", "w") for a in args], 3, 32))   # warm-up
        load = start_wrk(url, script, [a.replace("{tag}", "m") for a in args], seconds + 2, 32)
        raw = RESULTS / f"profile-{case}.txt"
        subprocess.run([spy, "record", "-p", str(ugene.pid), "-d", str(seconds), "-r", "250", "-f", "raw",
                        "-o", str(raw), "--nonblocking"], check=True, capture_output=True)
        figures = finish_wrk(load)
        print(f"{case}: {figures.rps:.0f} req/s, p50 {figures.p50:.2f} ms, p99 {figures.p99:.2f} ms, "
              f"{figures.errors} errors (under py-spy)")
        summarize(raw)
    finally:
        ugene.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
