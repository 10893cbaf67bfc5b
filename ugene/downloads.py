"""Core transport for stored files: `GET /download/file/{fileid}` and the avatar routes (protocol §1, §5).

The bytes are served straight from the file store; failures are the usual envelopes.
"""
from __future__ import annotations

import asyncio
import logging
from urllib.parse import quote

from aiohttp import web

from .codes import Code
from .db import UNAVAILABLE
from .dispatcher import storable
from .doors import request_token
from .errors import UgeneError
from .guard import envelope_response, guard
from .keys import DISPATCHER, SERVICES

log = logging.getLogger("ugene.downloads")

# Served bytes are never rendered or sniffed as a page of ours.
SAFE_HEADERS = {"X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": "private, no-cache"}

_FILE = """SELECT f.user_id, f.name, f.stored_name, f.content_type FROM ugene_file f
           WHERE f.fileid = $1"""
_AVATAR = """SELECT f.stored_name, f.content_type FROM ugene_file f JOIN ugene_user u ON u.id = f.user_id
             WHERE u.uid = $1 AND f.kind = 'avatar' AND NOT u.deleted AND NOT u.erased
             ORDER BY f.created_at DESC, f.id DESC LIMIT 1"""


def setup_downloads(app: web.Application) -> None:
    app.router.add_get("/download/file/{fileid}", guard(download_file))
    app.router.add_get("/image/user/avatar/{uid}", guard(avatar))
    app.router.add_get("/image/user/avatar", guard(avatar))


def content_disposition(name: str) -> str:
    """RFC 6266: an ASCII fallback `filename` and the exact name as UTF-8 in `filename*`."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in name) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


async def download_file(request: web.Request) -> web.StreamResponse:
    """The owner (or an admin) gets the file as an attachment; anyone else, as for an unknown id, 001419."""
    async def find(conn, session):
        row = await conn.fetchrow(_FILE, request.match_info["fileid"])
        if row is None or (row["user_id"] != session.user["id"] and not session.user["is_admin"]):
            return None
        return row, {"Content-Disposition": content_disposition(row["name"])}
    return await _serve(request, find)


async def avatar(request: web.Request) -> web.StreamResponse:
    """The avatar of `uid` (any completed session) or, without one, the caller's own; 001419 when none."""
    async def find(conn, session):
        row = await conn.fetchrow(_AVATAR, request.match_info.get("uid", session.user["uid"]))
        return (row, {"Content-Disposition": "inline"}) if row else None
    return await _serve(request, find)


async def _serve(request: web.Request, find) -> web.StreamResponse:
    services = request.app[SERVICES]
    session = None
    try:
        token = request_token(request)
        async with services.pool.acquire(timeout=services.settings.pool_acquire_timeout) as conn:
            session = await services.sessions.resolve(conn, token) if token else None
            if session is None:
                raise UgeneError(Code.SESSION_INVALID)
            if not session.completed:
                raise UgeneError(Code.SESSION_NOT_COMPLETED)
            # A NUL or a byte that is no UTF-8 in the path names no stored file (and PostgreSQL refuses it).
            found = await find(conn, session) if storable(dict(request.match_info)) else None
        if found is None:
            raise UgeneError(Code.FILE_NOT_FOUND)
        row, headers = found
        path = services.files.path(row["stored_name"])
        if not path.is_file():
            log.warning("stored file %s is missing from the store", row["stored_name"])
            raise UgeneError(Code.FILE_NOT_FOUND)
    except UgeneError as error:
        return _envelope(request, error.code, session)
    except UNAVAILABLE + (asyncio.TimeoutError,):
        return _envelope(request, Code.SERVICE_UNAVAILABLE, session, retry_after=2)
    return web.FileResponse(path, headers={**SAFE_HEADERS, **headers, "Content-Type": row["content_type"]})


def _envelope(request: web.Request, code, session, retry_after=None) -> web.Response:
    services = request.app[SERVICES]
    outcome = request.app[DISPATCHER].failure(code, services.messages.default, session, retry_after=retry_after)
    return envelope_response(request, outcome)
