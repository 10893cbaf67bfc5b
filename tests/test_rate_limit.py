"""The global rate limit (002006): a bucket per client address, off unless UGENE_RATE_LIMIT is set."""
import pytest

from ugene.app import create_app
from ugene.settings import Settings

from .helpers import Api

PROXIES = Settings.from_env({"UGENE_TRUSTED_PROXIES": "127.0.0.1/32, ::1"}).trusted_proxies


async def limited(aiohttp_client, settings, clock, **changes) -> Api:
    app = create_app(settings.with_(trusted_proxies=PROXIES, **changes), clock=clock)
    return Api(await aiohttp_client(app), app)


def from_(address: str) -> dict:
    return {"X-Forwarded-For": address}


@pytest.mark.check
async def test_an_address_beyond_its_burst_gets_002006_with_retry_after_until_tokens_come_back(
        aiohttp_client, settings, clock, db):
    api = await limited(aiohttp_client, settings, clock, rate_limit=2, rate_burst=3)
    answers = [await api.call("general", "status", headers=from_("203.0.113.7")) for _ in range(4)]
    assert [a.ok for a in answers] == [True, True, True, False]
    refused = answers[-1]
    assert refused.status == 429 and refused.code == "002006", refused
    assert refused.headers["Retry-After"] == "1"
    # Other addresses have buckets of their own; every door and every module counts.
    assert (await api.call("general", "status", headers=from_("198.51.100.1"))).ok
    assert (await api.call("auth", "signin", uname="x", headers=from_("203.0.113.7"), **{"pass": "y"})).code == "002006"
    clock.advance(1)                                      # two calls a second come back
    assert (await api.get("/api/general/status/en", headers=from_("203.0.113.7"))).ok
    assert (await api.call("general", "status", headers=from_("203.0.113.7"))).ok
    assert (await api.call("general", "status", headers=from_("203.0.113.7"))).code == "002006"


async def test_without_a_figure_nobody_is_limited(api):
    answers = [await api.call("general", "status") for _ in range(50)]
    assert all(a.ok for a in answers)


def test_the_figures_come_from_the_environment():
    settings = Settings.from_env({"UGENE_RATE_LIMIT": "20", "UGENE_RATE_BURST": "40"})
    assert settings.rate_limit == 20.0 and settings.rate_burst == 40
    assert Settings.from_env({}).rate_limit == 0
