"""The general module: public facts about this Ugene and its message tables."""
from ugene import PUBLIC, Code, Context, Module, NoArgs, Reply, __version__

module = Module("general", version="1.0.0", description="Public status and message tables of this gateway")


# The seed documents 002004 as status's error answer; the request codes (002xxx) are published for
# every param anyway (see ugene/schema_doc.py), so only that one is declared.
@module.param("status", access=PUBLIC, get=True, codes=(Code.NOT_POSSIBLE,))
async def status(ctx: Context, args: NoArgs) -> Reply:
    """The runtime switches and the application's name, default language and version."""
    switches = await ctx.switches()
    return Reply.data({
        "Config": {
            "comfirmation-email": switches.get("comfirmation-email", True),
            "allow-registration": switches.get("allow-registration", True),
            "sendmail-delete-user": switches.get("sendmail-delete-user", True),
        },
        "App": {"app-name": "Ugene", "default-language": ctx.settings.default_language, "version": __version__},
    })


@module.param("messages", access=PUBLIC, get=True)
async def messages(ctx: Context, args: NoArgs) -> Reply:
    """Every code's text in the request's language."""
    return Reply.data(dict(ctx.services.messages.table(ctx.language)))
