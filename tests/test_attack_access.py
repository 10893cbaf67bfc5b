"""Reaching what is not yours, over real HTTP: another person's file, export or account, and every admin
function without the right to it."""
import pytest

from .test_user_files import fetch, put

pytestmark = pytest.mark.check

PASSWORD = "Correct7Horse"


def admin_params(api) -> list:
    return [(m.name, p) for m in api.services.registry.modules.values() for p in m.params.values()
            if p.access.kind == "admin"]


async def test_one_person_cannot_read_or_delete_anothers_file_export_or_account(api, db, smtp):
    alice, alice_token = await api.login("alice", password=PASSWORD)
    _, bob_token = await api.login("bob", password=PASSWORD)
    fileid = (await put(api, "upload-file", b"alice's secret", token=alice_token)).answer["fileid"]
    # Naming her file, uid, name or address in any of his own calls gets him nothing.
    assert (await api.get(f"/download/file/{fileid}", token=bob_token)).code == "001419"
    for module, param in (("user", "profile"), ("user", "files"), ("user", "delete-account"),
                          ("gdpr", "show-data"), ("gdpr", "export-data"), ("gdpr", "forget-me"),
                          ("gdpr", "restrict")):
        for name, value in (("uid", alice["uid"]), ("uname", "alice"), ("email", "alice@example.test"),
                            ("fileid", fileid), ("user_id", alice["id"])):
            answer = await api.call(module, param, token=bob_token, **{name: value})
            assert answer.code == "002003", (module, param, name, answer)
    # His own listings and exports hold nothing of hers.
    for path in ("/api/user/files/en", "/api/gdpr/show-data/en", "/api/user/profile/en"):
        body = str((await api.get(path, token=bob_token)).body)
        assert "alice" not in body and fileid not in body and alice["uid"] not in body
    assert (await api.call("gdpr", "export-data", token=bob_token)).ok
    export = await smtp.wait(to="bob@example.test")
    attachment = next(export.iter_attachments()).get_content()
    assert b"alice" not in attachment and fileid.encode() not in attachment
    # And she still has it all.
    assert (await api.call("auth", "signin", uname="alice", **{"pass": PASSWORD})).ok
    status, _, content = await fetch(api, f"/download/file/{fileid}", token=alice_token)
    assert (status, content) == (200, b"alice's secret")
    row = await db.fetchrow("SELECT deleted, restricted, status FROM ugene_user WHERE id = $1", alice["id"])
    assert tuple(row) == (False, False, True)
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox WHERE recipient = 'alice@example.test'") == 0


async def test_every_admin_function_refuses_a_plain_user_with_003013(api, db):
    """Every param with an admin rule, whatever module declares it; the role matrix of the admin module's
    own functions is in test_admin_access.py."""
    params = admin_params(api)
    assert ("admin", "show-users") in [(m, p.name) for m, p in params]
    _, token = await api.login("alice")
    pending_admin = await api.user("root", is_admin=True)
    pending, _ = await api.session(pending_admin, completed=False)
    before = await db.fetch("SELECT * FROM ugene_user ORDER BY id")
    for module, param in params:
        answer = await api.call(module, param.name, token=token)
        assert (answer.code, answer.status) == ("003013", 403), (module, param.name, answer)
        assert (await api.call(module, param.name)).code == "003012"
        assert (await api.call(module, param.name, token=pending)).code == "004005"
        if param.get:
            answer = await api.get(f"/api/{module}/{param.name}/en", token=token)
            assert answer.code == "003013", (module, param.name, answer)
    assert await db.fetch("SELECT * FROM ugene_user ORDER BY id") == before
