"""Real processes for the fault tests, the log checks, schemathesis and the soak: `python -m ugene
serve` started as an operator starts it (environment variables only), an SMTP server that goes down
and comes back on its port, and HTTP calls over real sockets. Everything listens on 127.0.0.1."""
from __future__ import annotations

import asyncio
import inspect
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from aiosmtpd.controller import Controller

from .conftest import Mailbox, free_port
from .helpers import Answer

# Cheaper argon2 than production for the fault tests (same code path); the soak keeps the defaults.
CHEAP_ARGON2 = {"UGENE_ARGON2_MEMORY_KIB": "8192", "UGENE_ARGON2_TIME_COST": "1"}


def serve_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """The process environment without any inherited UGENE_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UGENE_")}
    env.update({"UGENE_DATA_DIR": str(data_dir), "UGENE_PORT": str(port), "UGENE_HOST": "127.0.0.1", **extra})
    return env


class Server:
    """One `ugene serve` process; its output goes to a log file (a pipe would fill up under load)."""

    def __init__(self, env: dict[str, str], log_path: Path, *args: str):
        self.env, self.log_path, self.args = env, log_path, args
        self.port = int(env["UGENE_PORT"])
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self._offset = 0

    def start(self, workers: int = 1, timeout: float = 60) -> "Server":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "ugene", "serve", *self.args], env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while self.this_run().count("ugene serving on") < workers:
            if self.process.poll() is not None:
                raise AssertionError(f"ugene serve exited with {self.process.returncode}:\n{self.this_run()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"ugene serve did not start within {timeout} s:\n{self.this_run()}")
            time.sleep(0.05)
        return self

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def this_run(self) -> str:
        """The output since the last start."""
        return self.output()[self._offset:]

    def admin_password(self) -> str | None:
        found = re.search(r"account `admin` with the password (\S+)", self.output())
        return found.group(1) if found else None

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self, timeout: float = 20) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit in time; the exit status (None if it was killed)."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            return None


class Smtp:
    """A real SMTP server on a fixed port that can go down, come back, or hang (accept, never greet)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.mailbox = Mailbox()
        self._controller: Controller | None = None
        self._hole: socket.socket | None = None

    def up(self) -> "Smtp":
        self.down()
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def black_hole(self) -> "Smtp":
        """Listen without ever accepting: the kernel completes the handshake, the greeting never comes."""
        self.down()
        self._hole = socket.socket()
        self._hole.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._hole.bind(("127.0.0.1", self.port))
        self._hole.listen(16)
        return self

    def down(self) -> "Smtp":
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._hole is not None:
            self._hole.close()
            self._hole = None
        return self

    def to(self, recipient: str) -> list:
        return [m for m in self.mailbox.messages if m["To"].lower() == recipient.lower()]


def client(limit: int = 200) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit))


async def call(session: aiohttp.ClientSession, base: str, module: str, param: str, *, token: str | None = None,
               timeout: float = 30, **args) -> Answer:
    """One POST /api call; transport failures raise (aiohttp.ClientError, asyncio.TimeoutError)."""
    headers = {"X-Authorization-Token": f"Bearer {token}"} if token else {}
    async with session.post(f"{base}/api", json={"module": module, "param": param, "language": "en", "args": args},
                            headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
        return Answer(response.status, response.headers, await response.json(content_type=None))


async def get_status(session: aiohttp.ClientSession, url: str, timeout: float = 10) -> int:
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
        await response.read()
        return response.status


def figure(name: str, **values) -> None:
    """Print a measured figure in one greppable line (`pytest -s` or `-rP` shows it)."""
    text = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
    print(f"FIGURE {name}: {text}", flush=True)


async def eventually(check, timeout: float, what: str, step: float = 0.05):
    """Poll `check()` (sync or async) until it returns something true; that value, or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(step)
