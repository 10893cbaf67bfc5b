"""Attacks on the access token, over real HTTP: forged, expired, borrowed or misplaced tokens all answer
004004 on a session param, and a refresh token raced by two clients gives one new session at most."""
import asyncio
import base64
import hashlib
import hmac
import json

import jwt
import pytest

from .helpers import link_in
from .test_reg import signup

pytestmark = pytest.mark.check

PASSWORD = "Correct7Horse"


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def hs256(header: dict, claims: dict, key: bytes) -> str:
    """A JWT signed by hand with HMAC-SHA256, for keys pyjwt refuses to use (an empty one)."""
    head = f"{b64(header)}.{b64(claims)}"
    mac = hmac.new(key, head.encode(), hashlib.sha256).digest()
    return f"{head}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


async def profile(api, token: str):
    return await api.call("user", "profile", token=token)


def assert_refused(answer):
    assert (answer.code, answer.status) == ("004004", 401), answer
    assert answer.body["session"] == {}


async def test_a_real_token_opens_the_profile(api):
    _, token = await api.login("alice")
    assert (await profile(api, token)).ok


async def test_alg_none_token_is_004004(api):
    _, token = await api.login("alice")
    _, payload, _ = token.split(".")
    for alg in ("none", "None", "NONE"):
        assert_refused(await profile(api, f"{b64({'alg': alg, 'typ': 'JWT'})}.{payload}."))


async def test_tampered_signature_or_claims_are_004004(api):
    _, token = await api.login("alice")
    header, payload, signature = token.split(".")
    flipped = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
    longer = b64({**claims_of(token), "exp": claims_of(token)["exp"] + 86400})
    for forged in (f"{header}.{payload}.{flipped}", f"{header}.{longer}.{signature}", f"{header}.{payload}.",
                   f"{header}.{payload}", token + "x"):
        assert_refused(await profile(api, forged))


async def test_expired_token_is_004004(api, clock):
    _, token = await api.login("alice")
    clock.advance(2 * 3600 + 1)
    assert_refused(await profile(api, token))


async def test_token_signed_with_another_key_or_algorithm_is_004004(api, settings):
    _, token = await api.login("alice")
    claims = claims_of(token)
    forged = [
        jwt.encode(claims, "another-key-" + "y" * 32, algorithm="HS256"),
        hs256({"alg": "HS256", "typ": "JWT"}, claims, b""),
        # The right key under another algorithm: HS256 is the only one ever taken.
        jwt.encode(claims, settings.secret, algorithm="HS384"),
        # A key id naming a file everyone can read (empty): the key is never chosen by the token.
        hs256({"alg": "HS256", "typ": "JWT", "kid": "../../../../dev/null"}, claims, b""),
    ]
    for bad in forged:
        assert_refused(await profile(api, bad))


async def test_refresh_token_used_as_access_token_is_004004(api, db):
    await api.user("alice", PASSWORD)
    signed = await api.call("auth", "signin", uname="alice", **{"pass": PASSWORD})
    assert signed.ok
    refresh = signed.answer["refresh_token"]
    assert_refused(await profile(api, refresh))
    # Nor does a JWT carrying the refresh token as its session key open anything.
    claims = {**claims_of(signed.answer["token"]), "access_key": refresh}
    assert_refused(await profile(api, jwt.encode(claims, api.services.sessions.secret, algorithm="HS256")))


async def test_mailed_link_hash_or_code_used_as_access_token_is_004004(api, db, smtp):
    assert (await signup(api, "carol")).ok
    secret = link_in(await smtp.wait(to="carol@example.test")).split("hash=")[1]
    assert_refused(await profile(api, secret))
    assert_refused(await profile(api, jwt.encode({"access_key": secret, "iat": 1, "exp": 2 ** 40},
                                                 api.services.sessions.secret, algorithm="HS256")))


@pytest.mark.parametrize("name", ["token", "access_token", "X-Authorization-Token", "Authorization", "jwt"])
async def test_token_in_the_query_string_is_004004(api, name):
    _, token = await api.login("alice")
    response = await api.client.get("/api/user/profile/en", params={name: f"Bearer {token}"})
    assert response.status == 401 and (await response.json())["error"] == "004004"
    response = await api.client.get("/api/user/profile/en", params={name: token})
    assert response.status == 401 and (await response.json())["error"] == "004004"


async def test_token_of_a_logged_out_blocked_or_deleted_account_is_004004(api, db):
    _, out = await api.login("alice")
    assert (await api.call("user", "logout", token=out)).ok
    assert_refused(await profile(api, out))
    blocked, token = await api.login("bob")
    await db.execute("UPDATE ugene_user SET status = false WHERE id = $1", blocked["id"])
    assert_refused(await profile(api, token))
    deleted, token = await api.login("dave")
    await db.execute("UPDATE ugene_user SET deleted = true WHERE id = $1", deleted["id"])
    assert_refused(await profile(api, token))


async def test_two_parallel_refreshes_of_one_token_give_one_pair_and_end_the_family(api, db):
    await api.user("alice", PASSWORD)
    signed = await api.call("auth", "signin", uname="alice", **{"pass": PASSWORD})
    refresh = signed.answer["refresh_token"]
    answers = await asyncio.gather(*(api.call("auth", "refresh-session", **{"refresh-token": refresh})
                                     for _ in range(2)))
    assert all(a.status < 500 for a in answers), answers
    winners = [a for a in answers if a.ok]
    assert len(winners) == 1, answers
    assert [a.code for a in answers if not a.ok] == ["001416"]
    # The loser presented a token already rotated: theft detection ends every session of the sign-in,
    # the winner's new one included, and its new refresh token too.
    assert_refused(await profile(api, signed.answer["token"]))
    assert_refused(await profile(api, winners[0].answer["access-token"]))
    again = await api.call("auth", "refresh-session", **{"refresh-token": winners[0].answer["refresh_token"]})
    assert again.code == "001416"
    assert await db.fetchval("SELECT count(*) FROM ugene_session WHERE revoked_at IS NULL") == 0
