"""admin/add-user, change-user-status and change-admin, with the delegation rules."""
import asyncio

import pytest

from .test_admin_support import activity, assert_code, delegate, full_admin, user_row

SEED_USER = {"uname": "user04", "pass": "Francis@1992", "email": "vucongthanh97@example.test", "status": True}


# add-user

async def test_add_user_answers_the_seed_example_and_completes_the_account(api, db):
    boss, token = await full_admin(api)
    answer = await api.call("admin", "add-user", token=token, **SEED_USER)
    assert answer.ok and answer.code == "100100", answer
    row = await user_row(db, answer.answer["uid"])
    assert row["username"] == "user04" and row["email"] == SEED_USER["email"]
    assert row["completed"] and row["status"] and not row["is_admin"] and row["mailconfirmed"] is None
    assert row["creator_id"] == boss["id"]
    assert await api.services.passwords.verify(row["password_hash"], "Francis@1992") == (True, None)
    assert await db.fetchval("SELECT count(*) FROM ugene_user_config WHERE user_id = $1", row["id"]) == 1
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == 0
    [entry] = await activity(db, "admin.add-user")
    assert entry["actor_id"] == boss["id"] and entry["user_id"] == row["id"]


async def test_add_user_can_create_a_blocked_account(api, db):
    _, token = await full_admin(api)
    answer = await api.call("admin", "add-user", token=token, **{**SEED_USER, "status": False})
    assert answer.ok
    assert (await user_row(db, answer.answer["uid"]))["status"] is False


async def test_add_user_status_defaults_to_active(api, db):
    _, token = await full_admin(api)
    answer = await api.call("admin", "add-user", token=token, uname="plain", **{"pass": "Francis@1992"},
                            email="plain@example.test")
    assert (await user_row(db, answer.answer["uid"]))["status"] is True


@pytest.mark.parametrize("change, code", [
    ({"uname": "BOSS"}, "001401"), ({"email": "Boss@Example.test"}, "001402"), ({"pass": "weak"}, "001403"),
    ({"pass": "Password123"}, "001403"), ({"email": "not-an-email"}, "001405"), ({"email": " a@b.test"}, "001405"),
    ({"uname": "no spaces"}, "001406"), ({"uname": "ab"}, "001406"),
])
async def test_add_user_refuses_bad_or_taken_details(api, db, change, code):
    _, token = await full_admin(api)
    answer = await api.call("admin", "add-user", token=token, **{**SEED_USER, **change})
    assert_code(answer, code)
    assert await db.fetchval("SELECT count(*) FROM ugene_user") == 1


async def test_add_user_without_a_password_is_002003(api):
    _, token = await full_admin(api)
    assert_code(await api.call("admin", "add-user", token=token, uname="x1234", email="x@example.test"), "002003")


# change-user-status

async def test_blocking_a_user_kills_their_live_token(api, db):
    boss, token = await full_admin(api)
    helper, helper_token = await delegate(api, db, "helper", [1])
    assert (await api.call("admin", "show-users", token=helper_token)).ok
    answer = await api.call("admin", "change-user-status", token=token, uid=helper["uid"], status=False)
    assert answer.ok and answer.code == "100100"
    assert_code(await api.call("admin", "show-users", token=helper_token), "003012")
    assert await db.fetchval("SELECT count(*) FROM ugene_session WHERE user_id = $1 AND revoked_at IS NULL",
                             helper["id"]) == 0
    assert (await user_row(db, helper["uid"]))["status"] is False
    [entry] = await activity(db, "admin.change-user-status")
    assert entry["actor_id"] == boss["id"] and entry["user_id"] == helper["id"]


async def test_unblocking_lets_the_user_sign_in_again_but_old_tokens_stay_dead(api, db):
    _, token = await full_admin(api)
    helper, helper_token = await delegate(api, db, "helper", [1])
    await api.call("admin", "change-user-status", token=token, uid=helper["uid"], status=False)
    assert (await api.call("admin", "change-user-status", token=token, uid=helper["uid"], status=True)).ok
    assert (await user_row(db, helper["uid"]))["status"] is True
    assert_code(await api.call("admin", "show-users", token=helper_token), "003012")
    fresh, _ = await api.session(dict(await user_row(db, helper["uid"])))
    assert (await api.call("admin", "show-users", token=fresh)).ok


async def test_change_user_status_unknown_uid_is_001409(api):
    _, token = await full_admin(api)
    assert_code(await api.call("admin", "change-user-status", token=token, uid="mkEANnixc3JZ", status=False),
                "001409")


async def test_change_user_status_of_an_erased_tombstone_is_001409(api, db):
    _, token = await full_admin(api)
    gone = await api.user("gone")
    await db.execute("UPDATE ugene_user SET erased = true WHERE id = $1", gone["id"])
    assert_code(await api.call("admin", "change-user-status", token=token, uid=gone["uid"], status=False), "001409")


async def test_admin_cannot_block_themselves(api, db):
    boss, token = await full_admin(api)
    await full_admin(api, "other")
    assert_code(await api.call("admin", "change-user-status", token=token, uid=boss["uid"], status=False), "001409")
    assert (await user_row(db, boss["uid"]))["status"] is True


async def test_delegate_cannot_block_a_full_admin(api, db):
    boss, _ = await full_admin(api)
    _, token = await delegate(api, db, "helper", [4])
    assert_code(await api.call("admin", "change-user-status", token=token, uid=boss["uid"], status=False), "003014")
    assert (await user_row(db, boss["uid"]))["status"] is True


async def test_delegate_can_block_a_plain_user(api, db):
    _, token = await delegate(api, db, "helper", [4])
    user = await api.user("plain")
    assert (await api.call("admin", "change-user-status", token=token, uid=user["uid"], status=False)).ok


async def test_full_admin_can_block_another_full_admin(api, db):
    _, token = await full_admin(api)
    other, other_token = await full_admin(api, "other")
    assert (await api.call("admin", "change-user-status", token=token, uid=other["uid"], status=False)).ok
    assert_code(await api.call("admin", "show-users", token=other_token), "003012")


async def test_change_user_status_of_a_restricted_account_is_001420(api, db):
    _, token = await full_admin(api)
    user = await api.user("private")
    await db.execute("UPDATE ugene_user SET restricted = true WHERE id = $1", user["id"])
    assert_code(await api.call("admin", "change-user-status", token=token, uid=user["uid"], status=False), "001420")
    assert (await user_row(db, user["uid"]))["status"] is True


@pytest.mark.parametrize("args", [{"uid": "x"}, {"status": False}, {"uid": "", "status": False},
                                  {"uid": "a\x00b", "status": False}, {"uid": "x", "status": "maybe"}])
async def test_change_user_status_bad_args_are_002003(api, args):
    _, token = await full_admin(api)
    assert_code(await api.call("admin", "change-user-status", token=token, **args), "002003")


async def test_two_admins_blocking_each_other_at_once_leave_one_active(api, db):
    first, first_token = await full_admin(api, "first")
    second, second_token = await full_admin(api, "second")
    answers = await asyncio.gather(
        api.call("admin", "change-user-status", token=first_token, uid=second["uid"], status=False),
        api.call("admin", "change-user-status", token=second_token, uid=first["uid"], status=False))
    assert sorted(answer.ok for answer in answers) == [False, True], answers
    assert await db.fetchval("SELECT count(*) FROM ugene_user WHERE is_admin AND status") == 1


# change-admin

async def test_change_admin_grants_and_revokes_rights(api, db):
    boss, token = await full_admin(api)
    user, user_token = await api.login("promoted")
    answer = await api.call("admin", "change-admin", token=token, uid=user["uid"], is_admin=True)
    assert answer.ok and answer.code == "100015"
    promoted = await api.call("admin", "show-users", token=user_token)
    assert promoted.ok and promoted.body["session"]["is_admin"] == 1
    assert (await api.call("admin", "change-admin", token=token, uid=user["uid"], is_admin=False)).ok
    assert_code(await api.call("admin", "show-users", token=user_token), "003013")
    entries = await activity(db, "admin.change-admin")
    assert [(e["actor_id"], e["user_id"]) for e in entries] == [(boss["id"], user["id"])] * 2


async def test_change_admin_unknown_uid_is_001415(api):
    _, token = await full_admin(api)
    assert_code(await api.call("admin", "change-admin", token=token, uid="GG5x2rS5kJCT", is_admin=True), "001415")


async def test_admin_cannot_demote_themselves(api, db):
    boss, token = await full_admin(api)
    await full_admin(api, "other")
    assert_code(await api.call("admin", "change-admin", token=token, uid=boss["uid"], is_admin=False), "003014")
    assert (await user_row(db, boss["uid"]))["is_admin"] is True


async def test_delegate_cannot_promote_themselves(api, db):
    helper, token = await delegate(api, db, "helper", [5])
    assert_code(await api.call("admin", "change-admin", token=token, uid=helper["uid"], is_admin=True), "003014")
    assert (await user_row(db, helper["uid"]))["is_admin"] is False


async def test_delegate_cannot_make_anybody_a_full_admin(api, db):
    helper, token = await delegate(api, db, "helper", [5])
    accomplice = await api.user("accomplice")
    assert_code(await api.call("admin", "change-admin", token=token, uid=accomplice["uid"], is_admin=True), "003014")
    assert (await user_row(db, accomplice["uid"]))["is_admin"] is False
    assert await activity(db, "admin.change-admin") == []


async def test_delegate_cannot_demote_a_full_admin(api, db):
    boss, _ = await full_admin(api)
    _, token = await delegate(api, db, "helper", [5])
    assert_code(await api.call("admin", "change-admin", token=token, uid=boss["uid"], is_admin=False), "003014")
    assert (await user_row(db, boss["uid"]))["is_admin"] is True


async def test_change_admin_of_a_restricted_account_is_001420(api, db):
    _, token = await full_admin(api)
    user = await api.user("private")
    await db.execute("UPDATE ugene_user SET restricted = true WHERE id = $1", user["id"])
    assert_code(await api.call("admin", "change-admin", token=token, uid=user["uid"], is_admin=True), "001420")
    assert (await user_row(db, user["uid"]))["is_admin"] is False


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(api, db):
    first, first_token = await full_admin(api, "first")
    second, second_token = await full_admin(api, "second")
    answers = await asyncio.gather(
        api.call("admin", "change-admin", token=first_token, uid=second["uid"], is_admin=False),
        api.call("admin", "change-admin", token=second_token, uid=first["uid"], is_admin=False))
    assert sorted(answer.ok for answer in answers) == [False, True], answers
    assert {answer.code for answer in answers if not answer.ok} <= {"003014", "003013"}
    assert await db.fetchval("SELECT count(*) FROM ugene_user WHERE is_admin") == 1
