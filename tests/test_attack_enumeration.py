"""Account enumeration over real HTTP: an unknown account and a known one answer alike, in body and in
time. Timing runs with the production argon2 parameters, so the dummy verify of an unknown login costs
what a real one does; it compares medians within one run (a ratio), never an absolute duration."""
import statistics
import time

import pytest

from ugene.app import create_app

from .helpers import Api

pytestmark = pytest.mark.check

PASSWORD = "Correct7Horse"
TRIES = 30
MAX_GAP = 0.20          # the two medians differ by less than 20 %


@pytest.fixture
async def prod(aiohttp_client, settings, clock, db):
    """The app with the production argon2 parameters (the suite's default is cheaper)."""
    app = create_app(settings.with_(argon2_memory_kib=19456, argon2_time_cost=2), clock=clock)
    return Api(await aiohttp_client(app), app)


def without_timestamp(answer) -> str:
    return f"{answer.status} {sorted((k, repr(v)) for k, v in answer.body.items() if k != 'timestamp')}"


async def timed(api, module, param, **args):
    started = time.perf_counter()
    answer = await api.call(module, param, **args)
    return answer, time.perf_counter() - started


async def compare(db, first, second, *, reset: str):
    """Call `first` and `second` alternately TRIES times each; their answers and median times.

    `reset` runs before every pair so throttles and mail limits never shorten one side's work.
    """
    answers, times = ([], []), ([], [])
    for _ in range(TRIES):
        for side, call in enumerate((first, second)):
            await db.execute(reset)
            answer, seconds = await call()
            answers[side].append(answer)
            times[side].append(seconds)
    medians = [statistics.median(t) for t in times]
    return answers, medians


def assert_alike(name, answers, medians, code):
    first, second = answers
    assert {without_timestamp(a) for a in first} == {without_timestamp(a) for a in second}
    assert first[0].code == code
    gap = abs(medians[0] - medians[1]) / max(medians)
    # One greppable line per measure (`pytest -s -m check | grep FIGURE`), for docs/reliability.md.
    print(f"FIGURE enumeration {name}: unknown={medians[0] * 1000:.1f}ms known={medians[1] * 1000:.1f}ms "
          f"gap={gap:.1%} tries={TRIES}", flush=True)
    assert gap < MAX_GAP, f"medians {medians[0] * 1000:.1f} ms and {medians[1] * 1000:.1f} ms differ by {gap:.0%}"


async def test_signin_unknown_and_wrong_password_answer_alike_in_body_and_time(prod, db):
    await prod.user("alice", PASSWORD)
    answers, medians = await compare(
        db, lambda: timed(prod, "auth", "signin", uname="nobody", **{"pass": "Wrong7Horse"}),
        lambda: timed(prod, "auth", "signin", uname="alice", **{"pass": "Wrong7Horse"}),
        reset="DELETE FROM ugene_throttle")
    assert_alike("signin", answers, medians, "001404")
    assert answers[0][0].status == 401


async def test_restore_pwd_unknown_and_known_answer_alike_in_body_and_time(prod, db, smtp):
    await prod.user("alice", PASSWORD)
    # The mail limit is lifted before every try, so every known try really issues a link and queues a mail.
    answers, medians = await compare(
        db, lambda: timed(prod, "auth", "restore-pwd", uname="nobody"),
        lambda: timed(prod, "auth", "restore-pwd", uname="alice"),
        reset="DELETE FROM ugene_throttle")
    assert_alike("restore-pwd", answers, medians, "100003")
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == TRIES


async def test_resend_confirm_unknown_and_waiting_answer_alike_in_body_and_time(prod, db, smtp):
    assert (await prod.call("reg", "signup", uname="waiting", email="waiting@example.test",
                            **{"pass": PASSWORD})).ok
    answers, medians = await compare(
        db, lambda: timed(prod, "reg", "resend-confirm", email="nobody@example.test"),
        lambda: timed(prod, "reg", "resend-confirm", email="waiting@example.test"),
        reset="DELETE FROM ugene_throttle")
    assert_alike("resend-confirm", answers, medians, "100007")
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == TRIES + 1
