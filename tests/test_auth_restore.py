"""auth: restore-pwd and verify-pwd, finishing the flow from the mailed link as a user would."""
import pytest
from yarl import URL

from .helpers import line_matching, link_in, plain_body
from .test_auth import PASSWORD, resolve, signin
from .test_reg import follow, outbox_count, signup


async def restore_link(api, smtp, uname="alice", to="alice@example.test", count=1) -> str:
    answer = await api.call("auth", "restore-pwd", uname=uname)
    assert answer.code == "100003"
    mails = await smtp.wait(count, to=to)
    return link_in(mails[-1] if count > 1 else mails)


# restore-pwd

async def test_restore_pwd_answers_the_seed_example_and_mails_a_link(api, db, smtp):
    await api.user("admin", is_admin=True)
    answer = await api.post({"module": "auth", "param": "restore-pwd", "args": {"uname": "admin"},
                             "timestamp": "123456789"})
    assert answer.ok and answer.answer["message"] == "100003" and answer.body["language"] == "en"
    mail = await smtp.wait(to="admin@example.test")
    assert mail["Subject"] == "Restore your password"
    assert link_in(mail).startswith("https://ugene.example.test/api/auth/verify-pwd/en?hash=")


async def test_restore_pwd_by_email_mails_in_the_request_language(api, db, smtp):
    await api.user("alice")
    answer = await api.call("auth", "restore-pwd", uname="ALICE@example.test", language="chi")
    assert answer.code == "100003" and answer.body["language"] == "chi"
    assert "/api/auth/verify-pwd/chi?hash=" in link_in(await smtp.wait(to="alice@example.test"))


@pytest.mark.check
async def test_restore_pwd_for_an_unknown_account_answers_100003_and_sends_nothing(api, db):
    answer = await api.call("auth", "restore-pwd", uname="nobody")
    assert answer.code == "100003" and answer.status == 200
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == 0


async def test_restore_pwd_for_a_deleted_or_blocked_account_sends_nothing(api, db):
    await api.user("gone")
    await api.user("blocked")
    await db.execute("UPDATE ugene_user SET deleted = true WHERE username = 'gone'")
    await db.execute("UPDATE ugene_user SET status = false WHERE username = 'blocked'")
    for name in ("gone", "blocked"):
        assert (await api.call("auth", "restore-pwd", uname=name)).code == "100003"
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == 0


@pytest.mark.check
async def test_restore_pwd_within_a_minute_sends_nothing_and_keeps_the_earlier_link(api, db, smtp, clock):
    await api.user("alice")
    link = await restore_link(api, smtp)
    clock.advance(30)
    assert (await api.call("auth", "restore-pwd", uname="ALICE@EXAMPLE.TEST")).code == "100003"
    assert await outbox_count(db, "alice@example.test") == 1
    assert (await follow(api, link)).code == "100005"


@pytest.mark.check
async def test_a_fresh_restore_link_replaces_the_old_one(api, db, smtp, clock):
    await api.user("alice")
    first = await restore_link(api, smtp)
    clock.advance(61)
    second = await restore_link(api, smtp, count=2)
    assert first != second
    assert (await follow(api, first)).code == "001400"
    assert (await follow(api, second)).code == "100005"


async def test_restore_pwd_without_uname_is_002003(api, db):
    assert (await api.call("auth", "restore-pwd")).code == "002003"


# verify-pwd

async def test_verify_pwd_mails_a_generated_password_and_ends_every_session(api, db, smtp):
    user, token = await api.login("alice")
    link = await restore_link(api, smtp)
    answer = await follow(api, link)
    assert answer.ok and answer.code == "100005" and answer.status == 200
    mail = (await smtp.wait(2, to="alice@example.test"))[1]
    assert mail["Subject"] == "Your new password"
    password = line_matching(mail, r"^[A-Za-z0-9]{16}$")
    assert await resolve(api, token) is None
    assert (await signin(api, password=PASSWORD)).code == "001404"
    assert (await signin(api, password=password)).ok
    assert password not in str(await db.fetch("SELECT detail FROM ugene_activity"))


async def test_verify_pwd_with_new_pwd_sets_it_and_mails_a_notice(api, db, smtp):
    await api.user("alice")
    secret = URL(await restore_link(api, smtp)).query["hash"]
    answer = await api.call("auth", "verify-pwd", hash=secret, **{"new-pwd": "Better8Battery"})
    assert answer.code == "100005"
    mail = (await smtp.wait(2, to="alice@example.test"))[1]
    assert mail["Subject"] == "Your password was changed" and "Better8Battery" not in plain_body(mail)
    assert (await signin(api, password="Better8Battery")).ok


async def test_verify_pwd_with_a_weak_new_pwd_is_001403_and_keeps_the_link(api, db, smtp):
    await api.user("alice")
    link = await restore_link(api, smtp)
    url = URL(link)
    answer = await api.get(url.path, hash=url.query["hash"], **{"new-pwd": "weak"})
    assert answer.code == "001403" and answer.status == 400
    assert (await signin(api)).ok
    assert (await follow(api, link)).code == "100005"


@pytest.mark.check
async def test_verify_pwd_link_works_only_once(api, db, smtp):
    await api.user("alice")
    link = await restore_link(api, smtp)
    assert (await follow(api, link)).code == "100005"
    again = await follow(api, link)
    assert again.code == "001400" and again.status == 400


async def test_a_restore_link_dies_when_the_password_is_changed(api, db, smtp):
    user = await api.user("alice")
    link = await restore_link(api, smtp)
    token, _ = await api.session(user)
    changed = await api.call("user", "change-pwd", token=token,
                             **{"current-pwd": PASSWORD, "new-pwd": "Battery9Staple"})
    assert changed.code == "100009"
    assert (await follow(api, link)).code == "001400"
    assert (await signin(api, password="Battery9Staple")).ok


async def test_a_restore_link_mailed_to_the_old_address_dies_when_the_email_changes(api, db, smtp, clock):
    user = await api.user("alice")
    link = await restore_link(api, smtp)
    token, _ = await api.session(user)
    assert (await api.call("user", "change-email", token=token, email="alice.new@example.test")).code == "100008"
    assert (await follow(api, link_in(await smtp.wait(to="alice.new@example.test")))).code == "100006"
    assert (await follow(api, link)).code == "001400"
    clock.advance(61)                                      # a restore link asked for now goes to the new address
    assert "verify-pwd" in await restore_link(api, smtp, to="alice.new@example.test", count=2)


@pytest.mark.check
async def test_verify_pwd_link_expires_after_an_hour(api, db, smtp, clock):
    await api.user("alice")
    link = await restore_link(api, smtp)
    clock.advance(3601)
    assert (await follow(api, link)).code == "001400"
    assert (await signin(api)).ok


async def test_verify_pwd_with_an_unknown_hash_is_001400(api, db):
    answer = await api.get("/api/auth/verify-pwd/en", hash="5ClEmz")
    assert answer.code == "001400" and answer.body["session"] == {}


async def test_verify_pwd_for_an_account_deleted_since_is_001400(api, db, smtp):
    await api.user("alice")
    link = await restore_link(api, smtp)
    await db.execute("UPDATE ugene_user SET deleted = true")
    assert (await follow(api, link)).code == "001400"


async def test_verify_pwd_without_a_hash_is_002003(api, db):
    answer = await api.get("/api/auth/verify-pwd/en")
    assert answer.code == "002003" and answer.body["details"] == [{"arg": "hash", "problem": "missing"}]


async def test_verify_pwd_lifts_the_signin_wait(api, db, smtp):
    await api.user("alice")
    for _ in range(10):
        await signin(api, password="Wrong7Horse")
    assert (await signin(api)).code == "001417"
    secret = URL(await restore_link(api, smtp)).query["hash"]
    await api.call("auth", "verify-pwd", hash=secret, **{"new-pwd": "Better8Battery"})
    assert (await signin(api, password="Better8Battery")).ok


async def test_verify_pwd_confirms_an_account_still_waiting_for_confirmation(api, db, smtp):
    await signup(api, uname="alice")
    await smtp.wait(to="alice@example.test")
    secret = URL(await restore_link(api, smtp, count=2)).query["hash"]
    await api.call("auth", "verify-pwd", hash=secret, **{"new-pwd": "Better8Battery"})
    row = await db.fetchrow("SELECT completed, mailconfirmed FROM ugene_user")
    assert row["completed"] and row["mailconfirmed"] is not None
    assert (await signin(api, password="Better8Battery")).ok
