"""reg: signup, resend-confirm and confirm-email, through real HTTP, PostgreSQL and SMTP."""
import asyncio

import pytest
from yarl import URL

from .helpers import link_in

SEED_SIGNUP = {"module": "reg", "param": "signup",
               "args": {"uname": "user01", "pass": "Francis1992", "email": "vucongthanh92@gmail.com"},
               "language": "en", "timestamp": "111111"}


async def follow(api, link: str):
    """Open a mailed link as a browser would: a GET on its path and query."""
    url = URL(link)
    return await api.get(url.path, **dict(url.query))


async def outbox_count(db, recipient: str) -> int:
    return await db.fetchval("SELECT count(*) FROM ugene_outbox WHERE lower(recipient) = lower($1)", recipient)


async def account(db, username: str):
    return await db.fetchrow("SELECT * FROM ugene_user WHERE username = $1", username)


async def switch(db, key: str, on: bool) -> None:
    await db.execute("UPDATE ugene_setting SET value = $2 WHERE key = $1", key, "true" if on else "false")


async def signup(api, uname="bob", password="Correct7Horse", email=None, **kwargs):
    email = f"{uname}@example.test" if email is None else email
    return await api.call("reg", "signup", uname=uname, email=email,
                          **{"pass": password}, **kwargs)


# signup

async def test_signup_answers_the_seed_example(api, db, smtp):
    answer = await api.post(SEED_SIGNUP)
    assert answer.status == 200
    assert set(answer.body) == {"success", "answer", "timestamp", "language", "session"}
    assert answer.body["success"] == 1 and answer.body["session"] == {} and answer.body["language"] == "en"
    assert answer.answer == {"message": "100100", "text": "Done"}
    row = await account(db, "user01")
    assert row["email"] == "vucongthanh92@gmail.com" and row["password_hash"].startswith("$argon2id$")


async def test_signup_with_confirmation_mails_a_link_and_leaves_the_account_uncompleted(api, db, smtp):
    assert (await signup(api)).code == "100100"
    mail = await smtp.wait(to="bob@example.test")
    link = link_in(mail)
    assert link.startswith("https://ugene.example.test/api/reg/confirm-email/en?hash=")
    assert mail["Subject"] == "Confirm your email address" and "Hello bob" in mail.get_body(("plain",)).get_content()
    row = await account(db, "bob")
    assert not row["completed"] and row["mailsent"] is not None and row["mailconfirmed"] is None
    assert row["language"] == "en"


async def test_signup_without_confirmation_completes_the_account_and_sends_nothing(api, db):
    await switch(db, "comfirmation-email", False)
    assert (await signup(api)).code == "100100"
    row = await account(db, "bob")
    assert row["completed"] and row["mailsent"] is None
    assert await outbox_count(db, "bob@example.test") == 0


async def test_signup_mails_in_the_request_language(api, db, smtp):
    assert (await signup(api, language="vi")).ok
    mail = await smtp.wait(to="bob@example.test")
    assert "/api/reg/confirm-email/vi?hash=" in link_in(mail)
    assert (await account(db, "bob"))["language"] == "vi"
    english = api.services.messages.mail("confirm_email", "en", username="bob", link="x")[0]
    assert mail["Subject"] != english


async def test_signup_rejects_a_taken_username_whatever_its_case(api, db):
    await api.user("bob")
    answer = await signup(api, uname="BOB", email="other@example.test")
    assert answer.code == "001401" and answer.status == 409
    assert await db.fetchval("SELECT count(*) FROM ugene_user") == 1


@pytest.mark.check
async def test_signup_rejects_a_registered_email_whatever_its_case(api, db):
    await api.post(SEED_SIGNUP)
    again = dict(SEED_SIGNUP, args=dict(SEED_SIGNUP["args"], uname="user02", email="VuCongThanh92@Gmail.com"))
    answer = await api.post(again)
    assert answer.code == "001402" and answer.status == 409 and answer.body["session"] == {}
    assert await db.fetchval("SELECT count(*) FROM ugene_user") == 1


@pytest.mark.parametrize("password", ["Short7a", "NoDigitsHere", "alllower77", "ALLUPPER77", "Password1",
                                      "A1" + "a" * 127])
async def test_signup_rejects_a_weak_password(api, db, password):
    answer = await signup(api, password=password)
    assert answer.code == "001403" and answer.status == 400
    assert await db.fetchval("SELECT count(*) FROM ugene_user") == 0


@pytest.mark.parametrize("email", ["no-at.example.test", "a@localhost", " bob@example.test", "bob@example.test ",
                                   "b ob@example.test", "a@@example.test", "@example.test", "a@example.",
                                   "x" * 65 + "@example.test", "a@" + "d" * 250 + ".test", ""])
async def test_signup_rejects_an_invalid_email(api, db, email):
    answer = await signup(api, email=email)
    assert answer.code == "001405" and answer.status == 400
    assert await db.fetchval("SELECT count(*) FROM ugene_user") == 0


@pytest.mark.parametrize("uname", ["ab", "x" * 33, "bad name", "bob@example.test", "bob!", ""])
async def test_signup_rejects_an_invalid_username(api, db, uname):
    answer = await signup(api, uname=uname, email="bob@example.test")
    assert answer.code == "001406" and answer.status == 400
    assert await db.fetchval("SELECT count(*) FROM ugene_user") == 0


async def test_signup_accepts_the_whole_username_alphabet(api, db):
    assert (await signup(api, uname="A.b_c-9", email="abc@example.test")).code == "100100"


async def test_signup_is_refused_while_registration_is_closed(api, db):
    await switch(db, "allow-registration", False)
    answer = await signup(api)
    assert answer.code == "001407" and answer.status == 403
    assert await db.fetchval("SELECT count(*) FROM ugene_user") == 0


async def test_signup_with_missing_or_mistyped_args_is_002003(api, db):
    answer = await api.call("reg", "signup", uname="bob", email="bob@example.test")
    assert answer.code == "002003" and answer.body["details"] == [{"arg": "pass", "problem": "missing"}]
    answer = await api.call("reg", "signup", uname=5, email="bob@example.test", **{"pass": "Correct7Horse"})
    assert answer.code == "002003" and answer.body["details"][0]["arg"] == "uname"
    answer = await signup(api, extra="no")
    assert answer.code == "002003"
    assert await db.fetchval("SELECT count(*) FROM ugene_user") == 0


async def test_signup_is_not_a_get_door(api, db):
    answer = await api.get("/api/reg/signup/en", uname="bob", email="bob@example.test", **{"pass": "Correct7Horse"})
    assert answer.code == "002001"


@pytest.mark.check
async def test_racing_signups_for_one_name_create_one_account(api, db):
    answers = await asyncio.gather(*(signup(api, uname="bob", email=f"bob{i}@example.test") for i in range(4)))
    assert sorted(a.code for a in answers) == ["001401"] * 3 + ["100100"]
    assert await db.fetchval("SELECT count(*) FROM ugene_user") == 1


# resend-confirm

@pytest.mark.check
async def test_resend_confirm_answers_the_seed_example_and_a_fresh_link_replaces_the_old(api, db, smtp, clock):
    await api.post(SEED_SIGNUP)
    first = link_in(await smtp.wait(to="vucongthanh92@gmail.com"))
    clock.advance(61)
    answer = await api.post({"module": "reg", "param": "resend-confirm", "args": {"email": "vucongthanh92@gmail.com"},
                             "language": "vi", "timestamp": "123456789"})
    assert answer.ok and answer.code == "100007" and answer.body["language"] == "vi"
    second = link_in((await smtp.wait(2, to="vucongthanh92@gmail.com"))[1])
    assert second != first and "/confirm-email/vi?hash=" in second
    assert (await follow(api, first)).code == "001400"
    assert (await follow(api, second)).code == "100006"


@pytest.mark.check
async def test_resend_confirm_within_a_minute_sends_nothing_and_keeps_the_earlier_link(api, db, smtp, clock):
    await signup(api)
    link = link_in(await smtp.wait(to="bob@example.test"))
    clock.advance(30)
    answer = await api.call("reg", "resend-confirm", email="BOB@Example.TEST")
    assert answer.code == "100007"
    assert await outbox_count(db, "bob@example.test") == 1
    assert (await follow(api, link)).code == "100006"


async def test_resend_confirm_sets_mailsent(api, db, smtp, clock):
    await signup(api)
    before = (await account(db, "bob"))["mailsent"]
    clock.advance(120)
    await api.call("reg", "resend-confirm", email="bob@example.test")
    assert (await account(db, "bob"))["mailsent"] > before


@pytest.mark.check
async def test_resend_confirm_for_an_unknown_email_answers_100007_and_sends_nothing(api, db):
    answer = await api.call("reg", "resend-confirm", email="nobody@example.test")
    assert answer.code == "100007"
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == 0


async def test_resend_confirm_for_a_confirmed_account_answers_100007_and_sends_nothing(api, db):
    await api.user("bob")
    answer = await api.call("reg", "resend-confirm", email="bob@example.test")
    assert answer.code == "100007"
    assert await outbox_count(db, "bob@example.test") == 0


async def test_resend_confirm_for_a_deleted_account_sends_nothing(api, db, clock):
    await signup(api)
    await db.execute("UPDATE ugene_user SET deleted = true")
    clock.advance(61)
    assert (await api.call("reg", "resend-confirm", email="bob@example.test")).code == "100007"
    assert await outbox_count(db, "bob@example.test") == 1


async def test_resend_confirm_rejects_an_invalid_email(api, db):
    answer = await api.call("reg", "resend-confirm", email="not-an-address")
    assert answer.code == "001405" and answer.status == 400


# confirm-email

async def test_confirm_email_through_the_get_door_completes_the_account(api, db, smtp):
    await signup(api)
    answer = await follow(api, link_in(await smtp.wait(to="bob@example.test")))
    assert answer.ok and answer.code == "100006" and answer.body["session"] == {}
    row = await account(db, "bob")
    assert row["completed"] and row["mailconfirmed"] is not None and row["updated_at"] == row["mailconfirmed"]


async def test_confirm_email_through_post(api, db, smtp):
    await signup(api)
    secret = URL(link_in(await smtp.wait(to="bob@example.test"))).query["hash"]
    assert (await api.call("reg", "confirm-email", hash=secret)).code == "100006"


@pytest.mark.check
async def test_confirm_email_link_works_only_once(api, db, smtp):
    await signup(api)
    link = link_in(await smtp.wait(to="bob@example.test"))
    assert (await follow(api, link)).code == "100006"
    again = await follow(api, link)
    assert again.code == "001400" and again.status == 400


@pytest.mark.check
async def test_confirm_email_link_expires_after_a_day(api, db, smtp, clock):
    await signup(api)
    link = link_in(await smtp.wait(to="bob@example.test"))
    clock.advance(24 * 3600 + 1)
    assert (await follow(api, link)).code == "001400"
    assert not (await account(db, "bob"))["completed"]


async def test_confirm_email_with_an_unknown_hash_is_001400(api, db):
    answer = await api.get("/api/reg/confirm-email/en", hash="foiWt1")
    assert answer.code == "001400" and answer.status == 400 and answer.body["language"] == "en"


async def test_confirm_email_without_a_hash_is_002003(api, db):
    answer = await api.get("/api/reg/confirm-email/en")
    assert answer.code == "002003" and answer.body["details"] == [{"arg": "hash", "problem": "missing"}]


async def test_confirm_email_for_a_deleted_account_is_001400(api, db, smtp):
    await signup(api)
    link = link_in(await smtp.wait(to="bob@example.test"))
    await db.execute("UPDATE ugene_user SET deleted = true")
    assert (await follow(api, link)).code == "001400"


async def change_email_link(api, user: dict, new_email: str) -> str:
    """The link user/change-email mails to the new address: a `confirm-email` token naming it in its payload."""
    async with api.services.pool.acquire() as conn:
        await conn.execute("UPDATE ugene_user SET pending_email = $2 WHERE id = $1", user["id"], new_email)
        secret = await api.services.tokens.issue(conn, user["id"], "confirm-email", 3600, email=new_email,
                                                 payload={"new_email": new_email})
    return f"https://ugene.example.test/api/reg/confirm-email/en?hash={secret}"


async def test_confirm_email_finishes_a_pending_email_change(api, db):
    user = await api.user("bob")
    link = await change_email_link(api, user, "Bob.New@example.test")
    assert (await follow(api, link)).code == "100006"
    row = await account(db, "bob")
    assert row["email"] == "Bob.New@example.test" and row["pending_email"] is None
    assert row["mailconfirmed"] is not None
    assert (await follow(api, link)).code == "001400"


async def test_confirm_email_change_to_an_address_taken_meanwhile_is_001402_and_keeps_the_link(api, db):
    user = await api.user("bob")
    link = await change_email_link(api, user, "taken@example.test")
    await api.user("carol", email="TAKEN@example.test")
    answer = await follow(api, link)
    assert answer.code == "001402"
    assert (await account(db, "bob"))["email"] == "bob@example.test"
    await db.execute("UPDATE ugene_user SET email = 'carol@example.test' WHERE username = 'carol'")
    assert (await follow(api, link)).code == "100006"
