"""The Python client (ugene.client) against a real server: the three doors, errors, tokens, refresh.

Most tests run against a registry of `general`, a probe module and a stand-in `auth` speaking the
protocol's signin / refresh-session (built on the core's sessions), so they do not wait for the auth
module; the last test drives the real auth module once it is loaded.
"""
import asyncio

import pytest

from ugene import PUBLIC, SESSION, Args, Code, Context, Field, Module, NoArgs, Reply, UgeneError, find_by_login
from ugene.app import create_app
from ugene.client import UgeneClient, UgeneClientError
from ugene.registry import Registry, discover
from ugene_modules.general import module as general

from .helpers import Api

LOADED = set(discover().modules)

probe = Module("kitprobe", description="Session-needing params for the client tests")
stand_in = Module("auth", description="Test stand-in for auth: signin and refresh-session only")


@probe.param("whoami", access=SESSION, get=True)
async def whoami(ctx: Context, args: NoArgs) -> Reply:
    """The caller's uid."""
    return Reply.data({"uid": ctx.user["uid"]})


class StoreArgs(Args):
    note: str = ""


@probe.param("store", access=SESSION, put=True, codes=(Code.DONE,))
async def store(ctx: Context, args: StoreArgs) -> Reply:
    """What arrived through the PUT door."""
    return Reply.message(Code.DONE, size=ctx.upload.size, name=ctx.upload.filename, kind=ctx.upload.kind,
                         content=ctx.upload.path.read_text(), note=args.note)


class SigninArgs(Args):
    uname: str
    password: str = Field(alias="pass")


@stand_in.param("signin", access=PUBLIC)
async def signin(ctx: Context, args: SigninArgs) -> Reply:
    """Password sign-in (no throttle, no 2FA: only what the client tests need)."""
    user = await find_by_login(ctx.conn, args.uname)
    ok, _ = await ctx.services.passwords.verify(user["password_hash"] if user else None, args.password)
    if not ok:
        raise UgeneError(Code.WRONG_CREDENTIALS)
    issued = await ctx.services.sessions.create(ctx.conn, user, completed=True)
    return Reply({"token": issued.token, "refresh_token": issued.refresh_token}, session=issued.session)


class RefreshArgs(Args):
    refresh_token: str = Field(alias="refresh-token")


@stand_in.param("refresh-session", access=PUBLIC)
async def refresh_session(ctx: Context, args: RefreshArgs) -> Reply:
    """Rotate the refresh token (protocol §4)."""
    outcome, issued = await ctx.services.sessions.rotate(ctx.conn, args.refresh_token)
    if outcome != "ok":
        raise UgeneError(Code.REFRESH_INVALID)
    return Reply({"access-token": issued.token, "refresh_token": issued.refresh_token}, session=issued.session)


async def serve(aiohttp_server, settings, clock, registry):
    app = create_app(settings, registry=registry, clock=clock)
    server = await aiohttp_server(app)
    return str(server.make_url("")), Api(None, app)


@pytest.fixture
async def probe_server(aiohttp_server, settings, clock, db):
    return await serve(aiohttp_server, settings, clock, Registry([general, probe]))


@pytest.fixture
async def auth_server(aiohttp_server, settings, clock, db):
    return await serve(aiohttp_server, settings, clock, Registry([general, probe, stand_in]))


async def test_call_returns_the_answer(probe_server):
    url, _ = probe_server
    async with UgeneClient(url, language="vi") as client:
        answer = await client.call("general", "status")
        assert answer["data"]["App"]["app-name"] == "Ugene"
        assert client.session == {}


async def test_get_uses_the_get_door_with_the_language(probe_server):
    url, _ = probe_server
    async with UgeneClient(url, language="ru") as client:
        table = (await client.get("general", "messages"))["data"]
    assert table["002000"] and table["002000"] != (await _english(url))["002000"]


async def _english(url):
    async with UgeneClient(url) as client:
        return (await client.get("general", "messages"))["data"]


async def test_failure_raises_with_code_localized_text_and_status(probe_server):
    url, api = probe_server
    async with UgeneClient(url, language="vi") as client:
        with pytest.raises(UgeneClientError) as caught:
            await client.call("nowhere", "status")
    error = caught.value
    assert error.code == "002000" and error.status == 404
    assert error.text == api.services.messages.text("002000", "vi")
    assert error.body["success"] == 0 and error.body["language"] == "vi"


async def test_invalid_arguments_carry_details_in_the_body(probe_server):
    url, _ = probe_server
    async with UgeneClient(url) as client:
        with pytest.raises(UgeneClientError) as caught:
            await client.call("general", "status", surprise=1)
    assert caught.value.code == "002003" and caught.value.body["details"][0]["arg"] == "surprise"


async def test_session_param_without_token_raises_004004(probe_server):
    url, _ = probe_server
    async with UgeneClient(url) as client:
        with pytest.raises(UgeneClientError) as caught:
            await client.get("kitprobe", "whoami")
    assert caught.value.code == "004004" and caught.value.status == 401


async def test_a_given_token_is_sent_on_every_door(probe_server):
    url, api = probe_server
    user = await api.user("alice")
    token, _ = await api.session(user)
    async with UgeneClient(url, token=token) as client:
        assert (await client.call("kitprobe", "whoami"))["data"]["uid"] == user["uid"]
        assert (await client.get("kitprobe", "whoami"))["data"]["uid"] == user["uid"]
        assert client.session["uid"] == user["uid"] and client.session["completed"] == 1


async def test_upload_sends_bytes_or_a_file_as_multipart(probe_server, tmp_path):
    url, api = probe_server
    token, _ = await api.session(await api.user("alice"))
    path = tmp_path / "notes.txt"
    path.write_text("from a file")
    async with UgeneClient(url, token=token) as client:
        from_bytes = await client.upload("file", b"some bytes", filename="a.bin", module="kitprobe",
                                         param="store", note="hello")
        from_path = await client.upload("file", path, module="kitprobe", param="store")
    assert from_bytes == {"message": "100100", "text": api.services.messages.text("100100", "en"), "size": 10,
                          "name": "a.bin", "kind": "file", "content": "some bytes", "note": "hello"}
    assert from_path["name"] == "notes.txt" and from_path["content"] == "from a file"


async def test_signin_keeps_the_token_and_refresh_token(auth_server):
    url, api = auth_server
    user = await api.user("alice")
    async with UgeneClient(url) as client:
        answer = await client.call("auth", "signin", uname="alice", **{"pass": "Correct7Horse"})
        assert client.token == answer["token"] and client.refresh_token == answer["refresh_token"]
        assert (await client.get("kitprobe", "whoami"))["data"]["uid"] == user["uid"]


async def test_expired_session_is_refreshed_once_and_the_call_retried(auth_server, clock):
    url, api = auth_server
    user = await api.user("alice")
    async with UgeneClient(url) as client:
        await client.call("auth", "signin", uname="alice", **{"pass": "Correct7Horse"})
        first_token, first_refresh = client.token, client.refresh_token
        clock.advance(api.services.settings.session_seconds + 1)
        assert (await client.call("kitprobe", "whoami"))["data"]["uid"] == user["uid"]
        assert client.token != first_token and client.refresh_token != first_refresh


async def test_calls_expiring_together_refresh_only_once(auth_server, clock):
    url, api = auth_server
    await api.user("alice")
    async with UgeneClient(url) as client:
        await client.call("auth", "signin", uname="alice", **{"pass": "Correct7Horse"})
        clock.advance(api.services.settings.session_seconds + 1)
        answers = await asyncio.gather(*(client.get("kitprobe", "whoami") for _ in range(4)))
        assert len({a["data"]["uid"] for a in answers}) == 1
        # A second use of a rotated refresh token would have revoked the whole sign-in.
        assert (await client.call("kitprobe", "whoami"))["data"]["uid"]
    async with api.services.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM ugene_session WHERE rotated_at IS NOT NULL") == 1


async def test_failed_refresh_raises_the_original_error_and_forgets_the_tokens(auth_server, clock):
    url, api = auth_server
    await api.user("alice")
    async with UgeneClient(url) as client:
        await client.call("auth", "signin", uname="alice", **{"pass": "Correct7Horse"})
        async with api.services.pool.acquire() as conn:      # e.g. logged out from another device
            await conn.execute("UPDATE ugene_session SET revoked_at = now()")
        with pytest.raises(UgeneClientError) as caught:
            await client.call("kitprobe", "whoami")
        assert caught.value.code == "004004"
        assert client.token is None and client.refresh_token is None


async def test_without_auth_module_expiry_is_reported_as_004004(probe_server, clock):
    url, api = probe_server
    token, refresh = await api.session(await api.user("alice"))
    async with UgeneClient(url, token=token, refresh_token=refresh) as client:
        clock.advance(api.services.settings.session_seconds + 1)
        with pytest.raises(UgeneClientError) as caught:
            await client.get("kitprobe", "whoami")
    assert caught.value.code == "004004"


async def test_schema_lists_the_servers_modules(probe_server):
    url, _ = probe_server
    async with UgeneClient(url) as client:
        schema = await client.schema()
    assert set(schema["modules"]) == {"general", "kitprobe"}


async def test_a_non_envelope_answer_raises_with_the_http_status(probe_server):
    url, _ = probe_server
    async with UgeneClient(url + "/not-ugene") as client:     # a base URL where no Ugene answers
        with pytest.raises(UgeneClientError) as caught:
            await client.call("general", "status")
    assert caught.value.code is None and caught.value.status == 404 and caught.value.body is None


@pytest.mark.skipif(not {"auth", "profile"} <= LOADED,
                    reason="needs the auth module and the example profile plugin (make install)")
async def test_refresh_on_expiry_with_the_real_auth_module(aiohttp_server, app, clock):
    server = await aiohttp_server(app)
    api = Api(None, app)
    await api.user("alice")
    async with UgeneClient(str(server.make_url(""))) as client:
        await client.call("auth", "signin", uname="alice", **{"pass": "Correct7Horse"})
        first = client.refresh_token
        clock.advance(api.services.settings.session_seconds + 1)
        assert (await client.call("profile", "update", city="Hanoi"))["message"]
        assert client.refresh_token != first
        assert (await client.get("profile", "show"))["data"]["city"] == "Hanoi"
