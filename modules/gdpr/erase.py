"""forget-me's work: erase every piece of a person's data, keeping only an anonymous tombstone.

The tombstone keeps `id` and `uid` so ids in logs and `creator_id` links still resolve (to an
account marked erased); everything that names, reaches or identifies the person goes.
"""
from __future__ import annotations

import json


async def lock_active_admins(conn) -> None:
    """Serialize last-admin checks: two admins forgetting themselves at once cannot both win.

    Every active admin row is locked in id order before the count, so concurrent callers queue
    instead of deadlocking, and the one that waits counts what the other committed.
    """
    await conn.execute(
        "SELECT id FROM ugene_user WHERE is_admin AND status AND NOT deleted AND NOT erased ORDER BY id FOR UPDATE")


async def erase_person(ctx, user: dict) -> list[str]:
    """Erase the person in this transaction; returns the stored names of their files to remove after commit."""
    conn, user_id = ctx.conn, user["id"]
    # Plugins first: their rows may point at the account or its files, and they see it whole.
    for _, module in sorted(ctx.services.registry.modules.items()):
        if module.erase_hook is not None:
            await module.erase_hook(conn, user)
    files = [row["stored_name"] for row in await conn.fetch(
        "DELETE FROM ugene_file WHERE user_id = $1 RETURNING stored_name", user_id)]
    for table in ("ugene_user_config", "ugene_token", "ugene_session"):
        # Table names are constants of this module, never input.
        await conn.execute(f"DELETE FROM {table} WHERE user_id = $1", user_id)
    addresses = [a.lower() for a in (user["email"], user["pending_email"]) if a]
    # Every mail to them goes, sent ones too: a sent row still holds the address and a body naming them.
    await conn.execute(
        "DELETE FROM ugene_outbox WHERE user_id = $1 OR lower(recipient) = ANY($2::text[])", user_id, addresses)
    needles = [n.lower() for n in (user["username"], *addresses) if n]
    await _scrub_activity(conn, user_id, needles)
    await _forget_throttles(conn, needles)
    await _tombstone(conn, user_id, ctx.now())
    return files


async def _scrub_activity(conn, user_id: int, needles: list[str]) -> None:
    """Entries stay (what happened, when) but lose their personal fields; so do entries naming the person.

    Details are JSON: an entry names the person when one of its strings is exactly their name or an
    address (as JSON writes it, quotes included), so erasing `bob` leaves `{"login": "bobby"}` alone.
    """
    quoted = [json.dumps(n, ensure_ascii=False) for n in needles]
    await conn.execute(
        """UPDATE ugene_activity SET ip = NULL, user_agent = NULL, detail = '{}'
           WHERE user_id = $1 OR actor_id = $1
              OR EXISTS (SELECT 1 FROM unnest($2::text[]) AS n WHERE strpos(lower(detail::text), n) > 0)""",
        user_id, quoted)


async def _forget_throttles(conn, needles: list[str]) -> None:
    """Counters keyed by the address or name (`mail:<kind>:<email>`, `signin:<login>`...).

    A key matches only on a whole `:`-separated part, so erasing `bob` leaves `signin:bobby` alone.
    """
    await conn.execute(
        """DELETE FROM ugene_throttle t WHERE EXISTS (
               SELECT 1 FROM unnest($1::text[]) AS n
               WHERE lower(t.key) = n OR right(lower(t.key), length(n) + 1) = ':' || n
                  OR strpos(lower(t.key), ':' || n || ':') > 0 OR left(lower(t.key), length(n) + 1) = n || ':')""",
        needles)


async def _tombstone(conn, user_id: int, now) -> None:
    """What remains: an id, a uid, a creation time and the flags saying it is gone."""
    await conn.execute(
        """UPDATE ugene_user SET username = NULL, email = NULL, password_hash = NULL, pending_email = NULL,
               totp_secret = NULL, totp_last_step = NULL, erased = true, deleted = true, is_admin = false,
               restricted = false, role_id = NULL, creator_id = NULL, language = 'en', mailsent = NULL,
               mailconfirmed = NULL, logged_at = NULL, updated_at = $2
           WHERE id = $1""", user_id, now)
