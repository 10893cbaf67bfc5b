"""argon2id hashing off the event loop, the password policy, and generated passwords."""
from __future__ import annotations

import asyncio
import os
import secrets
import string
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH, MAX_LENGTH = 8, 128


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords (zxcvbn's list), compared case-insensitively."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def password_problem(password: str) -> str | None:
    """Why a password breaks the policy (protocol §5 signup), or None when it is acceptable."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return "length"
    if not any(c.isdigit() for c in password):
        return "digit"
    if not any(c.islower() for c in password) or not any(c.isupper() for c in password):
        return "case"
    if password.lower() in common_passwords():
        return "common"
    return None


def generate_password(length: int = 16) -> str:
    """A random password that always meets the policy."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if password_problem(candidate) is None:
            return candidate


def usable_cores() -> int:
    """The cores this process may run on (a worker pinned with taskset gets fewer than the machine)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:      # not on Linux
        return os.cpu_count() or 1


class Passwords:
    """argon2id in a thread pool bounded to the cores, so the event loop never waits on a hash."""

    def __init__(self, memory_kib: int = 19456, time_cost: int = 2, parallelism: int = 1,
                 threads: int | None = None):
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
        self.pool = ThreadPoolExecutor(max_workers=threads or usable_cores(), thread_name_prefix="argon2")
        # Verified against when the account does not exist, so unknown users cost the same time.
        self._dummy = self.hasher.hash(secrets.token_hex(16))

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self.pool, self.hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> tuple[bool, str | None]:
        """(matches, new hash when the stored one used old parameters)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, self._verify, stored, password)

    def _verify(self, stored: str | None, password: str) -> tuple[bool, str | None]:
        try:
            self.hasher.verify(stored or self._dummy, password)
        except (VerificationError, InvalidHashError):
            return False, None
        if stored is None:
            return False, None
        if self.hasher.check_needs_rehash(stored):
            return True, self.hasher.hash(password)
        return True, None

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
