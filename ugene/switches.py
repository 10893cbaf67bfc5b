"""The runtime switches admins change (allow-registration, comfirmation-email, sendmail-delete-user).

They live in `ugene_setting`, so every worker sees the same ones. general/status shows them on every
call, so each worker keeps a copy while a LISTEN connection tells it of every change: a trigger on the
table (schema.sql) notifies `ugene_setting` on any write, by Ugene or by hand. Other workers see a change
as soon as PostgreSQL delivers the notification (well under a millisecond on one host); the worker that
made it drops its copy at commit. Without a live listener (not connected yet, or the database
restarted) every read goes to the table, so a copy is never older than the last notification.
"""
from __future__ import annotations

import asyncio
import logging

import asyncpg

log = logging.getLogger("ugene.switches")

CHANNEL = "ugene_setting"
RECONNECT_SECONDS = 2.0


class Switches:
    def __init__(self):
        self._values: dict[str, bool] | None = None
        self._generation = 0           # bumped by every change notice: a read begun before it is not kept
        self._listener = None
        self._reconnect: asyncio.Task | None = None
        self._dsn: str | None = None
        self._closed = False

    async def start(self, dsn: str) -> None:
        self._dsn = dsn
        if not await self._listen():
            self._reconnect = asyncio.create_task(self._keep_trying())

    async def close(self) -> None:
        self._closed = True
        if self._reconnect is not None:
            self._reconnect.cancel()
            await asyncio.wait([self._reconnect], timeout=2)
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                await asyncio.wait_for(listener.close(), 2)
            except Exception:   # the database may be gone already
                listener.terminate()

    async def get(self, conn) -> dict[str, bool]:
        """The switches, from this worker's copy when it is known to be current, else from `conn` (a
        RequestConnection: a read of its own, no transaction begun)."""
        values = self._values
        if values is not None:
            return values
        generation = self._generation
        rows = await conn.read("SELECT key, value FROM ugene_setting")
        values = {row["key"]: row["value"] == "true" for row in rows}
        if self._listener is not None and generation == self._generation:
            self._values = values
        return values

    def changed(self, *_notice) -> None:
        """Forget the copy: called for each notification and by the worker that wrote, at commit."""
        self._generation += 1
        self._values = None

    async def _listen(self) -> bool:
        try:
            listener = await asyncpg.connect(self._dsn, timeout=5)
            await listener.add_listener(CHANNEL, self.changed)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncio.TimeoutError) as exc:
            log.warning("switch changes cannot be listened to yet (%s): reading them on every call",
                        type(exc).__name__)
            return False
        listener.add_termination_listener(self._lost)
        self._listener = listener
        self.changed()   # whatever was cached before listening may have missed a notice
        return True

    def _lost(self, _connection) -> None:
        self._listener = None
        self.changed()
        if not self._closed:
            self._reconnect = asyncio.get_running_loop().create_task(self._keep_trying())

    async def _keep_trying(self) -> None:
        while not self._closed:
            await asyncio.sleep(RECONNECT_SECONDS)
            if await self._listen():
                return
