"""Races over real HTTP: one mailed link opened by 16 clients at once, 20 signups of one address in
different letter cases. Each ends with exactly one winner and never a 5xx.

The single-use, expiry and resend cases of each link are in test_reg.py and test_auth_restore.py.
"""
import asyncio
import itertools

import pytest
from yarl import URL

from .helpers import line_matching, link_in
from .test_reg import signup

pytestmark = pytest.mark.check

PASSWORD = "Correct7Horse"


def case_variants(text: str, count: int) -> list[str]:
    """`count` distinct spellings of `text` that differ only in letter case."""
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    variants = []
    for flips in itertools.product((False, True), repeat=len(letters)):
        chars = list(text)
        for index, flip in zip(letters, flips):
            chars[index] = chars[index].upper() if flip else chars[index]
        variants.append("".join(chars))
        if len(variants) == count:
            return variants
    raise ValueError("not enough letters")


async def open_at_once(api, link: str, times: int, **extra):
    url = URL(link)
    return await asyncio.gather(*(api.get(url.path, **dict(url.query), **extra) for _ in range(times)))


def assert_one_winner(answers, success: str, failure: str = "001400"):
    assert all(a.status < 500 for a in answers), answers
    codes = sorted(a.code for a in answers)
    assert codes == [failure] * (len(answers) - 1) + [success], codes


async def test_sixteen_concurrent_opens_of_a_confirm_link_confirm_once(api, db, smtp):
    assert (await signup(api, "bob")).ok
    link = link_in(await smtp.wait(to="bob@example.test"))
    assert_one_winner(await open_at_once(api, link, 16), "100006")
    assert await db.fetchval("SELECT count(*) FROM ugene_activity WHERE action = 'email-confirmed'") == 1
    assert await db.fetchval("SELECT completed FROM ugene_user WHERE username = 'bob'")


async def test_sixteen_concurrent_opens_of_a_restore_link_set_one_password(api, db, smtp):
    await api.user("alice", PASSWORD)
    assert (await api.call("auth", "restore-pwd", uname="alice")).ok
    link = link_in(await smtp.wait(to="alice@example.test"))
    assert_one_winner(await open_at_once(api, link, 16), "100005")
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox WHERE template = 'new_password'") == 1
    mails = await smtp.wait(2, to="alice@example.test")
    new_password = line_matching(mails[1], r"^[A-Za-z0-9]{16}$")
    assert (await api.call("auth", "signin", uname="alice", **{"pass": new_password})).ok


async def test_sixteen_concurrent_posts_of_a_restore_hash_with_new_passwords_set_one(api, db, smtp):
    await api.user("alice", PASSWORD)
    await api.call("auth", "restore-pwd", uname="alice")
    secret = URL(link_in(await smtp.wait(to="alice@example.test"))).query["hash"]
    chosen = [f"Chosen{i:02d}Horse" for i in range(16)]
    answers = await asyncio.gather(*(api.call("auth", "verify-pwd", hash=secret, **{"new-pwd": pwd})
                                     for pwd in chosen))
    assert_one_winner(answers, "100005")
    winner = chosen[[a.ok for a in answers].index(True)]
    signins = [await api.call("auth", "signin", uname="alice", **{"pass": pwd}) for pwd in chosen]
    assert [s.ok for s in signins].count(True) == 1 and signins[chosen.index(winner)].ok


async def test_twenty_concurrent_signups_of_one_email_in_different_cases_make_one_account(api, db, smtp):
    emails = case_variants("someone@example.test", 20)
    assert len({e.lower() for e in emails}) == 1 and len(set(emails)) == 20
    answers = await asyncio.gather(*(signup(api, f"racer{i:02d}", email=email) for i, email in enumerate(emails)))
    assert_one_winner(answers, "100100", "001402")
    assert await db.fetchval("SELECT count(*) FROM ugene_user") == 1
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == 1
    winner = emails[[a.ok for a in answers].index(True)]
    assert await db.fetchval("SELECT email FROM ugene_user") == winner   # stored as given


async def test_twenty_concurrent_signups_of_one_name_in_different_cases_make_one_account(api, db, smtp):
    names = case_variants("samename", 20)
    answers = await asyncio.gather(*(signup(api, name, email=f"n{i}@example.test") for i, name in enumerate(names)))
    assert_one_winner(answers, "100100", "001401")
    assert await db.fetchval("SELECT count(*) FROM ugene_user") == 1
