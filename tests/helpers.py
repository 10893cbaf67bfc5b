"""A tiny client for tests: real HTTP requests with the real envelopes."""
from __future__ import annotations

import re

from ugene.accounts import create_user
from ugene.keys import SERVICES


class Answer:
    """One response: HTTP status, headers and the parsed envelope."""

    def __init__(self, status: int, headers, body: dict):
        self.status, self.headers, self.body = status, headers, body

    @property
    def ok(self) -> bool:
        return self.body.get("success") == 1

    @property
    def code(self) -> str | None:
        return self.body["answer"].get("message") if self.ok else self.body.get("error")

    @property
    def answer(self) -> dict:
        return self.body.get("answer", {})

    def __repr__(self) -> str:
        return f"<Answer {self.status} {self.body}>"


class Api:
    def __init__(self, client, app):
        self.client, self.app = client, app
        self.services = app[SERVICES]

    async def call(self, module: str, param: str, *, token: str | None = None, language: str | None = "en",
                   headers: dict | None = None, **args) -> Answer:
        envelope = {"module": module, "param": param, "args": args}
        if language is not None:
            envelope["language"] = language
        return await self.post(envelope, token=token, headers=headers)

    async def post(self, envelope, *, token: str | None = None, headers: dict | None = None,
                   raw: bytes | None = None) -> Answer:
        h = dict(headers or {})
        if token:
            h["X-Authorization-Token"] = f"Bearer {token}"
        if raw is not None:
            response = await self.client.post("/api", data=raw, headers={"Content-Type": "application/json", **h})
        else:
            response = await self.client.post("/api", json=envelope, headers=h)
        return Answer(response.status, response.headers, await response.json())

    async def get(self, path: str, *, token: str | None = None, headers: dict | None = None, **query) -> Answer:
        h = dict(headers or {})
        if token:
            h["X-Authorization-Token"] = f"Bearer {token}"
        response = await self.client.get(path, params=query or None, headers=h)
        return Answer(response.status, response.headers, await response.json())

    async def user(self, username: str = "alice", password: str = "Correct7Horse", *, email: str | None = None,
                   is_admin: bool = False, completed: bool = True) -> dict:
        """An account created through the core, as an operator's `create-admin` would."""
        pool = self.services.pool
        async with pool.acquire() as conn:
            async with conn.transaction():
                digest = await self.services.passwords.hash(password)
                return await create_user(conn, self.services.clock, username=username,
                                         email=email or f"{username}@example.test", password_hash=digest,
                                         completed=completed, is_admin=is_admin)

    async def session(self, user: dict, *, completed: bool = True):
        """A session made through the core: (token, refresh_token)."""
        async with self.services.pool.acquire() as conn:
            issued = await self.services.sessions.create(conn, user, completed=completed)
        return issued.token, issued.refresh_token

    async def login(self, username: str = "alice", **kwargs) -> tuple[dict, str]:
        user = await self.user(username, **kwargs)
        token, _ = await self.session(user)
        return user, token


def plain_body(message) -> str:
    """The text/plain part with its line ends made `\n` (SMTP delivers CRLF)."""
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def link_in(message) -> str:
    """The link standing alone on its line in a mail."""
    return re.search(r"^(https?://\S+)$", plain_body(message), re.M).group(1)


def line_matching(message, pattern: str) -> str:
    return re.search(pattern, plain_body(message), re.M).group(0)
