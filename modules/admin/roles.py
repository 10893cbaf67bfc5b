"""Delegated roles: named sets of admin permission ids, assigned to accounts that are not full admins.

A role takes effect through the session lookup (ugene/sessions.py joins the enabled role), so a
change here is seen by the very next request on every worker.
"""
from __future__ import annotations

import asyncpg

from ugene import Args, Code, Context, NoArgs, Reply, UgeneError, admin

from . import queries
from .base import PERMISSIONS, Uid, find_target, log, may_change, module, only_own_permissions

MAX_NAME = 64
BIGINT = 2 ** 63 - 1


def role_name(value: str) -> str:
    """The name to store (trimmed); 001412 when empty, too long or holding control characters."""
    name = value.strip()
    if not name or len(name) > MAX_NAME or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UgeneError(Code.ROLE_INVALID)
    return name


def permission_ids(values: list[int]) -> list[int]:
    """Sorted and without repeats; 001412 when one is not a permission id of the protocol."""
    if any(value not in PERMISSIONS for value in values):
        raise UgeneError(Code.ROLE_INVALID)
    return sorted(set(values))


async def find_role(ctx: Context, role_id: int) -> asyncpg.Record:
    """The role, locked for this change; 001414 when there is none (or the id cannot be one)."""
    role = await queries.find_role(ctx.conn, role_id, lock=True) if 0 < role_id <= BIGINT else None
    if role is None:
        raise UgeneError(Code.ROLE_NOT_FOUND)
    return role


async def save(ctx: Context, role_id: int | None, name: str, permissions: list[int], status: bool) -> int:
    """Insert or update a role; 001412 when another role has the name (letter case ignored)."""
    if await queries.name_taken(ctx.conn, name, excluding=role_id):
        raise UgeneError(Code.ROLE_INVALID)
    try:
        async with ctx.conn.transaction():          # a savepoint: a racing twin may take the name first
            if role_id is None:
                return await queries.insert_role(ctx.conn, name, permissions, status, ctx.now())
            await queries.update_role(ctx.conn, role_id, name, permissions, status, ctx.now())
            return role_id
    except asyncpg.UniqueViolationError:
        raise UgeneError(Code.ROLE_INVALID) from None


class CreateRoleArgs(Args):
    name: str
    permissions: list[int] = []
    status: bool = True


@module.param("create-role", access=admin(8), codes=(Code.ROLE_SAVED, Code.ROLE_INVALID, Code.NOT_PERMITTED))
async def create_role(ctx: Context, args: CreateRoleArgs) -> Reply:
    """Create a role from permission ids; answers its id."""
    name, permissions = role_name(args.name), permission_ids(args.permissions)
    only_own_permissions(ctx, permissions)
    role_id = await save(ctx, None, name, permissions, args.status)
    await log(ctx, "create-role", role=role_id, name=name, permissions=permissions, status=args.status)
    return Reply.message(Code.ROLE_SAVED, id=role_id)


class ModifyRoleArgs(Args):
    id: int
    name: str | None = None
    permissions: list[int] | None = None
    status: bool | None = None


@module.param("modify-role", access=admin(9), codes=(
    Code.ROLE_SAVED, Code.ROLE_INVALID, Code.ROLE_NOT_FOUND, Code.NOT_PERMITTED))
async def modify_role(ctx: Context, args: ModifyRoleArgs) -> Reply:
    """Change a role's name, permissions or status; only the fields given change (§8)."""
    role = await find_role(ctx, args.id)
    name = role_name(args.name) if args.name is not None else role["name"]
    permissions = permission_ids(args.permissions) if args.permissions is not None else list(role["permissions"])
    status = args.status if args.status is not None else role["status"]
    only_own_permissions(ctx, permissions)
    await save(ctx, role["id"], name, permissions, status)
    await log(ctx, "modify-role", role=role["id"], name=name, permissions=permissions, status=status)
    return Reply.message(Code.ROLE_SAVED)


class RoleIdArgs(Args):
    id: int


@module.param("delete-role", access=admin(10), codes=(Code.ROLE_DELETED, Code.ROLE_NOT_FOUND))
async def delete_role(ctx: Context, args: RoleIdArgs) -> Reply:
    """Delete a role; the accounts holding it lose it (and its permissions) at once."""
    role = await find_role(ctx, args.id)
    holders = await queries.delete_role(ctx.conn, role["id"], ctx.now())
    await log(ctx, "delete-role", role=role["id"], name=role["name"], holders=holders)
    return Reply.message(Code.ROLE_DELETED)


class AssignRoleArgs(Args):
    uid: Uid
    role: int


@module.param("assign-role", access=admin(12), codes=(
    Code.ROLE_ASSIGNED, Code.ROLE_NOT_FOUND, Code.USER_NOT_FOUND, Code.ACCOUNT_RESTRICTED, Code.NOT_PERMITTED))
async def assign_role(ctx: Context, args: AssignRoleArgs) -> Reply:
    """Give an account a role (role 0 takes it away); never one's own, like change-admin."""
    target = await find_target(ctx, args.uid, Code.USER_NOT_FOUND)
    if target["id"] == ctx.user["id"]:
        raise UgeneError(Code.NOT_PERMITTED)
    may_change(ctx, target)
    role_id = None
    if args.role != 0:
        role = await find_role(ctx, args.role)
        only_own_permissions(ctx, role["permissions"])
        role_id = role["id"]
    await queries.set_user_flag(ctx.conn, target["id"], "role_id", role_id, ctx.now())
    await log(ctx, "assign-role", target["id"], uid=target["uid"], role=role_id)
    return Reply.message(Code.ROLE_ASSIGNED)


@module.param("show-roles", access=admin(13))
async def show_roles(ctx: Context, args: NoArgs) -> Reply:
    """Every role with its permission ids and whether it is enabled."""
    await log(ctx, "show-roles")
    return Reply.data([{"id": row["id"], "name": row["name"], "permissions": sorted(row["permissions"]),
                        "status": row["status"]} for row in await queries.all_roles(ctx.conn)])
