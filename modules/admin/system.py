"""Runtime switches admins change (stored in ugene_setting, so every worker sees them) and modules."""
from __future__ import annotations

from ugene import Args, Code, Context, Reply, UgeneError, admin

from . import queries
from .base import log, module


class SwitchArgs(Args):
    status: bool


async def switch(ctx: Context, param: str, key: str, status: bool) -> Reply:
    """Store a switch; 003007 when its row is missing (schema.sql seeds it: the database is not ours)."""
    if not await queries.save_setting(ctx.conn, key, status, ctx.now()):
        raise UgeneError(Code.SETTING_UNCHANGEABLE)
    # This worker's copy goes at commit; the others drop theirs when PostgreSQL notifies them.
    ctx.after_commit(ctx.services.switches.changed)
    await log(ctx, param, setting=key, status=status)
    return Reply.message(Code.SETTING_SAVED)


@module.param("change-registration", access=admin(6), codes=(Code.SETTING_SAVED, Code.SETTING_UNCHANGEABLE))
async def change_registration(ctx: Context, args: SwitchArgs) -> Reply:
    """Open (true) or close (false) self-signup; general/status shows it."""
    return await switch(ctx, "change-registration", "allow-registration", args.status)


@module.param("switch-confirm-email", access=admin(7), codes=(Code.SETTING_SAVED, Code.SETTING_UNCHANGEABLE))
async def switch_confirm_email(ctx: Context, args: SwitchArgs) -> Reply:
    """Turn the signup confirmation mail on or off; general/status shows it."""
    return await switch(ctx, "switch-confirm-email", "comfirmation-email", args.status)


class ShowModuleArgs(Args):
    module: str


@module.param("show-module", access=admin(11), codes=(Code.MODULE_NOT_FOUND,))
async def show_module(ctx: Context, args: ShowModuleArgs) -> Reply:
    """A loaded module's name, version and description (plugins included); 002000 when unknown."""
    found = ctx.services.registry.modules.get(args.module)
    if found is None:
        raise UgeneError(Code.MODULE_NOT_FOUND)
    await log(ctx, "show-module", module=args.module)
    return Reply.data({"description": found.description, "language": ctx.language, "name": found.title,
                       "version": found.version})
