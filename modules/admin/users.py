"""Accounts as admins see and change them: listings, creation, blocking and admin rights."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, model_validator

from ugene import (Args, Code, Context, Field, Reply, UgeneError, account_view, admin, config_view, create_user,
                   password_problem, valid_email, valid_username)

from . import queries
from .base import EVERY_PERMISSION, Uid, find_target, keep_an_admin, log, may_change, module, only_own_permissions


class ListArgs(Args):
    """show-users and users-info: `sort`, `filter`, `pagesize` (1–100) and `pageno` (≥1)."""

    sort: Annotated[Literal["asc", "desc"], BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v)] = "asc"
    filter: str = Field("", max_length=254, pattern=r"^[^\x00]*$")
    pagesize: int = Field(10, ge=1, le=100)
    pageno: int = Field(1, ge=1)

    @model_validator(mode="before")
    @classmethod
    def empty_means_default(cls, data):
        # The seed says an empty pagesize means the default; null or "" are read as "not given".
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None and value != ""}
        return data


async def listing(ctx: Context, param: str, args: ListArgs, *, creator: bool = False) -> tuple[list, dict]:
    """The page's rows and the answer's extra fields (`total`, `total_exact`); the look is logged.

    `creator`: the rows also carry role_id and creator_uid (users-info)."""
    offset = (args.pageno - 1) * args.pagesize
    if offset >= queries.window(bool(args.filter)):
        # Deeper pages are not served (queries.WINDOW says why): narrow the filter or reverse the sort.
        raise UgeneError(Code.INVALID_ARGUMENTS, details=[{"arg": "pageno", "problem": "less_than_equal"}])
    rows, total, exact = await queries.list_users(ctx.conn, sort=args.sort, needle=queries.like_needle(args.filter),
                                                  limit=args.pagesize, offset=offset, creator=creator)
    # Who looked at personal data is worth keeping too, not only who changed what. The filter text
    # itself is not kept: it may be someone's address, which forget-me could not find here.
    await log(ctx, param, filtered=bool(args.filter), pageno=args.pageno, pagesize=args.pagesize, shown=len(rows))
    return rows, {"total": total, "total_exact": exact}


def with_flag(row, key: str) -> dict:
    """account_view with the admin flag after `email`, under the name each listing uses."""
    view = account_view(row)
    fields = list(view.items())
    fields.insert(3, (key, row["is_admin"]))
    return dict(fields, restricted=row["restricted"])


@module.param("show-users", access=admin(1))
async def show_users(ctx: Context, args: ListArgs) -> Reply:
    """A page of accounts, by creation time, optionally filtered by a piece of username or email."""
    rows, extra = await listing(ctx, "show-users", args)
    return Reply.data([{"id": row["id"], **with_flag(row, "is_admin")} for row in rows], **extra)


@module.param("users-info", access=admin(3))
async def users_info(ctx: Context, args: ListArgs) -> Reply:
    """show-users with each account's creator, role and config rows (one query for all the rows)."""
    rows, extra = await listing(ctx, "users-info", args, creator=True)
    configs: dict[int, list] = {}
    for config in await queries.config_rows(ctx.conn, [row["id"] for row in rows]):
        configs.setdefault(config["user_id"], []).append(config)
    data = [{**with_flag(row, "admin"), "creator_id": row["creator_uid"] or "",
             "group_id": str(row["role_id"]) if row["role_id"] is not None else "",
             "config": [config_view(config, row["uid"]) for config in configs.get(row["id"], [])]}
            for row in rows]
    return Reply.data(data, **extra)


class AddUserArgs(Args):
    uname: str
    password: str = Field(alias="pass")
    email: str
    status: bool = True


@module.param("add-user", access=admin(2), codes=(
    Code.DONE, Code.USERNAME_TAKEN, Code.EMAIL_TAKEN, Code.PASSWORD_WEAK, Code.EMAIL_INVALID, Code.USERNAME_INVALID))
async def add_user(ctx: Context, args: AddUserArgs) -> Reply:
    """Create an account, completed at once (no confirmation mail); the creator is recorded."""
    if not valid_username(args.uname):
        raise UgeneError(Code.USERNAME_INVALID)
    if not valid_email(args.email):
        raise UgeneError(Code.EMAIL_INVALID)
    if password_problem(args.password):
        raise UgeneError(Code.PASSWORD_WEAK)
    digest = await ctx.services.passwords.hash(args.password)
    user = await create_user(ctx.conn, ctx.clock, username=args.uname, email=args.email, password_hash=digest,
                             completed=True, status=args.status, creator_id=ctx.user["id"],
                             language=ctx.settings.default_language)
    await log(ctx, "add-user", user["id"], uid=user["uid"], status=args.status)
    return Reply.message(Code.DONE, uid=user["uid"])


class StatusArgs(Args):
    uid: Uid
    status: bool


@module.param("change-user-status", access=admin(4), codes=(
    Code.DONE, Code.STATUS_UNCHANGEABLE, Code.ACCOUNT_RESTRICTED, Code.NOT_PERMITTED))
async def change_user_status(ctx: Context, args: StatusArgs) -> Reply:
    """Block (status false) or unblock an account; blocking ends its sessions at once."""
    target = await find_target(ctx, args.uid, Code.STATUS_UNCHANGEABLE)
    if target["id"] == ctx.user["id"]:
        raise UgeneError(Code.STATUS_UNCHANGEABLE)
    may_change(ctx, target)
    if not args.status:
        await keep_an_admin(ctx, target)
    await queries.set_user_flag(ctx.conn, target["id"], "status", args.status, ctx.now())
    ended = 0 if args.status else await ctx.services.sessions.revoke_user(ctx.conn, target["id"])
    await log(ctx, "change-user-status", target["id"], uid=target["uid"], status=args.status, sessions_ended=ended)
    return Reply.message(Code.DONE)


class AdminArgs(Args):
    uid: Uid
    is_admin: bool


@module.param("change-admin", access=admin(5), codes=(
    Code.ADMIN_CHANGED, Code.USER_NOT_FOUND, Code.ACCOUNT_RESTRICTED, Code.NOT_PERMITTED))
async def change_admin(ctx: Context, args: AdminArgs) -> Reply:
    """Grant or revoke full admin rights; never one's own, never the last active admin's."""
    target = await find_target(ctx, args.uid, Code.USER_NOT_FOUND)
    if target["id"] == ctx.user["id"]:
        raise UgeneError(Code.NOT_PERMITTED)
    may_change(ctx, target)
    if args.is_admin:
        only_own_permissions(ctx, EVERY_PERMISSION)    # full rights are every permission: a delegate lacks some
    else:
        await keep_an_admin(ctx, target)
    await queries.set_user_flag(ctx.conn, target["id"], "is_admin", args.is_admin, ctx.now())
    await log(ctx, "change-admin", target["id"], uid=target["uid"], is_admin=args.is_admin)
    return Reply.message(Code.ADMIN_CHANGED)
