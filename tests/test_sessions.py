"""Sessions behind JWTs: forged tokens refused, expiry on the clock, rotation and theft detection."""
import asyncio
import base64
import json

import jwt
import pytest

from ugene.sessions import digest


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def resolve(api, token):
    async with api.services.pool.acquire() as conn:
        return await api.services.sessions.resolve(conn, token)


async def test_session_resolves_with_its_user(api):
    user, token = await api.login("alice")
    session = await resolve(api, token)
    assert session.user["uid"] == user["uid"] and session.completed
    assert session.envelope()["uid"] == user["uid"] and session.envelope()["is_admin"] == 0


async def test_token_claims_are_access_key_iat_exp_and_only_a_digest_is_stored(api, db):
    _, token = await api.login("alice")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims) == {"access_key", "iat", "exp"}
    assert len(claims["access_key"]) >= 22   # at least 128 bits
    stored = await db.fetchval("SELECT access_hash FROM ugene_session")
    assert bytes(stored) == digest(claims["access_key"])


@pytest.mark.check
async def test_forged_tokens_are_refused(api):
    _, token = await api.login("alice")
    assert await resolve(api, token) is not None     # the genuine token's claims are now kept
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = [
        f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        f"{header}.{payload}.{signature[:-2]}AA",
        jwt.encode(claims, "another-key-" + "y" * 32, algorithm="HS256"),
        jwt.encode(claims, "test-secret-" + "x" * 32, algorithm="HS512"),
        "not-a-token", "",
    ]
    for bad in forged:
        assert await resolve(api, bad) is None, bad


@pytest.mark.check
async def test_expired_token_is_refused_by_the_clock(api, clock):
    _, token = await api.login("alice")
    assert await resolve(api, token) is not None     # kept claims are checked against the clock too
    clock.advance(2 * 3600 + 1)
    assert await resolve(api, token) is None


async def test_revoked_session_ends_at_once(api):
    user, token = await api.login("alice")
    async with api.services.pool.acquire() as conn:
        assert await api.services.sessions.revoke_user(conn, user["id"]) == 1
    assert await resolve(api, token) is None


async def rotate(api, refresh):
    async with api.services.pool.acquire() as conn:
        async with conn.transaction():
            return await api.services.sessions.rotate(conn, refresh)


@pytest.mark.check
async def test_refresh_rotates_and_reuse_revokes_the_family(api):
    user = await api.user("alice")
    token, refresh = await api.session(user)
    status, issued = await rotate(api, refresh)
    assert status == "ok" and issued.refresh_token != refresh
    assert await resolve(api, token) is None          # the old pair is gone
    assert await resolve(api, issued.token) is not None
    assert (await rotate(api, refresh))[0] == "invalid"  # reuse of a rotated token...
    assert await resolve(api, issued.token) is None    # ...revokes everything of that sign-in
    assert (await rotate(api, issued.refresh_token))[0] == "invalid"


@pytest.mark.check
async def test_parallel_refreshes_of_one_token_do_not_both_succeed(api):
    user = await api.user("alice")
    _, refresh = await api.session(user)
    results = await asyncio.gather(*(rotate(api, refresh) for _ in range(8)))
    assert [status for status, _ in results].count("ok") <= 1


async def test_ending_every_session_while_a_refresh_is_uncommitted_ends_the_new_one_too(api):
    user = await api.user("alice")
    _, refresh = await api.session(user)
    sessions, pool = api.services.sessions, api.services.pool
    async with pool.acquire() as refreshing, pool.acquire() as ending:
        refreshed = refreshing.transaction()
        await refreshed.start()
        status, issued = await sessions.rotate(refreshing, refresh)      # done, not yet committed
        assert status == "ok"

        async def end_everything():
            async with ending.transaction():
                await sessions.revoke_user(ending, user["id"])
        ended = asyncio.create_task(end_everything())
        await asyncio.sleep(0.2)                                          # it waits for the refresh
        await refreshed.commit()
        await ended
    assert await resolve(api, issued.token) is None
    assert (await rotate(api, issued.refresh_token))[0] == "invalid"


async def test_a_pending_session_ended_after_the_request_found_it_is_not_completed(api, db):
    user = await api.user("alice")
    token, _ = await api.session(user, completed=False)
    pending = await resolve(api, token)                          # verify-otp has found its session...
    sessions = api.services.sessions
    async with api.services.pool.acquire() as conn:
        await sessions.revoke_user(conn, user["id"])             # ...when a logout-all commits
        async with conn.transaction():
            assert await sessions.complete(conn, pending) is None
    assert await db.fetchval("SELECT count(*) FROM ugene_session WHERE revoked_at IS NULL") == 0


@pytest.mark.check
async def test_logout_everywhere_racing_refreshes_leaves_no_session(api):
    user = await api.user("alice")
    token, _ = await api.session(user)
    refreshes = [(await api.session(user))[1] for _ in range(8)]
    answers = await asyncio.gather(
        api.call("user", "logout", token=token, all=True),
        *(api.call("auth", "refresh-session", **{"refresh-token": r}) for r in refreshes))
    assert answers[0].code == "100011" and all(a.status < 500 for a in answers), answers
    for answer in answers[1:]:
        if answer.ok:
            assert (await api.call("user", "profile", token=answer.answer["access-token"])).code == "004004"


async def test_blocked_account_refresh_is_blocked_then_invalid_after_unblock(api, db):
    user = await api.user("alice")
    _, refresh = await api.session(user)
    await db.execute("UPDATE ugene_user SET status = false WHERE id = $1", user["id"])
    async with api.services.pool.acquire() as conn:
        await api.services.sessions.revoke_user(conn, user["id"])
    assert (await rotate(api, refresh))[0] == "blocked"
    await db.execute("UPDATE ugene_user SET status = true WHERE id = $1", user["id"])
    assert (await rotate(api, refresh))[0] == "invalid"


@pytest.mark.check
async def test_one_time_link_is_used_once_under_concurrency(api, db):
    user = await api.user("alice")
    tokens = api.services.tokens
    async with api.services.pool.acquire() as conn:
        secret = await tokens.issue(conn, user["id"], "confirm-email", 3600)
    assert len(secret) >= 43   # 256 bits, url-safe

    async def use():
        async with api.services.pool.acquire() as conn:
            return await tokens.use(conn, "confirm-email", secret)

    results = await asyncio.gather(*(use() for _ in range(16)))
    assert sum(r is not None for r in results) == 1
    assert await db.fetchval("SELECT count(*) FROM ugene_token WHERE digest = $1", digest(secret)) == 0


@pytest.mark.check
async def test_a_new_link_kills_the_earlier_one_and_links_expire(api, clock):
    user = await api.user("alice")
    tokens = api.services.tokens
    async with api.services.pool.acquire() as conn:
        first = await tokens.issue(conn, user["id"], "restore-pwd", 3600)
        second = await tokens.issue(conn, user["id"], "restore-pwd", 3600)
        assert await tokens.use(conn, "restore-pwd", first) is None
        clock.advance(3601)
        assert await tokens.use(conn, "restore-pwd", second) is None
