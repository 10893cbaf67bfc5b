"""Browser pages for mail links: opening shows a form and uses nothing; the button calls the param."""
import gzip

import pytest
from pydantic import Field
from yarl import URL

from ugene import PUBLIC, Args, Code, Module, Reply, UgeneError
from ugene.app import create_app
from ugene.registry import discover

from .helpers import link_in

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def registry_with_link_param(calls):
    registry = discover()
    module = Module("linkdemo")

    class LinkArgs(Args):
        hash: str
        new_pwd: str | None = Field(None, alias="new-pwd")

    @module.param("use", access=PUBLIC, get=True, page=("new-pwd",))
    async def use(ctx, args: LinkArgs) -> Reply:
        """Use a one-time link."""
        calls.append((args.hash, args.new_pwd))
        if args.hash != "good":
            raise UgeneError(Code.LINK_INVALID)
        return Reply.message(Code.PASSWORD_RESTORED)

    registry.add(module)
    return registry


@pytest.fixture
async def browser(settings, clock, db, aiohttp_client):
    calls = []
    app = create_app(settings, clock=clock, registry=registry_with_link_param(calls))
    client = await aiohttp_client(app)
    client.calls = calls
    return client


@pytest.mark.check
async def test_opening_the_link_in_a_browser_shows_a_form_and_calls_nothing(browser):
    response = await browser.get("/api/linkdemo/use/ru?hash=good", headers=BROWSER)
    page = await response.text()
    assert response.status == 200 and response.content_type == "text/html"
    assert browser.calls == []
    assert 'name="hash" value="good"' in page and 'type="password"' in page and 'lang="ru"' in page
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script" not in page.lower()
    assert "http://" not in page and "https://" not in page   # no external assets


async def test_the_button_calls_the_param_and_shows_the_outcome(browser):
    response = await browser.post("/pages/linkdemo/use/en", data={"hash": "good", "new-pwd": ""})
    page = await response.text()
    assert browser.calls == [("good", None)]          # an empty field is "not given"
    assert "Your password" in page or "restored" in page.lower()
    response = await browser.post("/pages/linkdemo/use/en", data={"hash": "bad", "new-pwd": "Correct7Horse"})
    page = await response.text()
    assert browser.calls[-1] == ("bad", "Correct7Horse")
    assert 'class="error"' in page


@pytest.mark.check
@pytest.mark.parametrize("encoding", [None, "gzip"])
async def test_a_form_over_the_body_limit_is_refused_and_calls_nothing(browser, settings, encoding):
    """The page's form is read whole: it stops at UGENE_MAX_BODY_BYTES, counted as it inflates."""
    form = b"hash=good&pad=" + b"x" * (settings.max_body_bytes + 1)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if encoding:
        form, headers["Content-Encoding"] = gzip.compress(form), encoding
    response = await browser.post("/pages/linkdemo/use/en", data=form, headers=headers)
    assert response.status == 413 and browser.calls == []


async def test_json_clients_keep_the_seed_behaviour(browser):
    response = await browser.get("/api/linkdemo/use/en?hash=good")
    body = await response.json()
    assert body["success"] == 1 and body["answer"]["message"] == "100005"


@pytest.mark.check
async def test_html_is_escaped(browser):
    response = await browser.get('/api/linkdemo/use/en?hash="><script>x</script>', headers=BROWSER)
    page = await response.text()
    assert "<script>" not in page and "&lt;script&gt;" in page


async def test_pages_exist_only_for_params_that_declare_one(browser):
    response = await browser.post("/pages/general/status/en", data={})
    assert response.status == 404


# The real journeys, through the reg and auth modules and a real mail.

def path_of(link: str) -> str:
    return str(URL(link).relative())


async def test_confirm_link_opened_in_a_browser_confirms_only_on_the_button(api, db, smtp):
    await api.call("reg", "signup", uname="bob", email="bob@example.test", **{"pass": "Correct7Horse"})
    link = link_in(await smtp.wait(to="bob@example.test"))
    page = await (await api.client.get(path_of(link), headers=BROWSER)).text()
    assert "<form" in page
    assert await db.fetchval("SELECT completed FROM ugene_user WHERE username = 'bob'") is False
    hash_value = URL(link).query["hash"]
    outcome = await (await api.client.post("/pages/reg/confirm-email/en", data={"hash": hash_value})).text()
    assert 'class="ok"' in outcome
    assert await db.fetchval("SELECT completed FROM ugene_user WHERE username = 'bob'") is True


async def test_restore_link_page_sets_the_chosen_password_and_it_signs_in(api, db, smtp):
    await api.user("alice")
    await api.call("auth", "restore-pwd", uname="alice")
    link = link_in(await smtp.wait(to="alice@example.test"))
    page = await (await api.client.get(path_of(link), headers=BROWSER)).text()
    assert 'name="new-pwd"' in page
    form = {"hash": URL(link).query["hash"], "new-pwd": "Brand9NewPass"}
    outcome = await (await api.client.post("/pages/auth/verify-pwd/en", data=form)).text()
    assert 'class="ok"' in outcome
    assert (await api.call("auth", "signin", uname="alice", **{"pass": "Brand9NewPass"})).ok
    assert not (await api.call("auth", "signin", uname="alice", **{"pass": "Correct7Horse"})).ok
