"""Files and the avatar: uploads through the PUT door, under per-file limits and a per-user quota."""
from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from ugene import SESSION, Code, Context, NoArgs, Reply, UgeneError, unix

from . import images, queries
from .module import module
from .names import content_type, display_name, new_fileid


def _received(ctx: Context, kind: str, limit: int):
    """The uploaded file, after the checks that need no decoding."""
    upload = ctx.upload
    if upload is None:      # e.g. the param called through POST: there is no `source`
        raise UgeneError(Code.INVALID_ARGUMENTS, details=[{"arg": "source", "problem": "missing"}])
    if upload.kind not in ("", kind):
        raise UgeneError(Code.INVALID_ARGUMENTS, details=[{"arg": "type", "problem": "literal_error"}])
    # The door streams under the param's limit only when `module`/`param` precede `source`.
    if upload.size > limit:
        raise UgeneError(Code.FILE_REJECTED)
    return upload


async def _check_quota(ctx: Context, size: int) -> None:
    """001418 when this file would take the caller past the quota; callers lock the account row first."""
    if await queries.used_bytes(ctx.conn, ctx.user["id"]) + size > ctx.settings.user_quota_bytes:
        raise UgeneError(Code.FILE_REJECTED)


def _png_name(raw: str) -> str:
    """The client's name for display, with the extension of what is actually stored."""
    stem = display_name(raw, "avatar.png").rsplit(".", 1)[0] or "avatar"
    return stem[:251] + ".png"


async def _store(ctx: Context, path: Path, *, kind: str, name: str, mime: str, size: int) -> str:
    """Move the file into the store and record it; returns its public id."""
    files = ctx.services.files
    stored = await asyncio.to_thread(files.keep, path)
    ctx.after_rollback(lambda: files.remove(stored))      # whatever fails after this, no orphan stays
    fileid = new_fileid()
    await queries.insert_file(ctx.conn, fileid=fileid, user_id=ctx.user["id"], kind=kind, name=name,
                              stored_name=stored, content_type=mime, size=size, now=ctx.now())
    await ctx.log(f"{kind}-uploaded", user_id=ctx.user["id"], actor_id=ctx.user["id"], fileid=fileid, size=size)
    return fileid


@module.param("upload-avatar", access=SESSION, put=True, max_upload=lambda s: s.avatar_max_bytes,
              codes=(Code.FILE_REJECTED,))
async def upload_avatar(ctx: Context, args: NoArgs) -> Reply:
    """Store a real image, re-encoded as PNG without metadata, as the caller's avatar (replacing the old)."""
    upload = _received(ctx, "avatar", ctx.settings.avatar_max_bytes)
    clean = ctx.services.files.incoming / f"avatar-{secrets.token_hex(16)}"
    try:
        try:
            await asyncio.to_thread(images.reencode, upload.path, clean, ctx.settings.avatar_max_pixels)
        except images.NotAnImage:
            raise UgeneError(Code.FILE_REJECTED) from None
        await queries.lock_user(ctx.conn, ctx.user["id"])
        # The old avatar goes first so that replacing it is measured against the quota without it.
        old = await queries.remove_avatars(ctx.conn, ctx.user["id"])
        size = clean.stat().st_size
        await _check_quota(ctx, size)
        fileid = await _store(ctx, clean, kind="avatar", name=_png_name(upload.filename), mime="image/png",
                              size=size)
    finally:
        clean.unlink(missing_ok=True)
    for stored in old:
        ctx.after_commit(lambda stored=stored: ctx.services.files.remove(stored))
    return Reply.message(Code.DONE, fileid=fileid)


@module.param("upload-file", access=SESSION, put=True, max_upload=lambda s: s.file_max_bytes,
              codes=(Code.FILE_REJECTED,))
async def upload_file(ctx: Context, args: NoArgs) -> Reply:
    """Store a file of any type for the caller, within the size limit and the quota."""
    upload = _received(ctx, "file", ctx.settings.file_max_bytes)
    await queries.lock_user(ctx.conn, ctx.user["id"])
    await _check_quota(ctx, upload.size)
    fileid = await _store(ctx, upload.path, kind="file", name=display_name(upload.filename, "file"),
                          mime=content_type(upload.content_type), size=upload.size)
    return Reply.message(Code.DONE, fileid=fileid)


@module.param("files", access=SESSION)
async def files(ctx: Context, args: NoArgs) -> Reply:
    """The caller's stored files (the avatar included), oldest first."""
    rows = await queries.list_files(ctx.conn, ctx.user["id"])
    return Reply.data([{"fileid": row["fileid"], "name": row["name"], "type": row["kind"], "size": row["size"],
                        "created_at": unix(row["created_at"]), "content_type": row["content_type"]}
                       for row in rows])
