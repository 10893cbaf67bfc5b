"""user module: profile, change-email, change-pwd, logout and delete-account (protocol §5 user)."""
import asyncio
from urllib.parse import parse_qs, urlsplit

import pytest

from ugene.accounts import find_by_login
from ugene.app import create_app
from ugene.registry import discover

from .helpers import Api, link_in

_REGISTRY = discover()
REG_CONFIRMS = "reg" in _REGISTRY.modules and "confirm-email" in _REGISTRY.modules["reg"].params
AUTH_SIGNIN = "auth" in _REGISTRY.modules and "signin" in _REGISTRY.modules["auth"].params

PROFILE_KEYS = ["uid", "username", "email", "admin", "deleted", "mailsent", "mailconfirmed", "completed",
                "restricted", "status", "created_at", "updated_at", "logged_at"]


def assert_code(answer, code: str, status: int):
    assert answer.code == code, answer
    assert answer.status == status, answer


async def outbox(db, template: str) -> list:
    return await db.fetch("SELECT recipient, body FROM ugene_outbox WHERE template = $1 ORDER BY id", template)


# profile

async def test_profile_answers_the_protocol_fields_through_get(api):
    user, token = await api.login("alice")
    answer = await api.get("/api/user/profile/en", token=token)
    assert_code(answer, None, 200)
    data = answer.answer["data"]
    assert list(data) == PROFILE_KEYS
    assert data["uid"] == user["uid"] and data["username"] == "alice" and data["email"] == "alice@example.test"
    assert data["admin"] is False and data["deleted"] is False and data["restricted"] is False
    assert data["completed"] is True and data["status"] is True
    assert data["created_at"] == int(user["created_at"].timestamp())
    assert data["updated_at"] == 0 and data["logged_at"] == 0 and data["mailsent"] == 0 and data["mailconfirmed"] == 0
    assert answer.body["session"]["uid"] == user["uid"] and answer.body["session"]["completed"] == 1


async def test_profile_shows_admin_and_restricted_flags(api, db):
    user, token = await api.login("root", is_admin=True)
    await db.execute("UPDATE ugene_user SET restricted = true WHERE id = $1", user["id"])
    data = (await api.call("user", "profile", token=token)).answer["data"]
    assert data["admin"] is True and data["restricted"] is True


async def test_profile_without_or_with_a_bad_token_is_004004(api):
    assert_code(await api.get("/api/user/profile/en"), "004004", 401)
    assert_code(await api.get("/api/user/profile/en", token="not.a.jwt"), "004004", 401)


async def test_profile_with_a_pending_second_factor_is_004005(api):
    user = await api.user("alice")
    token, _ = await api.session(user, completed=False)
    assert_code(await api.call("user", "profile", token=token), "004005", 403)


async def test_profile_refuses_arguments(api):
    _, token = await api.login("alice")
    answer = await api.call("user", "profile", token=token, extra="1")
    assert_code(answer, "002003", 400)
    assert answer.body["details"] == [{"arg": "extra", "problem": "extra_forbidden"}]


# change-email

async def test_change_email_mails_a_link_to_the_new_address_and_a_notice_to_the_old(api, db, smtp):
    user, token = await api.login("alice")
    answer = await api.call("user", "change-email", token=token, email="Alice.New@example.test")
    assert_code(answer, "100008", 200)
    confirm = await smtp.wait(to="Alice.New@example.test")
    link = urlsplit(link_in(confirm))
    assert f"{link.scheme}://{link.netloc}" == "https://ugene.example.test"
    assert link.path == "/api/reg/confirm-email/en"
    notice = await smtp.wait(to="alice@example.test")
    assert "Alice.New@example.test" in notice.get_body(("plain",)).get_content()
    row = await db.fetchrow("SELECT email, pending_email FROM ugene_user WHERE id = $1", user["id"])
    assert row["email"] == "alice@example.test" and row["pending_email"] == "Alice.New@example.test"


async def test_change_email_link_carries_the_new_address_for_reg_confirm_email(api, db, smtp):
    """The contract with reg/confirm-email: a `confirm-email` token whose payload names the new address."""
    user, token = await api.login("alice")
    await api.call("user", "change-email", token=token, email="new@example.test")
    secret = parse_qs(urlsplit(link_in(await smtp.wait(to="new@example.test"))).query)["hash"][0]
    used = await api.services.tokens.use(db, "confirm-email", secret)
    assert used["user_id"] == user["id"] and used["email"] == "new@example.test"
    assert used["payload"] == {"new_email": "new@example.test"}


async def test_change_email_keeps_sign_in_on_the_old_address_until_confirmed(api, db):
    user, token = await api.login("alice")
    assert_code(await api.call("user", "change-email", token=token, email="new@example.test"), "100008", 200)
    assert (await find_by_login(db, "alice@example.test"))["id"] == user["id"]
    assert await find_by_login(db, "new@example.test") is None
    assert (await api.call("user", "profile", token=token)).answer["data"]["email"] == "alice@example.test"


async def test_change_email_again_kills_the_earlier_link(api, db, smtp):
    _, token = await api.login("alice")
    await api.call("user", "change-email", token=token, email="first@example.test")
    first = parse_qs(urlsplit(link_in(await smtp.wait(to="first@example.test"))).query)["hash"][0]
    await api.call("user", "change-email", token=token, email="second@example.test")
    await smtp.wait(to="second@example.test")
    assert await api.services.tokens.use(db, "confirm-email", first) is None


@pytest.mark.skipif(not REG_CONFIRMS, reason="reg/confirm-email is not loaded yet")
async def test_change_email_completes_when_the_mailed_link_is_opened(api, db, smtp):
    user, token = await api.login("alice")
    await api.call("user", "change-email", token=token, email="new@example.test")
    link = urlsplit(link_in(await smtp.wait(to="new@example.test")))
    assert_code(await api.get(link.path, hash=parse_qs(link.query)["hash"][0]), "100006", 200)
    assert (await api.call("user", "profile", token=token)).answer["data"]["email"] == "new@example.test"
    assert await db.fetchval("SELECT pending_email FROM ugene_user WHERE id = $1", user["id"]) is None
    assert (await find_by_login(db, "new@example.test"))["id"] == user["id"]
    assert await find_by_login(db, "alice@example.test") is None
    assert_code(await api.get(link.path, hash=parse_qs(link.query)["hash"][0]), "001400", 400)


@pytest.mark.skipif(not AUTH_SIGNIN, reason="auth/signin is not loaded yet")
async def test_sign_in_uses_the_old_address_while_the_change_is_pending(api):
    _, token = await api.login("alice")
    await api.call("user", "change-email", token=token, email="new@example.test")
    assert (await api.call("auth", "signin", uname="alice@example.test", **{"pass": "Correct7Horse"})).ok
    assert_code(await api.call("auth", "signin", uname="new@example.test", **{"pass": "Correct7Horse"}), "001404", 401)


@pytest.mark.parametrize("email", ["no-at-sign", "a@nodot", " alice2@example.test", "two@@example.test",
                                   "tab\t@example.test", "x" * 65 + "@example.test", ""])
async def test_change_email_refuses_an_invalid_address_and_changes_nothing(api, db, email):
    user, token = await api.login("alice")
    assert_code(await api.call("user", "change-email", token=token, email=email), "001405", 400)
    assert await db.fetchval("SELECT pending_email FROM ugene_user WHERE id = $1", user["id"]) is None
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == 0
    assert await db.fetchval("SELECT count(*) FROM ugene_token") == 0


@pytest.mark.check
async def test_change_email_refuses_an_address_taken_by_another_account_in_any_case(api, db):
    await api.user("bob", email="bob@example.test")
    user, token = await api.login("alice")
    assert_code(await api.call("user", "change-email", token=token, email="BOB@Example.test"), "001402", 409)
    assert await db.fetchval("SELECT pending_email FROM ugene_user WHERE id = $1", user["id"]) is None
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == 0


async def test_change_email_to_the_current_address_is_001402(api):
    _, token = await api.login("alice")
    assert_code(await api.call("user", "change-email", token=token, email="Alice@example.test"), "001402", 409)


async def test_change_email_wants_a_string(api):
    _, token = await api.login("alice")
    assert_code(await api.call("user", "change-email", token=token, email=42), "002003", 400)
    assert_code(await api.call("user", "change-email", token=token), "002003", 400)


async def test_change_email_is_not_a_get_door(api):
    _, token = await api.login("alice")
    assert_code(await api.get("/api/user/change-email/en", token=token, email="n@example.test"), "002001", 404)


async def test_change_email_sends_one_link_per_address_per_minute(api, db, clock):
    _, token = await api.login("alice")
    assert_code(await api.call("user", "change-email", token=token, email="new@example.test"), "100008", 200)
    again = await api.call("user", "change-email", token=token, email="new@example.test")
    assert_code(again, "001417", 429)
    assert 0 < int(again.headers["Retry-After"]) <= 60
    assert len(await outbox(db, "email_change_confirm")) == 1
    clock.advance(61)
    assert_code(await api.call("user", "change-email", token=token, email="new@example.test"), "100008", 200)


# change-pwd

async def test_change_pwd_sets_the_password_and_ends_every_other_session(api, db, smtp):
    user, token = await api.login("alice")
    other, other_refresh = await api.session(user)
    answer = await api.call("user", "change-pwd", token=token, **{"current-pwd": "Correct7Horse",
                                                                   "new-pwd": "Battery9Staple"})
    assert_code(answer, "100009", 200)
    assert_code(await api.call("user", "profile", token=other), "004004", 401)
    assert (await api.call("user", "profile", token=token)).ok
    assert not await api.services.sessions.owns_refresh(db, user["id"], other_refresh)
    stored = await db.fetchval("SELECT password_hash FROM ugene_user WHERE id = $1", user["id"])
    assert (await api.services.passwords.verify(stored, "Battery9Staple"))[0]
    assert "password" in (await smtp.wait(to="alice@example.test"))["Subject"].lower()


async def test_change_pwd_refuses_a_wrong_current_password_and_changes_nothing(api, db):
    user, token = await api.login("alice")
    other, _ = await api.session(user)
    answer = await api.call("user", "change-pwd", token=token, **{"current-pwd": "Wrong7Horse",
                                                                   "new-pwd": "Battery9Staple"})
    assert_code(answer, "001410", 400)
    stored = await db.fetchval("SELECT password_hash FROM ugene_user WHERE id = $1", user["id"])
    assert stored == user["password_hash"]
    assert (await api.call("user", "profile", token=other)).ok


@pytest.mark.parametrize("weak", ["short1A", "alllowercase1", "NoDigitsHere", "Password1"])
async def test_change_pwd_refuses_a_weak_new_password(api, db, weak):
    user, token = await api.login("alice")
    answer = await api.call("user", "change-pwd", token=token, **{"current-pwd": "Correct7Horse", "new-pwd": weak})
    assert_code(answer, "001403", 400)
    assert await db.fetchval("SELECT password_hash FROM ugene_user WHERE id = $1", user["id"]) == user["password_hash"]


@pytest.mark.check
async def test_change_pwd_waits_after_ten_wrong_current_passwords(api, clock):
    _, token = await api.login("alice")
    args = {"current-pwd": "Wrong7Horse", "new-pwd": "Battery9Staple"}
    for _ in range(10):
        assert_code(await api.call("user", "change-pwd", token=token, **args), "001410", 400)
    right = {"current-pwd": "Correct7Horse", "new-pwd": "Battery9Staple"}
    held = await api.call("user", "change-pwd", token=token, **right)
    assert_code(held, "001417", 429)
    assert int(held.headers["Retry-After"]) == 30
    clock.advance(31)
    assert_code(await api.call("user", "change-pwd", token=token, **right), "100009", 200)


async def test_wrong_current_passwords_sent_all_at_once_get_ten_tries_not_more(api):
    _, token = await api.login("alice")
    args = {"current-pwd": "Wrong7Horse", "new-pwd": "Battery9Staple"}
    answers = await asyncio.gather(*(api.call("user", "change-pwd", token=token, **args) for _ in range(30)))
    assert sorted(answer.code for answer in answers) == ["001410"] * 10 + ["001417"] * 20, answers


async def test_change_pwd_needs_both_arguments(api):
    _, token = await api.login("alice")
    answer = await api.call("user", "change-pwd", token=token, **{"new-pwd": "Battery9Staple"})
    assert_code(answer, "002003", 400)
    assert answer.body["details"][0]["arg"] == "current-pwd"


# logout

async def test_logout_ends_this_session_at_once_and_only_it(api):
    user, token = await api.login("alice")
    other, _ = await api.session(user)
    answer = await api.get("/api/user/logout/en", token=token)
    assert_code(answer, "100011", 200)
    assert answer.body["session"]["uid"] == user["uid"]
    assert_code(await api.get("/api/user/logout/en", token=token), "004004", 401)
    assert_code(await api.call("user", "profile", token=token), "004004", 401)
    assert (await api.call("user", "profile", token=other)).ok


async def test_logout_is_seen_by_a_second_app_instance_sharing_the_database(api, aiohttp_client, settings, clock):
    second_app = create_app(settings, clock=clock)
    second = Api(await aiohttp_client(second_app), second_app)
    _, token = await api.login("alice")
    assert (await second.call("user", "profile", token=token)).ok
    assert_code(await api.call("user", "logout", token=token), "100011", 200)
    assert_code(await second.call("user", "profile", token=token), "004004", 401)


async def test_logout_with_own_refresh_token_ends_every_session(api, db):
    user, token = await api.login("alice")
    other, other_refresh = await api.session(user)
    _, refresh = await api.session(user)
    assert_code(await api.get("/api/user/logout/en", token=token, **{"refresh-token": refresh}), "100011", 200)
    for t in (token, other):
        assert_code(await api.call("user", "profile", token=t), "004004", 401)
    assert not await api.services.sessions.owns_refresh(db, user["id"], other_refresh)


@pytest.mark.check
async def test_logout_with_someone_elses_refresh_token_is_001416_and_ends_nothing(api):
    _, token = await api.login("alice")
    bob = await api.user("bob")
    bob_token, bob_refresh = await api.session(bob)
    answer = await api.call("user", "logout", token=token, **{"refresh-token": bob_refresh})
    assert_code(answer, "001416", 401)
    assert (await api.call("user", "profile", token=token)).ok
    assert (await api.call("user", "profile", token=bob_token)).ok
    assert_code(await api.call("user", "logout", token=token, **{"refresh-token": "made-up"}), "001416", 401)


async def test_logout_with_a_rotated_refresh_token_is_001416(api, db):
    user, token = await api.login("alice")
    _, refresh = await api.session(user)
    status, _ = await api.services.sessions.rotate(db, refresh)
    assert status == "ok"
    assert_code(await api.call("user", "logout", token=token, **{"refresh-token": refresh}), "001416", 401)


async def test_logout_all_ends_every_session_of_the_account_only(api):
    user, token = await api.login("alice")
    other, _ = await api.session(user)
    _, bob_token = await api.login("bob")
    assert_code(await api.get("/api/user/logout/en", token=token, all="true"), "100011", 200)
    for t in (token, other):
        assert_code(await api.call("user", "profile", token=t), "004004", 401)
    assert (await api.call("user", "profile", token=bob_token)).ok


async def test_logout_all_false_ends_only_this_session(api):
    user, token = await api.login("alice")
    other, _ = await api.session(user)
    assert_code(await api.call("user", "logout", token=token, all=False), "100011", 200)
    assert (await api.call("user", "profile", token=other)).ok


async def test_logout_without_a_session_is_004004(api):
    assert_code(await api.get("/api/user/logout/en"), "004004", 401)


# delete-account

async def test_delete_account_marks_it_deleted_ends_sessions_and_mails_a_notice(api, db, smtp):
    user, token = await api.login("alice")
    other, refresh = await api.session(user)
    answer = await api.get("/api/user/delete-account/en", token=token)
    assert_code(answer, "100010", 200)
    assert answer.body["session"]["uid"] == user["uid"]
    assert await db.fetchval("SELECT deleted FROM ugene_user WHERE id = $1", user["id"]) is True
    for t in (token, other):
        assert_code(await api.call("user", "profile", token=t), "004004", 401)
    assert (await api.services.sessions.rotate(db, refresh))[0] == "invalid"
    notice = await smtp.wait(to="alice@example.test")
    assert "deleted" in notice["Subject"].lower()


async def test_delete_account_kills_pending_links(api, db, smtp):
    user, token = await api.login("alice")
    await api.call("user", "change-email", token=token, email="new@example.test")
    secret = parse_qs(urlsplit(link_in(await smtp.wait(to="new@example.test"))).query)["hash"][0]
    assert_code(await api.call("user", "delete-account", token=token), "100010", 200)
    assert await api.services.tokens.use(db, "confirm-email", secret) is None


async def test_delete_account_sends_no_notice_when_the_switch_is_off(api, db):
    await db.execute("UPDATE ugene_setting SET value = 'false' WHERE key = 'sendmail-delete-user'")
    _, token = await api.login("alice")
    assert_code(await api.call("user", "delete-account", token=token), "100010", 200)
    assert await outbox(db, "account_deleted") == []


async def test_delete_account_refuses_the_last_active_admin(api, db):
    user, token = await api.login("root", is_admin=True)
    blocked = await api.user("blockedadmin", is_admin=True)
    await db.execute("UPDATE ugene_user SET status = false WHERE id = $1", blocked["id"])
    assert_code(await api.call("user", "delete-account", token=token), "003014", 403)
    assert await db.fetchval("SELECT deleted FROM ugene_user WHERE id = $1", user["id"]) is False
    assert (await api.call("user", "profile", token=token)).ok
    assert await outbox(db, "account_deleted") == []


async def test_delete_account_lets_an_admin_go_when_another_admin_remains(api, db):
    user, token = await api.login("root", is_admin=True)
    await api.user("second", is_admin=True)
    assert_code(await api.call("user", "delete-account", token=token), "100010", 200)
    assert await db.fetchval("SELECT deleted FROM ugene_user WHERE id = $1", user["id"]) is True


async def test_two_admins_deleting_themselves_at_once_leave_one_admin(api, db):
    _, first = await api.login("root", is_admin=True)
    _, second = await api.login("second", is_admin=True)
    answers = await asyncio.gather(api.call("user", "delete-account", token=first),
                                   api.call("user", "delete-account", token=second))
    assert sorted(a.code for a in answers) == ["003014", "100010"]
    assert await db.fetchval("SELECT count(*) FROM ugene_user WHERE is_admin AND NOT deleted") == 1


@pytest.mark.parametrize("param", ["profile", "change-email", "change-pwd", "logout", "delete-account",
                                   "switch-2fa", "files", "upload-avatar", "upload-file"])
@pytest.mark.check
async def test_every_user_param_without_a_session_is_004004(api, param):
    assert_code(await api.call("user", param), "004004", 401)
