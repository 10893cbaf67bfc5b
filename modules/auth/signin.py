"""Signing in: the throttles, the password, the account's state, the second factor, the new session."""
from ugene import Code, Context, Reply, UgeneError, find_by_login, otp

from . import queries

SIGNIN_LIMIT = 10        # failed sign-ins in a row before the account waits (protocol §8)


def account_key(user: dict) -> str:
    return f"signin:{user['id']}"


def _limits(ctx: Context, user: dict | None, login: str) -> dict[str, int]:
    """The throttle keys an attempt counts against, each with the failures in a row it allows.

    An unknown login name gets a key of its own, so that it locks exactly like a real account and the
    lock does not tell which names exist. The IP key stops one address from spraying many accounts.
    """
    limits = {account_key(user) if user else f"signin:login:{login.lower()}": SIGNIN_LIMIT}
    if ctx.ip:
        limits[f"signin-ip:{ctx.ip}"] = ctx.settings.ip_failure_ceiling
    return limits


async def sign_in(ctx: Context, login: str, password: str, code) -> Reply:
    """Check everything in protocol order and open a session (a pending one when a code is still due)."""
    user = await find_by_login(ctx.conn, login)
    if user is not None and user["deleted"]:
        user = None                      # a deleted account answers exactly like an unknown one
    limits = _limits(ctx, user, login)
    # The account's attempts one at a time (not the address's: that would queue every sign-in behind a NAT).
    wait = await ctx.services.throttle.attempt(ctx.conn, *limits)
    if wait:
        raise UgeneError(Code.TOO_MANY_ATTEMPTS, retry_after=wait)
    # An unknown account is verified against a dummy hash, so it costs the same time as a wrong password.
    matches, new_hash = await ctx.services.passwords.verify(user["password_hash"] if user else None, password)
    if not matches:
        await _failed(ctx, user, limits)
    await ctx.services.throttle.reset(ctx.conn, *limits)
    if not user["status"]:
        raise UgeneError(Code.ACCOUNT_BLOCKED)
    if not user["completed"]:
        raise UgeneError(Code.EMAIL_NOT_CONFIRMED)
    if new_hash:
        await queries.store_password(ctx.conn, user["id"], new_hash)
    if await otp.enabled(ctx.conn, user["id"]):
        if code is None or code == "":
            return await _code_pending(ctx, user)
        await otp.check(ctx, user, code)
    return await signed_in(ctx, user)


async def _failed(ctx: Context, user: dict | None, limits: dict[str, int]) -> None:
    """Count the failure (kept although the request fails) and answer 001404."""
    for key, limit in limits.items():
        await ctx.services.throttle.failure(ctx.conn, key, limit)
    await ctx.log("signin-failed", user_id=user["id"] if user else None)
    raise UgeneError(Code.WRONG_CREDENTIALS, commit=True)


async def _code_pending(ctx: Context, user: dict) -> Reply:
    """Password accepted with 2FA on: mail a code and open a session that only the code completes."""
    await otp.send_code(ctx, user)
    issued = await ctx.services.sessions.create(ctx.conn, user, completed=False, ip=ctx.ip,
                                                user_agent=ctx.user_agent)
    await ctx.log("signin-code-sent", user_id=user["id"])
    return Reply({"message": Code.OTP_REQUIRED.value, "token": issued.token}, session=issued.session)


async def signed_in(ctx: Context, user: dict, pending=None) -> Reply:
    """A completed session (finishing `pending` when the code came later) with its refresh token."""
    sessions = ctx.services.sessions
    if pending is None:
        issued = await sessions.create(ctx.conn, user, completed=True, ip=ctx.ip, user_agent=ctx.user_agent)
    else:
        issued = await sessions.complete(ctx.conn, pending, ip=ctx.ip, user_agent=ctx.user_agent)
        if issued is None:                  # the pending session ended while this request ran
            raise UgeneError(Code.SESSION_INVALID)
    await queries.touch_login(ctx.conn, user["id"], ctx.now())
    await ctx.log("signin", user_id=user["id"])
    return Reply({"token": issued.token, "refresh_token": issued.refresh_token}, session=issued.session)
