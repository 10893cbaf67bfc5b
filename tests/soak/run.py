"""`make soak`: a realistic mix at a fixed rate against a real `ugene serve`, then a consistency check.

The server starts as an operator starts it (`python -m ugene serve`, environment only, production
argon2 settings) on the embedded PostgreSQL in a temporary data directory, with a real SMTP server
on 127.0.0.1. The mix: general/status, user/profile, auth/signin, reg/signup, auth/refresh-session
and admin/show-users (left out when the admin module is absent). Requests start at fixed intervals
(tests/soak/load.py: open loop, latency from the time each was due) for SOAK_SECONDS.

Afterwards: every successful signup exists exactly once, no failed one exists, and every mail of the
outbox reached the SMTP server once. Exit status 1 on any non-throttle error or inconsistency.

Environment: SOAK_SECONDS (60), SOAK_RATE (requests per second, 40), SOAK_USERS (accounts signing in
and refreshing, 20), SOAK_OUT (a file for the JSON report), SOAK_KEEP=1 (keep the temporary directory).
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter, deque
from pathlib import Path

import asyncpg

from ugene.embedded_pg import EmbeddedPostgres

from ..conftest import free_port
from ..helpers import link_in
from ..served import Server, Smtp, call, client, serve_env
from .load import open_loop, summary

PASSWORD = "Soak7Horse-Runner"
# Out of every 20 requests; a fixed shuffle, so two runs send the same sequence.
WEIGHTS = {"status": 5, "profile": 5, "signin": 3, "refresh": 3, "signup": 2, "show-users": 2}


class NoIdleRefreshToken(Exception):
    """All SOAK_USERS refresh tokens are in requests still unanswered: the server is far behind."""


class Soak:
    def __init__(self, root: Path, seconds: float, rate: float, users: int):
        self.root, self.seconds, self.rate, self.users = root, seconds, rate, users
        self.smtp = Smtp()
        env = serve_env(root / "data", free_port(), UGENE_SMTP_HOST="127.0.0.1", UGENE_SMTP_PORT=str(self.smtp.port))
        self.server = Server(env, root / "serve.log")
        self.tokens: list[str] = []                 # completed sessions for user/profile
        self.refresh: deque[str] = deque()          # idle refresh tokens: each is in one request at a time
        self.admin: str | None = None
        self.problems: list[str] = []
        self.stamp = format(int(time.time()) % 100000, "05d")

    async def prepare(self, http) -> None:
        """Accounts through the real journey: signup, the confirmation mail's link, signin (not timed)."""
        base = self.server.base
        for i in range(self.users):
            name = f"soaku{self.stamp}{i}"
            answer = await call(http, base, "reg", "signup", uname=name, email=f"{name}@example.test",
                                **{"pass": PASSWORD})
            assert answer.ok, answer
            mail = await self.smtp.mailbox.wait(to=f"{name}@example.test", timeout=30)
            link = re.search(r"hash=([^&\s]+)", link_in(mail)).group(1)
            assert (await call(http, base, "reg", "confirm-email", hash=link)).ok
            # Two sessions each: one whose access token reads the profile, one whose refresh token rotates.
            reader, rotating = [await call(http, base, "auth", "signin", uname=name, **{"pass": PASSWORD})
                                for _ in range(2)]
            assert reader.ok and rotating.ok, (reader, rotating)
            self.tokens.append(reader.answer["token"])
            self.refresh.append(rotating.answer["refresh_token"])
        admin = await call(http, base, "auth", "signin", uname="admin", **{"pass": self.server.admin_password()})
        assert admin.ok, admin
        probe = await call(http, base, "admin", "show-users", token=admin.answer["token"], pagesize=10)
        self.admin = admin.answer["token"] if probe.ok else None     # 002002: no admin module here

    def plan(self, http):
        kinds = [kind for kind, weight in WEIGHTS.items() for _ in range(weight)]
        random.Random(9).shuffle(kinds)
        base = self.server.base

        def make(i: int):
            kind = kinds[i % len(kinds)]
            user = i % self.users
            if kind == "show-users" and self.admin is None:
                kind = "status"
            if kind == "status":
                return kind, lambda: call(http, base, "general", "status"), None
            if kind == "profile":
                return kind, lambda: call(http, base, "user", "profile", token=self.tokens[user]), None
            if kind == "show-users":
                return kind, lambda: call(http, base, "admin", "show-users", token=self.admin,
                                          pagesize=10, pageno=1 + i % 3, filter="soak" if i % 2 else ""), None
            if kind == "signin":
                return kind, lambda: call(http, base, "auth", "signin", uname=f"soaku{self.stamp}{user}",
                                          **{"pass": PASSWORD}), None
            if kind == "refresh":
                return kind, lambda: self.refresh_once(http), None
            name = f"soak{self.stamp}n{i}"
            return kind, lambda: call(http, base, "reg", "signup", uname=name, email=f"{name}@example.test",
                                      **{"pass": PASSWORD}), name
        return make

    async def refresh_once(self, http):
        """Rotate one idle refresh token and put its successor back (a token is never used twice)."""
        if not self.refresh:                        # every family is waiting for an answer: counted as an error
            raise NoIdleRefreshToken()
        token = self.refresh.popleft()
        answer = await call(http, self.server.base, "auth", "refresh-session", **{"refresh-token": token})
        self.refresh.append(answer.answer["refresh_token"] if answer.ok else token)
        return answer

    async def run(self) -> dict:
        self.smtp.up()
        self.server.start(timeout=180)              # the first start runs initdb
        async with client(limit=256) as http:
            await self.prepare(http)
            started = time.monotonic()
            samples, lag = await open_loop(self.rate, self.seconds, self.plan(http), timeout=30)
            elapsed = time.monotonic() - started
        report = self.report(samples, lag, elapsed)
        report["consistency"] = await self.consistency(samples)
        status = self.server.stop(timeout=30)
        if status != 0:
            self.problems.append(f"ugene serve exited with {status} after SIGTERM")
        if "Traceback" in self.server.output():
            self.problems.append("a traceback in the server's log")
        report["problems"] = self.problems
        return report

    def report(self, samples, lag: float, elapsed: float) -> dict:
        errors = Counter(s.code or s.error for s in samples if not s.ok and not s.throttled)
        if errors:
            self.problems.append(f"non-throttle errors: {dict(errors)}")
        by_kind = {kind: summary([s for s in samples if s.kind == kind]) for kind in WEIGHTS}
        return {"seconds": self.seconds, "rate": self.rate, "achieved_rate": round(len(samples) / elapsed, 1),
                "admin_module": self.admin is not None, "generator_lag_ms": round(lag * 1000, 1),
                **summary(samples), "error_codes": dict(errors), "by_kind": by_kind}

    async def consistency(self, samples) -> dict:
        """Every successful signup exists once, no failed one exists, every outbox mail arrived once."""
        conn = await asyncpg.connect(EmbeddedPostgres(self.root / "data" / "pg", log=lambda line: None).dsn())
        try:
            drained = await self.drain(conn)
            users = Counter(r["username"] for r in await conn.fetch(
                "SELECT username FROM ugene_user WHERE username LIKE $1", f"soak{self.stamp}n%"))
            outbox = await conn.fetch("SELECT recipient, state FROM ugene_outbox")
        finally:
            await conn.close()
        signups = [s for s in samples if s.kind == "signup"]
        ok_names = {s.tag for s in signups if s.ok}
        missing = sorted(n for n in ok_names if users[n] != 1)
        stray = sorted(n for n in users if n not in ok_names)
        states = Counter(r["state"] for r in outbox)
        wanted = Counter(r["recipient"].lower() for r in outbox)
        got = Counter(m["To"].lower() for m in self.smtp.mailbox.messages)
        result = {"signups_ok": len(ok_names), "accounts_found": sum(users.values()), "missing_or_twice": missing,
                  "failed_but_present": stray, "outbox": dict(states), "mails_received": sum(got.values()),
                  "mails_lost": sum((wanted - got).values()), "mails_duplicated": sum((got - wanted).values()),
                  "drained": drained}
        if missing or stray or not drained or set(states) != {"sent"} or wanted != got:
            self.problems.append(f"inconsistent: {json.dumps(result)[:500]}")
        return result

    async def drain(self, conn, timeout: float = 60) -> bool:
        """Wait (bounded) until no mail is queued and the SMTP server has them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            queued = await conn.fetchval("SELECT count(*) FROM ugene_outbox WHERE state = 'queued'")
            total = await conn.fetchval("SELECT count(*) FROM ugene_outbox")
            if queued == 0 and len(self.smtp.mailbox.messages) >= total:
                await asyncio.sleep(2)              # two more sender ticks: nothing arrives twice
                return True
            await asyncio.sleep(0.2)
        return False

    def close(self, keep: bool) -> None:
        self.server.stop()
        self.smtp.down()
        cluster = EmbeddedPostgres(self.root / "data" / "pg", log=lambda line: None)
        if cluster.running:                         # serve stops its database; not if it was killed
            cluster.stop()
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


def show(report: dict) -> None:
    print(f"soak: {report['requests']} requests in {report['seconds']} s at {report['rate']}/s "
          f"(achieved {report['achieved_rate']}/s, generator lag {report['generator_lag_ms']} ms)")
    print(f"  ok {report['ok']}, throttled {report['throttled']}, errors {report['errors']} {report['error_codes']}")
    print(f"  latency p50 {report['p50_ms']} ms, p90 {report['p90_ms']} ms, p99 {report['p99_ms']} ms, "
          f"max {report['max_ms']} ms (from the time each request was due)")
    if not report["admin_module"]:
        print("  admin module absent: show-users left out of the mix (its share went to status)")
    for kind, s in report["by_kind"].items():
        if not s["requests"]:
            continue
        print(f"  {kind:<11} {s['requests']:>6}  errors {s['errors']:>3}  p50 {s['p50_ms']:>7} ms  "
              f"p99 {s['p99_ms']:>7} ms  max {s['max_ms']:>7} ms")
    c = report["consistency"]
    print(f"  consistency: {c['signups_ok']} signups ok, {c['accounts_found']} accounts found, "
          f"missing/twice {len(c['missing_or_twice'])}, failed-but-present {len(c['failed_but_present'])}; "
          f"outbox {c['outbox']}, mails received {c['mails_received']}, lost {c['mails_lost']}, "
          f"duplicated {c['mails_duplicated']}")
    print("soak: " + ("PASS" if not report["problems"] else "FAIL: " + "; ".join(report["problems"])))


def main() -> int:
    seconds = float(os.environ.get("SOAK_SECONDS", "60"))
    rate = float(os.environ.get("SOAK_RATE", "40"))
    users = int(os.environ.get("SOAK_USERS", "20"))
    root = Path(tempfile.mkdtemp(prefix="ugene-soak-"))
    soak = Soak(root, seconds, rate, users)
    try:
        report = asyncio.run(soak.run())
    finally:
        soak.close(keep=os.environ.get("SOAK_KEEP") == "1")
    show(report)
    if os.environ.get("SOAK_OUT"):
        Path(os.environ["SOAK_OUT"]).write_text(json.dumps(report, indent=2) + "\n")
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
