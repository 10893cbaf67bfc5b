"""A test plugin for the shutdown fault: a request that holds its database connection for a while
and writes at the end, as a slow real request would. Loaded through UGENE_MODULES_DIR."""
import asyncio

from ugene import PUBLIC, Args, Context, Field, Module, Reply

module = Module("slow", description="Requests that take their time (fault tests only)")


class NapArgs(Args):
    seconds: float = Field(ge=0, le=120)
    mark: str = Field(max_length=40)


@module.param("nap", access=PUBLIC)
async def nap(ctx: Context, args: NapArgs) -> Reply:
    """Sleep inside the request's transaction, then write `mark`; the write commits only if it ends."""
    await ctx.conn.execute("SELECT 1")
    await asyncio.sleep(args.seconds)
    await ctx.conn.execute("INSERT INTO ugene_setting (key, value) VALUES ($1, 'true')", f"nap:{args.mark}")
    return Reply.data(args.mark)
