"""Everything Ugene holds about one person, built once for show-data and export-data alike.

Secrets never leave: no password hash, no TOTP secret, no session or refresh hash, no mail body
(bodies carry links and generated passwords); a link's digest shows only its first 8 hex characters.
"""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from ugene import unix

HASH_PREFIX = 8          # hex characters of a token digest shown: tells rows apart, useless to an attacker


async def person_data(ctx, user_id: int) -> dict:
    """The full picture as plain JSON values, so show-data and the export attachment are identical."""
    conn = ctx.conn
    user = dict(await conn.fetchrow("SELECT * FROM ugene_user WHERE id = $1", user_id))
    current_session = ctx.session.id if ctx.session else None
    data = {}
    # Plugins first, so a plugin can never shadow one of the core's keys.
    for name, module in sorted(ctx.services.registry.modules.items()):
        if module.export_hook is not None:
            data[name] = await module.export_hook(conn, user)
    data.update({
        "user-info": user_info(user),
        "user-config": [config_row(row, user["uid"]) for row in await conn.fetch(
            "SELECT * FROM ugene_user_config WHERE user_id = $1 ORDER BY id", user_id)],
        "user-hash": [hash_row(row, user["uid"]) for row in await conn.fetch(
            "SELECT * FROM ugene_token WHERE user_id = $1 ORDER BY id", user_id)],
        "user-session": [session_row(row, current_session) for row in await conn.fetch(
            "SELECT * FROM ugene_session WHERE user_id = $1 ORDER BY id", user_id)],
        "user-file": [file_row(row) for row in await conn.fetch(
            "SELECT * FROM ugene_file WHERE user_id = $1 ORDER BY id", user_id)],
        "user-activity": [activity_row(row, user_id) for row in await conn.fetch(
            """SELECT a.*, actor.uid AS actor_uid, subject.uid AS subject_uid FROM ugene_activity a
               LEFT JOIN ugene_user actor ON actor.id = a.actor_id
               LEFT JOIN ugene_user subject ON subject.id = a.user_id
               WHERE a.user_id = $1 OR a.actor_id = $1 ORDER BY a.id""", user_id)],
        "user-mail": [mail_row(row) for row in await conn.fetch(
            """SELECT * FROM ugene_outbox WHERE user_id = $1 OR lower(recipient) = lower($2)
               ORDER BY id""", user_id, user["email"])],
    })
    return plain(data)


def plain(value):
    """JSON-ready values: times as Unix seconds (the protocol's convention), whatever a plugin returns."""
    return json.loads(json.dumps(value, default=_jsonable))


def _jsonable(value):
    if isinstance(value, datetime):
        return unix(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def user_info(user: dict) -> dict:
    """The account in the seed's `user-info` keys, plus the language and a pending address (ext)."""
    return {
        "id": user["id"], "uid": user["uid"], "username": user["username"], "email": user["email"],
        "is_admin": user["is_admin"], "deleted": user["deleted"], "mailsent": unix(user["mailsent"]),
        "mailconfirmed": unix(user["mailconfirmed"]), "completed": user["completed"],
        "restricted": user["restricted"], "status": user["status"], "created_at": unix(user["created_at"]),
        "updated_at": unix(user["updated_at"]), "logged_at": unix(user["logged_at"]),
        "language": user["language"], "pending_email": user["pending_email"],
        "two_factor_app": user["totp_secret"] is not None,
    }


def config_row(row, owner_uid: str) -> dict:
    """A config row in the seed's hyphenated `user-config` keys; `uid` is the account's."""
    return {
        "id": row["id"], "uid": owner_uid, "config-name": row["config_name"],
        "config-group": row["config_group"], "config-key": row["config_key"],
        "current-value": row["current_value"], "default-value": row["default_value"],
        "status": row["status"], "created_at": unix(row["created_at"]), "updated_at": unix(row["updated_at"]),
    }


def hash_row(row, owner_uid: str) -> dict:
    """A one-time link or code in the seed's `user-hash` keys: metadata, never the secret."""
    return {
        "id": row["id"], "uid": owner_uid, "hash": bytes(row["digest"]).hex()[:HASH_PREFIX],
        "param": row["kind"], "email": row["email"], "livetime": unix(row["expires_at"]),
        "is_verified": row["used_at"] is not None, "created_at": unix(row["created_at"]),
        "updated_at": unix(row["revoked_at"]), "verified_at": unix(row["used_at"]),
    }


def session_row(row, current: int | None) -> dict:
    """Where and when the account was signed in; the access and refresh hashes stay inside."""
    return {
        "id": row["id"], "ip": row["ip"], "user_agent": row["user_agent"], "completed": row["completed"],
        "current": row["id"] == current, "created_at": unix(row["created_at"]),
        "expires_at": unix(row["expires_at"]), "refresh_expires_at": unix(row["refresh_expires_at"]),
        "rotated_at": unix(row["rotated_at"]), "revoked_at": unix(row["revoked_at"]),
    }


def file_row(row) -> dict:
    """An uploaded file's metadata (user/files' keys); the bytes stay downloadable through /download."""
    return {"fileid": row["fileid"], "name": row["name"], "type": row["kind"],
            "content_type": row["content_type"], "size": row["size"], "created_at": unix(row["created_at"])}


def activity_row(row, user_id: int) -> dict:
    """One activity entry about the person or done by them.

    Where another account acted (an admin blocking this one), its address and browser are that
    person's data, not this one's: they are left out. An anonymous request about the account (a
    failed sign-in) keeps them, as they tell the person who tried.
    """
    detail = row["detail"]
    someone_else = row["actor_id"] is not None and row["actor_id"] != user_id
    return {
        "id": row["id"], "action": row["action"],
        "detail": json.loads(detail) if isinstance(detail, str) else detail,
        "user": row["subject_uid"] or "", "actor": row["actor_uid"] or "",
        "by_me": row["actor_id"] == user_id, "ip": None if someone_else else row["ip"],
        "user_agent": None if someone_else else row["user_agent"], "created_at": unix(row["created_at"]),
    }


def mail_row(row) -> dict:
    """A mail sent (or to be sent) to the person; the body is left out as it may hold a link or password."""
    return {"id": row["id"], "recipient": row["recipient"], "template": row["template"],
            "language": row["language"], "subject": row["subject"], "state": row["state"],
            "attachment": row["attachment_name"], "created_at": unix(row["created_at"]),
            "sent_at": unix(row["sent_at"])}
