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
from .whole import write_whole

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


class SecretUnusable(Exception):
    """The kept signing key cannot be used; the message says what to do."""


def load_secret(settings: Settings) -> str:
    """`UGENE_SECRET`, or the key kept (mode 600) in the data dir, made on first start.

    Processes may start on a fresh data dir at once (`serve --workers N`, `create-admin` beside
    `serve`). The key is written whole and the first one in place wins (ugene.whole), so all of them
    read one complete key. A plain write let a process read another's file while it was still empty,
    or keep a key of its own, and its tokens failed on the other workers.
    """
    if settings.secret:
        return settings.secret
    path = Path(settings.data_dir) / "secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        write_whole(path, secrets.token_urlsafe(48).encode(), first_wins=True)
    value = path.read_text().strip()
    if not value:       # tokens signed with an empty key could be forged by anyone
        raise SecretUnusable(f"the signing key file {path} is empty: delete it to have a new key made "
                             "(every session ends), or set UGENE_SECRET")
    return value


def build_services(settings: Settings, registry: Registry, messages: Messages, clock: Clock) -> Services:
    passwords = Passwords(settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism)
    return Services(
        settings=settings, registry=registry, messages=messages, clock=clock, passwords=passwords,
        sessions=Sessions(load_secret(settings), clock, settings.session_seconds, settings.refresh_seconds),
        tokens=Tokens(clock), throttle=Throttle(clock), activity=Activity(clock),
        outbox=Outbox(clock, messages), files=FileStore(settings.files_dir))
