"""The reg module's SQL, each statement in a small function."""


async def awaiting_confirmation(conn, email: str) -> dict | None:
    """The live account at this address that still waits for its email confirmation, if any."""
    row = await conn.fetchrow(
        """SELECT * FROM ugene_user WHERE lower(email) = lower($1)
           AND NOT erased AND NOT deleted AND NOT completed AND mailconfirmed IS NULL""", email)
    return dict(row) if row else None


async def confirm_account(conn, user_id: int, email: str, now) -> bool:
    """Complete the account, provided the link went to the address it still has."""
    return bool(await conn.fetchval(
        """UPDATE ugene_user SET completed = true, mailconfirmed = $3, updated_at = $3
           WHERE id = $1 AND lower(email) = lower($2) AND NOT deleted AND NOT erased
           RETURNING true""", user_id, email, now))


async def email_taken(conn, email: str, user_id: int) -> bool:
    """Whether another account (deleted ones too: the address stays theirs) holds this address."""
    return await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM ugene_user WHERE lower(email) = lower($1) AND id <> $2)", email, user_id)


async def change_email(conn, user_id: int, new_email: str, now) -> bool:
    """Finish an email change: the confirmed new address replaces the old one."""
    return bool(await conn.fetchval(
        """UPDATE ugene_user SET email = $2, pending_email = NULL, mailconfirmed = $3, updated_at = $3
           WHERE id = $1 AND NOT deleted AND NOT erased RETURNING true""", user_id, new_email, now))


async def mark_mailsent(conn, user_id: int, now) -> None:
    await conn.execute("UPDATE ugene_user SET mailsent = $2 WHERE id = $1", user_id, now)
