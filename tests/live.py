"""A real `python -m ugene serve` for the tests that need one (log checks, schemathesis): started as an
operator starts it, from environment variables only, its output written to a file."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .conftest import free_port

CHEAP_ARGON2 = {"UGENE_ARGON2_MEMORY_KIB": "8192", "UGENE_ARGON2_TIME_COST": "1"}


class LiveServer:
    """One server process on 127.0.0.1; `output()` is everything it printed and logged."""

    def __init__(self, data_dir: Path, log_path: Path, **env: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("UGENE_")}
        self.env.update({"UGENE_DATA_DIR": str(data_dir), "UGENE_HOST": "127.0.0.1", "UGENE_PORT": str(self.port),
                         **CHEAP_ARGON2, **env})
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "LiveServer":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "ugene", "serve"], env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while "ugene serving on" not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"ugene serve did not start:\n{self.output()}")
            time.sleep(0.05)
        return self

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 20) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
