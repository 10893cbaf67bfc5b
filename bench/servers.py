"""Processes of a benchmark run: Ugene as an operator starts it, the baseline, CPU pinning, memory."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERVER_CORE, LOAD_CORE = 0, 1


def work_dir(name: str) -> Path:
    """A temporary folder for one benchmark run, open to the embedded cluster (run as `postgres` under root)."""
    work = Path(tempfile.mkdtemp(prefix=f"ugene-{name}-"))
    work.chmod(0o755)
    return work


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pin(pid: int, core: int) -> None:
    """Move every thread of a running process to one core."""
    subprocess.run(["taskset", "-a", "-p", "-c", str(core), str(pid)], check=True, stdout=subprocess.DEVNULL)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name in parentheses may hold spaces; the parent pid is the 2nd field after it.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


class Process:
    """A child process whose output goes to a log file, waited for until a line shows up."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path):
        self.name, self.log = name, log
        self.out = open(log, "w")
        self.popen = subprocess.Popen(argv, env=env, cwd=REPO, stdout=self.out, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.log.read_text(errors="replace"))
            if found:
                return found
            if self.popen.poll() is not None:
                break
            time.sleep(0.2)
        tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"{self.name} did not start (no {pattern!r} in its output):\n{tail}")

    def stop(self, timeout: float = 60) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.out.close()


def stop(*processes: Process | None) -> None:
    """Stop the processes that were started (None stands for one that never was)."""
    for process in processes:
        if process is not None:
            process.stop()


def start_ugene(data_dir: Path, port: int, logs: Path, under: tuple[str, ...] = (),
                program: tuple[str, ...] = (str(REPO / ".venv/bin/ugene"), "serve")) -> tuple[Process, str | None]:
    """`ugene serve` (or `program`, which serves as it does) pinned to the server core, run `under` a tool
    such as valgrind when given; returns the process and the first admin's password."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UGENE_")}
    env.update({"UGENE_DATA_DIR": str(data_dir), "UGENE_PORT": str(port), "UGENE_HOST": "127.0.0.1",
                "UGENE_WORKERS": "1", "UGENE_PUBLIC_URL": f"http://127.0.0.1:{port}",
                # A bench knob, not an operator's: let the harness tune Ugene through BENCH_UGENE_*.
                **{k[len("BENCH_"):]: v for k, v in os.environ.items() if k.startswith("BENCH_UGENE_")}})
    ugene = Process("ugene", ["taskset", "-c", str(SERVER_CORE), *under, *program], env, logs / "ugene.log")
    ugene.wait_for(r"ugene serving on", timeout=600 if under else 240)
    found = re.search(r"created the account `admin` with the password (\S+)", ugene.log.read_text())
    return ugene, found.group(1) if found else None


def start_baseline(port: int, dsn: str, secret: str, password_hash: str, logs: Path,
                   under: tuple[str, ...] = ()) -> Process:
    baseline = Process("baseline", ["taskset", "-c", str(SERVER_CORE), *under, sys.executable,
                                    str(REPO / "bench/baseline.py"), "--port", str(port), "--dsn", dsn,
                                    "--secret", secret, "--hash", password_hash,
                                    "--loop", os.environ.get("BENCH_BASELINE_LOOP") or "asyncio"],
                       dict(os.environ), logs / "baseline.log")
    baseline.wait_for(r"baseline serving on", timeout=600 if under else 60)
    return baseline


def pin_postgres(cluster: Path) -> list[int]:
    """The embedded PostgreSQL goes to the load core: the postmaster (so backends forked later
    inherit it) and every process it has already started."""
    postmaster = int((cluster / "postmaster.pid").read_text().split("\n", 1)[0])
    pids = [postmaster, *children(postmaster)]
    for pid in pids:
        pin(pid, LOAD_CORE)
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class MemoryWatch:
    """Samples a process's resident memory; `peak_kib` is the kernel's high-water mark (VmHWM)."""

    def __init__(self, pid: int, every: float = 0.5):
        self.pid, self.every = pid, every
        self.samples_max_rss = 0
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> dict[str, int]:
        values = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0])
        return values

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def sample(self) -> None:
        try:
            values = self._read()
        except OSError:
            return
        self.samples_max_rss = max(self.samples_max_rss, values.get("VmRSS", 0))
        self.peak_kib = max(self.peak_kib, values.get("VmHWM", 0))

    def start(self) -> "MemoryWatch":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.sample()
        self._stop.set()
        self._thread.join()
