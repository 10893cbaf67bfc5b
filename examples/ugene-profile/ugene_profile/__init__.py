"""Ugene plugin `profile`: a person's profile (name, date of birth, address, country, metadata).

Modelled on Barong's profiles. Installed as its own distribution; Ugene finds it through the entry
point `ugene.modules = profile = ugene_profile:module`, applies `schema.sql` at start-up, merges the
code texts of `messages/`, and the gdpr module exports and erases the profile with the account's data.
"""
from pathlib import Path

from ugene import SESSION, Context, Module, NoArgs, Reply, UgeneError

from . import queries
from .fields import FIELDS, ProfileArgs

HERE = Path(__file__).parent

module = Module(
    "profile", version="1.0.0", title="Module Profile",
    description="A personal profile per account: name, date of birth, address, country and metadata",
    # 10xxxx are messages (success), 00Dxxx errors; 5 is this module's domain.
    codes={"105001": 200, "005001": 404, "005002": 400},
    messages_dir=HERE / "messages",
    schema_file=HERE / "schema.sql",
)

SAVED = module.codes["105001"]
NOT_FOUND = module.codes["005001"]
NOTHING_GIVEN = module.codes["005002"]


@module.param("show", access=SESSION, get=True, codes=(NOT_FOUND,))
async def show(ctx: Context, args: NoArgs) -> Reply:
    """The caller's profile; 005001 until one was saved."""
    row = await queries.find(ctx.conn, ctx.user["id"])
    if row is None:
        raise UgeneError(NOT_FOUND)
    return Reply.data(queries.view(row))


@module.param("update", access=SESSION, codes=(SAVED, NOTHING_GIVEN))
async def update(ctx: Context, args: ProfileArgs) -> Reply:
    """Create or change the caller's profile: only the fields given change, `null` clears one."""
    given = [name for name in FIELDS if name in args.model_fields_set]
    if not given:
        raise UgeneError(NOTHING_GIVEN)
    row = await queries.save(ctx.conn, ctx.user["id"], {name: getattr(args, name) for name in given}, ctx.now())
    await ctx.log("profile.update", user_id=ctx.user["id"], fields=given)
    return Reply.message(SAVED, data=queries.view(row))


@module.export_user
async def export_profile(conn, user) -> dict:
    """The profile as show-data and export-data give it ({} when there is none)."""
    row = await queries.find(conn, user["id"])
    return queries.view(row) if row else {}


@module.erase_user
async def erase_profile(conn, user) -> None:
    """forget-me: the profile goes with the rest of the person's data."""
    await queries.erase(conn, user["id"])
