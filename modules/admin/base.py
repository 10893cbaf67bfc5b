"""The admin module object and the rules every admin change shares.

Who may call which param is data (`access=admin(n)`) checked by the dispatcher; what is checked
here is the *target* of a change: a delegate never touches a full admin, a restricted account is
left alone, the last active admin stays, and nobody hands out a permission they do not hold.
"""
from __future__ import annotations

from typing import Annotated

from ugene import Code, Context, Field, Module, UgeneError, active_admins, find_by_uid

module = Module("admin", version="1.0.0",
                description="User administration: accounts, admin rights, delegated roles and runtime switches")

# Protocol §5: the admin functions and their permission ids.
PERMISSIONS = {
    1: "show-users", 2: "add-user", 3: "users-info", 4: "change-user-status", 5: "change-admin",
    6: "change-registration", 7: "switch-confirm-email", 8: "create-role", 9: "modify-role",
    10: "delete-role", 11: "show-module", 12: "assign-role", 13: "show-roles",
}
EVERY_PERMISSION = frozenset(PERMISSIONS)

# PostgreSQL text cannot hold NUL; refusing it here keeps such input a 002003, not a 002005.
Uid = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00]*$")]


def is_full_admin(ctx: Context) -> bool:
    return bool(ctx.user["is_admin"])


def own_permissions(ctx: Context) -> frozenset[int]:
    """What the caller may do: everything for a full admin, else what their enabled role grants."""
    return EVERY_PERMISSION if is_full_admin(ctx) else frozenset(ctx.session.permissions or ())


def only_own_permissions(ctx: Context, permissions) -> None:
    """A delegate can only grant what they hold, or two permissions would make them a full admin."""
    if not set(permissions) <= own_permissions(ctx):
        raise UgeneError(Code.NOT_PERMITTED)


async def find_target(ctx: Context, uid: str, missing: Code) -> dict:
    """The account a change is about; `missing` when there is none (erased tombstones included)."""
    target = await find_by_uid(ctx.conn, uid)
    if target is None:
        raise UgeneError(missing)
    return target


def may_change(ctx: Context, target: dict) -> None:
    """003014 when a delegate touches a full admin; 001420 when the account is restricted (GDPR)."""
    if target["is_admin"] and not is_full_admin(ctx):
        raise UgeneError(Code.NOT_PERMITTED)
    if target["restricted"]:
        raise UgeneError(Code.ACCOUNT_RESTRICTED)


async def keep_an_admin(ctx: Context, target: dict) -> None:
    """003014 when the change would leave no active admin.

    active_admins locks the active admins' rows, so two admins removing each other at the same
    moment are serialized and the second one is refused.
    """
    if target["is_admin"] and target["status"] and not target["deleted"]:
        if await active_admins(ctx.conn, excluding=target["id"]) == 0:
            raise UgeneError(Code.NOT_PERMITTED)


async def log(ctx: Context, action: str, target_id: int | None = None, **detail) -> None:
    """Every admin action goes to the activity log: actor, action, target, time (and IP)."""
    await ctx.log(f"admin.{action}", user_id=target_id, actor_id=ctx.user["id"], **detail)
