"""argon2id off the event loop, the password policy, generated passwords."""
import asyncio
import time

import pytest
from argon2 import PasswordHasher

from ugene.passwords import Passwords, generate_password, password_problem


@pytest.mark.parametrize("password, problem", [
    ("Short1a", "length"), ("x" * 129 + "A1", "length"), ("NoDigitsHere", "digit"),
    ("alllower123", "case"), ("ALLUPPER123", "case"), ("Password1", "common"), ("Francis1992", None),
    ("Correct7Horse", None),
])
def test_password_policy(password, problem):
    assert password_problem(password) == problem


def test_generated_passwords_meet_the_policy_and_differ():
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50 and all(password_problem(p) is None for p in passwords)


async def test_defaults_are_owasp_argon2id_and_verify_upgrades_old_parameters():
    passwords = Passwords()
    digest = await passwords.hash("Correct7Horse")
    assert digest.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("Correct7Horse")
    ok, upgraded = await passwords.verify(old, "Correct7Horse")
    assert ok and upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await passwords.verify(digest, "wrong") == (False, None)
    assert await passwords.verify(None, "anything") == (False, None)   # the dummy verify for unknown users
    passwords.close()


async def test_hashing_never_blocks_the_event_loop():
    passwords = Passwords()
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    await asyncio.gather(*(passwords.hash("Correct7Horse") for _ in range(6)))
    elapsed = time.perf_counter() - started
    task.cancel()
    passwords.close()
    # The loop kept ticking while the hashes ran in threads (at least a third of the possible ticks).
    assert ticks >= (elapsed / 0.005) / 3
