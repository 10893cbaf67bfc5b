"""The transport doors: PUT multipart streaming, token headers, client addresses."""
import ipaddress

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request

from ugene.doors import client_ip, request_token


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


async def test_put_without_a_token_is_refused_before_the_body_is_read(api, settings):
    form = aiohttp.FormData()
    form.add_field("module", "user")
    form.add_field("param", "upload-file")
    form.add_field("type", "file")
    form.add_field("source", b"x" * 1000, filename="a.txt", content_type="text/plain")
    response = await api.client.put("/api", data=form)
    assert response.status == 401 and (await response.json())["error"] == "004004"
    assert not (settings.files_dir / "incoming").exists() or not list((settings.files_dir / "incoming").iterdir())
