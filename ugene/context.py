"""What a handler receives (`Context`) and returns (`Reply`)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .sessions import Session

log = logging.getLogger("ugene")

MAIL_EVERY = 60   # seconds: one mail per address and kind (protocol §8)


@dataclass
class Reply:
    """A successful answer: a message code, data, or both with extra fields."""

    answer: dict
    session: Session | None = None          # a session this call created (signin, refresh...)
    headers: dict = field(default_factory=dict)

    @classmethod
    def message(cls, code, **extra) -> "Reply":
        return cls({"message": code.value, **extra})

    @classmethod
    def data(cls, data, **extra) -> "Reply":
        return cls({"data": data, **extra})


@dataclass
class Upload:
    """A file received through the PUT door, already on disk in a temporary place."""

    path: Path
    filename: str
    content_type: str
    size: int
    kind: str                               # the form's `type` field: avatar | file


@dataclass
class Context:
    """Everything a handler may use; it never sees the HTTP request."""

    services: Any                           # ugene.services.Services
    conn: Any                               # the request's connection (ugene.lazy), inside its transaction
    session: Session | None
    language: str
    ip: str | None = None
    user_agent: str | None = None
    request_id: str = ""
    upload: Upload | None = None
    _after_commit: list[Callable] = field(default_factory=list)
    _after_rollback: list[Callable] = field(default_factory=list)

    @property
    def user(self) -> dict | None:
        return self.session.user if self.session else None

    @property
    def settings(self):
        return self.services.settings

    @property
    def clock(self):
        return self.services.clock

    def now(self):
        return self.services.clock.now()

    def after_commit(self, callback: Callable) -> None:
        """Run `callback()` once the transaction has committed (e.g. remove files from disk)."""
        self._after_commit.append(callback)

    def after_rollback(self, callback: Callable) -> None:
        """Run `callback()` if the request's transaction is rolled back (e.g. remove a file just stored).

        Not when COMMIT itself fails: the connection is then usually gone and whether the transaction
        committed is unknown, so a file its row may point to is kept."""
        self._after_rollback.append(callback)

    def rolled_back(self) -> None:
        for callback in self._after_rollback:
            try:
                callback()
            except Exception:   # one failed clean-up must not hide the request's own failure
                log.exception("request %s: a clean-up after rollback failed", self.request_id)

    async def mail(self, template: str, recipient: str, *, user_id: int | None = None,
                   language: str | None = None, attachment=None, **values) -> None:
        """Queue a mail in this transaction; the sender is woken once it commits."""
        await self.services.outbox.enqueue(self.conn, template, recipient, language or self.language,
                                           user_id=user_id, attachment=attachment, **values)
        self.after_commit(self.services.wake_sender)

    async def log(self, action: str, *, user_id: int | None = None, actor_id: int | None = None,
                  **detail) -> None:
        """Write to the activity log with this request's IP and user agent."""
        await self.services.activity.record(self.conn, action, user_id=user_id, actor_id=actor_id,
                                            ip=self.ip, user_agent=self.user_agent, **detail)

    async def mail_link(self, user: dict, *, kind: str, template: str, to: str, link_to: tuple[str, str],
                        ttl: int, payload: dict | None = None) -> bool:
        """Issue a one-time link of `kind` and mail it to `to`, at most once a minute per address and kind.

        The limit is checked before the link is issued, so a refused request keeps the earlier link
        alive (and its earlier links die only when a new one is sent). False when the limit held it back.
        """
        if not await self.services.throttle.once_per(self.conn, f"mail:{kind}:{to.lower()}", MAIL_EVERY):
            return False
        secret = await self.services.tokens.issue(self.conn, user["id"], kind, ttl, email=to, payload=payload)
        await self.mail(template, to, user_id=user["id"], username=user["username"], link=self.link(*link_to, secret))
        return True

    def link(self, module: str, param: str, secret: str, language: str | None = None) -> str:
        """A mail link, always from the configured public URL, never from request headers."""
        return f"{self.settings.public_url}/api/{module}/{param}/{language or self.language}?hash={secret}"

    async def switches(self) -> dict[str, bool]:
        """The runtime switches admins change: allow-registration, comfirmation-email, sendmail-delete-user."""
        return await self.services.switches.get(self.conn)
