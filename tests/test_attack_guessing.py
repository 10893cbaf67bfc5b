"""Password guessing over real HTTP: the throttle answers 001417 with Retry-After per account, whatever
spelling of the login names it, and per client address; X-Forwarded-For counts only from a trusted proxy.

The wait figures (30 s doubling, no extension during a wait, reset on success) are in test_auth.py; the
one-time-code and change-pwd throttles in test_auth_otp.py and test_user_account.py.
"""
import asyncio

import pytest

from ugene.app import create_app
from ugene.settings import Settings

from .helpers import Api

pytestmark = pytest.mark.check

PASSWORD = "Correct7Horse"
WRONG = "Wrong7Horse"


async def signin(api, uname, password=PASSWORD, headers=None):
    return await api.call("auth", "signin", uname=uname, headers=headers, **{"pass": password})


def assert_waits(answer, seconds="30"):
    assert (answer.code, answer.status) == ("001417", 429), answer
    assert answer.headers["Retry-After"] == seconds


async def app_with(aiohttp_client, settings, clock, **changes) -> Api:
    app = create_app(settings.with_(**changes), clock=clock)
    return Api(await aiohttp_client(app), app)


async def test_failures_under_every_spelling_of_one_account_share_its_throttle(api, db, clock):
    await api.user("alice", PASSWORD, email="Alice.Smith@Example.test")
    spellings = ["alice", "ALICE", "Alice", "aLiCe", "alice.smith@example.test", "ALICE.SMITH@EXAMPLE.TEST",
                 "Alice.Smith@Example.test", "alice", "aliCE", "alice.SMITH@example.TEST"]
    for uname in spellings:
        assert (await signin(api, uname, WRONG)).code == "001404"
    for uname in ("alice", "ALICE.smith@example.test", "Alice"):
        assert_waits(await signin(api, uname))            # even with the right password
    clock.advance(30)
    assert (await signin(api, "ALICE")).ok


@pytest.mark.parametrize("uname", ["alice", "nobody"])
async def test_wrong_passwords_sent_all_at_once_get_ten_tries_not_more(api, db, uname):
    await api.user("alice", PASSWORD)
    answers = await asyncio.gather(*(signin(api, uname, WRONG) for _ in range(30)))
    assert sorted(answer.code for answer in answers) == ["001404"] * 10 + ["001417"] * 20, answers
    assert (await signin(api, "alice")).code == ("001417" if uname == "alice" else None)


async def test_an_unknown_login_locks_under_every_spelling(api, db):
    for i in range(10):
        assert (await signin(api, "Nobody" if i % 2 else "nOBODY", WRONG)).code == "001404"
    assert_waits(await signin(api, "nobody"))


async def test_one_address_spraying_many_accounts_waits_at_the_ip_ceiling(aiohttp_client, settings, clock, db):
    api = await app_with(aiohttp_client, settings, clock, ip_failure_ceiling=5)
    await api.user("alice", PASSWORD)
    for i in range(5):
        assert (await signin(api, f"victim{i}", WRONG)).code == "001404"
    assert_waits(await signin(api, "alice"))
    clock.advance(30)
    assert (await signin(api, "alice")).ok


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(aiohttp_client, settings, clock, db):
    api = await app_with(aiohttp_client, settings, clock, ip_failure_ceiling=3)
    await api.user("alice", PASSWORD)
    for i in range(3):
        spoof = {"X-Forwarded-For": f"198.51.100.{i}", "X-Real-IP": f"198.51.100.{i}",
                 "Forwarded": f"for=198.51.100.{i}"}
        assert (await signin(api, f"victim{i}", WRONG, headers=spoof)).code == "001404"
    # Every address the client claimed was its own: the lock holds on the peer's address.
    assert_waits(await signin(api, "alice", headers={"X-Forwarded-For": "203.0.113.9"}))
    ips = {row["ip"] for row in await db.fetch("SELECT ip FROM ugene_activity WHERE action = 'signin-failed'")}
    assert ips == {"127.0.0.1"}


async def test_forwarded_for_from_a_trusted_proxy_names_the_client(aiohttp_client, settings, clock, db):
    proxies = Settings.from_env({"UGENE_TRUSTED_PROXIES": "127.0.0.1/32, ::1"}).trusted_proxies
    api = await app_with(aiohttp_client, settings, clock, ip_failure_ceiling=3, trusted_proxies=proxies)
    await api.user("alice", PASSWORD)
    attacker = {"X-Forwarded-For": "198.51.100.7"}
    for i in range(3):
        assert (await signin(api, f"victim{i}", WRONG, headers=attacker)).code == "001404"
    assert_waits(await signin(api, "alice", headers=attacker))
    # Another client behind the same proxy is not locked out by the attacker's failures, and a forged
    # left-most entry does not let the attacker pass for someone else.
    assert (await signin(api, "alice", headers={"X-Forwarded-For": "203.0.113.9"})).ok
    assert_waits(await signin(api, "bob", headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}))
    ips = {row["ip"] for row in await db.fetch("SELECT ip FROM ugene_activity WHERE action = 'signin-failed'")}
    assert ips == {"198.51.100.7"}


async def test_a_broken_forwarded_for_chain_from_a_trusted_proxy_names_the_proxy(aiohttp_client, settings, clock,
                                                                                 db):
    proxies = Settings.from_env({"UGENE_TRUSTED_PROXIES": "127.0.0.1/32"}).trusted_proxies
    api = await app_with(aiohttp_client, settings, clock, trusted_proxies=proxies)
    for chain in ("not-an-address", "198.51.100.7, garbage", "198.51.100.7, 300.1.1.1", "\u00e9"):
        assert (await signin(api, "nobody", WRONG, headers={"X-Forwarded-For": chain})).code == "001404"
    ips = {row["ip"] for row in await db.fetch("SELECT ip FROM ugene_activity WHERE action = 'signin-failed'")}
    assert ips == {"127.0.0.1"}
