"""Profile, email and password changes, and deleting one's own account."""
from __future__ import annotations

from ugene import SESSION, Args, Code, Context, Field, NoArgs, Reply, UgeneError, account_view, active_admins, \
    password_problem, valid_email

from . import queries
from .module import module

# reg/confirm-email consumes links of this kind; for an email change the token's payload carries
# {"new_email": ...} and confirming applies it (the contract between the two modules).
CONFIRM_KIND = "confirm-email"
RESTORE_KIND = "restore-pwd"    # auth/restore-pwd's links: a password change ends them
MAIL_INTERVAL = 60          # one confirmation mail per address per minute (protocol §8)
PWD_FAILURE_LIMIT = 10      # wrong current passwords in a row before change-pwd waits


class ChangeEmailArgs(Args):
    email: str


class ChangePwdArgs(Args):
    current_pwd: str = Field(alias="current-pwd")
    new_pwd: str = Field(alias="new-pwd")


@module.param("profile", access=SESSION, get=True)
async def profile(ctx: Context, args: NoArgs) -> Reply:
    """The caller's account in the protocol's field names; times in Unix seconds, 0 when never."""
    user = ctx.user
    view = account_view(user)
    view["admin"], view["restricted"] = user["is_admin"], user["restricted"]
    order = ("uid", "username", "email", "admin", "deleted", "mailsent", "mailconfirmed", "completed",
             "restricted", "status", "created_at", "updated_at", "logged_at")
    return Reply.data({key: view[key] for key in order})


@module.param("change-email", access=SESSION, codes=(Code.EMAIL_INVALID, Code.EMAIL_TAKEN))
async def change_email(ctx: Context, args: ChangeEmailArgs) -> Reply:
    """Mail a confirmation link to the new address and a notice to the old; nothing changes until confirmed."""
    user, new = ctx.user, args.email
    if not valid_email(new):
        raise UgeneError(Code.EMAIL_INVALID)
    if await queries.email_taken(ctx.conn, new):
        raise UgeneError(Code.EMAIL_TAKEN)
    # Issuing kills any earlier live link of this kind: only the latest requested address can win.
    if not await ctx.mail_link(user, kind=CONFIRM_KIND, template="email_change_confirm", to=new,
                               link_to=("reg", "confirm-email"), ttl=ctx.settings.confirm_link_seconds,
                               payload={"new_email": new}):
        key = f"mail:{CONFIRM_KIND}:{new.lower()}"
        raise UgeneError(Code.TOO_MANY_ATTEMPTS,
                         retry_after=await ctx.services.throttle.wait(ctx.conn, key) or MAIL_INTERVAL)
    await queries.set_pending_email(ctx.conn, user["id"], new)
    await ctx.mail("email_change_notice", user["email"], user_id=user["id"], username=user["username"],
                   new_email=new)
    await ctx.log("email-change-requested", user_id=user["id"], actor_id=user["id"])
    return Reply.message(Code.EMAIL_CHANGE_SENT)


@module.param("change-pwd", access=SESSION, codes=(Code.CURRENT_PASSWORD_WRONG, Code.PASSWORD_WEAK))
async def change_pwd(ctx: Context, args: ChangePwdArgs) -> Reply:
    """Set a new password given the current one; every other session of the account ends."""
    user, conn, throttle = ctx.user, ctx.conn, ctx.services.throttle
    # A stolen access token must not become a way to guess the password at leisure.
    key = f"change-pwd:{user['id']}"
    wait = await throttle.attempt(conn, key)
    if wait:
        raise UgeneError(Code.TOO_MANY_ATTEMPTS, retry_after=wait)
    if password_problem(args.new_pwd):
        raise UgeneError(Code.PASSWORD_WEAK)
    matches, _ = await ctx.services.passwords.verify(user["password_hash"], args.current_pwd)
    if not matches:
        await throttle.failure(conn, key, PWD_FAILURE_LIMIT)
        await ctx.log("password-change-refused", user_id=user["id"], actor_id=user["id"])
        raise UgeneError(Code.CURRENT_PASSWORD_WRONG, commit=True)
    await throttle.reset(conn, key)
    await queries.set_password(conn, user["id"], await ctx.services.passwords.hash(args.new_pwd), ctx.now())
    await ctx.services.sessions.revoke_user(conn, user["id"], keep=ctx.session.id)
    await ctx.services.tokens.revoke(conn, user["id"], RESTORE_KIND)
    await ctx.mail("password_changed", user["email"], user_id=user["id"], username=user["username"])
    await ctx.log("password-changed", user_id=user["id"], actor_id=user["id"])
    return Reply.message(Code.PASSWORD_CHANGED)


@module.param("delete-account", access=SESSION, get=True, codes=(Code.NOT_PERMITTED,))
async def delete_account(ctx: Context, args: NoArgs) -> Reply:
    """Mark the account deleted and end all its sessions; the last active admin may not leave."""
    user, conn = ctx.user, ctx.conn
    if user["is_admin"]:
        await queries.lock_active_admins(conn)
        if await active_admins(conn, excluding=user["id"]) == 0:
            raise UgeneError(Code.NOT_PERMITTED)
    now = ctx.now()
    await queries.mark_deleted(conn, user["id"], now)
    await ctx.services.sessions.revoke_user(conn, user["id"])
    await queries.revoke_tokens(conn, user["id"], now)
    if (await ctx.switches()).get("sendmail-delete-user", True):
        await ctx.mail("account_deleted", user["email"], user_id=user["id"], username=user["username"])
    await ctx.log("account-deleted", user_id=user["id"], actor_id=user["id"])
    return Reply.message(Code.ACCOUNT_DELETED)
