"""user module: upload-avatar, upload-file, files, and the core routes /download and /image (seed 31-34)."""
import asyncio
import io
import os
import struct
import zlib
from urllib.parse import quote

import aiohttp
import pytest
from PIL import Image

from ugene.app import create_app

from .helpers import Answer, Api

KiB, MiB = 1024, 1024 * 1024
SMALL = {"avatar_max_bytes": 64 * KiB, "file_max_bytes": 128 * KiB, "user_quota_bytes": 300 * KiB,
         "avatar_max_pixels": 20_000}


def assert_code(answer, code: str, status: int):
    assert answer.code == code, answer
    assert answer.status == status, answer


async def small_app(aiohttp_client, settings, clock) -> Api:
    """The app with small limits, so going past them costs little."""
    app = create_app(settings.with_(**SMALL), clock=clock)
    return Api(await aiohttp_client(app), app)


@pytest.fixture
async def small(aiohttp_client, settings, clock, db):
    return await small_app(aiohttp_client, settings, clock)


def image(fmt: str, size=(40, 25), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red" if mode in ("RGB", "RGBA") else 1).save(out, format=fmt, **save)
    return out.getvalue()


def noise(size) -> Image.Image:
    """An image that compresses badly, so its stored PNG is about as large as its pixels."""
    return Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height but whose data holds almost nothing."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


async def put(api: Api, param: str, data, *, token=None, filename="upload.bin", kind=None,
              content_type="application/octet-stream", source_first=False) -> Answer:
    """PUT /api multipart as the seed's curl does: module, param, type and source."""
    form = aiohttp.FormData(quote_fields=False)
    fields = [("module", "user"), ("param", param), ("type", kind or param.removeprefix("upload-"))]
    if not source_first:
        for name, value in fields:
            form.add_field(name, value)
    form.add_field("source", data, filename=filename, content_type=content_type)
    if source_first:
        for name, value in fields:
            form.add_field(name, value)
    headers = {"X-Authorization-Token": f"Bearer {token}"} if token else {}
    response = await api.client.put("/api", data=form, headers=headers)
    return Answer(response.status, response.headers, await response.json())


async def fetch(api: Api, path: str, token=None):
    """A GET answered with bytes (or an envelope): (status, headers, body)."""
    headers = {"X-Authorization-Token": f"Bearer {token}"} if token else {}
    response = await api.client.get(path, headers=headers)
    return response.status, response.headers, await response.read()


def stored_files(api: Api) -> list:
    root = api.services.settings.files_dir
    return [p for p in root.rglob("*") if p.is_file() and p.parent.name != "incoming"] if root.exists() else []


def incoming_files(api: Api) -> list:
    return list(api.services.files.incoming.iterdir())


async def put_raw(api: Api, token: str, disposition: str, data: bytes, param="upload-file") -> Answer:
    """A multipart PUT written by hand, for file names no polite client library would send."""
    boundary = "ugeneboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"module\"\r\n\r\nuser\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"param\"\r\n\r\n{param}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"source\"; {disposition}\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    response = await api.client.put("/api", data=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Authorization-Token": f"Bearer {token}"})
    return Answer(response.status, response.headers, await response.json())


# upload-file, files, download

async def test_upload_file_stores_it_and_the_owner_downloads_it_as_an_attachment(api, db):
    user, token = await api.login("alice")
    answer = await put(api, "upload-file", b"hello, world\n", token=token, filename="demo.txt",
                       content_type="text/plain")
    assert_code(answer, "100100", 200)
    fileid = answer.answer["fileid"]
    assert len(fileid) >= 10 and fileid.isalnum()
    [stored] = stored_files(api)
    assert "demo" not in stored.name and stored.read_bytes() == b"hello, world\n"
    status, headers, body = await fetch(api, f"/download/file/{fileid}", token)
    assert status == 200 and body == b"hello, world\n"
    assert headers["Content-Type"].startswith("text/plain")
    assert headers["Content-Disposition"] == "attachment; filename=\"demo.txt\"; filename*=UTF-8''demo.txt"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert incoming_files(api) == []


async def test_files_lists_the_callers_files_only(api):
    _, token = await api.login("alice")
    _, bob = await api.login("bob")
    assert (await api.call("user", "files", token=token)).answer["data"] == []
    first = (await put(api, "upload-file", b"a" * 10, token=token, filename="a.bin")).answer["fileid"]
    avatar = (await put(api, "upload-avatar", image("PNG"), token=token, filename="me.png")).answer["fileid"]
    await put(api, "upload-file", b"b", token=bob, filename="b.bin")
    data = (await api.call("user", "files", token=token)).answer["data"]
    assert [(f["fileid"], f["name"], f["type"], f["size"] if f["type"] == "file" else None) for f in data] == \
        [(first, "a.bin", "file", 10), (avatar, "me.png", "avatar", None)]
    assert all(isinstance(f["created_at"], int) and f["created_at"] > 0 for f in data)


async def test_files_needs_a_session(api):
    assert_code(await api.call("user", "files"), "004004", 401)


async def test_upload_without_a_session_is_004004_and_keeps_nothing(api):
    assert_code(await put(api, "upload-file", b"data"), "004004", 401)
    assert stored_files(api) == [] and incoming_files(api) == []


@pytest.mark.check
async def test_download_by_a_stranger_or_of_an_unknown_id_is_001419(api):
    _, token = await api.login("alice")
    _, stranger = await api.login("bob")
    fileid = (await put(api, "upload-file", b"secret", token=token)).answer["fileid"]
    for path, who in ((f"/download/file/{fileid}", stranger), ("/download/file/NoSuchFile123", token)):
        answer = await api.get(path, token=who)
        assert_code(answer, "001419", 404)
        assert answer.headers["Content-Type"].startswith("application/json")
        assert set(answer.body) == {"success", "error", "text", "timestamp", "language", "session"}


@pytest.mark.check
async def test_download_without_or_with_a_bad_token_is_004004(api):
    _, token = await api.login("alice")
    fileid = (await put(api, "upload-file", b"secret", token=token)).answer["fileid"]
    assert_code(await api.get(f"/download/file/{fileid}"), "004004", 401)
    assert_code(await api.get(f"/download/file/{fileid}", token="forged.token.here"), "004004", 401)
    response = await api.client.get(f"/download/file/{fileid}?token={token}")
    assert response.status == 401


async def test_download_by_an_admin_of_someone_elses_file(api):
    _, token = await api.login("alice")
    _, root = await api.login("root", is_admin=True)
    fileid = (await put(api, "upload-file", b"report", token=token, filename="r.csv")).answer["fileid"]
    status, _, body = await fetch(api, f"/download/file/{fileid}", root)
    assert status == 200 and body == b"report"


async def test_download_with_a_pending_second_factor_is_004005(api):
    user, token = await api.login("alice")
    fileid = (await put(api, "upload-file", b"x", token=token)).answer["fileid"]
    pending, _ = await api.session(user, completed=False)
    assert_code(await api.get(f"/download/file/{fileid}", token=pending), "004005", 403)


async def test_upload_file_keeps_a_filename_with_path_parts_and_controls_only_as_safe_metadata(api):
    _, token = await api.login("alice")
    # filename* (RFC 5987) can carry any byte: path parts, NUL, ESC, CR, LF, DEL and a bidi override.
    evil = "../../etc/\x00pass\x1b[31m\r\nwd\x7f\u202etxt.exe"
    answer = await put_raw(api, token, f"filename*=UTF-8''{quote(evil, safe='')}", b"content")
    assert_code(answer, "100100", 200)
    [listed] = (await api.call("user", "files", token=token)).answer["data"]
    assert listed["name"] == "pass[31mwdtxt.exe"
    [stored] = stored_files(api)
    assert stored.is_relative_to(api.services.settings.files_dir) and stored.read_bytes() == b"content"
    _, headers, _ = await fetch(api, f"/download/file/{listed['fileid']}", token)
    assert headers["Content-Disposition"] == \
        "attachment; filename=\"pass[31mwdtxt.exe\"; filename*=UTF-8''pass%5B31mwdtxt.exe"


async def test_upload_file_keeps_only_the_last_part_of_a_windows_path(api):
    # Backslashes escaped as a quoted-string wants: the server receives C:\Users\me\..\notes.txt
    _, token = await api.login("alice")
    assert_code(await put_raw(api, token, r'filename="C:\\Users\\me\\..\\notes.txt"', b"x"), "100100", 200)
    assert (await api.call("user", "files", token=token)).answer["data"][0]["name"] == "notes.txt"


async def test_upload_file_with_only_path_parts_as_a_name_is_called_file(api):
    _, token = await api.login("alice")
    assert_code(await put_raw(api, token, 'filename="../.."', b"x"), "100100", 200)
    assert (await api.call("user", "files", token=token)).answer["data"][0]["name"] == "file"


async def test_download_encodes_a_unicode_filename_per_rfc_6266(api):
    _, token = await api.login("alice")
    name = 'résumé "2024" 100%.pdf'
    answer = await put_raw(api, token, f"filename*=UTF-8''{quote(name, safe='')}", b"%PDF")
    _, headers, _ = await fetch(api, f"/download/file/{answer.answer['fileid']}", token)
    assert headers["Content-Disposition"] == ("attachment; filename=\"r_sum_ _2024_ 100_.pdf\"; "
                                              "filename*=UTF-8''r%C3%A9sum%C3%A9%20%222024%22%20100%25.pdf")


async def test_download_serves_a_malformed_content_type_as_octet_stream(api):
    _, token = await api.login("alice")
    fileid = (await put(api, "upload-file", b"<html>", token=token, filename="x.html",
                        content_type="text/html\u00e9; charset=x")).answer["fileid"]
    _, headers, _ = await fetch(api, f"/download/file/{fileid}", token)
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["X-Content-Type-Options"] == "nosniff"


async def test_upload_file_over_the_limit_is_001418_and_keeps_nothing(small):
    _, token = await small.login("alice")
    assert_code(await put(small, "upload-file", b"x" * (128 * KiB + 1), token=token), "001418", 400)
    assert_code(await put(small, "upload-file", b"x" * (128 * KiB), token=token), "100100", 200)
    assert len(stored_files(small)) == 1 and incoming_files(small) == []


async def test_upload_file_of_the_default_20_mib_limit(api):
    _, token = await api.login("alice")
    assert_code(await put(api, "upload-file", b"x" * (20 * MiB + 1), token=token), "001418", 400)
    assert stored_files(api) == []


@pytest.mark.check
async def test_upload_is_refused_while_streaming_before_the_whole_body_is_sent(small):
    """A chunked body far past the limit: the answer comes while the client is still sending."""
    _, token = await small.login("alice")
    boundary, total, sent = "streamboundary", 8 * MiB, 0
    release = asyncio.Event()

    async def body():
        nonlocal sent
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"module\"\r\n\r\nuser\r\n"
               f"--{boundary}\r\nContent-Disposition: form-data; name=\"param\"\r\n\r\nupload-file\r\n"
               f"--{boundary}\r\nContent-Disposition: form-data; name=\"source\"; filename=\"big.bin\"\r\n"
               f"Content-Type: application/octet-stream\r\n\r\n").encode()
        while sent < total:
            if sent > 1 * MiB:   # well past the limit: hold the rest back until the answer is in
                try:
                    await asyncio.wait_for(release.wait(), 10)
                except asyncio.TimeoutError:
                    pass
                if release.is_set():
                    return
            sent += 64 * KiB
            yield b"x" * (64 * KiB)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await small.client.put("/api", data=body(), headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Authorization-Token": f"Bearer {token}"})
    answer = await response.json()
    sent_when_answered = sent
    release.set()
    response.close()
    assert answer["error"] == "001418"
    assert sent_when_answered < total
    assert stored_files(small) == [] and incoming_files(small) == []


@pytest.mark.check
async def test_upload_past_the_quota_is_001418_and_keeps_nothing(small):
    _, token = await small.login("alice")
    for _ in range(2):
        assert_code(await put(small, "upload-file", b"x" * (128 * KiB), token=token), "100100", 200)
    assert_code(await put(small, "upload-file", b"x" * (44 * KiB + 1), token=token), "001418", 400)
    assert_code(await put(small, "upload-file", b"x" * (44 * KiB), token=token), "100100", 200)
    data = (await small.call("user", "files", token=token)).answer["data"]
    assert sum(f["size"] for f in data) == 300 * KiB and len(stored_files(small)) == 3


async def test_the_quota_is_per_user(small):
    _, alice = await small.login("alice")
    _, bob = await small.login("bob")
    for _ in range(2):
        await put(small, "upload-file", b"x" * (128 * KiB), token=alice)
    assert_code(await put(small, "upload-file", b"x" * (128 * KiB), token=bob), "100100", 200)


async def test_upload_file_through_post_has_no_source_and_is_002003(api):
    _, token = await api.login("alice")
    answer = await api.call("user", "upload-file", token=token)
    assert_code(answer, "002003", 400)
    assert answer.body["details"] == [{"arg": "source", "problem": "missing"}]


async def test_upload_with_the_other_type_field_is_002003(api):
    _, token = await api.login("alice")
    answer = await put(api, "upload-avatar", image("PNG"), token=token, kind="file")
    assert_code(answer, "002003", 400)
    assert stored_files(api) == []


@pytest.mark.check
async def test_two_uploads_at_once_cannot_both_slip_under_the_quota(small):
    _, token = await small.login("alice")
    await put(small, "upload-file", b"x" * (128 * KiB), token=token)
    # 172 KiB are left: each of these fits alone, both together do not.
    answers = await asyncio.gather(*(put(small, "upload-file", b"y" * (100 * KiB), token=token) for _ in range(2)))
    assert sorted(a.code for a in answers) == ["001418", "100100"]
    assert len(stored_files(small)) == 2 and incoming_files(small) == []


async def test_a_stored_file_whose_request_rolls_back_leaves_no_file_behind(api, db):
    """The file is in the store before the request ends; a later failure (here the activity log
    refuses the row) rolls the request back and the file goes with it."""
    _, token = await api.login("alice")
    await db.execute("""CREATE FUNCTION test_refuse_upload_log() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN RAISE EXCEPTION 'refused by the test'; END $$""")
    await db.execute("""CREATE TRIGGER test_refuse_upload_log BEFORE INSERT ON ugene_activity FOR EACH ROW
                        WHEN (NEW.action = 'file-uploaded') EXECUTE FUNCTION test_refuse_upload_log()""")
    try:
        answer = await put(api, "upload-file", b"never kept\n", token=token, filename="gone.txt")
    finally:
        await db.execute("DROP TRIGGER test_refuse_upload_log ON ugene_activity")
        await db.execute("DROP FUNCTION test_refuse_upload_log()")
    assert_code(answer, "002005", 500)
    assert await db.fetchval("SELECT count(*) FROM ugene_file") == 0
    assert stored_files(api) == [] and incoming_files(api) == []
