"""The user module's SQL: small functions, `$n` parameters only."""
from __future__ import annotations


async def email_taken(conn, email: str) -> bool:
    """Whether any account (the caller's included) holds this address, case-insensitively."""
    return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM ugene_user WHERE lower(email) = lower($1))", email)


async def set_pending_email(conn, user_id: int, email: str) -> None:
    await conn.execute("UPDATE ugene_user SET pending_email = $2 WHERE id = $1", user_id, email)


async def set_password(conn, user_id: int, password_hash: str, now) -> None:
    await conn.execute("UPDATE ugene_user SET password_hash = $2, updated_at = $3 WHERE id = $1",
                       user_id, password_hash, now)


async def lock_active_admins(conn) -> None:
    """Lock every active admin row, so two admins deleting themselves at once cannot both pass."""
    await conn.execute(
        "SELECT id FROM ugene_user WHERE is_admin AND status AND NOT deleted AND NOT erased FOR UPDATE")


async def mark_deleted(conn, user_id: int, now) -> None:
    await conn.execute("UPDATE ugene_user SET deleted = true, pending_email = NULL, updated_at = $2 WHERE id = $1",
                       user_id, now)


async def revoke_tokens(conn, user_id: int, now) -> None:
    """Every live one-time link and code of the account dies (a deleted account has no use for them)."""
    await conn.execute(
        "UPDATE ugene_token SET revoked_at = $2 WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL",
        user_id, now)


async def toggle_two_factor(conn, user_id: int, now):
    """Flip auth_two_factor ('0' <-> '1'); the row is created (turned on) if it was ever missing."""
    return await conn.fetchrow(
        """INSERT INTO ugene_user_config (user_id, config_name, config_group, config_key, current_value,
               default_value, created_at, updated_at)
           VALUES ($1, 'Authentication Two Factor', 'security', 'auth_two_factor', '1', '0', $2, $2)
           ON CONFLICT (user_id, config_key) DO UPDATE
               SET current_value = CASE WHEN ugene_user_config.current_value = '1' THEN '0' ELSE '1' END,
                   updated_at = $2
           RETURNING *""", user_id, now)


async def lock_user(conn, user_id: int) -> None:
    """Serialize one person's uploads so two at once cannot both slip under the quota."""
    await conn.execute("SELECT id FROM ugene_user WHERE id = $1 FOR UPDATE", user_id)


async def used_bytes(conn, user_id: int, *, except_kind: str | None = None) -> int:
    return await conn.fetchval(
        "SELECT COALESCE(sum(size), 0) FROM ugene_file WHERE user_id = $1 AND kind IS DISTINCT FROM $2",
        user_id, except_kind)


async def remove_avatars(conn, user_id: int) -> list[str]:
    """Delete the avatar rows; returns their stored names, to remove from disk once committed."""
    rows = await conn.fetch("DELETE FROM ugene_file WHERE user_id = $1 AND kind = 'avatar' RETURNING stored_name",
                            user_id)
    return [row["stored_name"] for row in rows]


async def insert_file(conn, *, fileid: str, user_id: int, kind: str, name: str, stored_name: str,
                      content_type: str, size: int, now) -> None:
    await conn.execute(
        """INSERT INTO ugene_file (fileid, user_id, kind, name, stored_name, content_type, size, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        fileid, user_id, kind, name, stored_name, content_type, size, now)


async def list_files(conn, user_id: int):
    return await conn.fetch(
        """SELECT fileid, name, kind, content_type, size, created_at FROM ugene_file
           WHERE user_id = $1 ORDER BY created_at, id""", user_id)
