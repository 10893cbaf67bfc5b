"""The data set a benchmark run creates: accounts loaded with COPY, never through the API."""
from __future__ import annotations

import importlib.util
import random
import secrets
import string
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from argon2 import PasswordHasher

from ugene.accounts import TWO_FACTOR
from ugene.settings import Settings

# The one password of every loaded account: it meets the policy and is not on the common list.
PASSWORD = "Bench-Gate-2718"
USER_PREFIX = "bu"          # request-case accounts are bu1 ... buN
_UID = string.ascii_letters + string.digits


def password_hash(password: str = PASSWORD) -> str:
    """Hashed once per run with Ugene's default argon2 parameters, then copied into every row."""
    defaults = Settings()
    return PasswordHasher(time_cost=defaults.argon2_time_cost, memory_cost=defaults.argon2_memory_kib,
                          parallelism=defaults.argon2_parallelism).hash(password)


async def load_request_users(conn, count: int, digest: str) -> None:
    """`count` completed, active accounts bu1..buN with the known password, and their config rows
    (as `create_user` makes them), so sign-in takes its ordinary path."""
    started = time.perf_counter()
    created = datetime.now(timezone.utc) - timedelta(days=30)
    rows = [("".join(secrets.choice(_UID) for _ in range(12)), f"{USER_PREFIX}{i}",
             f"{USER_PREFIX}{i}@bench.example", digest, True, True, "en", created, created)
            for i in range(1, count + 1)]
    await conn.copy_records_to_table(
        "ugene_user", records=rows,
        columns=("uid", "username", "email", "password_hash", "completed", "status", "language", "created_at",
                 "updated_at"))
    ids = await conn.fetch("SELECT id FROM ugene_user WHERE username LIKE $1 || '%'", USER_PREFIX)
    await conn.copy_records_to_table(
        "ugene_user_config",
        records=[(row["id"], TWO_FACTOR["config_name"], TWO_FACTOR["config_group"], TWO_FACTOR["config_key"],
                  TWO_FACTOR["default_value"], TWO_FACTOR["default_value"], created, created) for row in ids],
        columns=("user_id", "config_name", "config_group", "config_key", "current_value", "default_value",
                 "created_at", "updated_at"))
    await conn.execute("VACUUM ANALYZE ugene_user")
    await conn.execute("VACUUM ANALYZE ugene_user_config")
    print(f"  loaded {count:,} accounts with a known password in {time.perf_counter() - started:.1f} s",
          flush=True)


def _show_users_loader():
    """bench/show_users.py (the admin module's listing benchmark) owns the million-account loader,
    when it is there; this file keeps a fallback of the same shape."""
    path = Path(__file__).with_name("show_users.py")
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("bench_show_users", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError:       # it imports the admin module, which may be missing
        return None
    return getattr(module, "load", None)


SYLLABLES = ("an", "ba", "be", "bo", "ca", "da", "de", "el", "fa", "ga", "ha", "in", "ja", "ka", "ki", "la",
             "le", "li", "lo", "ma", "me", "mi", "na", "ne", "ni", "no", "pa", "ra", "re", "ri", "ro", "sa",
             "se", "si", "ta", "te", "ti", "to", "va", "vi", "xu", "yo", "za", "zo", "th", "ng", "qu", "ph")
DOMAINS = tuple(f"{name}.{tld}" for name in ("mail", "post", "inbox", "corp", "uni", "web")
                for tld in ("test", "example", "invalid"))


async def _fallback_load(conn, count: int) -> None:
    """Realistic, unique names and addresses created over ~3 years, COPY-ed in batches."""
    rng = random.Random(42)
    start = datetime(2021, 1, 1, tzinfo=timezone.utc)
    columns = ("uid", "username", "email", "password_hash", "completed", "status", "created_at", "updated_at")
    rows = []
    for i in range(count):
        first = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        last = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        created = start + timedelta(seconds=i * 90 + rng.randint(0, 60))
        rows.append(("".join(rng.choice(_UID) for _ in range(12)), f"{first}.{last}{i}",
                     f"{first}{last}{i}@{rng.choice(DOMAINS)}", "x", True, True, created, created))
        if len(rows) == 50_000:
            await conn.copy_records_to_table("ugene_user", records=rows, columns=columns)
            rows = []
    if rows:
        await conn.copy_records_to_table("ugene_user", records=rows, columns=columns)
    await conn.execute("VACUUM ANALYZE ugene_user")


async def load_many_users(conn, count: int) -> str:
    """Add `count` accounts for the admin listing; returns which loader did it."""
    started = time.perf_counter()
    load = _show_users_loader()
    if load is not None:
        await load(conn, count)
        which = "bench/show_users.py"
    else:
        await _fallback_load(conn, count)
        which = "bench/data.py"
    print(f"  loaded {count:,} accounts with {which} in {time.perf_counter() - started:.1f} s", flush=True)
    return which


async def three_letter_filters(conn, after_id: int, how_many: int = 50) -> list[str]:
    """What an admin types: three letters from somewhere in usernames of the big set (ids > after_id)."""
    rng = random.Random(7)
    names = [row["username"] for row in await conn.fetch(
        "SELECT username FROM ugene_user TABLESAMPLE SYSTEM (1) REPEATABLE (7) WHERE id > $1 AND length(username) > 3 LIMIT 1000",
        after_id)]
    filters = []
    for name in rng.sample(names, min(how_many, len(names))):
        at = rng.randrange(0, len(name) - 3)
        filters.append(name[at:at + 3])
    return filters
