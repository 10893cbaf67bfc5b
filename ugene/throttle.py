"""Failed-attempt counters and mail rate limits in PostgreSQL, shared by every worker.

After `threshold` consecutive failures a key waits 30 s, doubling up to 15 min with each failure
after a wait ends; attempts during a wait do not extend it; a success clears the key (protocol §8).
"""
from __future__ import annotations

import math
from datetime import timedelta

from .clock import Clock

FIRST_WAIT, MAX_WAIT = 30, 900


class Throttle:
    def __init__(self, clock: Clock):
        self.clock = clock

    async def attempt(self, conn, key: str, *others: str) -> int | None:
        """Begin an attempt on `key`: the seconds left to wait on it or on `others`, or None.

        `key` is held until the transaction ends, so that its attempts are judged one after another.
        Checking the wait, then counting the failure after the slow part (argon2), let concurrent
        attempts all pass the check before any failure was counted: 60 wrong passwords at once got
        about 24 tries, not 10. A transaction-level advisory lock ends with the transaction.
        """
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)
        # A statement of its own: its snapshot is taken once the lock is granted, so it sees the
        # failure the previous holder committed (one statement would read from before the wait).
        return await self.wait(conn, key, *others)

    async def wait(self, conn, *keys: str) -> int | None:
        """Seconds left to wait on the most locked of `keys`, or None when none is locked."""
        now = self.clock.now()
        until = await conn.fetchval(
            "SELECT max(locked_until) FROM ugene_throttle WHERE key = ANY($1::text[]) AND locked_until > $2",
            list(keys), now)
        if until is None:
            return None
        return max(1, math.ceil((until - now).total_seconds()))

    async def failure(self, conn, key: str, threshold: int) -> int | None:
        """Count a failure; returns the wait it starts, if it reaches the threshold."""
        now = self.clock.now()
        row = await conn.fetchrow(
            """INSERT INTO ugene_throttle (key, failures, last_at) VALUES ($1, 1, $2)
               ON CONFLICT (key) DO UPDATE SET failures = ugene_throttle.failures + 1, last_at = $2
               RETURNING failures, wait_seconds""", key, now)
        if row["failures"] < threshold:
            return None
        wait = min(row["wait_seconds"] * 2, MAX_WAIT) if row["wait_seconds"] else FIRST_WAIT
        await conn.execute("UPDATE ugene_throttle SET wait_seconds = $2, locked_until = $3 WHERE key = $1",
                           key, wait, now + timedelta(seconds=wait))
        return wait

    async def reset(self, conn, *keys: str) -> None:
        await conn.execute("DELETE FROM ugene_throttle WHERE key = ANY($1::text[])", list(keys))

    async def once_per(self, conn, key: str, seconds: int) -> bool:
        """True at most once per `seconds` for a key (one mail per address per minute)."""
        now = self.clock.now()
        allowed = await conn.fetchval(
            """INSERT INTO ugene_throttle (key, locked_until, last_at) VALUES ($1, $3, $2)
               ON CONFLICT (key) DO UPDATE SET locked_until = $3, last_at = $2
               WHERE ugene_throttle.locked_until IS NULL OR ugene_throttle.locked_until <= $2
               RETURNING true""", key, now, now + timedelta(seconds=seconds))
        return bool(allowed)
