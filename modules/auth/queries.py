"""The auth module's SQL, each statement in a small function."""


async def store_password(conn, user_id: int, password_hash: str) -> None:
    """Keep a hash made with today's parameters (the old one was upgraded at sign-in)."""
    await conn.execute("UPDATE ugene_user SET password_hash = $2 WHERE id = $1", user_id, password_hash)


async def touch_login(conn, user_id: int, now) -> None:
    await conn.execute("UPDATE ugene_user SET logged_at = $2 WHERE id = $1", user_id, now)


async def live_user(conn, user_id: int) -> dict | None:
    """The account unless it was deleted or erased since."""
    row = await conn.fetchrow("SELECT * FROM ugene_user WHERE id = $1 AND NOT deleted AND NOT erased", user_id)
    return dict(row) if row else None


async def restore_password(conn, user_id: int, password_hash: str, link_email: str, now) -> None:
    """Set the restored password. The restore link reached the account's own address, which proves that
    address as well as a confirmation link would: an account still waiting for confirmation is completed."""
    await conn.execute(
        """UPDATE ugene_user SET password_hash = $2, updated_at = $4,
               mailconfirmed = CASE WHEN NOT completed AND lower(email) = lower($3) THEN $4
                                    ELSE mailconfirmed END,
               completed = completed OR lower(email) = lower($3)
           WHERE id = $1""", user_id, password_hash, link_email, now)
