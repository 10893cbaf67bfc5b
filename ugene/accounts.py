"""Accounts as the core stores them: shape checks, creation with its config rows, lookups, views."""
from __future__ import annotations

import re
import secrets
import string

import asyncpg

from .clock import unix
from .codes import Code
from .errors import UgeneError

_USERNAME = re.compile(r"[A-Za-z0-9._-]{3,32}")
_UID_ALPHABET = string.ascii_letters + string.digits
TWO_FACTOR = {"config_name": "Authentication Two Factor", "config_group": "security",
              "config_key": "auth_two_factor", "default_value": "0"}


def valid_username(value: str) -> bool:
    return isinstance(value, str) and _USERNAME.fullmatch(value) is not None


def valid_email(value: str) -> bool:
    """Shape only (protocol §8): one @, a local part ≤64, a dotted domain, no spaces or controls."""
    if not isinstance(value, str) or len(value) > 254 or value.count("@") != 1:
        return False
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        return False
    local, domain = value.split("@")
    labels = domain.split(".")
    return 0 < len(local) <= 64 and len(labels) >= 2 and all(labels)


def new_uid() -> str:
    return "".join(secrets.choice(_UID_ALPHABET) for _ in range(12))


async def create_user(conn, clock, *, username: str, email: str, password_hash: str, completed: bool,
                      is_admin: bool = False, status: bool = True, creator_id: int | None = None,
                      language: str = "en") -> dict:
    """Insert an account and its config rows; 001401/001402 when the name or address is taken.

    The pre-check gives the right code in the common case; the unique indexes decide races.
    """
    taken = await conn.fetchrow(
        """SELECT bool_or(lower(username) = lower($1)) AS name, bool_or(lower(email) = lower($2)) AS mail
           FROM ugene_user WHERE lower(username) = lower($1) OR lower(email) = lower($2)""", username, email)
    if taken["name"]:
        raise UgeneError(Code.USERNAME_TAKEN)
    if taken["mail"]:
        raise UgeneError(Code.EMAIL_TAKEN)
    now = clock.now()
    try:
        async with conn.transaction():
            user = await conn.fetchrow(
                """INSERT INTO ugene_user (uid, username, email, password_hash, is_admin, status, completed,
                       creator_id, language, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *""",
                new_uid(), username, email, password_hash, is_admin, status, completed, creator_id, language, now)
    except asyncpg.UniqueViolationError as exc:
        raise UgeneError(Code.USERNAME_TAKEN if "username" in (exc.constraint_name or "") else Code.EMAIL_TAKEN)
    await conn.execute(
        """INSERT INTO ugene_user_config (user_id, config_name, config_group, config_key, current_value,
               default_value, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5, $6, $6)""",
        user["id"], TWO_FACTOR["config_name"], TWO_FACTOR["config_group"], TWO_FACTOR["config_key"],
        TWO_FACTOR["default_value"], now)
    return dict(user)


async def find_by_login(conn, login: str) -> dict | None:
    """A live (not erased) account by username or email, case-insensitively."""
    row = await conn.fetchrow(
        """SELECT * FROM ugene_user WHERE NOT erased AND (lower(username) = lower($1) OR lower(email) = lower($1))
           ORDER BY lower(username) = lower($1) DESC LIMIT 1""", login)
    return dict(row) if row else None


async def find_by_uid(conn, uid: str, *, lock: bool = False) -> dict | None:
    sql = "SELECT * FROM ugene_user WHERE uid = $1 AND NOT erased" + (" FOR UPDATE" if lock else "")
    row = await conn.fetchrow(sql, uid)
    return dict(row) if row else None


async def active_admins(conn, *, excluding: int | None = None) -> int:
    """Admins who can still act (not deleted, not blocked); the last one is protected.

    Their rows stay locked until the transaction ends, so two requests each removing a different
    admin cannot both see the other one still active and leave none. Call it before locking any
    single account row, so every caller takes the locks in the same (id) order.
    """
    return await conn.fetchval(
        # A FILTER, not a WHERE the planner would push into the subquery: every row must be locked.
        """SELECT count(*) FILTER (WHERE id IS DISTINCT FROM $1) FROM (SELECT id FROM ugene_user
               WHERE is_admin AND status AND NOT deleted AND NOT erased ORDER BY id FOR UPDATE) AS admins""",
        excluding)


def account_view(user: dict) -> dict:
    """The account fields every listing shares, times in Unix seconds (0 when never)."""
    return {
        "uid": user["uid"], "username": user["username"], "email": user["email"],
        "deleted": user["deleted"], "mailsent": unix(user["mailsent"]),
        "mailconfirmed": unix(user["mailconfirmed"]), "completed": user["completed"],
        "status": user["status"], "created_at": unix(user["created_at"]),
        "updated_at": unix(user["updated_at"]), "logged_at": unix(user["logged_at"]),
    }


def config_view(row, owner_uid: str) -> dict:
    """A config row in the seed's CamelCase keys (switch-2fa, users-info)."""
    return {
        "uid": str(row["id"]), "user_id": owner_uid, "UID": owner_uid,
        "ConfigName": row["config_name"], "ConfigGroup": row["config_group"],
        "ConfigKey": row["config_key"], "CurrentValue": row["current_value"],
        "DefaultValue": row["default_value"], "Status": row["status"],
        "CreatedAt": unix(row["created_at"]), "UpdatedAt": unix(row["updated_at"]),
    }
