"""user module: switch-2fa and resend-otp (protocol §5 user, seed items 13 and 14)."""
import re
from urllib.parse import parse_qs, urlsplit

import pyotp

from .helpers import line_matching

SEED_KEYS = {"UID", "ConfigName", "ConfigGroup", "ConfigKey", "CurrentValue", "DefaultValue", "Status",
             "CreatedAt", "UpdatedAt"}


def assert_code(answer, code: str, status: int):
    assert answer.code == code, answer
    assert answer.status == status, answer


async def test_switch_2fa_turns_it_on_with_the_seed_fields_and_an_otpauth_uri(api, db, clock):
    user, token = await api.login("alice")
    clock.advance(5)
    answer = await api.get("/api/user/switch-2fa/en", token=token)
    assert answer.ok, answer
    data = answer.answer["data"]
    assert SEED_KEYS <= set(data)
    assert data["UID"] == user["uid"] and data["ConfigName"] == "Authentication Two Factor"
    assert data["ConfigGroup"] == "security" and data["ConfigKey"] == "auth_two_factor"
    assert data["CurrentValue"] == "1" and data["DefaultValue"] == "0" and data["Status"] is True
    assert data["UpdatedAt"] >= data["CreatedAt"] + 5
    uri = urlsplit(data["otpauth-uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    query = parse_qs(uri.query)
    assert query["issuer"] == ["Ugene"]
    assert query["secret"][0] == await db.fetchval("SELECT totp_secret FROM ugene_user WHERE id = $1", user["id"])
    assert pyotp.parse_uri(data["otpauth-uri"]).now().isdigit()


async def test_switch_2fa_twice_turns_it_off_and_retires_the_secret_and_pending_codes(api, db, smtp):
    user, token = await api.login("alice")
    assert (await api.get("/api/user/switch-2fa/en", token=token)).ok
    assert_code(await api.get("/api/user/resend-otp/en", token=token), "100104", 200)
    code = line_matching(await smtp.wait(to="alice@example.test"), r"^\d{6}$")
    answer = await api.get("/api/user/switch-2fa/en", token=token)
    data = answer.answer["data"]
    assert data["CurrentValue"] == "0" and "otpauth-uri" not in data
    assert await db.fetchval("SELECT totp_secret FROM ugene_user WHERE id = $1", user["id"]) is None
    assert await api.services.tokens.use(db, "otp", code, user_id=user["id"]) is None


async def test_switch_2fa_needs_a_completed_session(api):
    user = await api.user("alice")
    token, _ = await api.session(user, completed=False)
    assert_code(await api.get("/api/user/switch-2fa/en", token=token), "004005", 403)
    assert_code(await api.get("/api/user/switch-2fa/en"), "004004", 401)


async def test_resend_otp_mails_a_code_to_a_not_yet_completed_session(api, db, smtp):
    user, token = await api.login("alice")
    await api.get("/api/user/switch-2fa/en", token=token)
    pending, _ = await api.session(user, completed=False)
    answer = await api.get("/api/user/resend-otp/en", token=pending)
    assert_code(answer, "100104", 200)
    assert answer.body["session"]["completed"] == 0
    code = line_matching(await smtp.wait(to="alice@example.test"), r"^\d{6}$")
    assert re.fullmatch(r"\d{6}", code)
    assert await api.services.tokens.use(db, "otp", code, user_id=user["id"]) is not None


async def test_resend_otp_is_002004_while_2fa_is_off(api, db):
    user, token = await api.login("alice")
    pending, _ = await api.session(user, completed=False)
    for t in (token, pending):
        assert_code(await api.get("/api/user/resend-otp/en", token=t), "002004", 400)
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == 0


async def test_resend_otp_sends_at_most_one_code_a_minute(api, db, clock):
    user, token = await api.login("alice")
    await api.get("/api/user/switch-2fa/en", token=token)
    pending, _ = await api.session(user, completed=False)
    assert_code(await api.get("/api/user/resend-otp/en", token=pending), "100104", 200)
    clock.advance(20)
    held = await api.get("/api/user/resend-otp/en", token=pending)
    assert_code(held, "001417", 429)
    assert 30 <= int(held.headers["Retry-After"]) <= 40
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox WHERE template = 'otp_code'") == 1
    clock.advance(41)
    assert_code(await api.get("/api/user/resend-otp/en", token=pending), "100104", 200)


async def test_resend_otp_without_a_session_is_004004(api):
    assert_code(await api.get("/api/user/resend-otp/en"), "004004", 401)
