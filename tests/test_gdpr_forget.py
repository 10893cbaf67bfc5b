"""gdpr/forget-me: every piece of a person's data erased, an anonymous tombstone kept (protocol §5, §8)."""
import asyncio
from pathlib import Path

import pytest

from ugene.accounts import find_by_login

from .test_gdpr import papi  # noqa: F401  (the fixture: the app with the notes test plugin)

async def scan(conn, needles: list[str]) -> list[str]:
    """Every row of every table, every column as text (bytes as bytes): where do the needles appear?"""
    hits = []
    for table in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
        name = table["tablename"]
        for row in await conn.fetch(f'SELECT * FROM "{name}"'):
            for column, value in row.items():
                for needle in needles:
                    if isinstance(value, bytes):
                        found = needle.lower().encode() in value.lower()
                    else:
                        found = needle.lower() in str(value).lower()
                    if found:
                        hits.append(f"{name}.{column}: {needle}")
    return hits


def scan_files(root: Path, needles: list[str], names: list[str]) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            hits += [f"{path.name}: stored file left" for n in names if path.name == n]
            data = path.read_bytes().lower()
            hits += [f"{path.name}: {n}" for n in needles if n.lower().encode() in data]
    return hits


async def give_zelda_a_life(api, db, smtp, user, token) -> list[str]:
    """Data of every kind about the person, through params where they exist, else through the core."""
    services, name, email = api.services, user["username"], user["email"]
    pending = "zelda.next@example.test"
    assert (await api.call("notes", "add", token=token, text=f"note by {name}")).ok
    assert (await api.call("gdpr", "restrict", token=token, headers={"User-Agent": "Browser/" + name})).ok
    assert (await api.call("gdpr", "export-data", token=token)).ok
    await smtp.wait(1, to=email)
    stored = [services.files.write(f"cv of {name} <{email}>".encode()), services.files.write(b"\x89PNG avatar")]
    async with services.pool.acquire() as conn:
        for fileid, kind, stored_name in (("F1", "file", stored[0]), ("A1", "avatar", stored[1])):
            await conn.execute(
                """INSERT INTO ugene_file (fileid, user_id, kind, name, stored_name, content_type, size, created_at)
                   VALUES ($1, $2, $3, $4, $5, 'application/pdf', 10, now())""",
                fileid, user["id"], kind, f"{name}-{kind}.pdf", stored_name)
        await conn.execute("UPDATE ugene_user SET pending_email = $2, totp_secret = 'JBSWY3DPEHPK3PXP' WHERE id = $1",
                           user["id"], pending)
        await services.tokens.issue(conn, user["id"], "change-email", 3600, email=pending)
        await services.tokens.issue(conn, user["id"], "restore-pwd", 3600, email=email)
        await services.sessions.create(conn, user, completed=True, ip="198.51.100.23", user_agent="Phone")
        await services.outbox.enqueue(conn, "email_change_confirm", pending, "en", user_id=user["id"],
                                      username=name, link="https://x.test/")
        await services.outbox.enqueue(conn, "otp_code", email.upper(), "en", username=name, code="123456")
        await services.activity.record(conn, "signin-failed", ip="198.51.100.23", login=name)
        await services.activity.record(conn, "signup", user_id=user["id"], ip="198.51.100.23", email=email)
        for key in (f"mail:confirm-email:{email.lower()}", f"signin:{name.lower()}", f"mail:otp:{pending}"):
            await conn.execute("INSERT INTO ugene_throttle (key, failures, last_at) VALUES ($1, 3, now())", key)
    return stored


async def test_forget_me_leaves_no_trace_in_any_table_or_file(papi, db, smtp, settings):
    user, token = await papi.login("Zelda.Unique42", email="Zelda.Private@Example.test")
    stored = await give_zelda_a_life(papi, db, smtp, user, token)
    needles = ["Zelda.Unique42", "Zelda.Private@Example.test", "zelda.next@example.test", "198.51.100.23"]
    before = await scan(db, needles)
    for table in ("ugene_user.", "ugene_outbox.", "ugene_token.", "ugene_activity.", "ugene_throttle.",
                  "ugene_file.", "ugene_session.", "notes_note."):
        assert any(hit.startswith(table) for hit in before), table     # the scanner does see them
    assert scan_files(settings.files_dir, needles, stored)

    answer = await papi.get("/api/gdpr/forget-me/en", token=token)
    assert answer.ok and answer.code == "100020"

    assert await scan(db, needles) == []
    assert scan_files(settings.files_dir, needles, stored) == []
    assert await scan(db, stored) == []
    for table in ("ugene_user_config", "ugene_token", "ugene_session", "ugene_file", "notes_note"):
        assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0, table


async def test_forget_me_keeps_an_anonymous_tombstone(papi, db):
    user, token = await papi.login("alice")
    assert (await papi.call("gdpr", "restrict", token=token)).ok
    assert (await papi.call("gdpr", "forget-me", token=token)).ok
    row = dict(await db.fetchrow("SELECT * FROM ugene_user WHERE id = $1", user["id"]))
    assert row["uid"] == user["uid"] and row["erased"] is True and row["deleted"] is True
    for column in ("username", "email", "password_hash", "pending_email", "totp_secret", "logged_at"):
        assert row[column] is None, column
    assert row["is_admin"] is False and row["restricted"] is False
    # The log still says what happened to account `id`, which now resolves to an erased account.
    actions = await db.fetch("""SELECT a.action, a.ip, a.user_agent, a.detail, u.erased FROM ugene_activity a
                                JOIN ugene_user u ON u.id = a.user_id ORDER BY a.id""")
    assert [r["action"] for r in actions] == ["gdpr-restrict", "gdpr-forget"]
    assert all(r["erased"] and r["ip"] is None and r["user_agent"] is None and r["detail"] == "{}" for r in actions)


async def test_forget_me_ends_every_session_and_frees_the_name_and_address(papi, db):
    user, token = await papi.login("alice")
    other_token, refresh = await papi.session(user)
    assert (await papi.call("gdpr", "forget-me", token=token)).ok
    for t in (token, other_token):
        assert (await papi.call("gdpr", "show-data", token=t)).code == "004004"
    assert await find_by_login(db, "alice") is None
    assert await find_by_login(db, "alice@example.test") is None
    again = await papi.user("ALICE", email="Alice@Example.test")        # free again, any case
    assert again["id"] != user["id"]


@pytest.mark.check
async def test_forget_me_leaves_other_people_alone(papi, db, smtp):
    bob, bob_token = await papi.login("bob")
    bobby, bobby_token = await papi.login("bobby")
    assert (await papi.call("notes", "add", token=bobby_token, text="mine")).ok
    services = papi.services
    kept = services.files.write(b"bobby's file")
    async with services.pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO ugene_file (fileid, user_id, kind, name, stored_name, content_type, size, created_at)
               VALUES ('B1', $1, 'file', 'b.txt', $2, 'text/plain', 12, now())""", bobby["id"], kept)
        await services.activity.record(conn, "signup", user_id=bobby["id"], ip="192.0.2.1", by="bobby")
        await services.outbox.enqueue(conn, "otp_code", bobby["email"], "en", user_id=bobby["id"],
                                      username="bobby", code="111111")
        for key in ("signin:bob", "signin:bobby", "mail:restore-pwd:bobby@example.test"):
            await conn.execute("INSERT INTO ugene_throttle (key, failures, last_at) VALUES ($1, 1, now())", key)
    assert (await papi.call("gdpr", "forget-me", token=bob_token)).ok
    assert [r["key"] for r in await db.fetch("SELECT key FROM ugene_throttle ORDER BY key")] == \
        ["mail:restore-pwd:bobby@example.test", "signin:bobby"]
    assert await db.fetchval("SELECT count(*) FROM notes_note WHERE user_id = $1", bobby["id"]) == 1
    assert services.files.path(kept).exists()
    assert await db.fetchval("SELECT ip FROM ugene_activity WHERE user_id = $1", bobby["id"]) == "192.0.2.1"
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox WHERE user_id = $1", bobby["id"]) == 1
    assert (await papi.call("gdpr", "show-data", token=bobby_token)).ok


async def test_forget_me_refuses_the_last_active_admin_with_003014(api, db):
    root, token = await api.login("root", is_admin=True)
    blocked = await api.user("blocked-admin", is_admin=True)
    await db.execute("UPDATE ugene_user SET status = false WHERE id = $1", blocked["id"])
    answer = await api.get("/api/gdpr/forget-me/en", token=token)
    assert answer.code == "003014" and answer.status == 403
    row = await db.fetchrow("SELECT username, erased FROM ugene_user WHERE id = $1", root["id"])
    assert row["username"] == "root" and row["erased"] is False
    assert await db.fetchval("SELECT count(*) FROM ugene_session WHERE user_id = $1", root["id"]) == 1


async def test_forget_me_lets_an_admin_go_when_another_remains(api, db):
    root, token = await api.login("root", is_admin=True)
    await api.user("second", is_admin=True)
    assert (await api.call("gdpr", "forget-me", token=token)).code == "100020"
    assert await db.fetchval("SELECT erased FROM ugene_user WHERE id = $1", root["id"]) is True
    assert await db.fetchval("SELECT count(*) FROM ugene_user WHERE is_admin AND NOT erased") == 1


@pytest.mark.check
async def test_two_last_admins_forgetting_themselves_at_once_leave_one(api, db):
    _, first = await api.login("root", is_admin=True)
    _, second = await api.login("second", is_admin=True)
    answers = await asyncio.gather(*(api.call("gdpr", "forget-me", token=t) for t in (first, second)))
    assert sorted(a.code for a in answers) == ["003014", "100020"]
    assert await db.fetchval("SELECT count(*) FROM ugene_user WHERE is_admin AND NOT erased") == 1
