"""auth with 2FA on: signin's one-time code step and verify-otp (mailed codes and TOTP)."""
import asyncio

import pyotp
import pytest

from ugene import otp

from .helpers import line_matching
from .test_auth import resolve, signin


async def two_factor(api, db, username="alice") -> dict:
    """An account with 2FA switched on (as user/switch-2fa would leave it)."""
    user = await api.user(username)
    await db.execute("UPDATE ugene_user_config SET current_value = '1' WHERE user_id = $1", user["id"])
    return user


async def mailed_code(smtp, count=1, to="alice@example.test") -> str:
    mails = await smtp.wait(count, to=to)
    return line_matching(mails[-1] if count > 1 else mails, r"^\d{6}$")


async def pending(api, smtp):
    """Sign in with the password only: (pending token, mailed code)."""
    answer = await signin(api)
    assert answer.code == "100105"
    return answer.answer["token"], await mailed_code(smtp)


async def test_signin_with_2fa_mails_a_code_and_opens_a_pending_session(api, db, smtp):
    user = await two_factor(api, db)
    answer = await signin(api)
    assert answer.ok and answer.status == 200
    assert answer.answer["message"] == "100105" and answer.answer["text"] and "refresh_token" not in answer.answer
    assert answer.body["session"]["completed"] == 0 and answer.body["session"]["uid"] == user["uid"]
    session = await resolve(api, answer.answer["token"])
    assert session is not None and not session.completed
    mail = await smtp.wait(to="alice@example.test")
    assert mail["Subject"] == "Your sign-in code" and line_matching(mail, r"^\d{6}$")


async def test_verify_otp_completes_the_pending_session(api, db, smtp):
    await two_factor(api, db)
    token, code = await pending(api, smtp)
    answer = await api.call("auth", "verify-otp", token=token, otp=code)
    assert answer.ok and set(answer.answer) == {"token", "refresh_token"}
    assert answer.body["session"]["completed"] == 1
    assert (await resolve(api, answer.answer["token"])).completed
    assert await resolve(api, token) is None          # the pending session ended
    refreshed = await api.call("auth", "refresh-session", **{"refresh-token": answer.answer["refresh_token"]})
    assert refreshed.ok


async def test_signin_again_with_the_mailed_code_completes_it(api, db, smtp):
    await two_factor(api, db)
    _, code = await pending(api, smtp)
    answer = await signin(api, otp=code)
    assert answer.ok and answer.body["session"]["completed"] == 1 and answer.answer["refresh_token"]


async def test_signin_accepts_the_code_as_a_number(api, db, smtp):
    await two_factor(api, db)
    _, code = await pending(api, smtp)
    assert (await signin(api, otp=int(code))).ok          # leading zeros come back


async def test_a_code_number_with_leading_zeros_matches(api, db, clock):
    user = await two_factor(api, db)
    totp = pyotp.parse_uri(await otp.provision(db, user))
    while not totp.at(clock.time()).startswith("0"):       # move to a step whose code starts with 0
        clock.advance(30)
    assert (await signin(api, otp=int(totp.at(clock.time())))).ok


async def test_signin_accepts_an_authenticator_app_code_once(api, db, clock):
    user = await two_factor(api, db)
    uri = await otp.provision(db, user)
    totp = pyotp.parse_uri(uri)
    code = totp.at(clock.time())
    assert (await signin(api, otp=code)).ok
    replay = await signin(api, otp=code)
    assert replay.code == "001413" and replay.status == 401


async def test_an_authenticator_code_one_step_old_is_still_accepted(api, db, clock):
    user = await two_factor(api, db)
    totp = pyotp.parse_uri(await otp.provision(db, user))
    code = totp.at(clock.time())
    clock.advance(30)
    assert (await signin(api, otp=code)).ok


@pytest.mark.check
async def test_a_mailed_code_works_only_once(api, db, smtp):
    await two_factor(api, db)
    token, code = await pending(api, smtp)
    assert (await signin(api, otp=code)).ok
    assert (await api.call("auth", "verify-otp", token=token, otp=code)).code == "001413"


@pytest.mark.check
async def test_a_mailed_code_expires_after_ten_minutes(api, db, smtp, clock):
    await two_factor(api, db)
    _, code = await pending(api, smtp)
    clock.advance(601)
    assert (await signin(api, otp=code)).code == "001413"


async def test_signin_with_a_wrong_code_is_001413(api, db, smtp):
    await two_factor(api, db)
    _, code = await pending(api, smtp)
    wrong = "000000" if code != "000000" else "111111"
    answer = await signin(api, otp=wrong)
    assert answer.code == "001413" and answer.body["session"] == {}
    assert (await signin(api, otp="12ab")).code == "001413"
    assert (await signin(api, otp=code)).ok


async def test_a_wrong_password_with_a_code_is_001404(api, db, smtp):
    await two_factor(api, db)
    _, code = await pending(api, smtp)
    assert (await signin(api, password="Wrong7Horse", otp=code)).code == "001404"


@pytest.mark.check
async def test_five_wrong_codes_in_a_row_make_the_next_attempt_wait(api, db, smtp, clock):
    await two_factor(api, db)
    token, code = await pending(api, smtp)
    wrong = "000000" if code != "000000" else "111111"
    for attempt in range(5):
        call = signin(api, otp=wrong) if attempt % 2 else api.call("auth", "verify-otp", token=token, otp=wrong)
        assert (await call).code == "001413"
    answer = await api.call("auth", "verify-otp", token=token, otp=code)
    assert answer.code == "001417" and answer.status == 429 and answer.headers["Retry-After"] == "30"
    assert (await signin(api, otp=code)).code == "001417"
    clock.advance(30)
    assert (await api.call("auth", "verify-otp", token=token, otp=code)).ok


async def test_wrong_codes_sent_all_at_once_get_five_tries_not_more(api, db, smtp):
    await two_factor(api, db)
    token, code = await pending(api, smtp)
    wrong = "000000" if code != "000000" else "111111"
    answers = await asyncio.gather(*(api.call("auth", "verify-otp", token=token, otp=wrong) for _ in range(20)))
    assert sorted(answer.code for answer in answers) == ["001413"] * 5 + ["001417"] * 15, answers
    assert (await api.call("auth", "verify-otp", token=token, otp=code)).code == "001417"


async def test_a_second_signin_within_a_minute_mails_no_new_code(api, db, smtp):
    await two_factor(api, db)
    _, code = await pending(api, smtp)
    assert (await signin(api)).code == "100105"
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox WHERE template = 'otp_code'") == 1
    assert (await signin(api, otp=code)).ok


async def test_an_empty_code_counts_as_none(api, db, smtp):
    await two_factor(api, db)
    assert (await signin(api, otp="")).code == "100105"


async def test_a_pending_session_gets_no_refresh_token(api, db, smtp):
    await two_factor(api, db)
    await pending(api, smtp)
    pending_row = await db.fetchrow("SELECT refresh_hash, completed FROM ugene_session")
    assert pending_row["refresh_hash"] is None and not pending_row["completed"]


async def test_verify_otp_on_a_completed_session_is_002004(api, db):
    _, token = await api.login("alice")
    answer = await api.call("auth", "verify-otp", token=token, otp="123456")
    assert answer.code == "002004" and answer.body["session"]["completed"] == 1


async def test_verify_otp_without_a_session_is_004004(api, db):
    answer = await api.call("auth", "verify-otp", otp="123456")
    assert answer.code == "004004" and answer.status == 401
    assert (await api.call("auth", "verify-otp", token="not-a-jwt", otp="123456")).code == "004004"


async def test_verify_otp_without_a_code_is_002003(api, db, smtp):
    await two_factor(api, db)
    token, _ = await pending(api, smtp)
    answer = await api.call("auth", "verify-otp", token=token)
    assert answer.code == "002003" and answer.body["details"] == [{"arg": "otp", "problem": "missing"}]


async def test_otp_is_ignored_while_2fa_is_off(api, db):
    await api.user("alice")
    answer = await signin(api, otp="991805")
    assert answer.ok and answer.body["session"]["completed"] == 1


async def test_a_code_that_is_neither_text_nor_a_whole_number_is_002003(api, db, smtp):
    await two_factor(api, db)
    for value in (True, 123456.0, ["123456"]):
        answer = await signin(api, otp=value)
        assert answer.code == "002003" and {d["arg"].split(".")[0] for d in answer.body["details"]} == {"otp"}
    assert await db.fetchval("SELECT count(*) FROM ugene_session") == 0
