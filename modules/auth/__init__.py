"""The auth module: sign in (with the second factor), refresh a session, restore a forgotten password."""
from typing import Annotated

from ugene import (PARTIAL_SESSION, PUBLIC, Args, Code, Context, Field, Module, Reply, UgeneError,
                   find_by_login, generate_password, otp, password_problem)

from . import queries
from .signin import account_key, sign_in, signed_in

module = Module("auth", version="1.0.0", title="Module Authentication",
                description="Sign in, one-time codes, session refresh and password recovery")

RESTORE = "restore-pwd"          # token kind of the link restore-pwd mails
# restore-pwd answers no sooner than this, so a known account (a link issued, a mail queued) takes as
# long as an unknown one (a lookup): several times what the known path takes on a loaded machine.
ANSWER_FLOOR = 0.1
LOGIN_MAX = 254                  # the longest username or email there can be
# A one-time code: the seed sends a string, apps may send the number; strict, so true or 1.0 is no code.
Number = Annotated[int, Field(strict=True)]


class SigninArgs(Args):
    uname: str = Field(max_length=LOGIN_MAX)
    password: str = Field(alias="pass")
    otp: str | Number | None = None


class VerifyOtpArgs(Args):
    otp: str | Number


class RefreshArgs(Args):
    refresh_token: str = Field(alias="refresh-token")


class RestoreArgs(Args):
    uname: str = Field(max_length=LOGIN_MAX)


class VerifyPwdArgs(Args):
    hash: str
    new_pwd: str | None = Field(default=None, alias="new-pwd")


@module.param("signin", access=PUBLIC)
async def signin(ctx: Context, args: SigninArgs) -> Reply:
    """Sign in with username or email and password (and the one-time code when 2FA is on)."""
    return await sign_in(ctx, args.uname, args.password, _code_text(args.otp))


@module.param("verify-otp", access=PARTIAL_SESSION)
async def verify_otp(ctx: Context, args: VerifyOtpArgs) -> Reply:
    """Complete a sign-in that waits for its one-time code."""
    if ctx.session.completed:
        raise UgeneError(Code.NOT_POSSIBLE)
    await otp.check(ctx, ctx.user, _code_text(args.otp))
    return await signed_in(ctx, ctx.user, pending=ctx.session)


@module.param("refresh-session", access=PUBLIC)
async def refresh_session(ctx: Context, args: RefreshArgs) -> Reply:
    """Trade a refresh token for a new access token and refresh token; a replayed one ends its family."""
    status, issued = await ctx.services.sessions.rotate(ctx.conn, args.refresh_token, ip=ctx.ip,
                                                        user_agent=ctx.user_agent)
    # commit=True: a replay has just revoked every session of the family, and that must stay.
    if status == "blocked":
        raise UgeneError(Code.ACCOUNT_BLOCKED, commit=True)
    if status != "ok":
        raise UgeneError(Code.REFRESH_INVALID, commit=True)
    return Reply({"access-token": issued.token, "refresh_token": issued.refresh_token}, session=issued.session)


@module.param("restore-pwd", access=PUBLIC, min_seconds=ANSWER_FLOOR)
async def restore_pwd(ctx: Context, args: RestoreArgs) -> Reply:
    """Mail a password-restore link; the same answer whether or not the account exists."""
    user = await find_by_login(ctx.conn, args.uname)
    # Deleted and blocked accounts could not sign in with a new password, so they get no link.
    if user is not None and not user["deleted"] and user["status"]:
        await _send_restore_link(ctx, user)
    return Reply.message(Code.RESTORE_LINK_SENT)


@module.param("verify-pwd", access=PUBLIC, get=True, page=("new-pwd",))
async def verify_pwd(ctx: Context, args: VerifyPwdArgs) -> Reply:
    """Set a new password from a restore link: the chosen one, or a generated one sent by mail."""
    token = await ctx.services.tokens.use(ctx.conn, RESTORE, args.hash)
    user = await queries.live_user(ctx.conn, token["user_id"]) if token else None
    if user is None:
        raise UgeneError(Code.LINK_INVALID)
    # A weak password fails after the link is used; the rollback keeps the link alive for another try.
    if args.new_pwd is not None and password_problem(args.new_pwd):
        raise UgeneError(Code.PASSWORD_WEAK)
    password = args.new_pwd if args.new_pwd is not None else generate_password()
    digest = await ctx.services.passwords.hash(password)
    await queries.restore_password(ctx.conn, user["id"], digest, token["email"] or "", ctx.now())
    await ctx.services.sessions.revoke_user(ctx.conn, user["id"])
    await ctx.services.throttle.reset(ctx.conn, account_key(user))
    if args.new_pwd is None:
        await ctx.mail("new_password", user["email"], user_id=user["id"], username=user["username"],
                       password=password)
    else:
        await ctx.mail("password_changed", user["email"], user_id=user["id"], username=user["username"])
    await ctx.log("password-restored", user_id=user["id"], generated=args.new_pwd is None)
    return Reply.message(Code.PASSWORD_RESTORED)


def _code_text(code: str | int | None) -> str | None:
    """A code sent as a JSON number lost its leading zeros: 12345 is the code 012345."""
    return f"{code:06d}" if isinstance(code, int) else code


async def _send_restore_link(ctx: Context, user: dict) -> None:
    """Mail a fresh link (earlier ones die), at most once a minute per address.

    The rate limit is checked before a token is issued, so a refused request keeps the earlier link alive.
    """
    if not await ctx.mail_link(user, kind=RESTORE, template="restore_pwd", to=user["email"],
                               link_to=("auth", "verify-pwd"), ttl=ctx.settings.restore_link_seconds):
        return
    await ctx.log("restore-link-sent", user_id=user["id"])
