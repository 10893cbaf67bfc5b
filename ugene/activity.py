"""The activity log: who did what to whom, from where, when. Never a secret."""
from __future__ import annotations

import json

from .clock import Clock


class Activity:
    def __init__(self, clock: Clock):
        self.clock = clock

    async def record(self, conn, action: str, *, user_id: int | None = None, actor_id: int | None = None,
                     ip: str | None = None, user_agent: str | None = None, **detail) -> None:
        await conn.execute(
            """INSERT INTO ugene_activity (user_id, actor_id, action, detail, ip, user_agent, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            user_id, actor_id, action, json.dumps(detail, default=str), ip,
            (user_agent or "")[:300] or None, self.clock.now())
