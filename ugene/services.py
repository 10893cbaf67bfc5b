"""The services one app owns, built once at start-up and shared by every request."""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .activity import Activity
from .clock import Clock
from .files import FileStore
from .messages import Messages
from .outbox import Outbox, Sender
from .passwords import Passwords
from .registry import Registry
from .sessions import Sessions
from .settings import Settings
from .switches import Switches
from .throttle import Throttle
from .tokens import Tokens

log = logging.getLogger("ugene")


@dataclass
class Services:
    settings: Settings
    registry: Registry
    messages: Messages
    clock: Clock
    passwords: Passwords
    sessions: Sessions
    tokens: Tokens
    throttle: Throttle
    activity: Activity
    outbox: Outbox
    files: FileStore
    switches: Switches = field(default_factory=Switches)
    pool: object = None
    sender: Sender | None = None
    extra: dict = field(default_factory=dict)   # room for plugins' own services

    def wake_sender(self) -> None:
        if self.sender is not None:
            self.sender.wake.set()


def load_secret(settings: Settings) -> str:
    """`UGENE_SECRET`, or one generated on first start and kept (mode 600) in the data dir."""
    if settings.secret:
        return settings.secret
    path = Path(settings.data_dir) / "secret"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(value)
    return value


def build_services(settings: Settings, registry: Registry, messages: Messages, clock: Clock) -> Services:
    passwords = Passwords(settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism)
    return Services(
        settings=settings, registry=registry, messages=messages, clock=clock, passwords=passwords,
        sessions=Sessions(load_secret(settings), clock, settings.session_seconds, settings.refresh_seconds),
        tokens=Tokens(clock), throttle=Throttle(clock), activity=Activity(clock),
        outbox=Outbox(clock, messages), files=FileStore(settings.files_dir))
