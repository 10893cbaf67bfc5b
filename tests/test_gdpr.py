"""gdpr: restrict, show-data, export-data, their access rules and the plugin hooks (protocol §5 gdpr, §8).

forget-me's erasure is tested in test_gdpr_forget.py.
"""
import json
from pathlib import Path

import pytest

from ugene.app import create_app
from ugene.db import apply_schema

from .helpers import Api

PLUGINS = Path(__file__).parent / "plugins"
NOTES_SCHEMA = PLUGINS / "notes" / "schema.sql"
SEED_INFO_KEYS = {"id", "uid", "username", "email", "is_admin", "deleted", "mailsent", "mailconfirmed",
                  "completed", "restricted", "status", "created_at", "updated_at", "logged_at"}
SEED_CONFIG_KEYS = {"id", "uid", "config-name", "config-group", "config-key", "current-value",
                    "default-value", "status", "created_at", "updated_at"}
SEED_HASH_KEYS = {"id", "uid", "hash", "param", "email", "livetime", "is_verified", "created_at",
                  "updated_at", "verified_at"}
PARAMS = ("restrict", "show-data", "export-data", "forget-me")


@pytest.fixture
async def papi(aiohttp_client, settings, clock, db):
    """The app with the `notes` test plugin loaded from a plugins folder (its schema applied here,
    as the session's database only has the schemas of installed modules)."""
    await apply_schema(db, [NOTES_SCHEMA])
    app = create_app(settings.with_(modules_dir=PLUGINS), clock=clock)
    return Api(await aiohttp_client(app), app)


async def show(api, token) -> dict:
    answer = await api.get("/api/gdpr/show-data/en", token=token)
    assert answer.ok, answer
    return answer.answer["data"]


def attachment_of(message) -> tuple[str, bytes]:
    part = next(message.iter_attachments())
    return part.get_filename(), part.get_content()


# restrict

async def test_restrict_sets_the_flag_and_status_false_lifts_it(api, db):
    user, token = await api.login("alice")
    answer = await api.get("/api/gdpr/restrict/en", token=token)
    assert answer.ok and answer.code == "100019" and answer.answer["text"]
    assert answer.body["session"]["uid"] == user["uid"] and answer.body["session"]["completed"] == 1
    assert await db.fetchval("SELECT restricted FROM ugene_user WHERE id = $1", user["id"]) is True
    assert (await show(api, token))["user-info"]["restricted"] is True
    answer = await api.get("/api/gdpr/restrict/en", token=token, status="false")
    assert answer.ok and answer.code == "100019"
    assert await db.fetchval("SELECT restricted FROM ugene_user WHERE id = $1", user["id"]) is False
    assert (await show(api, token))["user-info"]["restricted"] is False


async def test_restrict_through_post_is_idempotent(api, db):
    user, token = await api.login("alice")
    for _ in range(2):
        answer = await api.call("gdpr", "restrict", token=token, status=True)
        assert answer.ok and answer.code == "100019"
    assert await db.fetchval("SELECT restricted FROM ugene_user WHERE id = $1", user["id"]) is True
    actions = await db.fetch("SELECT action, detail FROM ugene_activity WHERE user_id = $1", user["id"])
    assert [(r["action"], json.loads(r["detail"])) for r in actions] == [("gdpr-restrict", {"restricted": True})] * 2


async def test_restrict_rejects_a_non_boolean_status_and_changes_nothing(api, db):
    user, token = await api.login("alice")
    answer = await api.call("gdpr", "restrict", token=token, status="maybe")
    assert answer.code == "002003" and answer.status == 400
    assert answer.body["details"] == [{"arg": "status", "problem": "bool_parsing"}]
    answer = await api.call("gdpr", "restrict", token=token, reason="x")
    assert answer.code == "002003"
    assert await db.fetchval("SELECT restricted FROM ugene_user WHERE id = $1", user["id"]) is False


async def test_restricted_account_keeps_its_own_requests(papi, db, smtp):
    """Restricted: data kept but not processed; the person still reads, exports, adds and erases."""
    user, token = await papi.login("alice")
    assert (await papi.call("gdpr", "restrict", token=token)).ok
    assert (await show(papi, token))["user-info"]["restricted"] is True
    assert (await papi.call("gdpr", "export-data", token=token)).code == "100020"
    await smtp.wait(1, to=user["email"])        # the export is a mail the person asked for: it goes
    assert (await papi.call("gdpr", "forget-me", token=token)).code == "100020"


async def test_restriction_blocks_an_admin_change_and_lifts(api, db):
    """protocol §8: admin/change-user-status on a restricted account answers 001420 until lifted."""
    if api.services.registry.find("admin", "change-user-status") is None:
        pytest.skip("the admin module is not installed in this tree")
    admin_user, admin_token = await api.login("root", is_admin=True)
    user, token = await api.login("alice")
    assert (await api.call("gdpr", "restrict", token=token)).ok
    answer = await api.call("admin", "change-user-status", token=admin_token, uid=user["uid"], status=False)
    assert answer.code == "001420" and answer.status == 403
    assert await db.fetchval("SELECT status FROM ugene_user WHERE id = $1", user["id"]) is True
    assert (await api.call("gdpr", "restrict", token=token, status=False)).ok
    answer = await api.call("admin", "change-user-status", token=admin_token, uid=user["uid"], status=False)
    assert answer.ok and answer.code == "100100"
    assert await db.fetchval("SELECT status FROM ugene_user WHERE id = $1", user["id"]) is False


# access, shared by every param

@pytest.mark.parametrize("param", PARAMS)
async def test_gdpr_params_need_a_session(api, param):
    answer = await api.get(f"/api/gdpr/{param}/en")
    assert answer.code == "004004" and answer.status == 401
    answer = await api.call("gdpr", param, token="not-a-token")
    assert answer.code == "004004"


@pytest.mark.parametrize("param", PARAMS)
async def test_gdpr_params_need_a_completed_session(api, db, param):
    user = await api.user("alice")
    token, _ = await api.session(user, completed=False)
    answer = await api.get(f"/api/gdpr/{param}/en", token=token)
    assert answer.code == "004005" and answer.status == 403
    row = await db.fetchrow("SELECT username, restricted FROM ugene_user WHERE id = $1", user["id"])
    assert row["username"] == "alice" and row["restricted"] is False


@pytest.mark.parametrize("param", ("show-data", "export-data", "forget-me"))
async def test_gdpr_params_without_args_refuse_unknown_ones(api, db, param):
    user, token = await api.login("alice")
    answer = await api.call("gdpr", param, token=token, everything=True)
    assert answer.code == "002003"
    assert await db.fetchval("SELECT username FROM ugene_user WHERE id = $1", user["id"]) == "alice"
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == 0


# show-data

async def test_show_data_answers_the_seed_keys(api, db):
    user, token = await api.login("alice")
    services = api.services
    async with services.pool.acquire() as conn:
        await services.tokens.issue(conn, user["id"], "restore-pwd", 3600, email=user["email"])
    data = await show(api, token)
    info = data["user-info"]
    assert SEED_INFO_KEYS <= set(info)
    assert info["id"] == user["id"] and info["uid"] == user["uid"] and info["username"] == "alice"
    assert info["email"] == "alice@example.test" and info["is_admin"] is False and info["completed"] is True
    assert info["mailsent"] == 0 and info["logged_at"] == 0 and isinstance(info["created_at"], int)
    [config] = data["user-config"]
    assert set(config) == SEED_CONFIG_KEYS
    assert config["uid"] == user["uid"] and config["config-key"] == "auth_two_factor"
    assert config["config-group"] == "security" and config["current-value"] == "0" and config["status"] is True
    [link] = data["user-hash"]
    assert set(link) == SEED_HASH_KEYS
    stored = await db.fetchrow("SELECT * FROM ugene_token WHERE user_id = $1", user["id"])
    assert link["hash"] == bytes(stored["digest"]).hex()[:8] and len(link["hash"]) == 8
    assert link["param"] == "restore-pwd" and link["email"] == user["email"] and link["uid"] == user["uid"]
    assert link["livetime"] == int(stored["expires_at"].timestamp()) and link["is_verified"] is False
    assert link["verified_at"] == 0


async def test_show_data_lists_sessions_files_activity_and_mails(api, db):
    user, token = await api.login("alice")
    services = api.services
    stored = services.files.write(b"alice's cv")
    async with services.pool.acquire() as conn:
        await services.sessions.create(conn, user, completed=True, ip="203.0.113.9", user_agent="Firefox/128")
        await conn.execute(
            """INSERT INTO ugene_file (fileid, user_id, kind, name, stored_name, content_type, size, created_at)
               VALUES ('F1', $1, 'file', 'cv.pdf', $2, 'application/pdf', 10, now())""", user["id"], stored)
        await services.activity.record(conn, "signup", user_id=user["id"], ip="203.0.113.9", confirmation=False)
    assert (await api.call("gdpr", "restrict", token=token, headers={"User-Agent": "UgeneTest/1"})).ok
    data = await show(api, token)
    sessions = data["user-session"]
    assert [s["current"] for s in sessions] == [True, False]
    assert sessions[1]["ip"] == "203.0.113.9" and sessions[1]["user_agent"] == "Firefox/128"
    assert all(not {"access_hash", "refresh_hash"} & set(s) for s in sessions)
    assert data["user-file"] == [{"fileid": "F1", "name": "cv.pdf", "type": "file", "content_type": "application/pdf",
                                  "size": 10, "created_at": data["user-file"][0]["created_at"]}]
    assert [a["action"] for a in data["user-activity"]] == ["signup", "gdpr-restrict"]
    restricted = data["user-activity"][1]
    assert restricted["ip"] == "127.0.0.1" and restricted["user_agent"] == "UgeneTest/1" and restricted["by_me"]
    assert restricted["user"] == user["uid"] and restricted["actor"] == user["uid"]
    assert data["user-mail"] == []


async def test_show_data_leaves_out_the_address_and_browser_of_an_admin_who_acted_on_the_account(api, db):
    user, token = await api.login("alice")
    boss, boss_token = await api.login("boss", is_admin=True)
    assert (await api.call("admin", "change-user-status", token=boss_token, uid=user["uid"], status=False,
                           headers={"User-Agent": "AdminDesk/1"})).ok
    await db.execute("UPDATE ugene_user SET status = true WHERE id = $1", user["id"])
    token, _ = await api.session(user)
    [blocked] = [a for a in (await show(api, token))["user-activity"] if a["action"] == "admin.change-user-status"]
    assert blocked["actor"] == boss["uid"] and not blocked["by_me"]
    assert blocked["ip"] is None and blocked["user_agent"] is None
    [own] = [a for a in (await show(api, boss_token))["user-activity"] if a["action"] == "admin.change-user-status"]
    assert own["by_me"] and own["ip"] == "127.0.0.1" and own["user_agent"] == "AdminDesk/1"


@pytest.mark.check
async def test_show_data_never_shows_a_secret(api, db):
    user, token = await api.login("alice")
    services = api.services
    async with services.pool.acquire() as conn:
        secret = await services.tokens.issue(conn, user["id"], "restore-pwd", 3600, email=user["email"])
        issued = await services.sessions.create(conn, user, completed=True)
        await conn.execute("UPDATE ugene_user SET totp_secret = 'JBSWY3DPEHPK3PXPJBSWY3DP' WHERE id = $1",
                           user["id"])
        await services.outbox.enqueue(conn, "restore_pwd", user["email"], "en", user_id=user["id"],
                                      username="alice", link=f"https://x.test/?hash={secret}")
    text = json.dumps(await show(api, token))
    row = await db.fetchrow("SELECT password_hash FROM ugene_user WHERE id = $1", user["id"])
    stored = await db.fetch("SELECT access_hash, refresh_hash FROM ugene_session WHERE user_id = $1", user["id"])
    token_digest = await db.fetchval("SELECT digest FROM ugene_token WHERE user_id = $1", user["id"])
    secrets = [row["password_hash"], secret, issued.token, issued.refresh_token, token,
               "JBSWY3DPEHPK3PXPJBSWY3DP", bytes(token_digest).hex()[:9]]
    secrets += [bytes(s[k]).hex()[:16] for s in stored for k in ("access_hash", "refresh_hash") if s[k]]
    for value in secrets:
        assert value not in text
    assert json.loads(text)["user-info"]["two_factor_app"] is True


async def test_show_data_answers_through_post_too(api):
    user, token = await api.login("alice")
    answer = await api.call("gdpr", "show-data", token=token)
    assert answer.ok and answer.answer["data"]["user-info"]["uid"] == user["uid"]
    assert set(answer.answer) == {"data"}


# export-data

async def test_export_attachment_is_json_holding_what_show_data_shows(papi, db, smtp):
    user, token = await papi.login("alice")
    assert (await papi.call("notes", "add", token=token, text="buy milk")).ok
    stored = papi.services.files.write(b"alice's cv")
    await db.execute(
        """INSERT INTO ugene_file (fileid, user_id, kind, name, stored_name, content_type, size, created_at)
           VALUES ('F1', $1, 'file', 'cv.pdf', $2, 'application/pdf', 10, now())""", user["id"], stored)
    shown = await show(papi, token)
    answer = await papi.get("/api/gdpr/export-data/ru", token=token)
    assert answer.ok and answer.code == "100020" and answer.body["language"] == "ru"
    mail = await smtp.wait(1, to=user["email"])
    subject, _ = papi.services.messages.mail("gdpr_export", "ru", username="alice")
    assert mail["Subject"] == subject                 # in the language the person asked in
    name, content = attachment_of(mail)
    assert name == "ugene-export.json"
    assert json.loads(content) == shown
    assert shown["notes"][0]["text"] == "buy milk" and shown["user-file"][0]["fileid"] == "F1"


async def test_export_data_while_an_earlier_export_waits_is_002004(aiohttp_client, settings, clock, db):
    app = create_app(settings, clock=clock, run_sender=False)     # no sender: the first export stays queued
    api = Api(await aiohttp_client(app), app)
    user, token = await api.login("alice")
    assert (await api.call("gdpr", "export-data", token=token)).code == "100020"
    answer = await api.call("gdpr", "export-data", token=token)
    assert answer.code == "002004" and answer.status == 400
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == 1
    await db.execute("UPDATE ugene_outbox SET state = 'sent'")
    assert (await api.call("gdpr", "export-data", token=token)).code == "100020"
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == 2


# plugins

async def test_plugin_data_is_exported_and_erased_through_its_hooks(papi, db, smtp):
    user, token = await papi.login("alice")
    other, other_token = await papi.login("carol")
    for text in ("first", "second"):
        answer = await papi.call("notes", "add", token=token, text=text)
        assert answer.ok and answer.code == "100100"
    assert (await papi.call("notes", "add", token=other_token, text="carol's")).ok
    data = await show(papi, token)
    assert [n["text"] for n in data["notes"]] == ["first", "second"]
    assert (await papi.call("gdpr", "export-data", token=token)).ok
    _, content = attachment_of(await smtp.wait(1, to=user["email"]))
    assert [n["text"] for n in json.loads(content)["notes"]] == ["first", "second"]
    assert (await papi.call("gdpr", "forget-me", token=token)).ok
    assert await db.fetchval("SELECT count(*) FROM notes_note WHERE user_id = $1", user["id"]) == 0
    assert [n["text"] for n in (await show(papi, other_token))["notes"]] == ["carol's"]


async def test_show_data_has_the_core_keys_and_one_per_exporting_module(api):
    _, token = await api.login("alice")
    exporting = {name for name, module in api.services.registry.modules.items() if module.export_hook}
    assert set(await show(api, token)) == {"user-info", "user-config", "user-hash", "user-session", "user-file",
                                           "user-activity", "user-mail"} | exporting
