"""What every route shares, wrapped around its handler: a request id on the response, the request
counted in flight (so a stop lets it finish, ugene.app.drain), and nothing but an envelope ever
leaving `/api`, whatever went wrong.

A wrapper per route rather than an aiohttp middleware: the same work without aiohttp's middleware
chain around every request, a few microseconds each (make bench).
"""
from __future__ import annotations

import asyncio
import functools
import json
import logging

import orjson
from aiohttp import web

from .codes import Code
from .dispatcher import Outcome
from .doors import new_request_id
from .keys import DISPATCHER, IN_FLIGHT, LOOP, REQUEST_ID, SERVICES

log = logging.getLogger("ugene")


def guard(handler):
    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        request[REQUEST_ID] = new_request_id()
        # aiohttp runs each request in a task of its own. The loop is passed because finding the running
        # one costs Python 3.11 a getpid() system call.
        task = asyncio.current_task(request.app[LOOP])
        in_flight = request.app[IN_FLIGHT]
        in_flight.add(task)
        try:
            response = await _respond(request, handler)
        finally:
            in_flight.discard(task)
        response.headers["X-Request-Id"] = request[REQUEST_ID]
        return response
    return guarded


async def _respond(request: web.Request, handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        if not request.path.startswith("/api"):
            raise
        return envelope_response(request, failure(request, Code.MALFORMED_REQUEST))
    except Exception:
        log.exception("request %s: transport error on %s", request[REQUEST_ID], request.path)
        return envelope_response(request, failure(request, Code.INTERNAL_ERROR))


async def remember_loop(app: web.Application) -> None:
    app[LOOP] = asyncio.get_running_loop()


def failure(request: web.Request, code) -> Outcome:
    return request.app[DISPATCHER].failure(code, request.app[SERVICES].messages.default)


def encode(body: dict) -> bytes:
    """Compact UTF-8 JSON; orjson is ~15x faster than json on an envelope, json covers what it refuses."""
    try:
        return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:          # orjson.JSONEncodeError: e.g. an integer beyond 64 bits
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def envelope_response(request: web.Request, outcome: Outcome) -> web.Response:
    return web.Response(body=encode(outcome.body), status=outcome.status, content_type="application/json",
                        headers=outcome.headers)
