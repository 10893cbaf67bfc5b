"""The logs of a real `ugene serve`, after a whole journey: no password, token, refresh token, link hash
or one-time code in them (protocol §8), and no line a client could forge with CR/LF."""
import asyncio
import re
from urllib.parse import parse_qs, quote, urlsplit

import aiohttp
import pytest

from ugene.accounts import create_user
from ugene.clock import Clock

from .conftest import free_port
from .helpers import Answer, line_matching, link_in
from .served import CHEAP_ARGON2, Server, serve_env

pytestmark = pytest.mark.check

# The log format's timestamp (logging's asctime): every logged line starts with it.
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")
FORGED = "2020-01-01 00:00:00,000 INFO ugene: FORGED"
SECRET_KEY = "log-test-secret-" + "k" * 40


class Client:
    def __init__(self, session: aiohttp.ClientSession, base: str):
        self.session, self.base = session, base

    async def call(self, module, param, token=None, headers=None, **args) -> Answer:
        h = {**({"X-Authorization-Token": f"Bearer {token}"} if token else {}), **(headers or {})}
        async with self.session.post(f"{self.base}/api", json={"module": module, "param": param, "args": args},
                                     headers=h) as response:
            return Answer(response.status, response.headers, await response.json())

    async def get(self, path_and_query: str, headers=None) -> int:
        async with self.session.get(f"{self.base}{path_and_query}", headers=headers or {}) as response:
            await response.read()
            return response.status


async def journey(api: Client, smtp, secrets: list) -> None:
    """signup, confirm by link, signin, 2FA code, refresh, restore by link, sign in again."""
    password = "Journey7Horse"
    secrets += [password, "Wrong7Horse"]
    assert (await api.call("reg", "signup", uname="walker", email="walker@example.test", **{"pass": password})).ok
    confirm = link_in(await smtp.wait(to="walker@example.test"))
    secrets.append(parse_qs(urlsplit(confirm).query)["hash"][0])
    assert await api.get(urlsplit(confirm).path + "?" + urlsplit(confirm).query) == 200
    assert (await api.call("auth", "signin", uname="walker", **{"pass": "Wrong7Horse"})).code == "001404"
    signed = await api.call("auth", "signin", uname="walker", **{"pass": password})
    secrets += [signed.answer["token"], signed.answer["refresh_token"]]
    two_factor = await api.call("user", "switch-2fa", token=signed.answer["token"])
    secrets.append(parse_qs(urlsplit(two_factor.answer["data"]["otpauth-uri"]).query)["secret"][0])
    pending = await api.call("auth", "signin", uname="walker", **{"pass": password})
    assert pending.code == "100105"
    code = line_matching((await smtp.wait(2, to="walker@example.test"))[1], r"^\d{6}$")
    secrets += [pending.answer["token"], code]
    completed = await api.call("auth", "verify-otp", token=pending.answer["token"], otp=code)
    secrets += [completed.answer["token"], completed.answer["refresh_token"]]
    refreshed = await api.call("auth", "refresh-session", **{"refresh-token": completed.answer["refresh_token"]})
    assert refreshed.ok
    secrets += [refreshed.answer["access-token"], refreshed.answer["refresh_token"]]
    assert (await api.call("auth", "refresh-session", **{"refresh-token": completed.answer["refresh_token"]})
            ).code == "001416"                                              # a replay, logged as such
    assert (await api.call("auth", "restore-pwd", uname="walker@example.test")).ok
    restore = link_in((await smtp.wait(3, to="walker@example.test"))[2])
    secrets.append(parse_qs(urlsplit(restore).query)["hash"][0])
    assert await api.get(urlsplit(restore).path + "?" + urlsplit(restore).query) == 200
    generated = line_matching((await smtp.wait(4, to="walker@example.test"))[3], r"^[A-Za-z0-9]{16}$")
    secrets.append(generated)
    again = await api.call("auth", "signin", uname="walker", **{"pass": generated})
    assert again.code == "100105"                                           # 2FA is still on
    secrets.append(again.answer["token"])
    assert (await api.call("user", "change-pwd", token=refreshed.answer["access-token"],
                           **{"current-pwd": generated, "new-pwd": "Changed7Horse"})).code == "004004"
    secrets.append("Changed7Horse")


async def forgeries(api: Client) -> None:
    """CR/LF in every input a log line could carry: names, addresses, paths, headers, the envelope."""
    crlf = f"x\r\n{FORGED}\r\n"
    await api.call("reg", "signup", uname=crlf, email=f"a@example.test{crlf}", **{"pass": "Journey7Horse"})
    await api.call("auth", "signin", uname=crlf, **{"pass": crlf})
    await api.call("auth", "restore-pwd", uname=crlf)
    await api.call(crlf, crlf)
    await api.call("general", "status", **{crlf: 1})
    await api.get("/api/" + quote(crlf, safe="") + "/x/en?hash=" + quote(crlf, safe=""))
    await api.get("/download/file/" + quote(crlf, safe=""), headers={"X-Authorization-Token": "Bearer x"})
    await api.get("/" + quote(crlf, safe=""))
    await api.call("general", "status", headers={"X-Forwarded-For": "1.2.3.4, x%0d%0a" + quote(FORGED),
                                                 "User-Agent": quote(crlf)})


async def test_a_journey_leaves_no_secret_and_no_forged_line_in_the_logs(pg, db, smtp, tmp_path):
    # An admin exists already, so the start does not print the first admin's password (shown once, by
    # design, on the operator's console).
    await create_user(db, Clock(), username="root", email="root@example.test", password_hash="x", completed=True,
                      is_admin=True)
    env = serve_env(tmp_path / "data", free_port(), **CHEAP_ARGON2, UGENE_DATABASE_URL=pg, UGENE_SECRET=SECRET_KEY,
                    UGENE_SMTP_HOST="127.0.0.1", UGENE_SMTP_PORT=str(smtp.port),
                    UGENE_PUBLIC_URL="https://ugene.example.test")
    server = Server(env, tmp_path / "ugene.log").start()
    secrets: list[str] = [SECRET_KEY]
    try:
        async with aiohttp.ClientSession() as session:
            api = Client(session, server.base)
            await journey(api, smtp, secrets)
            await forgeries(api)
        await asyncio.sleep(0.2)                    # the last access-log lines are written after the answer
    finally:
        server.stop()
    logs = server.output()
    assert "walker" in logs or "/api/reg/confirm-email/en" in logs    # the journey was logged at all
    assert "/api/auth/verify-pwd/en" in logs and "hash=" not in logs  # access lines leave the query out
    for secret in secrets:
        assert len(secret) >= 6 and secret not in logs, f"a secret ({secret[:3]}...) is in the logs"
    for line in logs.splitlines():
        assert STAMP.match(line) or line.startswith("ugene serving on "), f"a line without a timestamp: {line!r}"
        assert not line.startswith(FORGED[:23]), f"a forged line: {line!r}"
    assert "FORGED" in logs                          # it was logged, escaped, inside a real line
    # The activity log in the database is a log too.
    activity = str([dict(row) for row in await db.fetch("SELECT * FROM ugene_activity")])
    assert "signin" in activity and "password-restored" in activity
    for secret in secrets:
        assert secret not in activity, f"a secret ({secret[:3]}...) is in the activity log"
