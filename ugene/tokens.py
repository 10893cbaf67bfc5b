"""One-time links and mailed codes: random, stored as digests, expiring, usable once (atomically)."""
from __future__ import annotations

import json
import secrets
from datetime import timedelta

from .clock import Clock
from .sessions import digest


class Tokens:
    """Issue and consume one-time secrets of a `kind` (confirm-email, restore-pwd, otp, ...)."""

    def __init__(self, clock: Clock):
        self.clock = clock

    async def issue(self, conn, user_id: int, kind: str, ttl_seconds: int, *, email: str | None = None,
                    payload: dict | None = None, code: bool = False) -> str:
        """A new secret; every earlier live one of the same kind and user dies (resend semantics).

        Links get 256 random bits; `code=True` gives a 6-digit one-time code instead. A code's digest
        is salted with the user id so equal codes of different users never collide.
        """
        now = self.clock.now()
        await conn.execute(
            """UPDATE ugene_token SET revoked_at = $3
               WHERE user_id = $1 AND kind = $2 AND used_at IS NULL AND revoked_at IS NULL""",
            user_id, kind, now)
        secret = f"{secrets.randbelow(10**6):06d}" if code else secrets.token_urlsafe(32)
        await conn.execute(
            """INSERT INTO ugene_token (user_id, kind, digest, email, payload, expires_at, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            user_id, kind, self._digest(kind, secret, user_id if code else None), email,
            json.dumps(payload or {}), now + timedelta(seconds=ttl_seconds), now)
        return secret

    async def use(self, conn, kind: str, secret: str, *, user_id: int | None = None):
        """Consume a secret: the token row once, None if unknown, used, revoked or expired.

        The single UPDATE is what makes concurrent uses safe: only one of them can match.
        """
        if not isinstance(secret, str) or not secret or len(secret) > 200:
            return None
        row = await conn.fetchrow(
            """UPDATE ugene_token SET used_at = $3
               WHERE digest = $1 AND kind = $2 AND used_at IS NULL AND revoked_at IS NULL
                 AND expires_at > $3
               RETURNING id, user_id, kind, email, payload, created_at""",
            self._digest(kind, secret, user_id), kind, self.clock.now())
        if row is None:
            return None
        result = dict(row)
        result["payload"] = json.loads(result["payload"]) if isinstance(result["payload"], str) else result["payload"]
        return result

    async def peek(self, conn, kind: str, secret: str) -> dict | None:
        """The live token row without consuming it (a page that shows a form before the button)."""
        if not isinstance(secret, str) or not secret or len(secret) > 200:
            return None
        row = await conn.fetchrow(
            """SELECT id, user_id, kind, email FROM ugene_token WHERE digest = $1 AND kind = $2
               AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3""",
            self._digest(kind, secret, None), kind, self.clock.now())
        return dict(row) if row else None

    async def revoke(self, conn, user_id: int, kind: str) -> None:
        await conn.execute(
            """UPDATE ugene_token SET revoked_at = $3
               WHERE user_id = $1 AND kind = $2 AND used_at IS NULL AND revoked_at IS NULL""",
            user_id, kind, self.clock.now())

    @staticmethod
    def _digest(kind: str, secret: str, user_id: int | None) -> bytes:
        salt = f"{user_id}:" if user_id is not None else ""
        return digest(f"{kind}:{salt}{secret}")
