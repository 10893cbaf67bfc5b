"""`ctx.conn`: the request's connection, taken from the pool at first use, whose transaction begins
with the handler's first statement.

A call that never reads (general/status answers from the cached switches) takes no connection at all;
a handler that never queries (user/profile answers from the session already resolved) costs no BEGIN
and no COMMIT: two round trips of three. Nothing else changes: PostgreSQL takes a transaction's
snapshot at its first statement, not at BEGIN, and every statement still runs inside the transaction.
"""
from __future__ import annotations

import asyncio

# Connection methods that send SQL: each begins the transaction first.
_STATEMENTS = frozenset({
    "execute", "executemany", "fetch", "fetchrow", "fetchval", "fetchmany", "prepare", "copy_from_table",
    "copy_from_query", "copy_to_table", "copy_records_to_table",
})


class RequestConnection:
    """Stands for the asyncpg connection in handlers; anything not listed here is the connection's own.

    The connection comes from `pool` once the request first needs one, after a place in `slot` (the
    param's share of the pool, ugene.dispatcher), both within `timeout` seconds. `release()` gives both
    back.
    """

    __slots__ = ("raw", "_transaction", "_pool", "_slot", "_timeout", "_holds_slot")

    def __init__(self, pool, slot: asyncio.Semaphore, timeout: float):
        self.raw = None
        self._transaction = None
        self._pool, self._slot, self._timeout = pool, slot, timeout
        self._holds_slot = False

    async def connection(self):
        """The asyncpg connection, taken from the pool now if the request has none yet."""
        if self.raw is None:
            # One deadline for both waits, and asyncio.timeout rather than wait_for, which on Python 3.11
            # wraps the wait in a task of its own (make bench); acquire(timeout=) would add a second one.
            async with asyncio.timeout(self._timeout):
                await self._slot.acquire()
                self._holds_slot = True
                self.raw = await self._pool.acquire()
        return self.raw

    async def release(self) -> None:
        """Give the connection and the slot back (the transaction was finished before)."""
        raw, self.raw = self.raw, None
        try:
            if raw is not None:
                await self._pool.release(raw)
        finally:
            if self._holds_slot:
                self._holds_slot = False
                self._slot.release()

    def is_in_transaction(self) -> bool:
        return self.raw is not None and self.raw.is_in_transaction()

    async def begin(self) -> None:
        if self._transaction is None:
            transaction = (await self.connection()).transaction()
            await transaction.start()
            self._transaction = transaction

    async def finish(self, commit: bool) -> None:
        """Commit (or roll back) the request's transaction, if a statement began it."""
        transaction, self._transaction = self._transaction, None
        if transaction is not None:
            await (transaction.commit() if commit else transaction.rollback())

    async def read(self, query: str, *args) -> list:
        """Rows of a plain read that does not begin the transaction: inside it once it has begun, else
        on its own. At READ COMMITTED every statement takes its own snapshot, so the rows are the same."""
        return await (await self.connection()).fetch(query, *args)

    def __getattr__(self, name: str):
        if name not in _STATEMENTS:
            if self.raw is None:
                raise AttributeError(f"ctx.conn.{name} before the request has a connection: "
                                     "`await ctx.conn.connection()` first")
            return getattr(self.raw, name)

        async def in_transaction(*args, **kwargs):
            await self.begin()
            return await getattr(self.raw, name)(*args, **kwargs)
        return in_transaction

    def transaction(self, **options) -> "_Nested":
        return _Nested(self, options)

    def cursor(self, *args, **kwargs) -> "_LazyCursor":
        return _LazyCursor(self, args, kwargs)


class _Nested:
    """`async with ctx.conn.transaction():` a savepoint inside the request's transaction."""

    def __init__(self, conn: RequestConnection, options: dict):
        self.conn, self.options, self.inner = conn, options, None

    async def __aenter__(self):
        await self.conn.begin()
        self.inner = self.conn.raw.transaction(**self.options)
        return await self.inner.__aenter__()

    async def __aexit__(self, *exc):
        return await self.inner.__aexit__(*exc)


class _LazyCursor:
    """`async for row in ctx.conn.cursor(...)` or `await ctx.conn.cursor(...)`, in the transaction."""

    def __init__(self, conn: RequestConnection, args: tuple, kwargs: dict):
        self.conn, self.args, self.kwargs = conn, args, kwargs

    def __await__(self):
        return self._open().__await__()

    async def _open(self):
        await self.conn.begin()
        return await self.conn.raw.cursor(*self.args, **self.kwargs)

    async def __aiter__(self):
        await self.conn.begin()
        async for row in self.conn.raw.cursor(*self.args, **self.kwargs):
            yield row
