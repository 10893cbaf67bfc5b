"""A test plugin: notes a person keeps, with the GDPR hooks every plugin holding personal data gives."""
from pathlib import Path

from ugene import SESSION, Args, Code, Context, Field, Module, Reply, unix

module = Module("notes", version="0.1.0", description="Personal notes (test plugin)",
                schema_file=Path(__file__).with_name("schema.sql"))


class AddArgs(Args):
    text: str = Field(min_length=1, max_length=1000)


@module.param("add", access=SESSION)
async def add(ctx: Context, args: AddArgs) -> Reply:
    """Keep a note for the caller."""
    note_id = await ctx.conn.fetchval(
        "INSERT INTO notes_note (user_id, text, created_at) VALUES ($1, $2, $3) RETURNING id",
        ctx.user["id"], args.text, ctx.now())
    return Reply.message(Code.DONE, id=note_id)


@module.export_user
async def export_notes(conn, user) -> list:
    """The person's notes, for show-data and export-data."""
    rows = await conn.fetch("SELECT id, text, created_at FROM notes_note WHERE user_id = $1 ORDER BY id", user["id"])
    return [{"id": row["id"], "text": row["text"], "created_at": unix(row["created_at"])} for row in rows]


@module.erase_user
async def erase_notes(conn, user) -> None:
    """The person's notes go with them (forget-me)."""
    await conn.execute("DELETE FROM notes_note WHERE user_id = $1", user["id"])
