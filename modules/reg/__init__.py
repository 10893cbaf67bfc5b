"""The reg module: sign up, confirm the email address, ask for the confirmation mail again."""
from ugene import (PUBLIC, Args, Code, Context, Field, Module, Reply, UgeneError, create_user,
                   password_problem, valid_email, valid_username)

from . import queries

module = Module("reg", version="1.0.0", title="Module Registration",
                description="Sign up and confirm the email address")

# Token kind of every link confirm-email takes: signup's and resend-confirm's, and user/change-email's,
# whose payload {"new_email": ...} names the address that replaces the account's (the modules' contract).
CONFIRM = "confirm-email"
RESTORE_KIND = "restore-pwd"    # auth/restore-pwd's links (the same contract between the modules)
# resend-confirm answers no sooner than this, so an account waiting for confirmation (a link issued, a
# mail queued) takes as long as an unknown address (a lookup).
ANSWER_FLOOR = 0.1


class SignupArgs(Args):
    uname: str
    password: str = Field(alias="pass")
    email: str


class ResendArgs(Args):
    email: str


class HashArgs(Args):
    hash: str


@module.param("signup", access=PUBLIC)
async def signup(ctx: Context, args: SignupArgs) -> Reply:
    """Create an account; it is completed at once, or once its email is confirmed when confirmation is on."""
    switches = await ctx.switches()
    if not switches.get("allow-registration", True):
        raise UgeneError(Code.REGISTRATION_CLOSED)
    if not valid_username(args.uname):
        raise UgeneError(Code.USERNAME_INVALID)
    if not valid_email(args.email):
        raise UgeneError(Code.EMAIL_INVALID)
    if password_problem(args.password):
        raise UgeneError(Code.PASSWORD_WEAK)
    confirm = switches.get("comfirmation-email", True)
    digest = await ctx.services.passwords.hash(args.password)
    user = await create_user(ctx.conn, ctx.clock, username=args.uname, email=args.email, password_hash=digest,
                             completed=not confirm, language=ctx.language)
    await ctx.log("signup", user_id=user["id"], confirmation=confirm)
    if confirm:
        await send_confirmation(ctx, user)
    return Reply.message(Code.DONE)


@module.param("resend-confirm", access=PUBLIC, min_seconds=ANSWER_FLOOR)
async def resend_confirm(ctx: Context, args: ResendArgs) -> Reply:
    """Mail a fresh confirmation link; the same answer whether or not one was sent (no account discovery)."""
    if not valid_email(args.email):
        raise UgeneError(Code.EMAIL_INVALID)
    user = await queries.awaiting_confirmation(ctx.conn, args.email)
    if user is not None:
        await send_confirmation(ctx, user)
    return Reply.message(Code.CONFIRMATION_SENT)


@module.param("confirm-email", access=PUBLIC, get=True, page=())
async def confirm_email(ctx: Context, args: HashArgs) -> Reply:
    """Confirm a new account's address, or the new address of a pending email change."""
    token = await ctx.services.tokens.use(ctx.conn, CONFIRM, args.hash)
    if token is None:
        raise UgeneError(Code.LINK_INVALID)
    new_email = token["payload"].get("new_email")
    if new_email:
        confirmed = await _change_email(ctx, token["user_id"], new_email)
    else:
        confirmed = await queries.confirm_account(ctx.conn, token["user_id"], token["email"], ctx.now())
    if not confirmed:
        raise UgeneError(Code.LINK_INVALID)
    await ctx.log("email-confirmed", user_id=token["user_id"], change=bool(new_email))
    return Reply.message(Code.EMAIL_CONFIRMED)


async def _change_email(ctx: Context, user_id: int, new_email: str) -> bool:
    """Move the account to the confirmed new address; 001402 when another account took it meanwhile
    (the rollback keeps the link alive)."""
    if await queries.email_taken(ctx.conn, new_email, user_id):
        raise UgeneError(Code.EMAIL_TAKEN)
    if not await queries.change_email(ctx.conn, user_id, new_email, ctx.now()):
        return False
    # A restore link mailed to the old address must not outlive the move away from it.
    await ctx.services.tokens.revoke(ctx.conn, user_id, RESTORE_KIND)
    return True


async def send_confirmation(ctx: Context, user: dict) -> None:
    """Mail a confirmation link (earlier ones die), unless this minute's mail to the address went already.

    The rate limit is checked before a token is issued, so a refused resend keeps the earlier link alive.
    """
    if not await ctx.mail_link(user, kind=CONFIRM, template="confirm_email", to=user["email"],
                               link_to=("reg", "confirm-email"), ttl=ctx.settings.confirm_link_seconds):
        return
    await queries.mark_mailsent(ctx.conn, user["id"], ctx.now())
