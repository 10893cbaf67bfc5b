"""`ugene serve | migrate | create-admin | modules` (protocol §7)."""
from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import signal
import sys

import asyncpg
from aiohttp import web

from .accounts import create_user
from .app import build_registry, create_app, drain
from .clock import Clock
from .db import apply_schema
from .embedded_pg import EmbeddedPostgres, PostgresMissing
from .errors import UgeneError
from .logs import AccessLogger, flush_access_log, setup_logging
from .passwords import Passwords, generate_password, password_problem
from .registry import RegistryError
from .services import SecretUnusable, load_secret
from .settings import Settings

log = logging.getLogger("ugene")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ugene", description="Ugene user-management gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="apply the schema, start the mail sender, serve")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    sub.add_parser("migrate", help="apply schema.sql and the plugins' schemas")
    admin = sub.add_parser("create-admin", help="create a completed admin account")
    admin.add_argument("--uname", required=True)
    admin.add_argument("--email", required=True)
    admin.add_argument("--password")
    sub.add_parser("modules", help="list the loaded modules and their params")
    args = parser.parse_args(argv)
    setup_logging()
    overrides = {k: v for k, v in vars(args).items() if k in ("host", "port", "workers") and v is not None}
    settings = Settings.from_env(**overrides)
    try:
        return COMMANDS[args.command](settings, args)
    except (RegistryError, PostgresMissing, SecretUnusable) as exc:
        print(f"ugene: {exc}", file=sys.stderr)
        return 1


class Database:
    """The configured database, or the embedded one: started for this command if it was not running,
    and then stopped after it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.embedded = None

    def __enter__(self) -> Settings:
        if self.settings.database_url:
            return self.settings
        self.embedded = EmbeddedPostgres(self.settings.data_dir / "pg")
        return self.settings.with_(database_url=self.embedded.start())

    def __exit__(self, *exc) -> None:
        # Only a database this command started: `create-admin` beside a running `serve` leaves it be.
        if self.embedded is not None and self.embedded.started_here:
            self.embedded.stop()


async def _prepare(settings: Settings, registry) -> None:
    conn = await asyncpg.connect(settings.database_url)
    try:
        await apply_schema(conn, registry.schema_files())
    finally:
        await conn.close()


async def _first_admin(settings: Settings) -> str | None:
    """Create `admin` on a database without any admin account; returns its generated password."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM ugene_user WHERE is_admin)"):
            return None
        password = generate_password()
        await _create_admin(conn, settings, "admin", "admin@ugene.local", password)
        return password
    finally:
        await conn.close()


async def _create_admin(conn, settings: Settings, uname: str, email: str, password: str) -> None:
    passwords = Passwords(settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism)
    try:
        digest = await passwords.hash(password)
    finally:
        passwords.close()
    async with conn.transaction():
        await create_user(conn, Clock(), username=uname, email=email, password_hash=digest, completed=True,
                          is_admin=True, language=settings.default_language)


def cmd_migrate(settings: Settings, args) -> int:
    registry = build_registry(settings)
    with Database(settings) as ready:
        asyncio.run(_prepare(ready, registry))
    print("schema applied")
    return 0


def cmd_create_admin(settings: Settings, args) -> int:
    from .accounts import valid_email, valid_username
    if not valid_username(args.uname):
        print("ugene: invalid username (3-32 of A-Z a-z 0-9 . _ -)", file=sys.stderr)
        return 1
    if not valid_email(args.email):
        print("ugene: invalid email address", file=sys.stderr)
        return 1
    password = args.password or generate_password()
    if args.password and password_problem(args.password):
        print("ugene: password too weak (8-128 characters, a digit, lower and upper case, not common)",
              file=sys.stderr)
        return 1
    registry = build_registry(settings)
    with Database(settings) as ready:
        asyncio.run(_prepare(ready, registry))

        async def create():
            conn = await asyncpg.connect(ready.database_url)
            try:
                await _create_admin(conn, ready, args.uname, args.email, password)
            finally:
                await conn.close()
        try:
            asyncio.run(create())
        except UgeneError as error:
            print(f"ugene: cannot create the admin: {'username' if error.code.value == '001401' else 'email'}"
                  " already taken", file=sys.stderr)
            return 1
    print(f"admin {args.uname} created" + ("" if args.password else f"; password: {password}"))
    return 0


def cmd_modules(settings: Settings, args) -> int:
    registry = build_registry(settings)
    for module in registry.modules.values():
        print(f"{module.name} {module.version} - {module.description}")
        for param in module.params.values():
            print(f"  {param.name:<22} {str(param.access):<10} {','.join(param.doors):<14} {param.description}")
    return 0


def cmd_serve(settings: Settings, args) -> int:
    registry = build_registry(settings)
    # Read (or made) once, before any worker starts, so that every worker signs with the same key.
    settings = settings.with_(secret=load_secret(settings))
    with Database(settings) as ready:
        asyncio.run(_prepare(ready, registry))
        password = asyncio.run(_first_admin(ready))
        if password:
            print(f"created the account `admin` with the password {password} (shown once)", flush=True)
        if ready.workers <= 1:
            run_worker(ready)
        else:
            run_workers(ready)
    return 0


def run_worker(settings: Settings) -> None:
    """One worker process: serve until SIGTERM/SIGINT, then finish requests in flight and stop."""
    setup_logging()
    run_loop(_serve(settings))


def run_loop(main) -> None:
    """uvloop where it is installed (a dependency on Linux and macOS): its event loop, written in C on
    libuv, makes every request cheaper (make bench); asyncio's own loop elsewhere."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


async def _serve(settings: Settings) -> None:
    app = create_app(settings)
    runner = web.AppRunner(app, access_log_class=AccessLogger,
                           shutdown_timeout=settings.shutdown_timeout, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, reuse_port=settings.workers > 1)
    await site.start()
    # One write per line: with PYTHONUNBUFFERED, print() writes the text and its newline apart, and the
    # lines of workers starting together got mixed ("ugene serving on ...ugene serving on ...\n\n").
    sys.stdout.write(f"ugene serving on http://{settings.host}:{settings.port} (pid {os.getpid()})\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    # Stop accepting and close idle keep-alive connections at once; requests in flight get
    # shutdown_timeout in all, then are cancelled (aiohttp alone would wait up to twice that: once for
    # them, once more after a soft cancel). Then the cleanup contexts run: the mail sender settles its
    # claims and the pool closes.
    await site.stop()
    pre_shutdown = getattr(runner.server, "pre_shutdown", None)     # missing from older aiohttp 3.x
    if pre_shutdown is not None:
        pre_shutdown()
    cut = await drain(app, settings.shutdown_timeout)
    if cut:
        log.warning("shutdown: %s request(s) cut after %s s", cut, settings.shutdown_timeout)
    try:
        await runner.cleanup()
    finally:
        flush_access_log()


def run_workers(settings: Settings) -> None:
    """N processes sharing the port (SO_REUSEPORT); this parent only forwards signals and waits."""
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=run_worker, args=(settings,), daemon=False) for _ in range(settings.workers)]
    for worker in workers:
        worker.start()

    def forward(signum, frame):
        for worker in workers:
            if worker.is_alive():
                os.kill(worker.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for worker in workers:
        worker.join()


COMMANDS = {"serve": cmd_serve, "migrate": cmd_migrate, "create-admin": cmd_create_admin, "modules": cmd_modules}
