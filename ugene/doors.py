"""The transport adapters: one per door, each turning an HTTP request into a `Call`, nothing else."""
from __future__ import annotations

import ipaddress
import itertools
import json
import os
import re
import secrets
import tempfile
from pathlib import Path

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from .codes import Code
from .context import Upload
from .dispatcher import Call
from .errors import UgeneError
from .keys import REQUEST_ID, SERVICES

FIELD_LIMIT = 1024   # bytes of a multipart text field (module, param, type, language, an upload's args)
FIELDS_MAX = 32      # text fields in one PUT: with FIELD_LIMIT, what a body without a length can make us hold


def request_token(request: web.Request) -> str | None:
    """The bearer token from `X-Authorization-Token` or `Authorization`; never from the query string."""
    value = request.headers.get("X-Authorization-Token") or request.headers.get("Authorization")
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else value.strip()


def client_ip(request: web.Request, trusted: tuple) -> str | None:
    """The peer address; `X-Forwarded-For` is believed only when the peer is a trusted proxy."""
    peer = request.remote
    if not trusted or not peer or not _is_trusted(peer, trusted):
        return peer
    chain = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    for hop in reversed(chain):   # the right-most address that is not one of our proxies
        if not _is_address(hop):
            return peer               # a broken chain names nobody we could believe
        if not _is_trusted(hop, trusted):
            return hop
    return peer


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, trusted: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def base_call(request: web.Request, door: str, module, param, args, language) -> Call:
    app = request.app
    return Call(module, param, args, language, request_token(request), door,
                ip=client_ip(request, app[SERVICES].settings.trusted_proxies),
                user_agent=user_agent(request), request_id=request[REQUEST_ID])


def user_agent(request: web.Request) -> str | None:
    """The User-Agent as text that can be stored: aiohttp keeps bytes that are no UTF-8 as surrogates."""
    value = request.headers.get("User-Agent")
    if value is None:
        return None
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The body as the handler sees it, refusing (002007) as soon as it passes `limit`, before reading the
    rest. The count is of inflated bytes: with a Content-Encoding, Content-Length counts the compressed
    ones, and a small gzip body can inflate to gigabytes."""
    if request.content_length is not None and request.content_length > limit:
        raise UgeneError(Code.REQUEST_TOO_LARGE)
    content = request.content
    chunks, size = [], 0
    while not content.at_eof():          # an envelope has mostly arrived whole: one pass, no wait
        chunk = await content.readany()
        size += len(chunk)
        if size > limit:
            raise UgeneError(Code.REQUEST_TOO_LARGE)
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


# orjson reads integers beyond 64 bits as floats, and args must see them exact: a body with a run of 19
# digits (-2**63 - 1 has 19) goes to json, as does anything orjson refuses and json may take (a lone
# surrogate, NaN, a byte-order mark), so that both give one answer.
_LONG_NUMBER = re.compile(rb"\d{19}")


def parse_json(body: bytes):
    """json.loads's answer to `body`, at orjson's speed (about 4x) where the two agree."""
    if not _LONG_NUMBER.search(body):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    return json.loads(body)


async def post_call(request: web.Request) -> Call:
    """`POST /api` with a JSON envelope."""
    body = await read_limited(request, request.app[SERVICES].settings.max_body_bytes)
    try:
        envelope = parse_json(body)
    except (ValueError, UnicodeDecodeError, RecursionError):   # RecursionError: nesting deeper than the parser goes
        raise UgeneError(Code.MALFORMED_REQUEST) from None
    if not isinstance(envelope, dict):
        raise UgeneError(Code.MALFORMED_REQUEST)
    if "module" not in envelope or "param" not in envelope:
        raise UgeneError(Code.MALFORMED_REQUEST)
    return base_call(request, "post", envelope["module"], envelope["param"], envelope.get("args", {}),
                     envelope.get("language"))


def get_call(request: web.Request) -> Call:
    """`GET /api/{module}/{param}/{language}?arg=value`: the query string becomes `args`."""
    info = request.match_info
    return base_call(request, "get", info["module"], info["param"], dict(request.query), info.get("language"))


async def put_call(request: web.Request) -> Call:
    """`PUT /api` multipart: text fields plus `source`, streamed to disk under a size limit."""
    services = request.app[SERVICES]
    ceiling = upload_ceiling(services.registry, services.settings)
    if request.content_length is not None and request.content_length > ceiling + 65536:
        raise UgeneError(Code.FILE_REJECTED)
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, KeyError, HttpProcessingError):
        raise UgeneError(Code.MALFORMED_REQUEST) from None
    # No upload param takes anonymous files: without a token the file is never read. The text fields
    # before it still are, so that the route is judged first (protocol §8: 002000/002001, then 004004).
    anonymous = request_token(request) is None and not _anonymous_uploads(services.registry)
    fields: dict[str, str] = {}
    upload = None
    try:
        while (part := await reader.next()) is not None:
            if part.name == "source" and anonymous:
                break
            if part.name == "source" and upload is None:
                limit = _limit_for(services, fields, ceiling)
                upload = await _stream_file(part, services.files.incoming, limit)
            elif part.name:
                if len(fields) >= FIELDS_MAX and part.name not in fields:
                    raise UgeneError(Code.MALFORMED_REQUEST)
                fields[part.name] = await _read_field(part)
    except UgeneError:
        if upload is not None:
            upload.path.unlink(missing_ok=True)
        raise
    except (ValueError, HttpProcessingError):    # HttpProcessingError: a part's headers are no HTTP headers
        if upload is not None:
            upload.path.unlink(missing_ok=True)
        raise UgeneError(Code.MALFORMED_REQUEST) from None
    if anonymous and not ("module" in fields and "param" in fields):
        raise UgeneError(Code.SESSION_INVALID)     # the route comes after the file: refuse, unread
    if upload is not None:
        upload.kind = fields.get("type", "")
    args = {k: v for k, v in fields.items() if k not in ("module", "param", "type", "language")}
    call = base_call(request, "put", fields.get("module"), fields.get("param"), args, fields.get("language"))
    call.upload = upload
    return call


def upload_ceiling(registry, settings) -> int:
    """The largest upload any PUT param accepts: the limit while the param is not known yet."""
    limits = [p.max_upload(settings) for m in registry.modules.values() for p in m.params.values()
              if p.put and p.max_upload]
    return max(limits, default=settings.file_max_bytes)


def _anonymous_uploads(registry) -> bool:
    return any(p.put and p.access.kind == "public" for m in registry.modules.values() for p in m.params.values())


def _limit_for(services, fields: dict, ceiling: int) -> int:
    param = services.registry.find(fields.get("module"), fields.get("param"))
    if param is not None and param.put and param.max_upload:
        return param.max_upload(services.settings)
    return ceiling


async def _read_field(part) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(1024):
        data += chunk
        if len(data) > FIELD_LIMIT:
            raise UgeneError(Code.MALFORMED_REQUEST)
    return data.decode("utf-8", errors="replace")


async def _stream_file(part, folder, limit: int) -> Upload:
    fd, name = tempfile.mkstemp(dir=folder, prefix="up-")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := await part.read_chunk(65536):
                size += len(chunk)
                if size > limit:
                    raise UgeneError(Code.FILE_REJECTED)
                out.write(chunk)
    except BaseException:
        os.unlink(name)
        raise
    return Upload(Path(name), part.filename or "", part.headers.get("Content-Type", "application/octet-stream"),
                  size, "")


# A request id must be unique, not secret (every response carries its own): a random prefix per process
# and a counter, where a random id per request cost a system call. Workers are spawned, so each draws its
# own prefix; a fork draws a new one.
_id_prefix = secrets.token_hex(4)
_id_counter = itertools.count()


def _new_prefix() -> None:
    global _id_prefix
    _id_prefix = secrets.token_hex(4)


os.register_at_fork(after_in_child=_new_prefix)


def new_request_id() -> str:
    """16 hex digits: the process's prefix, then its count of requests (modulo 2**32)."""
    return f"{_id_prefix}{next(_id_counter) & 0xFFFFFFFF:08x}"
