"""The aiohttp application: routes for the three doors, health and metrics, and the lifecycle."""
from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from . import doors, pages
from .clock import Clock
from .codes import Code
from .db import create_pool
from .dispatcher import Dispatcher
from .downloads import setup_downloads
from .errors import UgeneError
from .guard import envelope_response, failure, guard, remember_loop
from .messages import load_messages
from .keys import DISPATCHER, IN_FLIGHT, METRICS, RUN_SENDER, SERVICES
from .metrics import CONTENT_TYPE, Metrics
from .outbox import FolderTransport, Sender, SmtpTransport
from .registry import Registry, discover
from .resources import messages_dir
from .schema_doc import setup_schema_routes
from .services import Services, build_services
from .settings import Settings

log = logging.getLogger("ugene")


def build_registry(settings: Settings) -> Registry:
    return discover(settings.modules_dir)


def create_app(settings: Settings, *, registry: Registry | None = None, clock: Clock | None = None,
               run_sender: bool = True) -> web.Application:
    """An app serving `settings.database_url`; the schema must already be applied (`ugene migrate`)."""
    registry = registry or build_registry(settings)
    messages = load_messages([messages_dir(), *registry.message_dirs()], registry.codes, settings.default_language)
    services = build_services(settings, registry, messages, clock or Clock())
    # No middleware: each route is wrapped in ugene.guard, which is cheaper per request (make bench).
    # client_max_size bounds the bodies aiohttp reads whole (request.post() for the pages' forms), counted
    # as they inflate; the JSON door counts its own (ugene.doors.read_limited) and uploads stream.
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SERVICES] = services
    app[DISPATCHER] = Dispatcher(services)
    app[METRICS] = Metrics()
    app[RUN_SENDER] = run_sender
    app[IN_FLIGHT] = set()
    app.on_startup.append(remember_loop)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_mail_sender)
    app.router.add_post("/api", guard(post_api))
    app.router.add_put("/api", guard(put_api))
    setup_schema_routes(app)            # before the GET doors and the catch-all, so /api/schema wins
    app.router.add_get("/api/{module}/{param}/{language}", guard(get_api))
    app.router.add_get("/api/{module}/{param}", guard(get_api))
    app.router.add_get("/healthz", guard(healthz))
    app.router.add_get("/readyz", guard(readyz))
    app.router.add_get("/metrics", guard(metrics))
    pages.setup_pages(app)
    setup_downloads(app)
    # Every other method and path under /api (a POST to a GET door, say) answers with an envelope.
    app.router.add_route("*", "/api", guard(not_found))
    app.router.add_route("*", "/api/{tail:.*}", guard(not_found))
    return app


async def _database(app: web.Application):
    services: Services = app[SERVICES]
    s = services.settings
    services.pool = await create_pool(s.database_url, min_size=s.pool_min, max_size=s.pool_max)
    await services.switches.start(s.database_url)
    yield
    await services.switches.close()
    try:
        # A connection still held (a stuck sender, a request cut at shutdown) must not hold the exit.
        await asyncio.wait_for(services.pool.close(), 10)
    except asyncio.TimeoutError:
        log.warning("database pool did not close in 10 s; terminating its connections")
        services.pool.terminate()
    services.passwords.close()


async def _mail_sender(app: web.Application):
    services: Services = app[SERVICES]
    s = services.settings
    if not app[RUN_SENDER]:
        yield
        return
    transport = SmtpTransport(s) if s.smtp_enabled else FolderTransport(s.mail_dir)
    services.sender = Sender(services.pool, services.clock, transport, mail_from=s.mail_from,
                             max_attempts=s.mail_max_attempts, retry_base=s.mail_retry_base_seconds,
                             claim_seconds=s.mail_claim_seconds)
    task = asyncio.create_task(services.sender.run())
    yield
    task.cancel()
    # Bounded, so that nothing in the sender can hold a shutdown forever.
    await asyncio.wait([task], timeout=5)
    try:
        await asyncio.wait_for(services.sender.release(), 5)
    except Exception:   # the database may be gone already
        log.warning("mail claims not released at shutdown; they expire by themselves")


async def drain(app: web.Application, timeout: float) -> int:
    """Let the requests being handled finish within `timeout`, then cancel the rest (their transactions
    roll back); returns how many were cut."""
    pending = set(app[IN_FLIGHT])
    if pending:
        _, pending = await asyncio.wait(pending, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=2)
    return len(pending)


async def _answer(request: web.Request, make_call) -> web.Response:
    started = time.perf_counter()
    call = None
    try:
        call = await make_call(request)
        outcome = await request.app[DISPATCHER].dispatch(call)
    except UgeneError as error:
        outcome = request.app[DISPATCHER].failure(error.code, request.app[SERVICES].messages.default)
    finally:
        if call is not None and call.upload is not None:
            call.upload.path.unlink(missing_ok=True)   # kept files were moved away by the handler
    param = outcome.param     # labels only for a param the call reached: the rest would be unbounded
    request.app[METRICS].observe(param.module if param else "-", param.name if param else "-",
                                   outcome.code, time.perf_counter() - started)
    return envelope_response(request, outcome)


async def post_api(request: web.Request) -> web.Response:
    return await _answer(request, doors.post_call)


async def get_api(request: web.Request) -> web.Response:
    if pages.wants_html(request):
        info = request.match_info
        param = request.app[SERVICES].registry.find(info["module"], info["param"])
        if param is not None and param.page is not None:
            return pages.form_page(request, param)

    async def make(req):
        return doors.get_call(req)
    return await _answer(request, make)


async def put_api(request: web.Request) -> web.Response:
    return await _answer(request, doors.put_call)


async def not_found(request: web.Request) -> web.Response:
    return envelope_response(request, failure(request, Code.MALFORMED_REQUEST))


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        async with request.app[SERVICES].pool.acquire(timeout=2) as conn:
            await asyncio.wait_for(conn.fetchval("SELECT 1"), 2)
    except Exception:
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    body = await request.app[METRICS].render(request.app[SERVICES].pool)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
