"""Ending sessions and the second factor: logout, switch-2fa, resend-otp."""
from __future__ import annotations

from ugene import PARTIAL_SESSION, SESSION, Args, Code, Context, Field, NoArgs, Reply, UgeneError, config_view, otp

from . import queries
from .module import module


class LogoutArgs(Args):
    refresh_token: str | None = Field(default=None, alias="refresh-token")
    every_session: bool = Field(default=False, alias="all")


@module.param("logout", access=SESSION, get=True, codes=(Code.REFRESH_INVALID,))
async def logout(ctx: Context, args: LogoutArgs) -> Reply:
    """End this session; with the caller's refresh token or `all=true`, every session of the account."""
    user, sessions = ctx.user, ctx.services.sessions
    if args.refresh_token is not None and not await sessions.owns_refresh(ctx.conn, user["id"], args.refresh_token):
        raise UgeneError(Code.REFRESH_INVALID)
    everywhere = args.every_session or args.refresh_token is not None
    if everywhere:
        await sessions.revoke_user(ctx.conn, user["id"])
    else:
        await sessions.revoke(ctx.conn, ctx.session.id)
    await ctx.log("logout", user_id=user["id"], actor_id=user["id"], everywhere=everywhere)
    return Reply.message(Code.LOGGED_OUT)


@module.param("switch-2fa", access=SESSION, get=True)
async def switch_2fa(ctx: Context, args: NoArgs) -> Reply:
    """Toggle auth_two_factor; turning it on also provisions an authenticator-app secret."""
    user = ctx.user
    row = await queries.toggle_two_factor(ctx.conn, user["id"], ctx.now())
    data = config_view(row, user["uid"])
    if row["current_value"] == "1":
        data["otpauth-uri"] = await otp.provision(ctx.conn, user)
    else:
        # Off means off: neither the app's secret nor a mailed code still pending may sign anyone in.
        await otp.retire(ctx.conn, user)
        await ctx.services.tokens.revoke(ctx.conn, user["id"], otp.KIND)
    await ctx.log("2fa-switched", user_id=user["id"], actor_id=user["id"], enabled=row["current_value"] == "1")
    return Reply.data(data)


@module.param("resend-otp", access=PARTIAL_SESSION, get=True, codes=(Code.NOT_POSSIBLE, Code.TOO_MANY_ATTEMPTS))
async def resend_otp(ctx: Context, args: NoArgs) -> Reply:
    """Mail a fresh one-time code (the earlier one dies); at most one per address per minute."""
    user = ctx.user
    if not await otp.enabled(ctx.conn, user["id"]):
        raise UgeneError(Code.NOT_POSSIBLE)
    if not await otp.send_code(ctx, user):
        key = f"mail:{otp.KIND}:{user['email'].lower()}"   # the key otp.send_code limits on
        raise UgeneError(Code.TOO_MANY_ATTEMPTS, retry_after=await ctx.services.throttle.wait(ctx.conn, key) or 60)
    return Reply.message(Code.OTP_SENT)
