"""The cases of `make bench`: a Ugene case beside its baseline, isolation, and the admin listing."""
from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
import asyncpg

from data import PASSWORD, USER_PREFIX, three_letter_filters
from load import Figures, api, call, finish_wrk, start_wrk, wrk
from servers import cpu_seconds

RUNS = 2
_tags = itertools.count(1)


@dataclass
class Case:
    """A Ugene case and its baseline; `{tag}` in args becomes a fresh tag on each wrk run."""

    name: str
    baseline: str
    goal: float
    script: str
    args: list[str]
    baseline_path: str
    baseline_script: str
    baseline_args: list[str]
    path: str = "/api"
    skip: str | None = None


def _args(args: list[str]) -> list[str]:
    tag = f"{next(_tags)}{secrets.token_hex(2)}"
    return [a.replace("{tag}", tag) for a in args]


def _line(label: str, figures: Figures) -> None:
    errors = f", {figures.errors} errors {figures.error_kinds}" if figures.errors else ""
    cpu = f"  cpu {figures.cpu_ms:6.3f} ms/req" if figures.cpu_ms is not None else ""
    print(f"    {label:<10} {figures.rps:9.1f} req/s  p50 {figures.p50:7.2f} ms  p99 {figures.p99:7.2f} ms{cpu}{errors}",
          flush=True)


@dataclass
class Bench:
    ugene_url: str
    baseline_url: str
    seconds: int
    warmup: int
    connections: int
    work: Path
    ugene_pid: int
    baseline_pid: int

    def write_lines(self, name: str, lines: list[str]) -> Path:
        path = self.work / f"{name}.txt"
        path.write_text("".join(f"{line}\n" for line in lines))
        return path

    def _run(self, url: str, script: str, args: list[str], seconds: float, connections: int | None = None):
        """One wrk run, with the CPU time the server under load used per request."""
        pid = self.ugene_pid if url.startswith(self.ugene_url) else self.baseline_pid
        before = cpu_seconds(pid)
        figures = wrk(url, script, _args(args), seconds, connections or self.connections)
        if figures.requests:
            figures.cpu_ms = (cpu_seconds(pid) - before) * 1000 / figures.requests
        return figures

    def pair(self, case: Case) -> dict:
        """Warm both up, then measure baseline and Ugene in turn, RUNS times."""
        print(f"\n{case.name}  vs  baseline {case.baseline}", flush=True)
        result = {"name": case.name, "baseline": case.baseline, "goal": {"ratio_min": case.goal},
                  "ugene": [], "baseline_runs": []}
        problem = case.skip or self._probe(case)
        if problem:
            print(f"    skipped: {problem}", flush=True)
            return {**result, "skipped": problem, "met": None}
        ugene_url, base_url = self.ugene_url + case.path, self.baseline_url + case.baseline_path
        self._run(base_url, case.baseline_script, case.baseline_args, self.warmup)
        self._run(ugene_url, case.script, case.args, self.warmup)
        for run in range(1, RUNS + 1):
            base = self._run(base_url, case.baseline_script, case.baseline_args, self.seconds)
            ugene = self._run(ugene_url, case.script, case.args, self.seconds)
            _line(f"baseline{run}", base)
            _line(f"ugene{run}", ugene)
            result["baseline_runs"].append(base.as_dict())
            result["ugene"].append(ugene.as_dict())
        ratios = [u["rps"] / b["rps"] if b["rps"] else 0.0 for u, b in zip(result["ugene"], result["baseline_runs"])]
        result["ratios"] = [round(r, 3) for r in ratios]
        result["ratio"] = round(sum(ratios) / len(ratios), 3)
        errors = sum(u["errors"] for u in result["ugene"])
        result["met"] = result["ratio"] >= case.goal and errors == 0
        return result

    def _probe(self, case: Case) -> str | None:
        """One call first: a case whose module is missing or misconfigured is reported, not measured."""
        if case.script == "signin.lua":
            answer = api(self.ugene_url, "auth", "signin", uname=f"{case.args[0]}1", **{"pass": case.args[2]})
        elif case.script == "signup.lua":
            name = f"probe{secrets.token_hex(4)}"
            answer = api(self.ugene_url, "reg", "signup", uname=name, email=f"{name}@bench.example",
                         **{"pass": case.args[1]})
        elif case.args[0] == "post":
            answer = call(self.ugene_url + case.path, json.loads(case.args[1]))[1]
        else:
            token = Path(case.args[1]).read_text().split("\n", 1)[0] if len(case.args) > 1 else None
            answer = call(self.ugene_url + case.path, token=token)[1]
        if answer.get("success") == 1:
            return None
        return f"a first call answered {answer.get('error')} ({answer.get('text', '')})"

    def isolation(self, users: int) -> dict:
        """general/status with a few connections while auth/signin is saturated, both with wrk at once."""
        print("\nisolation: general/status while auth/signin is saturated", flush=True)
        probe = api(self.ugene_url, "auth", "signin", uname=f"{USER_PREFIX}1", **{"pass": PASSWORD})
        if probe.get("success") != 1:
            problem = f"auth/signin answered {probe.get('error')}"
            print(f"    skipped: {problem}")
            return {"skipped": problem, "met": None}
        status = '{"module":"general","param":"status","language":"en","args":{}}'
        runs = []
        for run in range(1, RUNS + 1):
            signin = start_wrk(self.ugene_url + "/api", "signin.lua", [USER_PREFIX, str(users), PASSWORD],
                               self.warmup + self.seconds + 1, self.connections)
            time.sleep(self.warmup)
            figures = self._run(self.ugene_url + "/api", "api.lua", ["post", status], self.seconds, 4)
            background = finish_wrk(signin)
            _line(f"status{run}", figures)
            _line(f"signin{run}", background)
            runs.append({"status": figures.as_dict(), "signin": background.as_dict()})
        worst = max(r["status"]["p99_ms"] for r in runs)
        return {"runs": runs, "status_connections": 4, "signin_connections": self.connections,
                "goal": {"status_p99_ms_max": 50}, "status_p99_ms": worst,
                "met": worst < 50 and all(r["status"]["errors"] == 0 for r in runs)}

    def show_users(self, admin_password: str | None, dsn: str, after_id: int, connections: int,
                   big_users: int) -> dict:
        """admin/show-users with a 3-letter filter over the million accounts, as one busy admin."""
        print(f"\nadmin/show-users, 3-letter filters, {big_users:,} accounts, {connections} connection(s)",
              flush=True)
        answer = api(self.ugene_url, "auth", "signin", uname="admin", **{"pass": admin_password or ""})
        if answer.get("success") != 1:
            problem = f"admin sign-in answered {answer.get('error')}"
            print(f"    skipped: {problem}")
            return {"skipped": problem, "met": None}
        token = answer["answer"]["token"]
        filters = asyncio.run(_filters(dsn, after_id))
        check = api(self.ugene_url, "admin", "show-users", token, sort="desc", filter=filters[0], pagesize=10,
                    pageno=1)
        if check.get("success") != 1:
            problem = f"admin/show-users answered {check.get('error')}"
            print(f"    skipped: {problem}")
            return {"skipped": problem, "met": None}
        filters_file = self.write_lines("filters", filters)
        self._run(self.ugene_url + "/api", "show_users.lua", [token, str(filters_file)], self.warmup, connections)
        runs = []
        for run in range(1, RUNS + 1):
            figures = self._run(self.ugene_url + "/api", "show_users.lua", [token, str(filters_file)],
                                self.seconds, connections)
            _line(f"ugene{run}", figures)
            runs.append(figures.as_dict())
        worst = max(r["p50_ms"] for r in runs)
        return {"runs": runs, "connections": connections, "filters": filters, "goal": {"p50_ms_max": 20},
                "p50_ms": worst, "met": worst < 20 and all(r["errors"] == 0 for r in runs)}


async def _filters(dsn: str, after_id: int) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return await three_letter_filters(conn, after_id)
    finally:
        await conn.close()
