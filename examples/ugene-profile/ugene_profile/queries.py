"""The profile table's SQL, each statement with `$n` parameters."""
from __future__ import annotations

import json

from ugene import unix


async def find(conn, user_id: int):
    return await conn.fetchrow("SELECT * FROM profile_profile WHERE user_id = $1", user_id)


async def save(conn, user_id: int, changes: dict, now):
    """Create the profile if needed, then change the given fields; returns the saved row.

    The empty row first, then a locked read: two updates racing on a new profile both land,
    each keeping the other's fields, instead of the second insert overwriting the first.
    """
    await conn.execute(
        """INSERT INTO profile_profile (user_id, created_at, updated_at) VALUES ($1, $2, $2)
           ON CONFLICT (user_id) DO NOTHING""", user_id, now)
    row = dict(await conn.fetchrow("SELECT * FROM profile_profile WHERE user_id = $1 FOR UPDATE", user_id))
    row.update(changes)
    return await conn.fetchrow(
        """UPDATE profile_profile SET first_name = $2, last_name = $3, dob = $4, address = $5, postcode = $6,
               city = $7, country = $8, metadata = $9::jsonb, updated_at = $10
           WHERE user_id = $1 RETURNING *""",
        user_id, row["first_name"], row["last_name"], row["dob"], row["address"], row["postcode"],
        row["city"], row["country"], _json(row["metadata"]), now)


async def erase(conn, user_id: int) -> None:
    await conn.execute("DELETE FROM profile_profile WHERE user_id = $1", user_id)


def _json(metadata) -> str:
    # asyncpg hands jsonb over as text; a cleared (null) metadata is the empty object.
    if isinstance(metadata, str):
        return metadata
    return json.dumps(metadata or {}, ensure_ascii=False, separators=(",", ":"))


def view(row) -> dict:
    """A profile as answers and exports show it: dates as ISO text, times as Unix seconds."""
    return {
        "first_name": row["first_name"], "last_name": row["last_name"],
        "dob": row["dob"].isoformat() if row["dob"] else None,
        "address": row["address"], "postcode": row["postcode"], "city": row["city"],
        "country": row["country"], "metadata": json.loads(row["metadata"]),
        "created_at": unix(row["created_at"]), "updated_at": unix(row["updated_at"]),
    }
