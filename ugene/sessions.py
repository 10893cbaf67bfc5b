"""Server-side sessions behind HS256 JWTs, with refresh rotation and theft detection (protocol §4)."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from .clock import Clock, unix


def digest(secret: str) -> bytes:
    """Tokens and keys are random and long, so a fast hash is enough to store them safely."""
    return hashlib.sha256(secret.encode()).digest()


@dataclass
class Session:
    """A resolved session with its user (one query joins them)."""

    id: int
    family_id: int
    completed: bool
    expires_at: datetime
    user: dict
    permissions: frozenset[int] | None = None   # of the enabled role assigned to the user

    def envelope(self) -> dict:
        return {"completed": int(self.completed), "is_admin": int(self.user["is_admin"]),
                "session_exp": unix(self.expires_at), "uid": self.user["uid"]}


@dataclass
class Issued:
    """A freshly created session and the secrets handed to the client once."""

    session: Session
    token: str
    refresh_token: str | None


_RESOLVE = """
SELECT s.id AS session_id, s.family_id, s.completed AS session_completed, s.expires_at,
       r.permissions AS role_permissions, u.*
FROM ugene_session s
JOIN ugene_user u ON u.id = s.user_id
LEFT JOIN ugene_role r ON r.id = u.role_id AND r.status
WHERE s.access_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
  AND NOT u.deleted AND u.status
"""


def _rows(status: str) -> int:
    """How many rows an UPDATE changed, from asyncpg's status string ("UPDATE 3")."""
    return int(status.split()[-1])


VERIFIED_KEPT = 10_000     # tokens whose claims are kept: about 3 MB at most

_SESSION_KEYS = ("session_id", "family_id", "session_completed", "expires_at", "role_permissions")


# The account's row is the lock between making sessions and ending them all. What makes one from an
# earlier one (rotate, complete) holds it FOR SHARE; revoke_user holds it FOR NO KEY UPDATE first. So
# either the ending sees the new session, or the making finds the old one ended: a refresh racing a
# password change, logout-all or block once left a live session behind.
class Sessions:
    """Create, resolve, rotate and revoke sessions; every state change is in PostgreSQL."""

    def __init__(self, secret: str, clock: Clock, session_seconds: int, refresh_seconds: int):
        self.secret = secret
        self.clock = clock
        self.session_seconds = session_seconds
        self.refresh_seconds = refresh_seconds
        self._verified: dict[str, tuple[str, int]] = {}

    def _jwt(self, access_key: str, now: float, exp: datetime) -> str:
        return jwt.encode({"access_key": access_key, "iat": int(now), "exp": unix(exp)},
                          self.secret, algorithm="HS256")

    def access_key(self, token: str) -> str | None:
        """The session key inside a valid token, or None. HS256 only: `alg` is never trusted.

        A client sends the same token with every call until it expires, so the claims of tokens whose
        signature checked out are kept (VERIFIED_KEPT at most, the oldest go first): pyjwt's decode
        costs about as much as the rest of an authenticated call's own work. Only a token identical
        to one verified before is found there; its expiry is checked on every call all the same.
        """
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            if claims is None:
                return None
            if len(self._verified) >= VERIFIED_KEPT:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = claims
        key, exp = claims
        return key if exp > self.clock.time() else None

    def _verify(self, token: str) -> tuple[str, int] | None:
        try:
            # Times are ours to check, against our clock (the test seam): pyjwt's wall clock would
            # take a token issued after `clock.advance` for one issued in the future (`iat`).
            claims = jwt.decode(token, self.secret, algorithms=["HS256"],
                                options={"verify_exp": False, "verify_iat": False,
                                         "require": ["access_key", "iat", "exp"]})
        except (jwt.PyJWTError, ValueError):   # ValueError: a header that is no UTF-8 is no token either
            return None
        key, exp = claims.get("access_key"), claims.get("exp")
        # Expiry is checked against our clock (the test seam), not pyjwt's wall clock, by access_key.
        if not isinstance(key, str) or not isinstance(exp, int) or isinstance(exp, bool):
            return None
        return key, exp

    async def resolve(self, conn, token: str) -> Session | None:
        key = self.access_key(token)
        return None if key is None else await self.lookup(conn, key)

    async def lookup(self, conn, key: str) -> Session | None:
        """The live session whose access key is `key`, with its user and role, in one query."""
        row = await conn.fetchrow(_RESOLVE, digest(key), self.clock.now())
        if row is None:
            return None
        user = {k: v for k, v in row.items() if k not in _SESSION_KEYS}
        perms = row["role_permissions"]
        return Session(row["session_id"], row["family_id"], row["session_completed"], row["expires_at"],
                       user, frozenset(perms) if perms is not None else None)

    async def create(self, conn, user: dict, *, completed: bool, ip: str | None = None,
                     user_agent: str | None = None, family_id: int | None = None) -> Issued:
        """A new session; a completed one also gets a refresh token."""
        now = self.clock.time()
        moment = self.clock.now()
        expires = moment + timedelta(seconds=self.session_seconds)
        key = secrets.token_urlsafe(32)
        refresh = secrets.token_urlsafe(32) if completed else None
        # The id is drawn first so that a new family's id (its first session's) goes in the same statement.
        row = await conn.fetchrow(
            """INSERT INTO ugene_session (id, user_id, family_id, access_hash, refresh_hash, completed,
                   expires_at, refresh_expires_at, ip, user_agent, created_at)
               SELECT n.id, $1, COALESCE($2, n.id), $3, $4, $5, $6, $7, $8, $9, $10
               FROM (SELECT nextval(pg_get_serial_sequence('ugene_session', 'id')) AS id) n
               RETURNING id, family_id""",
            user["id"], family_id, digest(key), digest(refresh) if refresh else None, completed, expires,
            moment + timedelta(seconds=self.refresh_seconds) if refresh else None, ip, user_agent, moment)
        session = Session(row["id"], row["family_id"], completed, expires, user)
        return Issued(session, self._jwt(key, now, expires), refresh)

    async def complete(self, conn, session: Session, *, ip=None, user_agent=None) -> Issued | None:
        """Finish a 2FA sign-in: the pending session ends and a completed one of the same family starts.

        None when the pending session ended after the request found it (logout-all, a block, a password
        change): the code must not revive the sign-in.
        """
        await conn.execute("SELECT 1 FROM ugene_user WHERE id = $1 FOR SHARE", session.user["id"])  # the account's row
        if not await self.revoke(conn, session.id):
            return None
        return await self.create(conn, session.user, completed=True, ip=ip, user_agent=user_agent,
                                 family_id=session.family_id)

    async def rotate(self, conn, refresh_token: str, *, ip=None, user_agent=None):
        """Trade a refresh token for a new session of the same family.

        Returns ("ok", Issued) | ("blocked", None) | ("invalid", None). A refresh token that was
        already rotated means it was stolen or replayed: the whole family is revoked.
        """
        now = self.clock.now()
        await conn.execute("""SELECT 1 FROM ugene_user
                              WHERE id = (SELECT user_id FROM ugene_session WHERE refresh_hash = $1) FOR SHARE""",
                           digest(refresh_token))                                    # the account's row
        row = await conn.fetchrow(
            """UPDATE ugene_session SET rotated_at = $2, revoked_at = COALESCE(revoked_at, $2)
               WHERE refresh_hash = $1 AND rotated_at IS NULL AND revoked_at IS NULL
                 AND refresh_expires_at > $2
               RETURNING user_id, family_id""", digest(refresh_token), now)
        if row is None:
            old = await conn.fetchrow(
                """SELECT s.family_id, s.rotated_at, u.status, u.deleted FROM ugene_session s
                   JOIN ugene_user u ON u.id = s.user_id WHERE s.refresh_hash = $1""", digest(refresh_token))
            if old is None:
                return "invalid", None
            if old["rotated_at"] is not None:
                await self.revoke_family(conn, old["family_id"])
                return "invalid", None
            # Blocking revoked the session; while the block lasts its owner is told so (§8).
            return ("blocked" if not old["status"] and not old["deleted"] else "invalid"), None
        user = await conn.fetchrow("SELECT * FROM ugene_user WHERE id = $1", row["user_id"])
        if user["deleted"] or user["erased"]:
            return "invalid", None
        if not user["status"]:
            return "blocked", None
        issued = await self.create(conn, dict(user), completed=True, ip=ip, user_agent=user_agent,
                                   family_id=row["family_id"])
        return "ok", issued

    async def owns_refresh(self, conn, user_id: int, refresh_token: str) -> bool:
        """Whether a live refresh token belongs to this user (user/logout's check)."""
        return await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM ugene_session WHERE refresh_hash = $1 AND user_id = $2
                   AND revoked_at IS NULL AND rotated_at IS NULL)""", digest(refresh_token), user_id)

    async def revoke(self, conn, session_id: int) -> bool:
        """End one session; whether it was still live."""
        return _rows(await conn.execute(
            "UPDATE ugene_session SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            session_id, self.clock.now())) == 1

    async def revoke_family(self, conn, family_id: int) -> None:
        await conn.execute(
            "UPDATE ugene_session SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
            family_id, self.clock.now())

    async def revoke_user(self, conn, user_id: int, *, keep: int | None = None) -> int:
        """End every session of a user (but `keep`); returns how many ended."""
        # The UPDATE, a statement of its own after the lock, also sees what a refresh committed meanwhile.
        await conn.execute("SELECT 1 FROM ugene_user WHERE id = $1 FOR NO KEY UPDATE", user_id)
        return _rows(await conn.execute(
            """UPDATE ugene_session SET revoked_at = $2
               WHERE user_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $3""",
            user_id, self.clock.now(), keep))
