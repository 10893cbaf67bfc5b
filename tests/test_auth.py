"""auth: signin (password, account state, throttles) and refresh-session."""
import jwt
import pytest
from argon2 import PasswordHasher

from .helpers import link_in
from .test_reg import follow, signup

PASSWORD = "Correct7Horse"


async def signin(api, uname="alice", password=PASSWORD, **kwargs):
    return await api.call("auth", "signin", uname=uname, **{"pass": password}, **kwargs)


async def resolve(api, token: str):
    """The session a token opens, as the dispatcher would resolve it (None when it opens none)."""
    async with api.services.pool.acquire() as conn:
        return await api.services.sessions.resolve(conn, token)


def assert_same_failure(first, second):
    strip = lambda a: {k: v for k, v in a.body.items() if k != "timestamp"}
    assert (first.status, strip(first)) == (second.status, strip(second))


# signin

async def test_signin_answers_the_seed_example(api, db):
    admin = await api.user("admin", "IWremVw4LH", is_admin=True)
    answer = await api.post({"module": "auth", "param": "signin",
                             "args": {"uname": "admin", "pass": "IWremVw4LH", "otp": "991805"},
                             "language": "ru", "timestamp": "123456789"})
    assert answer.status == 200 and answer.ok and answer.body["language"] == "ru"
    assert set(answer.answer) == {"token", "refresh_token"}
    claims = jwt.decode(answer.answer["token"], options={"verify_signature": False})
    assert set(claims) == {"access_key", "iat", "exp"}
    assert jwt.get_unverified_header(answer.answer["token"])["alg"] == "HS256"
    session = answer.body["session"]
    assert session == {"completed": 1, "is_admin": 1, "uid": admin["uid"], "session_exp": claims["exp"]}
    assert claims["exp"] - claims["iat"] == 2 * 3600


async def test_signin_token_opens_a_session_and_records_the_login(api, db):
    user = await api.user("alice")
    answer = await signin(api)
    session = await resolve(api, answer.answer["token"])
    assert session.completed and session.user["id"] == user["id"]
    row = await db.fetchrow("SELECT logged_at FROM ugene_user WHERE id = $1", user["id"])
    assert row["logged_at"] is not None
    assert await db.fetchval("SELECT count(*) FROM ugene_activity WHERE action = 'signin'") == 1


async def test_signin_accepts_the_email_whatever_its_case(api, db):
    await api.user("alice", email="Alice@Example.test")
    assert (await signin(api, uname="aLiCe@example.TEST")).ok
    assert (await signin(api, uname="ALICE")).ok


async def test_signin_with_a_wrong_password_is_001404(api, db):
    await api.user("alice")
    answer = await signin(api, password="Wrong7Horse")
    assert answer.code == "001404" and answer.status == 401 and answer.body["session"] == {}
    assert await db.fetchval("SELECT count(*) FROM ugene_activity WHERE action = 'signin-failed'") == 1


@pytest.mark.check
async def test_signin_answers_unknown_deleted_and_wrong_password_alike(api, db):
    await api.user("alice")
    await api.user("gone")
    await db.execute("UPDATE ugene_user SET deleted = true WHERE username = 'gone'")
    wrong = await signin(api, password="Wrong7Horse")
    assert_same_failure(wrong, await signin(api, uname="nobody"))
    assert_same_failure(wrong, await signin(api, uname="gone"))


async def test_signin_before_the_email_is_confirmed_is_001408(api, db, smtp):
    await signup(api, uname="alice")
    answer = await signin(api)
    assert answer.code == "001408" and answer.status == 403
    assert (await signin(api, password="Wrong7Horse")).code == "001404"
    assert (await follow(api, link_in(await smtp.wait(to="alice@example.test")))).code == "100006"
    assert (await signin(api)).ok


async def test_signin_to_a_blocked_account_is_001411(api, db):
    await api.user("alice")
    await db.execute("UPDATE ugene_user SET status = false")
    answer = await signin(api)
    assert answer.code == "001411" and answer.status == 403
    assert (await signin(api, password="Wrong7Horse")).code == "001404"


async def test_signin_with_missing_or_mistyped_args_is_002003(api, db):
    await api.user("alice")
    assert (await api.call("auth", "signin", uname="alice")).code == "002003"
    assert (await signin(api, password=12345678)).code == "002003"
    assert (await signin(api, uname="a" * 255)).code == "002003"
    assert (await signin(api, surprise=1)).code == "002003"


async def test_signin_upgrades_a_hash_made_with_old_parameters(api, db):
    user = await api.user("alice")
    old = PasswordHasher(time_cost=1, memory_cost=1024).hash(PASSWORD)
    await db.execute("UPDATE ugene_user SET password_hash = $2 WHERE id = $1", user["id"], old)
    assert (await signin(api)).ok
    stored = await db.fetchval("SELECT password_hash FROM ugene_user WHERE id = $1", user["id"])
    assert stored != old and not api.services.passwords.hasher.check_needs_rehash(stored)
    assert (await signin(api)).ok


# signin throttle (protocol §8)

async def fail(api, times: int, uname="alice"):
    for _ in range(times):
        assert (await signin(api, uname=uname, password="Wrong7Horse")).code == "001404"


@pytest.mark.check
async def test_eleventh_failed_signin_waits_even_with_the_right_password(api, db, clock):
    await api.user("alice")
    await fail(api, 10)
    answer = await signin(api)
    assert answer.code == "001417" and answer.status == 429 and answer.headers["Retry-After"] == "30"
    clock.advance(30)
    assert (await signin(api)).ok


@pytest.mark.check
async def test_signin_attempts_during_a_wait_do_not_extend_it(api, db, clock):
    await api.user("alice")
    await fail(api, 10)
    clock.advance(20)
    answer = await signin(api, password="Wrong7Horse")
    assert answer.code == "001417" and answer.headers["Retry-After"] == "10"
    clock.advance(10)
    assert (await signin(api)).ok


@pytest.mark.check
async def test_first_failure_after_a_wait_doubles_the_next_wait(api, db, clock):
    await api.user("alice")
    await fail(api, 10)
    clock.advance(30)
    await fail(api, 1)
    assert (await signin(api)).headers["Retry-After"] == "60"


async def test_a_successful_signin_resets_the_failure_count(api, db):
    await api.user("alice")
    await fail(api, 9)
    assert (await signin(api)).ok
    await fail(api, 9)
    assert (await signin(api)).ok


@pytest.mark.check
async def test_an_unknown_login_locks_like_an_account(api, db):
    await fail(api, 10, uname="nobody")
    answer = await signin(api, uname="nobody")
    assert answer.code == "001417" and answer.headers["Retry-After"] == "30"


@pytest.mark.check
async def test_one_address_failing_on_many_accounts_waits_at_the_ip_ceiling(api, db, clock):
    api.services.settings = api.services.settings.with_(ip_failure_ceiling=3)
    await api.user("alice")
    for name in ("x1", "x2", "x3"):
        await fail(api, 1, uname=name)
    answer = await signin(api)
    assert answer.code == "001417" and answer.headers["Retry-After"] == "30"
    clock.advance(30)
    assert (await signin(api)).ok


# refresh-session

async def test_refresh_session_answers_the_seed_example(api, db):
    user = await api.user("alice", is_admin=True)
    first = await signin(api)
    answer = await api.post({"module": "auth", "param": "refresh-session",
                             "args": {"refresh-token": first.answer["refresh_token"]},
                             "language": "en", "timestamp": 1614053290})
    assert answer.ok and set(answer.answer) == {"access-token", "refresh_token"}
    assert answer.answer["refresh_token"] != first.answer["refresh_token"]
    claims = jwt.decode(answer.answer["access-token"], options={"verify_signature": False})
    assert answer.body["session"] == {"completed": 1, "is_admin": 1, "uid": user["uid"],
                                      "session_exp": claims["exp"]}
    assert (await resolve(api, answer.answer["access-token"])) is not None
    assert (await resolve(api, first.answer["token"])) is None


@pytest.mark.check
async def test_a_replayed_refresh_token_revokes_the_whole_sign_in(api, db):
    await api.user("alice")
    first = await signin(api)
    second = await api.call("auth", "refresh-session", **{"refresh-token": first.answer["refresh_token"]})
    replay = await api.call("auth", "refresh-session", **{"refresh-token": first.answer["refresh_token"]})
    assert replay.code == "001416" and replay.status == 401
    assert (await resolve(api, second.answer["access-token"])) is None
    later = await api.call("auth", "refresh-session", **{"refresh-token": second.answer["refresh_token"]})
    assert later.code == "001416"


async def test_a_replay_leaves_other_sign_ins_alone(api, db):
    await api.user("alice")
    first, other = await signin(api), await signin(api)
    await api.call("auth", "refresh-session", **{"refresh-token": first.answer["refresh_token"]})
    await api.call("auth", "refresh-session", **{"refresh-token": first.answer["refresh_token"]})
    assert (await resolve(api, other.answer["token"])) is not None


async def test_refresh_with_an_unknown_token_is_001416(api, db):
    answer = await api.call("auth", "refresh-session", **{"refresh-token": "Be0CZUzxeWUChLMkgG"})
    assert answer.code == "001416" and answer.body["session"] == {}


async def test_refresh_token_expires_after_thirty_days(api, db, clock):
    await api.user("alice")
    first = await signin(api)
    clock.advance(30 * 86400 + 1)
    assert (await api.call("auth", "refresh-session", **{"refresh-token": first.answer["refresh_token"]})).code == "001416"


async def test_refresh_for_a_blocked_account_is_001411_and_after_unblocking_001416(api, db):
    user = await api.user("alice")
    refresh = (await signin(api)).answer["refresh_token"]
    await db.execute("UPDATE ugene_user SET status = false WHERE id = $1", user["id"])
    async with api.services.pool.acquire() as conn:     # blocking ends the sessions, as admin does
        await api.services.sessions.revoke_user(conn, user["id"])
    answer = await api.call("auth", "refresh-session", **{"refresh-token": refresh})
    assert answer.code == "001411" and answer.status == 403
    await db.execute("UPDATE ugene_user SET status = true WHERE id = $1", user["id"])
    assert (await api.call("auth", "refresh-session", **{"refresh-token": refresh})).code == "001416"


async def test_refresh_for_a_blocked_account_whose_session_still_runs_is_001411(api, db):
    user = await api.user("alice")
    refresh = (await signin(api)).answer["refresh_token"]
    await db.execute("UPDATE ugene_user SET status = false WHERE id = $1", user["id"])
    assert (await api.call("auth", "refresh-session", **{"refresh-token": refresh})).code == "001411"


async def test_refresh_for_a_deleted_account_is_001416(api, db):
    user = await api.user("alice")
    refresh = (await signin(api)).answer["refresh_token"]
    await db.execute("UPDATE ugene_user SET deleted = true WHERE id = $1", user["id"])
    assert (await api.call("auth", "refresh-session", **{"refresh-token": refresh})).code == "001416"


async def test_refresh_without_a_token_is_002003(api, db):
    answer = await api.call("auth", "refresh-session")
    assert answer.code == "002003" and answer.body["details"] == [{"arg": "refresh-token", "problem": "missing"}]
