"""The database: an asyncpg pool and the idempotent schema, applied under an advisory lock."""
from __future__ import annotations

import asyncpg

from .resources import schema_path

# Several workers (or a CLI command) may start at once; only one applies the schema at a time.
_SCHEMA_LOCK = 0x75_67_65_6E_65


async def apply_schema(conn, extra_files=()) -> None:
    """Apply `schema.sql` and each plugin's schema file."""
    await conn.execute("SELECT pg_advisory_lock($1)", _SCHEMA_LOCK)
    try:
        for path in (schema_path(), *extra_files):
            await conn.execute(path.read_text(encoding="utf-8"))
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _SCHEMA_LOCK)


async def _keep_session(conn) -> None:
    """Reset nothing more on release than asyncpg always does (roll back an open transaction).

    asyncpg's default reset costs one more round trip per request (advisory unlock, CLOSE ALL,
    UNLISTEN, RESET ALL). Every request runs inside one transaction, and nothing here takes
    session-level locks, LISTENs, keeps cursors or SETs outside a transaction (use SET LOCAL).
    """


async def create_pool(dsn: str, *, min_size: int, max_size: int) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, reset=_keep_session,
                                     command_timeout=30, max_inactive_connection_lifetime=300)


# Errors that mean "the database is not there right now" (002008), not a bug in a handler.
# PostgresConnectionError is SQLSTATE class 08 (connection lost or refused); 57P01-57P03 are a server
# shutting down, crashed or starting up. InternalClientError comes from a connection the server closed
# between two queries: asyncpg finds its protocol state broken on the next one.
UNAVAILABLE = (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError,
               asyncpg.CrashShutdownError, asyncpg.InterfaceError, asyncpg.InternalClientError,
               asyncpg.TooManyConnectionsError, TimeoutError)
