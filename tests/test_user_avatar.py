"""user module: upload-avatar and the core routes /image/user/avatar[/uid] (seed items 31 and 34)."""
import io

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from .test_user_files import KiB, MiB, assert_code, fetch, image, incoming_files, noise, png_declaring, put, \
    small_app, stored_files


@pytest.fixture
async def small(aiohttp_client, settings, clock, db):
    return await small_app(aiohttp_client, settings, clock)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP", "BMP"])
async def test_upload_avatar_accepts_each_image_format_and_stores_a_png(api, fmt):
    user, token = await api.login("alice")
    answer = await put(api, "upload-avatar", image(fmt), token=token, filename=f"me.{fmt.lower()}",
                       content_type="application/octet-stream")
    assert_code(answer, "100100", 200)
    assert answer.answer["fileid"]
    status, headers, body = await fetch(api, "/image/user/avatar", token)
    assert status == 200 and headers["Content-Type"] == "image/png" and headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(body)) as stored:
        assert stored.format == "PNG" and stored.size == (40, 25)
    assert (await api.call("user", "files", token=token)).answer["data"][0]["name"] == "me.png"


async def test_upload_avatar_drops_metadata_and_turns_the_image_upright(api):
    _, token = await api.login("alice")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"       # Make
    exif[0x0112] = 6                 # Orientation: rotate 90° clockwise to view
    data = image("JPEG", size=(40, 20), exif=exif.tobytes())
    assert_code(await put(api, "upload-avatar", data, token=token, filename="me.jpg"), "100100", 200)
    _, _, body = await fetch(api, "/image/user/avatar", token)
    assert b"SecretCam" not in body
    with Image.open(io.BytesIO(body)) as stored:
        assert stored.size == (20, 40) and not stored.getexif() and "exif" not in stored.info


async def test_upload_avatar_drops_png_text_chunks(api):
    _, token = await api.login("alice")
    info = PngInfo()
    info.add_text("Comment", "my home address")
    assert_code(await put(api, "upload-avatar", image("PNG", pnginfo=info), token=token), "100100", 200)
    _, _, body = await fetch(api, "/image/user/avatar", token)
    assert b"home address" not in body


async def test_upload_avatar_refuses_a_text_file(api):
    _, token = await api.login("alice")
    answer = await put(api, "upload-avatar", b"just some text\n" * 20, token=token, filename="me.png",
                       content_type="image/png")
    assert_code(answer, "001418", 400)
    assert stored_files(api) == [] and incoming_files(api) == []


@pytest.mark.check
async def test_upload_avatar_refuses_an_image_header_with_garbage_behind_it(api):
    _, token = await api.login("alice")
    for data in (b"GIF89a" + b"\x00" * 200, image("PNG")[:60], b"\xff\xd8\xff\xe0" + b"junk" * 50):
        assert_code(await put(api, "upload-avatar", data, token=token), "001418", 400)
    assert stored_files(api) == []


async def test_upload_avatar_refuses_an_image_of_another_format(api):
    _, token = await api.login("alice")
    assert_code(await put(api, "upload-avatar", image("TIFF"), token=token), "001418", 400)


@pytest.mark.check
async def test_upload_avatar_refuses_a_png_declaring_a_huge_size_without_decoding_it(api):
    _, token = await api.login("alice")
    for width, height in ((8000, 6000), (1_000_000, 1_000_000), (2**31 - 1, 2**31 - 1)):
        assert_code(await put(api, "upload-avatar", png_declaring(width, height), token=token), "001418", 400)
    assert stored_files(api) == []


async def test_upload_avatar_refuses_a_valid_image_over_40_megapixels(api):
    _, token = await api.login("alice")
    data = image("PNG", size=(8000, 5001), mode="1")      # 40,008,000 pixels, a few KiB compressed
    assert len(data) < 5 * MiB
    assert_code(await put(api, "upload-avatar", data, token=token), "001418", 400)


async def test_upload_avatar_pixel_limit_is_a_setting(small):
    _, token = await small.login("alice")
    assert_code(await put(small, "upload-avatar", image("PNG", size=(101, 200)), token=token), "001418", 400)
    assert_code(await put(small, "upload-avatar", image("PNG", size=(100, 200)), token=token), "100100", 200)


async def test_upload_avatar_over_its_size_limit_is_001418_whatever_the_field_order(small):
    _, token = await small.login("alice")
    data = image("BMP", size=(150, 150))     # a real image of 66 KiB: over the avatar limit, under the file one
    assert 64 * KiB < len(data) < 128 * KiB
    for source_first in (False, True):
        assert_code(await put(small, "upload-avatar", data, token=token, source_first=source_first), "001418", 400)
    assert stored_files(small) == []


async def test_upload_avatar_of_the_default_5_mib_limit(api):
    _, token = await api.login("alice")
    data = image("BMP", size=(1300, 1400))   # 5.2 MiB
    assert len(data) > 5 * MiB
    assert_code(await put(api, "upload-avatar", data, token=token), "001418", 400)


async def test_a_new_avatar_replaces_the_old_one(api):
    user, token = await api.login("alice")
    old = (await put(api, "upload-avatar", image("PNG", size=(10, 10)), token=token)).answer["fileid"]
    [old_path] = stored_files(api)
    new = (await put(api, "upload-avatar", image("PNG", size=(20, 20)), token=token)).answer["fileid"]
    assert not old_path.exists() and len(stored_files(api)) == 1
    assert [f["fileid"] for f in (await api.call("user", "files", token=token)).answer["data"]] == [new]
    assert_code(await api.get(f"/download/file/{old}", token=token), "001419", 404)
    _, _, body = await fetch(api, f"/image/user/avatar/{user['uid']}", token)
    assert Image.open(io.BytesIO(body)).size == (20, 20)


async def test_replacing_the_avatar_counts_against_the_quota_without_the_old_one(small):
    _, token = await small.login("alice")
    for _ in range(2):
        assert_code(await put(small, "upload-file", b"x" * (128 * KiB), token=token), "100100", 200)
    out = io.BytesIO()
    noise((100, 100)).save(out, format="BMP")
    # 44 KiB of quota are left: one such avatar (about 30 KiB stored) fits, two would not.
    for _ in range(3):
        assert_code(await put(small, "upload-avatar", out.getvalue(), token=token), "100100", 200)
    assert len(stored_files(small)) == 3
    with Image.open(io.BytesIO(out.getvalue())) as original:
        assert original.size == (100, 100)
    data = (await small.call("user", "files", token=token)).answer["data"]
    assert 22 * KiB < data[-1]["size"] <= 44 * KiB


async def test_avatar_of_another_user_is_served_to_any_completed_session(api):
    alice, token = await api.login("alice")
    _, bob = await api.login("bob")
    await put(api, "upload-avatar", image("GIF"), token=token)
    status, headers, body = await fetch(api, f"/image/user/avatar/{alice['uid']}", bob)
    assert status == 200 and headers["Content-Type"] == "image/png" and body.startswith(b"\x89PNG")


async def test_avatar_routes_answer_001419_when_there_is_none(api):
    alice, token = await api.login("alice")
    assert_code(await api.get("/image/user/avatar", token=token), "001419", 404)
    assert_code(await api.get(f"/image/user/avatar/{alice['uid']}", token=token), "001419", 404)
    assert_code(await api.get("/image/user/avatar/NoSuchUid123", token=token), "001419", 404)


async def test_avatar_of_a_deleted_account_is_gone(api, db):
    alice, token = await api.login("alice")
    _, bob = await api.login("bob")
    await put(api, "upload-avatar", image("PNG"), token=token)
    await api.call("user", "delete-account", token=token)
    assert_code(await api.get(f"/image/user/avatar/{alice['uid']}", token=bob), "001419", 404)


async def test_avatar_routes_need_a_completed_session(api):
    alice, token = await api.login("alice")
    await put(api, "upload-avatar", image("PNG"), token=token)
    pending, _ = await api.session(alice, completed=False)
    assert_code(await api.get(f"/image/user/avatar/{alice['uid']}"), "004004", 401)
    assert_code(await api.get("/image/user/avatar", token="bad"), "004004", 401)
    assert_code(await api.get("/image/user/avatar", token=pending), "004005", 403)
