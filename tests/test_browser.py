"""The mail-link pages in a real headless Chromium: a person opens the link from a real mail, reads the
page, presses the button, and then signs in through the API with what the page did.

Debian's `chromium` and `chromium-driver` are used as installed (`make chromium` installs them as root);
Selenium gets the driver's path, so Selenium Manager never looks for or downloads a browser. Selenium
blocks, and the app is served by this test's own event loop, so every browser step runs in a thread.
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ugene.app import create_app

from .conftest import free_port
from .helpers import Api, link_in, line_matching

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The machine may have no network: these keep Chromium from calling home, updating or syncing.
QUIET_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", "--window-size=800,720")
# The protocol's language names and the lang attribute the pages carry (BCP 47).
HTML_LANG = {"en": "en", "vi": "vi", "ru": "ru", "chi": "zh-Hans"}
# ...and the names fontconfig gives them, to ask which installed fonts can write each language.
FONTCONFIG_LANG = {"en": "en", "vi": "vi", "ru": "ru", "chi": "zh-cn"}
OLD, NEW = "Correct7Horse", "Brand9NewPass"


class Browser:
    """A Chromium tab driven through chromedriver; each step runs in a thread so the app keeps serving."""

    def __init__(self, driver):
        self.driver = driver

    async def _run(self, step, *args):
        return await asyncio.to_thread(step, *args)

    async def open(self, url: str) -> None:
        await self._run(self.driver.get, url)

    async def text(self, selector: str) -> str:
        return await self._run(lambda: self.driver.find_element(By.CSS_SELECTOR, selector).text)

    async def attribute(self, selector: str, name: str) -> str | None:
        return await self._run(lambda: self.driver.find_element(By.CSS_SELECTOR, selector).get_attribute(name))

    async def count(self, selector: str) -> int:
        return await self._run(lambda: len(self.driver.find_elements(By.CSS_SELECTOR, selector)))

    async def type(self, selector: str, text: str) -> None:
        await self._run(lambda: self.driver.find_element(By.CSS_SELECTOR, selector).send_keys(text))

    async def press(self, selector: str) -> None:
        """Click, then wait until the outcome page the form posts to (/pages/...) has loaded.

        Not Selenium's staleness_of(old body): while the document is being swapped, Chromium may answer
        "node does not belong to the document" instead of "stale", which staleness_of does not expect.
        """
        def step():
            self.driver.find_element(By.CSS_SELECTOR, selector).click()
            WebDriverWait(self.driver, 10, ignored_exceptions=(WebDriverException,)).until(
                lambda driver: "/pages/" in driver.current_url
                and driver.execute_script("return document.readyState") == "complete")
        await self._run(step)

    async def fonts(self, selector: str) -> dict[str, int]:
        """The installed fonts Chromium drew the element's text with, and how many glyphs each drew."""
        def step():
            cdp = self.driver.execute_cdp_cmd
            cdp("DOM.enable", {})
            cdp("CSS.enable", {})
            root = cdp("DOM.getDocument", {})["root"]["nodeId"]
            node = cdp("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
            used = cdp("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            return {font["familyName"]: font["glyphCount"] for font in used}
        return await self._run(step)

    async def style(self, selector: str, name: str) -> str:
        def step():
            return self.driver.find_element(By.CSS_SELECTOR, selector).value_of_css_property(name)
        return await self._run(step)

    async def console(self) -> list[str]:
        """What the page wrote to the console since the last call (e.g. a blocked style or script)."""
        return await self._run(lambda: [entry["message"] for entry in self.driver.get_log("browser")])

    async def title(self) -> str:
        return await self._run(lambda: self.driver.title)

    async def screenshot(self, path: Path) -> Path:
        await self._run(self.driver.save_screenshot, str(path))
        return path


def chromium_missing() -> list[str]:
    return [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """One headless Chromium for the module, with a fresh profile."""
    missing = chromium_missing()
    if missing:
        pytest.skip(f"Chromium is not installed ({', '.join(missing)} missing) and could not be installed: run "
                    "`make chromium` as root, or `sudo apt-get install chromium chromium-driver fonts-wqy-microhei`")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in QUIET_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})   # where CSP violations land
    # UGENE_CHROMEDRIVER_LOG=file keeps chromedriver's verbose log, to see what a failing step did.
    log = os.environ.get("UGENE_CHROMEDRIVER_LOG")
    service = Service(str(CHROMEDRIVER), service_args=["--verbose"] if log else [], log_output=log or os.devnull)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(20)
    yield Browser(driver)
    driver.quit()


@pytest.fixture
async def site(settings, clock, db, aiohttp_server, aiohttp_client):
    """The app on a real port whose mails carry links to that very port, and an API client for it."""
    port = free_port()
    app = create_app(settings.with_(public_url=f"http://127.0.0.1:{port}"), clock=clock)
    server = await aiohttp_server(app, port=port)
    return Api(await aiohttp_client(server), app)


@pytest.fixture
async def browser(chromium):
    await chromium.console()   # start each test with an empty console
    yield chromium
    await chromium.open("about:blank")


def page_text(api: Api, key: str, language: str = "en") -> str:
    return api.services.messages.page(key, language)


def fonts_writing(language: str) -> set[str]:
    """Families of the installed fonts that fontconfig says cover the language's letters."""
    fc_list = shutil.which("fc-list")
    assert fc_list, "fc-list (Debian's fontconfig, which chromium pulls in) is needed to check the fonts"
    listed = subprocess.run([fc_list, f":lang={FONTCONFIG_LANG[language]}", "family"], check=True,
                            capture_output=True, text=True).stdout
    return {name for line in listed.splitlines() for name in line.split(",")}


def assert_screenshot_renders(path: Path) -> None:
    """A real PNG of a window's size, with more than a blank page's colours."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert width >= 400 and height >= 300, image.size
        colours = image.convert("RGB").getcolors(maxcolors=width * height)
        assert len(colours) > 16, f"{path.name} looks blank: {len(colours)} colour(s)"


async def signin(api: Api, username: str, password: str):
    return await api.call("auth", "signin", uname=username, **{"pass": password})


async def test_confirm_link_opens_a_page_and_only_its_button_confirms_the_account(site, browser, db, smtp,
                                                                                    tmp_path):
    await site.call("reg", "signup", uname="bob", email="bob@example.test", **{"pass": OLD})
    link = link_in(await smtp.wait(to="bob@example.test"))
    await browser.open(link)
    assert await browser.title() == page_text(site, "reg/confirm-email.title")
    assert await browser.text("button") == page_text(site, "reg/confirm-email.button")
    assert_screenshot_renders(await browser.screenshot(tmp_path / "confirm-en.png"))
    # The strict CSP lets the page's own nonce'd style in (the button wears the accent colour) and
    # blocks nothing else, since the page asks for nothing else.
    assert await browser.style("button", "background-color") == "rgba(29, 78, 216, 1)"
    assert await browser.console() == []
    # Opening the page (as a mail scanner would) confirms nothing.
    assert await db.fetchval("SELECT completed FROM ugene_user WHERE username = 'bob'") is False
    assert (await signin(site, "bob", OLD)).code == "001408"

    await browser.press("button")
    assert await browser.text("h1") == page_text(site, "result.ok")
    assert await browser.text("p.ok") == "Your email address has been confirmed"
    assert_screenshot_renders(await browser.screenshot(tmp_path / "confirmed-en.png"))
    assert (await signin(site, "bob", OLD)).ok


async def test_restore_link_page_sets_the_typed_password_and_only_it_signs_in(site, browser, smtp, tmp_path):
    await site.user("alice", OLD)
    await site.call("auth", "restore-pwd", uname="alice")
    await browser.open(link_in(await smtp.wait(to="alice@example.test")))
    assert await browser.title() == page_text(site, "auth/verify-pwd.title")
    assert await browser.text("label[for=new-pwd]") == page_text(site, "field.new-pwd")
    assert_screenshot_renders(await browser.screenshot(tmp_path / "restore-en.png"))

    await browser.type("input[name=new-pwd]", NEW)
    await browser.press("button")
    assert await browser.text("p.ok") == "Your password has been restored"
    assert (await signin(site, "alice", NEW)).ok
    assert (await signin(site, "alice", OLD)).code == "001404"


async def test_restore_link_page_left_empty_mails_a_generated_password_that_signs_in(site, browser, smtp):
    await site.user("alice", OLD)
    await site.call("auth", "restore-pwd", uname="alice")
    await browser.open(link_in(await smtp.wait(to="alice@example.test")))
    await browser.press("button")
    assert await browser.text("p.ok") == "Your password has been restored"
    mails = await smtp.wait(2, to="alice@example.test")
    assert mails[1]["Subject"] == "Your new password"
    generated = line_matching(mails[1], r"^\S{8,}$")
    assert (await signin(site, "alice", generated)).ok
    assert (await signin(site, "alice", OLD)).code == "001404"


async def test_restore_link_page_with_a_weak_password_shows_the_error_and_the_link_still_works(site, browser,
                                                                                                smtp):
    await site.user("alice", OLD)
    await site.call("auth", "restore-pwd", uname="alice")
    link = link_in(await smtp.wait(to="alice@example.test"))
    await browser.open(link)
    await browser.type("input[name=new-pwd]", "weak")
    await browser.press("button")
    assert await browser.text("h1") == page_text(site, "result.error")
    assert await browser.count("p.error") == 1
    await browser.open(link)
    await browser.type("input[name=new-pwd]", NEW)
    await browser.press("button")
    assert (await signin(site, "alice", NEW)).ok


@pytest.mark.parametrize("language", ["vi", "ru", "chi"])
async def test_pages_render_in_every_language(site, browser, smtp, tmp_path, language):
    await site.call("reg", "signup", uname="bob", email="bob@example.test", language=language, **{"pass": OLD})
    await browser.open(link_in(await smtp.wait(to="bob@example.test")))
    assert await browser.attribute("html", "lang") == HTML_LANG[language]
    assert await browser.title() == page_text(site, "reg/confirm-email.title", language)
    await site.user("alice", OLD)
    await site.call("auth", "restore-pwd", uname="alice", language=language)
    link = link_in(await smtp.wait(to="alice@example.test"))
    assert re.search(rf"/api/auth/verify-pwd/{language}\?hash=", link)
    await browser.open(link)
    assert await browser.attribute("html", "lang") == HTML_LANG[language]
    assert await browser.text("h1") == page_text(site, "auth/verify-pwd.title", language)
    # Readable, not boxes: every font that drew the title can write the language (no .notdef fallback).
    drawn = await browser.fonts("h1")
    assert drawn and set(drawn) <= fonts_writing(language), (
        f"the {language} title was drawn with {drawn}; install a font for it (`make chromium` does)")
    assert await browser.text("button") == page_text(site, "auth/verify-pwd.button", language)
    assert_screenshot_renders(await browser.screenshot(tmp_path / f"restore-{language}.png"))
    await browser.press("button")
    assert await browser.text("h1") == page_text(site, "result.ok", language)
