"""An async Python client of the Ugene protocol, on aiohttp.

    async with UgeneClient("https://id.example.com", language="en") as client:
        await client.call("auth", "signin", uname="alice", **{"pass": "Correct7Horse"})
        profile = await client.call("user", "profile")

`call` returns the envelope's `answer` or raises `UgeneClientError`. The client keeps the session
token from the answers that hand one out and, when a call fails because the token has expired
(004004) while it holds a refresh token, refreshes the session once and retries the call.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

SESSION_EXPIRED = "004004"


class UgeneClientError(Exception):
    """A call that did not succeed: the protocol `code`, its localized `text`, the HTTP `status` and
    the whole response `body` (the error envelope; None when the answer was not an envelope)."""

    def __init__(self, code: str | None, text: str, status: int, body: dict | None = None):
        super().__init__(f"{code or 'HTTP ' + str(status)}: {text}")
        self.code, self.text, self.status, self.body = code, text, status, body


class UgeneClient:
    """One client, one session: use it as `async with UgeneClient(url) as client:`."""

    def __init__(self, base_url: str, *, language: str = "en", token: str | None = None,
                 refresh_token: str | None = None, http: aiohttp.ClientSession | None = None,
                 timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.language = language
        self.token = token
        self.refresh_token = refresh_token
        self.session: dict = {}                  # the last envelope's `session`
        self._http = http
        self._own_http = http is None
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        # Refresh tokens are single-use: two calls expiring together must not both spend it,
        # or the server takes the second use for theft and ends the whole sign-in.
        self._refreshing = asyncio.Lock()

    async def __aenter__(self) -> "UgeneClient":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_http and self._http is not None:
            await self._http.close()
            self._http = None

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self._timeout)
        return self._http

    # The three doors

    async def call(self, module: str, param: str, /, **args) -> dict:
        """`POST /api` with `args`; hyphenated names go through `**{"new-pwd": ...}`."""
        envelope = {"module": module, "param": param, "args": args, "language": self.language}
        answer = await self._with_refresh(lambda: self._request("POST", "/api", json=envelope))
        if (module, param) == ("user", "logout"):
            self.token = self.refresh_token = None    # every form of logout ends this session
        return answer

    async def get(self, module: str, param: str, /, **query) -> dict:
        """The GET door `/api/{module}/{param}/{language}?query` (only for params that open it)."""
        path = f"/api/{module}/{param}/{self.language}"
        params = {key: _query_value(value) for key, value in query.items()}
        return await self._with_refresh(lambda: self._request("GET", path, params=params))

    async def upload(self, kind: str, source: str | Path | bytes, *, filename: str | None = None,
                     content_type: str = "application/octet-stream", module: str = "user",
                     param: str | None = None, **fields) -> dict:
        """`PUT /api` multipart: `kind` is the form's `type` (avatar or file), to `user/upload-{kind}`."""
        if isinstance(source, (str, Path)):
            data = Path(source).read_bytes()
            filename = filename or Path(source).name
        else:
            data = bytes(source)

        def form() -> aiohttp.FormData:   # built anew for a retry: a FormData is consumed once sent
            body = aiohttp.FormData()
            for name, value in {"module": module, "param": param or f"upload-{kind}", "type": kind,
                                "language": self.language, **fields}.items():
                body.add_field(name, _query_value(value))
            body.add_field("source", data, filename=filename or "upload", content_type=content_type)
            return body

        return await self._with_refresh(lambda: self._request("PUT", "/api", data=form()))

    async def download(self, fileid: str) -> bytes:
        """The bytes of a file from `GET /download/file/{fileid}`."""
        return await self._with_refresh(lambda: self._request("GET", f"/download/file/{fileid}", raw=True))

    async def avatar(self, uid: str | None = None) -> bytes:
        """A user's avatar (the caller's own without `uid`)."""
        path = "/image/user/avatar" + (f"/{uid}" if uid else "")
        return await self._with_refresh(lambda: self._request("GET", path, raw=True))

    async def schema(self) -> dict:
        """`GET /api/schema`: every module and param this server offers."""
        return (await self._request("GET", "/api/schema", params={"language": self.language}))["data"]

    # Sessions

    async def refresh(self) -> dict:
        """Trade the refresh token for a new pair (auth/refresh-session)."""
        if not self.refresh_token:
            raise UgeneClientError(SESSION_EXPIRED, "no refresh token", 401)
        envelope = {"module": "auth", "param": "refresh-session", "language": self.language,
                    "args": {"refresh-token": self.refresh_token}}
        return await self._request("POST", "/api", json=envelope, send_token=False)

    async def _with_refresh(self, send):
        """Run `send()`; on an expired session, refresh once (if we can) and run it again."""
        sent_with = self.token
        try:
            return await send()
        except UgeneClientError as error:
            if error.code != SESSION_EXPIRED or not self.refresh_token:
                raise
            async with self._refreshing:
                if self.token == sent_with:          # nobody refreshed while we waited
                    try:
                        await self.refresh()
                    except UgeneClientError:
                        self.token = self.refresh_token = None
                        raise error from None
            return await send()

    # Transport

    async def _request(self, method: str, path: str, *, raw: bool = False, send_token: bool = True, **kwargs):
        headers = {"Accept": "application/json"}
        if self.token and send_token:
            headers["X-Authorization-Token"] = f"Bearer {self.token}"
        async with self.http.request(method, self.base_url + path, headers=headers, **kwargs) as response:
            payload = await response.read()
            if raw and response.status == 200:       # failures are envelopes with an error status
                return payload
            return self._answer(response, payload)

    def _answer(self, response: aiohttp.ClientResponse, payload: bytes) -> dict:
        try:
            body = json.loads(payload)
        except ValueError:
            body = None
        if not isinstance(body, dict) or "success" not in body:
            raise UgeneClientError(None, response.reason or "not a Ugene envelope", response.status, None)
        if body.get("session") is not None:
            self.session = body["session"]
        if body["success"] != 1:
            raise UgeneClientError(body.get("error"), body.get("text", ""), response.status, body)
        answer = body.get("answer", {})
        self._keep_tokens(answer)
        return answer

    def _keep_tokens(self, answer: dict) -> None:
        """Answers of signin, verify-otp and refresh-session hand out the session's secrets."""
        token = answer.get("token") or answer.get("access-token")
        if isinstance(token, str):
            self.token = token
        if isinstance(answer.get("refresh_token"), str):
            self.refresh_token = answer["refresh_token"]


def _query_value(value) -> str:
    """GET and multipart carry strings; the server converts "true"/"1" where a param wants them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
