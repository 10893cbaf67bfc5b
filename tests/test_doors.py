"""The transport doors: PUT multipart streaming, token headers, client addresses."""
import ipaddress
import json
import os

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request
from hypothesis import given, settings, strategies as st

from ugene.doors import client_ip, new_request_id, parse_json, request_token

# Values where orjson and json part ways: integers past 64 bits (either sign), floats past double's range
# written as text, lone surrogates, NaN and the infinities, duplicate keys.
EDGES = (st.integers() | st.integers(min_value=2 ** 62, max_value=2 ** 80).flatmap(lambda n: st.sampled_from([n, -n]))
         | st.floats() | st.text(max_size=8) | st.sampled_from(["\ud800", "x\udfff"]) | st.none() | st.booleans())
VALUES = st.recursive(EDGES, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=10)
RAW = st.sampled_from([b"1e400", b'{"a":1,"a":2}', b"\xef\xbb\xbf{}", b"-0", b" [1] ", b'"\\ud800"', b"NaN",
                       b'{"a":-9223372036854775809}', b"18446744073709551616", b"[" * 3000, b"\xff", b""])


def outcome(parse, body: bytes):
    """What a parser makes of `body`, in a form two parsers can be compared by (NaN equals itself here)."""
    try:
        return json.dumps(parse(body))
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        return type(error).__name__ if isinstance(error, RecursionError) else "refused"


@pytest.mark.check
@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(value=VALUES, spaces=st.booleans())
def test_the_envelope_parser_reads_every_json_text_as_json_does(value, spaces):
    body = json.dumps(value, indent=1 if spaces else None).encode()
    assert outcome(parse_json, body) == outcome(json.loads, body)


@pytest.mark.check
@given(body=RAW | st.binary(max_size=40))
@settings(max_examples=200, deadline=None, derandomize=True, database=None)
def test_the_envelope_parser_takes_and_refuses_what_json_does(body):
    assert outcome(parse_json, body) == outcome(json.loads, body)


def test_request_ids_are_unique_and_a_forked_child_draws_its_own():
    ids = [new_request_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids) and all(len(i) == 16 and int(i, 16) >= 0 for i in ids)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:       # the child: report its next id and leave without running pytest's exit hooks
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    theirs = os.read(read, 64).decode()
    os.close(read)
    assert theirs[:8] != new_request_id()[:8]


async def test_put_that_is_not_multipart_is_002002(api):
    response = await api.client.put("/api", data=b'{"module": "general"}', headers={"Content-Type": "application/json"})
    assert (await response.json())["error"] == "002002"


async def test_put_to_a_param_without_the_put_door_is_002001_and_leaves_no_file(api, settings):
    form = aiohttp.FormData()
    form.add_field("source", b"hello", filename="a.txt", content_type="text/plain")
    form.add_field("module", "general")
    form.add_field("param", "status")
    _, token = await api.login("alice")
    response = await api.client.put("/api", data=form, headers={"X-Authorization-Token": f"Bearer {token}"})
    assert (await response.json())["error"] == "002001"
    assert list((settings.files_dir / "incoming").iterdir()) == []


@pytest.mark.check
async def test_put_with_an_oversized_declared_length_is_refused_before_reading(api):
    response = await api.client.put("/api", data=b"x" * 10, headers={
        "Content-Type": "multipart/form-data; boundary=zz", "Content-Length": str(500 * 1024 * 1024)})
    assert (await response.json())["error"] == "001418"


@pytest.mark.check
def test_token_comes_from_either_header_never_the_query():
    assert request_token(make_mocked_request("GET", "/", headers={"X-Authorization-Token": "Bearer abc"})) == "abc"
    assert request_token(make_mocked_request("GET", "/", headers={"Authorization": "Bearer xyz"})) == "xyz"
    assert request_token(make_mocked_request("GET", "/?token=abc")) is None


@pytest.mark.check
def test_forwarded_for_is_believed_only_from_trusted_proxies():
    trusted = (ipaddress.ip_network("10.0.0.0/8"),)

    def request(peer, forwarded):
        req = make_mocked_request("GET", "/", headers={"X-Forwarded-For": forwarded})
        req._transport_peername = (peer, 1234)
        return req

    # Without trusted proxies the header is ignored.
    assert client_ip(request("127.0.0.1", "1.2.3.4"), ()) == "127.0.0.1"
    # From an untrusted peer it is ignored too.
    assert client_ip(request("192.0.2.7", "1.2.3.4"), trusted) == "192.0.2.7"
    # From a trusted proxy, the right-most untrusted hop is the client (left entries can be forged).
    assert client_ip(request("10.1.1.1", "6.6.6.6, 1.2.3.4, 10.2.2.2"), trusted) == "1.2.3.4"


@pytest.mark.parametrize("module, param, code", [("nope", "upload-file", "002000"), ("user", "nope", "002001"),
                                                  ("general", "status", "002001"), ("user", "upload-file", "004004")])
async def test_put_without_a_token_judges_the_route_first(api, settings, module, param, code):
    form = aiohttp.FormData()
    form.add_field("module", module)
    form.add_field("param", param)
    form.add_field("source", b"x" * 1000, filename="a.txt", content_type="text/plain")
    answer = await api.client.put("/api", data=form)
    assert (await answer.json())["error"] == code
    assert not (settings.files_dir / "incoming").exists() or not list((settings.files_dir / "incoming").iterdir())


async def test_put_without_a_token_is_refused_before_the_body_is_read(api, settings):
    form = aiohttp.FormData()
    form.add_field("module", "user")
    form.add_field("param", "upload-file")
    form.add_field("type", "file")
    form.add_field("source", b"x" * 1000, filename="a.txt", content_type="text/plain")
    response = await api.client.put("/api", data=form)
    assert response.status == 401 and (await response.json())["error"] == "004004"
    assert not (settings.files_dir / "incoming").exists() or not list((settings.files_dir / "incoming").iterdir())
