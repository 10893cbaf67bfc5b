"""The bare baseline `make bench` compares Ugene with: the least an aiohttp app must do for each case.

    python bench/baseline.py --port P --dsn DSN --secret S

Routes (all POST or GET, JSON answers):
  /hello          a JSON hello                                      (vs general/status)
  /pk             HS256 JWT verify + one primary-key SELECT         (vs user/profile)
  /verify         one argon2id verify in a thread pool              (vs auth/signin)
  /hash           one argon2id hash in a thread pool                (vs reg/signup)

Same libraries as Ugene (aiohttp, asyncpg, pyjwt, argon2-cffi), the argon2 parameters of
`ugene.settings.Settings`' defaults, a thread pool bounded to the cores, a pool of Ugene's size.
Kept under bench/ on purpose: it is a yardstick, not part of the package.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import jwt
from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from ugene.settings import Settings

POOL = web.AppKey("pool", object)
HASHER = web.AppKey("hasher", object)
THREADS = web.AppKey("threads", object)
CONFIG = web.AppKey("config", object)


def dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"))


async def hello(request: web.Request) -> web.Response:
    return web.json_response({"success": 1, "answer": {"message": "hello"}}, dumps=dumps)


async def pk(request: web.Request) -> web.Response:
    """Verify the bearer token, then read the user it names by primary key."""
    token = request.headers.get("X-Authorization-Token", "").partition(" ")[2]
    try:
        claims = jwt.decode(token, request.app[CONFIG]["secret"], algorithms=["HS256"])
    except jwt.PyJWTError:
        return web.json_response({"success": 0}, status=401, dumps=dumps)
    async with request.app[POOL].acquire() as conn:
        row = await conn.fetchrow("SELECT uid, username, email, created_at FROM ugene_user WHERE id = $1",
                                  claims["uid"])
    if row is None:
        return web.json_response({"success": 0}, status=404, dumps=dumps)
    return web.json_response({"success": 1, "answer": {"data": {
        "uid": row["uid"], "username": row["username"], "email": row["email"],
        "created_at": int(row["created_at"].timestamp())}}}, dumps=dumps)


async def verify(request: web.Request) -> web.Response:
    """One argon2id verify of the posted password against the known hash."""
    body = await request.json()
    hasher, stored = request.app[HASHER], request.app[CONFIG]["hash"]

    def check() -> bool:
        try:
            return hasher.verify(stored, body["pass"])
        except VerificationError:
            return False
    ok = await asyncio.get_running_loop().run_in_executor(request.app[THREADS], check)
    return web.json_response({"success": int(ok)}, status=200 if ok else 401, dumps=dumps)


async def hash_(request: web.Request) -> web.Response:
    """One argon2id hash of the posted password."""
    body = await request.json()
    digest = await asyncio.get_running_loop().run_in_executor(request.app[THREADS], request.app[HASHER].hash,
                                                              body["pass"])
    return web.json_response({"success": 1, "answer": {"length": len(digest)}}, dumps=dumps)


def create_app(dsn: str, secret: str, password_hash: str) -> web.Application:
    defaults = Settings()
    app = web.Application()
    app[CONFIG] = {"secret": secret, "hash": password_hash}
    app[HASHER] = PasswordHasher(time_cost=defaults.argon2_time_cost, memory_cost=defaults.argon2_memory_kib,
                                 parallelism=defaults.argon2_parallelism)
    app[THREADS] = ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0)), thread_name_prefix="argon2")

    async def database(app):
        app[POOL] = await asyncpg.create_pool(dsn, min_size=defaults.pool_min, max_size=defaults.pool_max)
        yield
        await app[POOL].close()
        app[THREADS].shutdown(wait=False, cancel_futures=True)

    app.cleanup_ctx.append(database)
    app.router.add_route("*", "/hello", hello)
    app.router.add_get("/pk", pk)
    app.router.add_post("/verify", verify)
    app.router.add_post("/hash", hash_)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--hash", required=True, help="argon2 hash /verify checks passwords against")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                        help="the event loop: aiohttp's default (asyncio) is the yardstick; uvloop, the one "
                             "Ugene runs on, shows how much of a ratio is the loop")
    args = parser.parse_args()
    loop = None
    if args.loop == "uvloop":
        import uvloop
        loop = uvloop.new_event_loop()
    web.run_app(create_app(args.dsn, args.secret, args.hash), host="127.0.0.1", port=args.port,
                access_log=None, loop=loop, print=lambda *a: print(f"baseline serving on port {args.port} (pid {os.getpid()})",
                                                        flush=True))


if __name__ == "__main__":
    main()
