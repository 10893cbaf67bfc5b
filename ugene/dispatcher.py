"""One call, one straight path: route -> session and access -> arguments -> handler -> envelope.

The order of checks is protocol §8's. Access rules are data on the param and are checked here,
never inside handlers.
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass, field

from pydantic import ValidationError

from .codes import Code
from .context import Context, Reply, Upload
from .db import UNAVAILABLE
from .errors import UgeneError
from .lazy import RequestConnection
from .ratelimit import RateLimit
from .registry import Param

log = logging.getLogger("ugene.dispatch")


@dataclass
class Call:
    """A request, whatever door it came through."""

    module: object
    param: object
    args: object
    language: object
    token: str | None
    door: str                                  # post | get | put
    ip: str | None = None
    user_agent: str | None = None
    request_id: str = ""
    upload: Upload | None = None


@dataclass
class Outcome:
    """What the transport turns into an HTTP response."""

    body: dict
    status: int
    headers: dict = field(default_factory=dict)
    code: str = ""                              # for metrics
    param: Param | None = None                  # the param the call reached, if it named a known one


def storable(value) -> bool:
    """Whether every string in an argument can reach PostgreSQL and go back out as UTF-8.

    JSON and percent-encoding can carry a NUL (which a PostgreSQL text refuses) or a lone surrogate
    (which is no UTF-8 at all); either would otherwise fail deep inside a handler as a 500. The walk
    keeps its own stack: JSON nests deeper than Python recurses.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return False
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


class Dispatcher:
    def __init__(self, services):
        self.services = services
        self.registry = services.registry
        self.messages = services.messages
        # No param may hold the last quarter of the pool: a flood of slow calls (sign-ins queued for
        # argon2 with their transaction open) must leave connections for every other call.
        pool_max = services.settings.pool_max
        self.share = max(1, pool_max - max(1, pool_max // 4))
        self._slots: dict[tuple[str, str], asyncio.Semaphore] = {}
        settings = services.settings
        self.limit = RateLimit(settings.rate_limit, settings.rate_burst or max(1, int(2 * settings.rate_limit)),
                               services.clock) if settings.rate_limit > 0 else None

    def _slot(self, param: Param) -> asyncio.Semaphore:
        key = (param.module, param.name)
        if key not in self._slots:
            self._slots[key] = asyncio.Semaphore(self.share)
        return self._slots[key]

    async def dispatch(self, call: Call) -> Outcome:
        started = time.monotonic()
        outcome = await self._dispatch(call)
        if outcome.param is not None and outcome.param.min_seconds:
            await asyncio.sleep(outcome.param.min_seconds - (time.monotonic() - started))
        return outcome

    async def _dispatch(self, call: Call) -> Outcome:
        language = self.messages.language(call.language)
        if self.limit is not None:        # before anything else: a flood must cost as little as possible
            wait = self.limit.wait(call.ip)
            if wait:
                return self.failure(Code.TOO_MANY_REQUESTS, language, retry_after=math.ceil(wait))
        try:
            param = self._route(call)
        except UgeneError as error:
            return self.failure(error.code, language)
        outcome = await self._call(param, call, language)
        outcome.param = param
        return outcome

    async def _call(self, param: Param, call: Call, language: str) -> Outcome:
        session = None
        try:
            conn = RequestConnection(self.services.pool, self._slot(param),
                                     self.services.settings.pool_acquire_timeout)
            try:
                session = await self._session(conn, call.token) if call.token else None
                self._check_access(param.access, session)
                args = self._arguments(param, call.args)
                ctx = Context(self.services, conn, session, language, call.ip, call.user_agent,
                              call.request_id, call.upload)
                reply = await self._run(param, ctx, args)
            finally:
                await conn.release()
            for callback in ctx._after_commit:
                callback()
            return self.success(reply, language, session)
        except UgeneError as error:
            return self.failure(error.code, language, session, error.details, error.retry_after)
        except UNAVAILABLE + (asyncio.TimeoutError,) as exc:
            log.warning("request %s: database unavailable (%s)", call.request_id, type(exc).__name__)
            return self.failure(Code.SERVICE_UNAVAILABLE, language, session, retry_after=2)
        except Exception:
            log.exception("request %s: internal error in %s/%s", call.request_id, call.module, call.param)
            return self.failure(Code.INTERNAL_ERROR, language, session)

    def _route(self, call: Call) -> Param:
        if not isinstance(call.module, str) or not isinstance(call.param, str) or not call.module or not call.param:
            raise UgeneError(Code.MALFORMED_REQUEST)
        if call.module not in self.registry.modules:
            raise UgeneError(Code.MODULE_NOT_FOUND)
        param = self.registry.find(call.module, call.param)
        if param is None or call.door not in param.doors:
            raise UgeneError(Code.PARAM_NOT_FOUND)
        return param

    async def _session(self, conn: RequestConnection, token: str):
        """The token's session; a token that is no valid JWT of ours costs no connection."""
        sessions = self.services.sessions
        key = sessions.access_key(token)
        return None if key is None else await sessions.lookup(await conn.connection(), key)

    @staticmethod
    def _check_access(access, session) -> None:
        if access.kind == "public":
            return
        if access.kind == "admin":
            if session is None:
                raise UgeneError(Code.ADMIN_SESSION_REQUIRED)
            if not session.completed:
                raise UgeneError(Code.SESSION_NOT_COMPLETED)
            if not session.user["is_admin"] and access.permission not in (session.permissions or ()):
                raise UgeneError(Code.ADMIN_FUNCTION_DENIED)
            return
        if session is None:
            raise UgeneError(Code.SESSION_INVALID)
        if access.kind == "session" and not session.completed:
            raise UgeneError(Code.SESSION_NOT_COMPLETED)

    @staticmethod
    def _arguments(param: Param, raw):
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise UgeneError(Code.INVALID_ARGUMENTS, details=[{"arg": "args", "problem": "dict_type"}])
        unstorable = [{"arg": name if storable(name) else "args", "problem": "string_unicode"}
                      for name, value in raw.items() if not (storable(name) and storable(value))]
        if unstorable:
            raise UgeneError(Code.INVALID_ARGUMENTS, details=unstorable)
        if not raw and param.takes_nothing:
            return param.no_args            # nothing to check: the model has no field and nothing came
        try:
            return param.args_model.model_validate(raw)
        except ValidationError as exc:
            details = [{"arg": ".".join(str(p) for p in err["loc"]) or "args", "problem": err["type"]}
                       for err in exc.errors(include_url=False, include_context=False, include_input=False)]
            raise UgeneError(Code.INVALID_ARGUMENTS, details=details) from None

    @staticmethod
    async def _run(param: Param, ctx: Context, args) -> Reply:
        """The handler inside the request's transaction, which its first statement begins (ugene.lazy)."""
        try:
            reply = await param.handler(ctx, args)
        except UgeneError as error:
            if error.commit:
                await ctx.conn.finish(commit=True)
            else:
                await _roll_back(ctx)
            raise
        except BaseException:
            await _roll_back(ctx)
            raise
        await ctx.conn.finish(commit=True)
        if not isinstance(reply, Reply):
            raise TypeError(f"{param.module}/{param.name} returned {type(reply).__name__}, not Reply")
        return reply

    # Envelopes (protocol §2)

    def success(self, reply: Reply, language: str, session) -> Outcome:
        answer = dict(reply.answer)
        if "message" in answer:
            answer["text"] = self.messages.text(answer["message"], language)
        current = reply.session or session
        body = {"success": 1, "answer": answer, "timestamp": int(self.services.clock.time()),
                "language": language, "session": current.envelope() if current else {}}
        return Outcome(body, 200, dict(reply.headers), answer.get("message", "100000"))

    def failure(self, code, language: str, session=None, details=None, retry_after=None) -> Outcome:
        value = code.value if hasattr(code, "value") else str(code)
        body = {"success": 0, "error": value, "text": self.messages.text(value, language)}
        if value == Code.INVALID_ARGUMENTS.value:
            body["details"] = details or []
        body.update({"timestamp": int(self.services.clock.time()), "language": language,
                     "session": session.envelope() if session else {}})
        headers = {"Retry-After": str(retry_after)} if retry_after else {}
        return Outcome(body, getattr(code, "http", 400), headers, value)


async def _roll_back(ctx: Context) -> None:
    """Roll the request's transaction back; its clean-ups run even when the connection is gone (no
    COMMIT can have happened then either)."""
    try:
        await ctx.conn.finish(commit=False)
    finally:
        ctx.rolled_back()
