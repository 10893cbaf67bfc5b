"""Second factor: mailed 6-digit codes and authenticator-app codes (TOTP, 30 s, ±1 step), each usable once."""
from __future__ import annotations

import pyotp

from .codes import Code
from .errors import UgeneError

KIND = "otp"
WRONG_LIMIT = 5          # wrong codes in a row before the account waits (protocol §8)
ISSUER = "Ugene"


def throttle_key(user: dict) -> str:
    return f"otp:{user['id']}"


async def enabled(conn, user_id: int) -> bool:
    value = await conn.fetchval(
        "SELECT current_value FROM ugene_user_config WHERE user_id = $1 AND config_key = 'auth_two_factor'",
        user_id)
    return value == "1"


async def send_code(ctx, user: dict) -> bool:
    """Mail a fresh code (the earlier one dies); False when the per-minute mail limit held it back."""
    if not await ctx.services.throttle.once_per(ctx.conn, f"mail:{KIND}:{user['email'].lower()}", 60):
        return False
    code = await ctx.services.tokens.issue(ctx.conn, user["id"], KIND, ctx.settings.otp_seconds, code=True)
    await ctx.mail("otp_code", user["email"], user_id=user["id"], username=user["username"], code=code)
    return True


async def check(ctx, user: dict, code) -> None:
    """Accept a mailed or TOTP code once, or raise 001413 (counted) / 001417 (waiting)."""
    throttle = ctx.services.throttle
    wait = await throttle.attempt(ctx.conn, throttle_key(user))
    if wait:
        raise UgeneError(Code.TOO_MANY_ATTEMPTS, retry_after=wait)
    code = str(code).strip() if code is not None else ""
    if code.isdigit() and len(code) == 6 and (await _mailed(ctx, user, code) or await _totp(ctx, user, code)):
        await throttle.reset(ctx.conn, throttle_key(user))
        return
    await throttle.failure(ctx.conn, throttle_key(user), WRONG_LIMIT)
    raise UgeneError(Code.OTP_WRONG, commit=True)


async def _mailed(ctx, user: dict, code: str) -> bool:
    return await ctx.services.tokens.use(ctx.conn, KIND, code, user_id=user["id"]) is not None


async def _totp(ctx, user: dict, code: str) -> bool:
    secret = await ctx.conn.fetchval("SELECT totp_secret FROM ugene_user WHERE id = $1", user["id"])
    if not secret:
        return False
    totp = pyotp.TOTP(secret)
    now = ctx.clock.time()
    current = int(now // totp.interval)
    for step in (current, current - 1, current + 1):
        if pyotp.utils.strings_equal(totp.at(step * totp.interval), code):
            # The step is recorded atomically: a code (or an older one) cannot be replayed.
            used = await ctx.conn.fetchval(
                """UPDATE ugene_user SET totp_last_step = $2 WHERE id = $1
                   AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING true""", user["id"], step)
            return bool(used)
    return False


async def provision(conn, user: dict) -> str:
    """A new TOTP secret for the account; returns the otpauth:// URI for authenticator apps."""
    secret = pyotp.random_base32()
    await conn.execute("UPDATE ugene_user SET totp_secret = $2, totp_last_step = NULL WHERE id = $1",
                       user["id"], secret)
    return pyotp.TOTP(secret).provisioning_uri(name=user["email"], issuer_name=ISSUER)


async def retire(conn, user: dict) -> None:
    await conn.execute("UPDATE ugene_user SET totp_secret = NULL, totp_last_step = NULL WHERE id = $1", user["id"])
