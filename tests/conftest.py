"""Shared fixtures: one real PostgreSQL for the run, a clean database per test, a real SMTP server,
the app served over real HTTP, and a clock that tests move instead of sleeping."""
from __future__ import annotations

import asyncio
import email
import shutil
import socket
import tempfile
import threading
import time
from email import policy
from pathlib import Path

import asyncpg
import pytest
from aiosmtpd.controller import Controller

from ugene.app import create_app
from ugene.clock import Clock
from ugene.db import apply_schema
from ugene.embedded_pg import EmbeddedPostgres
from ugene.registry import discover
from ugene.settings import Settings

from .helpers import Api

# Cheaper argon2 than production (same algorithm and code path) so the suite stays quick.
TEST_ARGON2 = {"argon2_memory_kib": 8192, "argon2_time_cost": 1}


class MovableClock(Clock):
    """Wall-clock time plus an offset that tests advance instead of sleeping."""

    def __init__(self):
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture(scope="session")
def pg():
    root = Path(tempfile.mkdtemp(prefix="ugene-test-"))
    server = EmbeddedPostgres(root / "pg", fast=True, log=lambda line: None)
    dsn = server.start()
    registry = discover()

    async def prepare():
        conn = await asyncpg.connect(dsn)
        try:
            await apply_schema(conn, registry.schema_files())
        finally:
            await conn.close()

    asyncio.run(prepare())
    yield dsn
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def db(pg):
    """A connection to a database emptied of every row; settings back to their defaults."""
    conn = await asyncpg.connect(pg)
    tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    names = ", ".join(f'"{row["tablename"]}"' for row in tables)
    await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    await conn.execute("""INSERT INTO ugene_setting (key, value) VALUES
        ('allow-registration', 'true'), ('comfirmation-email', 'true'), ('sendmail-delete-user', 'true')""")
    yield conn
    await conn.close()


class Mailbox:
    """What the test SMTP server received, as parsed messages."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()
        return "250 OK"

    async def wait(self, count: int = 1, timeout: float = 10.0, to: str | None = None):
        """The first `count` messages (to `to`, if given), waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages if to is None or m["To"].lower() == to.lower()]
            if len(found) >= count:
                return found[:count] if count > 1 else found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} mail(s) to {to or 'anyone'}, got {len(found)}")
            await asyncio.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    mailbox.controller = controller
    yield mailbox
    controller.stop()


@pytest.fixture
def clock():
    return MovableClock()


@pytest.fixture
def settings(pg, smtp, tmp_path):
    return Settings(database_url=pg, data_dir=tmp_path / "data", smtp_host="127.0.0.1", smtp_port=smtp.port,
                    public_url="https://ugene.example.test", mail_retry_base_seconds=0.2, pool_min=1,
                    pool_max=10, secret="test-secret-" + "x" * 32, **TEST_ARGON2)


@pytest.fixture
async def app(settings, clock, db):
    return create_app(settings, clock=clock)


@pytest.fixture
async def api(aiohttp_client, app):
    client = await aiohttp_client(app)
    return Api(client, app)
