"""Malformed envelopes and oversized bodies, over real HTTP: always an envelope with a 4xx code, never a
5xx, a trace or a hang. The plain cases (invalid JSON, an array, missing module) are in test_envelope.py."""
import asyncio
import json
import zlib

import pytest

pytestmark = pytest.mark.check

MiB = 1024 * 1024
ENVELOPE_KEYS = {"success", "error", "text", "timestamp", "language", "session"}


async def post_raw(api, body: bytes, headers=None):
    response = await api.client.post("/api", data=body, headers={"Content-Type": "application/json",
                                                                  **(headers or {})})
    text = await response.text()
    return response.status, json.loads(text), text


def assert_envelope(status, body, text, code, http):
    assert (body.get("error"), status) == (code, http), body
    assert ENVELOPE_KEYS <= set(body) and body["success"] == 0
    assert "Traceback" not in text and "File \"" not in text


@pytest.mark.parametrize("value", [None, 1, 1.5, True, [], ["reg"], {}, {"a": 1}, ""], ids=repr)
async def test_a_module_or_param_that_is_no_string_is_002002(api, value):
    for envelope in ({"module": value, "param": "signup"}, {"module": "reg", "param": value}):
        assert_envelope(*await post_raw(api, json.dumps(envelope).encode()), "002002", 400)


@pytest.mark.parametrize("body", [b"", b"null", b"1", b'"reg"', b"true", b"{", b"{}", b'{"module": "reg"}',
                                  b"\xff\xfe\x00", b"\xef\xbb\xbf{}", b'{"module": "reg", "param": "signup",}',
                                  b"{'module': 'reg'}", b'{"module": "general", "param": "status"} trailing'],
                         ids=repr)
async def test_a_body_that_is_no_envelope_is_002002(api, body):
    assert_envelope(*await post_raw(api, body), "002002", 400)


@pytest.mark.parametrize("opener", ["[", '{"a":'], ids=repr)
async def test_deeply_nested_json_is_002002(api, opener):
    body = ('{"module": "general", "param": "status", "args": ' + opener * 200_000).encode()
    assert_envelope(*await post_raw(api, body[: MiB - 10]), "002002", 400)


async def test_nested_args_within_the_parsers_depth_are_002003(api):
    nested = "[" * 500 + "]" * 500
    body = f'{{"module": "auth", "param": "signin", "args": {{"uname": {nested}, "pass": "x"}}}}'.encode()
    assert_envelope(*await post_raw(api, body), "002003", 400)


@pytest.mark.parametrize("language", [1, None, [], {"en": 1}, "x" * 10_000, "../../etc/passwd", "en\r\nX: y"],
                         ids=lambda v: repr(v)[:20])
async def test_a_language_of_any_shape_falls_back_to_the_default(api, language):
    answer = await api.post({"module": "general", "param": "status", "language": language})
    assert answer.ok and answer.body["language"] == "en"


async def test_a_ten_megabyte_body_is_002007(api):
    body = b'{"module": "general", "param": "status", "pad": "' + b"x" * (10 * MiB) + b'"}'
    assert_envelope(*await post_raw(api, body), "002007", 413)


async def test_an_oversized_chunked_body_without_a_length_is_002007(api):
    async def chunks():
        yield b'{"module": "general", "param": "status", "pad": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'
    assert_envelope(*await post_raw(api, chunks()), "002007", 413)


async def test_a_huge_declared_length_is_refused_without_waiting_for_the_body(api):
    reader, writer = await asyncio.open_connection(api.client.host, api.client.port)
    writer.write(b"POST /api HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 1073741824\r\n\r\n{")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
    assert head.startswith(b"HTTP/1.1 413")
    writer.close()


async def test_a_hundred_thousand_unknown_args_are_002003_quickly(api):
    args = {f"k{i}": 1 for i in range(60_000)}
    status, body, text = await post_raw(api, json.dumps({"module": "general", "param": "status",
                                                         "args": args}).encode())
    assert_envelope(status, body, text, "002003", 400)


@pytest.mark.parametrize("field", ["uname", "pass"])
async def test_an_argument_of_nearly_a_megabyte_is_a_4xx(api, db, field):
    args = {"uname": "alice", "pass": "Correct7Horse", field: "A1a" * 300_000}
    for param in ("signin", "restore-pwd"):
        status, body, text = await post_raw(api, json.dumps({"module": "auth", "param": param, "args": {
            k: v for k, v in args.items() if param == "signin" or k == "uname"}}).encode())
        assert 400 <= status < 500 or body["success"] == 1, body
        assert "Traceback" not in text


async def test_a_query_string_of_many_args_is_002003(api):
    query = "&".join(f"k{i}=v" for i in range(500))
    response = await api.client.get(f"/api/general/status/en?{query}")
    assert response.status == 400 and (await response.json())["error"] == "002003"


async def test_an_oversized_header_or_request_line_is_refused_with_a_4xx(api):
    """aiohttp's HTTP parser refuses these (8 KiB each) before any handler runs."""
    response = await api.client.post("/api", json={"module": "general", "param": "status"},
                                     headers={"X-Authorization-Token": "Bearer " + "a" * 20_000})
    assert 400 <= response.status < 500
    response = await api.client.get("/api/general/status/en?" + "&".join(f"k{i}=v" for i in range(3000)))
    assert 400 <= response.status < 500


async def test_a_multipart_body_without_boundary_or_with_a_huge_field_is_002002(api):
    _, token = await api.login("alice")
    auth = {"X-Authorization-Token": f"Bearer {token}"}
    response = await api.client.put("/api", data=b"--x\r\n", headers={"Content-Type": "multipart/form-data", **auth})
    assert (await response.json())["error"] == "002002"
    boundary = "b"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"module\"\r\n\r\n" + "u" * 5000 +
            f"\r\n--{boundary}--\r\n").encode()
    response = await api.client.put("/api", data=body,
                                    headers={"Content-Type": f"multipart/form-data; boundary={boundary}", **auth})
    assert response.status == 400 and (await response.json())["error"] == "002002"


async def test_a_multipart_body_of_endless_small_fields_is_002002(api):
    """Without a Content-Length nothing else bounds the text fields a PUT could make the server keep."""
    _, token = await api.login("alice")
    boundary = "b"

    async def parts():
        for name, value in (("module", "user"), ("param", "upload-file")):
            yield f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for i in range(100_000):
            yield f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n{"v" * 1000}\r\n'.encode()
        yield f"--{boundary}--\r\n".encode()
    response = await api.client.put("/api", data=parts(), headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Authorization-Token": f"Bearer {token}"})
    assert response.status == 400 and (await response.json())["error"] == "002002"


# Text that PostgreSQL or UTF-8 cannot hold: a NUL, a lone surrogate, bytes that are no UTF-8

UNSTORABLE = ["a\x00b", "\x00", "a\ud800b", "\udc00", "x\udfff"]


@pytest.mark.parametrize("text", UNSTORABLE, ids=repr)
async def test_an_argument_with_a_nul_or_a_lone_surrogate_is_002003(api, db, text):
    await api.user("alice")
    for module, param, args, name in (("auth", "signin", {"uname": text, "pass": "x"}, "uname"),
                                      ("auth", "signin", {"uname": "alice", "pass": text}, "pass"),
                                      ("auth", "restore-pwd", {"uname": text}, "uname"),
                                      ("reg", "confirm-email", {"hash": text}, "hash"),
                                      ("reg", "signup", {"uname": "bob", "pass": "Correct7Horse", "email": text},
                                       "email"),
                                      ("general", "status", {text: 1}, "args"),
                                      ("general", "status", {"nested": [{"k": text}]}, "nested")):
        body = json.dumps({"module": module, "param": param, "args": args}).encode()
        status, envelope, text_ = await post_raw(api, body)
        assert_envelope(status, envelope, text_, "002003", 400)
        assert envelope["details"] == [{"arg": name, "problem": "string_unicode"}], (param, envelope)
    assert await db.fetchval("SELECT count(*) FROM ugene_user") == 1


async def test_a_get_door_argument_with_a_nul_is_002003(api):
    response = await api.client.get("/api/reg/confirm-email/en?hash=%00")
    assert (await response.json())["details"] == [{"arg": "hash", "problem": "string_unicode"}]


@pytest.mark.parametrize("path", ["/download/file/%00", "/download/file/%ff", "/download/file/%ED%A0%80",
                                  "/image/user/avatar/%00", "/image/user/avatar/a%00b"])
async def test_a_download_path_with_a_nul_or_no_utf8_is_001419(api, path):
    _, token = await api.login("alice")
    response = await api.client.get(path, headers={"X-Authorization-Token": f"Bearer {token}"})
    assert response.status == 404 and (await response.json())["error"] == "001419"


async def raw_request(api, head: bytes, body: bytes = b"") -> tuple[int, dict]:
    """One HTTP/1.1 request written byte by byte, for headers no client library would send."""
    reader, writer = await asyncio.open_connection(api.client.host, api.client.port)
    writer.write(head + b"\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    response = await reader.read()
    writer.close()
    status_line, _, rest = response.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


@pytest.mark.parametrize("header", [b"X-Authorization-Token: Bearer \xff\xfe", b"Authorization: \xff",
                                   b"X-Authorization-Token: Bearer \xc3("], ids=repr)
async def test_a_token_header_that_is_no_utf8_is_004004_on_every_door(api, header):
    body = json.dumps({"module": "user", "param": "profile"}).encode()
    status, envelope = await raw_request(api, b"POST /api HTTP/1.1\r\n" + header, body)
    assert (status, envelope["error"]) == (401, "004004")
    for path in (b"/api/user/profile/en", b"/download/file/abc", b"/image/user/avatar"):
        status, envelope = await raw_request(api, b"GET " + path + b" HTTP/1.1\r\n" + header)
        assert (status, envelope["error"]) == (401, "004004"), path


async def test_a_user_agent_that_is_no_utf8_is_stored_as_text(api, db):
    await api.user("alice", "Correct7Horse")
    for password in ("Wrong7Horse", "Correct7Horse"):     # a failure is logged, a success opens a session
        body = json.dumps({"module": "auth", "param": "signin",
                           "args": {"uname": "alice", "pass": password}}).encode()
        status, _ = await raw_request(api, b"POST /api HTTP/1.1\r\nUser-Agent: caf\xe9 \xff\xfe", body)
        assert status in (200, 401)
    assert await db.fetchval("SELECT user_agent FROM ugene_session") == "caf\ufffd \ufffd\ufffd"
    assert {r["user_agent"] for r in await db.fetch("SELECT user_agent FROM ugene_activity")} == {
        "caf\ufffd \ufffd\ufffd"}


@pytest.mark.parametrize("disposition", [b'form-data; name="\xc3\xa3@[\x11"', b'form-data; name="a\x7fb"'], ids=repr)
async def test_a_multipart_part_whose_headers_are_no_http_headers_is_002002(api, disposition):
    """Found by schemathesis: aiohttp raises InvalidHeader (no ValueError) for such a part."""
    _, token = await api.login("alice")
    body = (b"--zz\r\nContent-Disposition: form-data; name=\"module\"\r\n\r\nuser\r\n"
            b"--zz\r\nContent-Disposition: " + disposition + b"\r\n\r\nx\r\n--zz--\r\n")
    response = await api.client.put("/api", data=body, headers={
        "Content-Type": "multipart/form-data; boundary=zz", "X-Authorization-Token": f"Bearer {token}"})
    assert response.status == 400 and (await response.json())["error"] == "002002"
    assert list(api.services.files.incoming.iterdir()) == []


async def test_a_compressed_body_that_inflates_past_the_limit_is_002007(api):
    """Content-Length counts the compressed bytes: the limit holds for what the body inflates to."""
    packer = zlib.compressobj(wbits=31)          # gzip, built a piece at a time: 256 MiB inflated, 250 KiB sent
    body = packer.compress(b'{"module": "general", "param": "status", "pad": "')
    body += b"".join(packer.compress(b" " * MiB) for _ in range(256)) + packer.compress(b'"}') + packer.flush()
    assert len(body) < MiB
    assert_envelope(*await post_raw(api, body, {"Content-Encoding": "gzip"}), "002007", 413)
