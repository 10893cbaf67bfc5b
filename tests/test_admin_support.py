"""Helpers the admin tests share (this file holds no test): accounts, roles and delegates."""
from __future__ import annotations

from datetime import datetime, timezone

ALL_PERMISSIONS = list(range(1, 14))


async def full_admin(api, username: str = "boss") -> tuple[dict, str]:
    """A full admin (`is_admin`) and a completed session of theirs."""
    return await api.login(username, is_admin=True)


async def make_role(db, name: str, permissions: list[int], *, status: bool = True) -> int:
    return await db.fetchval(
        "INSERT INTO ugene_role (name, permissions, status, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        name, permissions, status, datetime.now(timezone.utc))


async def give_role(db, user: dict, role_id: int | None) -> None:
    await db.execute("UPDATE ugene_user SET role_id = $2 WHERE id = $1", user["id"], role_id)


async def delegate(api, db, username: str, permissions: list[int], *, status: bool = True) -> tuple[dict, str]:
    """A user who is not a full admin, holding a role with `permissions`, and their session."""
    user, token = await api.login(username)
    await give_role(db, user, await make_role(db, f"role of {username}", permissions, status=status))
    return user, token


async def user_row(db, uid: str):
    return await db.fetchrow("SELECT * FROM ugene_user WHERE uid = $1", uid)


async def activity(db, action: str) -> list:
    return await db.fetch("SELECT * FROM ugene_activity WHERE action = $1 ORDER BY id", action)


def assert_code(answer, code: str) -> None:
    assert answer.code == code, answer


async def call(api, param: str, token: str | None, args: dict, language: str = "en"):
    """An admin call with `args` as a dict (Api.call cannot take an argument named `module`)."""
    return await api.post({"module": "admin", "param": param, "args": args, "language": language}, token=token)
