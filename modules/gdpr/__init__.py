"""The gdpr module: a person restricts the processing of their data, sees it, takes it away, erases it."""
import json

from ugene import SESSION, Args, Code, Context, Module, NoArgs, Reply, UgeneError, active_admins

from .collect import person_data
from .erase import erase_person, lock_active_admins

module = Module("gdpr", version="1.0.0", title="Module GDPR",
                description="Restriction, access, portability and erasure of a person's data")

EXPORT_NAME = "ugene-export.json"
EXPORT_TEMPLATE = "gdpr_export"


class RestrictArgs(Args):
    status: bool = True


@module.param("restrict", access=SESSION, get=True)
async def restrict(ctx: Context, args: RestrictArgs) -> Reply:
    """Restrict the processing of the caller's data (status false lifts it); idempotent."""
    user = ctx.user
    await ctx.conn.execute("UPDATE ugene_user SET restricted = $2, updated_at = $3 WHERE id = $1",
                           user["id"], args.status, ctx.now())
    await ctx.log("gdpr-restrict", user_id=user["id"], actor_id=user["id"], restricted=args.status)
    return Reply.message(Code.RESTRICTION_SAVED)


@module.param("show-data", access=SESSION, get=True)
async def show_data(ctx: Context, args: NoArgs) -> Reply:
    """Everything Ugene and its plugins hold about the caller, secrets left out."""
    return Reply.data(await person_data(ctx, ctx.user["id"]))


@module.param("export-data", access=SESSION, get=True, codes=(Code.NOT_POSSIBLE,))
async def export_data(ctx: Context, args: NoArgs) -> Reply:
    """Mail what show-data shows as a JSON attachment; 002004 while an earlier export still waits to go."""
    user = await ctx.conn.fetchrow("SELECT * FROM ugene_user WHERE id = $1 FOR UPDATE", ctx.user["id"])
    # The row lock above makes this check race-free; it keeps a client from piling up attachments.
    waiting = await ctx.conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM ugene_outbox WHERE user_id = $1 AND template = $2 AND state = 'queued')",
        user["id"], EXPORT_TEMPLATE)
    if waiting:
        raise UgeneError(Code.NOT_POSSIBLE)
    data = await person_data(ctx, user["id"])
    attachment = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    # The person asked for this mail, so it goes even while processing is restricted (protocol §8).
    await ctx.mail(EXPORT_TEMPLATE, user["email"], user_id=user["id"], username=user["username"],
                   attachment=(EXPORT_NAME, attachment))
    await ctx.log("gdpr-export", user_id=user["id"], actor_id=user["id"])
    return Reply.message(Code.DATA_REQUEST_DONE)


@module.param("forget-me", access=SESSION, get=True, codes=(Code.NOT_PERMITTED,))
async def forget_me(ctx: Context, args: NoArgs) -> Reply:
    """Erase the caller's data, plugins' included; only an anonymous tombstone stays. 003014 for the last admin."""
    if ctx.user["is_admin"]:
        await lock_active_admins(ctx.conn)
    user = dict(await ctx.conn.fetchrow("SELECT * FROM ugene_user WHERE id = $1 FOR UPDATE", ctx.user["id"]))
    active_admin = user["is_admin"] and user["status"] and not user["deleted"]
    if active_admin and await active_admins(ctx.conn, excluding=user["id"]) == 0:
        raise UgeneError(Code.NOT_PERMITTED)
    files = await erase_person(ctx, user)
    # No IP or device: the entry records that an erasure happened, not who asked from where.
    await ctx.services.activity.record(ctx.conn, "gdpr-forget", user_id=user["id"], actor_id=user["id"])
    store = ctx.services.files

    def remove_files():
        for name in files:
            store.remove(name)

    # Files go only once the erasure is committed: a rolled-back request must not lose them.
    ctx.after_commit(remove_files)
    return Reply.message(Code.DATA_REQUEST_DONE)
