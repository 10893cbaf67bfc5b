"""Driving HTTP load with wrk (the Lua scripts in bench/wrk/), and single checked calls."""
from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

WRK_DIR = Path(__file__).resolve().parent / "wrk"
# The body every status case posts (make bench, its tools, the ceiling split).
STATUS = json.dumps({"module": "general", "param": "status", "language": "en", "args": {}})


@dataclass
class Figures:
    """One wrk run: throughput, latency percentiles (ms) and errors."""

    rps: float
    p50: float
    p90: float
    p99: float
    max: float
    requests: int
    errors: int
    error_kinds: dict = field(default_factory=dict)
    cpu_ms: float | None = None       # the server's CPU time per request

    def as_dict(self) -> dict:
        return {"cpu_ms_per_request": None if self.cpu_ms is None else round(self.cpu_ms, 3),"rps": round(self.rps, 1), "p50_ms": round(self.p50, 2), "p90_ms": round(self.p90, 2),
                "p99_ms": round(self.p99, 2), "max_ms": round(self.max, 2), "requests": self.requests,
                "errors": self.errors, "error_kinds": self.error_kinds}


def wrk_path() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is missing: install it with `sudo apt-get install -y wrk` (Debian/Ubuntu)")
    return found


def start_wrk(url: str, script: str, args: list[str], seconds: float, connections: int,
              threads: int = 1) -> subprocess.Popen:
    argv = [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
            "-s", str(WRK_DIR / script), url, "--", *args]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish_wrk(process: subprocess.Popen) -> Figures:
    output, _ = process.communicate()
    line = next((l for l in output.splitlines() if l.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures:\n{output}")
    raw = json.loads(line[len("BENCH_JSON "):])
    seconds = raw["duration_us"] / 1e6
    kinds = {k: v for k, v in raw["errors"].items() if v}
    return Figures(raw["requests"] / seconds if seconds else 0.0, raw["p50_us"] / 1000, raw["p90_us"] / 1000,
                   raw["p99_us"] / 1000, raw["max_us"] / 1000, raw["requests"], sum(kinds.values()), kinds)


def wrk(url: str, script: str, args: list[str], seconds: float, connections: int, threads: int = 1) -> Figures:
    return finish_wrk(start_wrk(url, script, args, seconds, connections, threads))


def call(url: str, body: dict | None = None, token: str | None = None, timeout: float = 30) -> tuple[int, dict]:
    """One request (POST when there is a body); (HTTP status, decoded JSON answer)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Authorization-Token"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def api(base: str, module: str, param: str, token: str | None = None, **args) -> dict:
    return call(f"{base}/api", {"module": module, "param": param, "language": "en", "args": args}, token)[1]
