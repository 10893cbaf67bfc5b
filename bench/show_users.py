"""Benchmark of admin/show-users on a million accounts (a script, not a test).

    python bench/show_users.py [DSN] [--users N] [--runs N]

Without a DSN a throwaway embedded PostgreSQL is started in a temporary directory and removed
afterwards. With one, the database must hold no account yet: the schema is applied, N accounts
are loaded with COPY, and the very queries the handler runs (page + total) are timed. The filters
are the ones `make bench` sends through HTTP (bench/data.py), so both figures can be compared.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import string
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg

from ugene.db import apply_schema
from ugene.embedded_pg import EmbeddedPostgres
from ugene_modules.admin.queries import FILTER_WINDOW, WINDOW, like_needle, list_users

from data import three_letter_filters     # bench/ is this script's directory

SYLLABLES = ("an", "ba", "be", "bo", "ca", "da", "de", "el", "fa", "ga", "ha", "in", "ja", "ka", "ki", "la",
             "le", "li", "lo", "ma", "me", "mi", "na", "ne", "ni", "no", "pa", "ra", "re", "ri", "ro", "sa",
             "se", "si", "ta", "te", "ti", "to", "va", "vi", "xu", "yo", "za", "zo", "th", "ng", "qu", "ph")
DOMAINS = tuple(f"{name}.{tld}" for name in ("mail", "post", "inbox", "corp", "uni", "web", "home", "net")
                for tld in ("test", "example", "invalid"))
BATCH = 50_000
SECONDARY_INDEXES = ("ugene_user_username_key", "ugene_user_email_key", "ugene_user_created",
                     "ugene_user_search_trgm")


def fake_accounts(count: int, rng: random.Random):
    """Unique, realistic-looking accounts created over ~3 years.

    The number in a name is random, as people choose it, not the row's rank: a rank would tie
    digit filters to creation time, which real data does not do.
    """
    start = datetime(2021, 1, 1, tzinfo=timezone.utc)
    letters = string.ascii_letters + string.digits
    taken = set()
    made = 0
    while made < count:
        first = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        last = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        name = f"{first}{rng.choice(('.', '_', ''))}{last}{rng.randint(0, 9999)}"
        if name in taken:
            continue
        taken.add(name)
        created = start + timedelta(seconds=made * 90 + rng.randint(0, 60))
        email = f"{name}@{rng.choice(DOMAINS)}"
        yield "".join(rng.choice(letters) for _ in range(12)), name, email, "x", True, True, created, created
        made += 1


async def load(conn, count: int) -> None:
    """COPY the accounts in batches; the secondary indexes are built once at the end (much faster)."""
    rng = random.Random(42)
    columns = ("uid", "username", "email", "password_hash", "completed", "status", "created_at", "updated_at")
    started = time.perf_counter()
    for index in SECONDARY_INDEXES:
        await conn.execute(f"DROP INDEX IF EXISTS {index}")    # our own constant names
    rows = []
    for row in fake_accounts(count, rng):
        rows.append(row)
        if len(rows) == BATCH:
            await conn.copy_records_to_table("ugene_user", records=rows, columns=columns)
            rows = []
    if rows:
        await conn.copy_records_to_table("ugene_user", records=rows, columns=columns)
    await conn.execute("SET maintenance_work_mem = '256MB'")
    await apply_schema(conn)                                    # re-creates the dropped indexes
    await conn.execute("VACUUM ANALYZE ugene_user")
    print(f"loaded {count:,} accounts in {time.perf_counter() - started:.1f} s")


async def timed(conn, runs: int, filters=None, **query) -> list[float]:
    """Milliseconds of each run of what the handler runs (page, total, estimate when needed)."""
    samples = []
    for i in range(runs):
        needle = like_needle(filters[i % len(filters)]) if filters else ""
        started = time.perf_counter()
        await list_users(conn, needle=needle, **query)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    print(f"{label:<46} median {statistics.median(ordered):7.2f} ms   p99 {p99:7.2f} ms")


async def measure(conn, runs: int) -> None:
    """Time the cases of the issue: no filter and a 3-letter filter, page 1 and the deepest page."""
    filters = await three_letter_filters(conn, 0)
    cases = [
        ("no filter, page 1", dict(sort="desc", limit=10, offset=0)),
        ("no filter, page 1 of 100 rows", dict(sort="asc", limit=100, offset=0)),
        (f"no filter, deepest page ({WINDOW // 10})", dict(sort="asc", limit=10, offset=WINDOW - 10)),
        ("3-letter filter, page 1", dict(sort="desc", limit=10, offset=0, filters=filters)),
        (f"3-letter filter, deepest page ({FILTER_WINDOW // 10})",
         dict(sort="asc", limit=10, offset=FILTER_WINDOW - 10, filters=filters)),
    ]
    await timed(conn, 5, sort="asc", limit=10, offset=0)           # warm the caches
    await timed(conn, 5, sort="asc", limit=10, offset=0, filters=filters[::-1])
    for label, query in cases:
        report(label, await timed(conn, runs, **query))
    exact = 0
    for text in filters:
        exact += (await list_users(conn, sort="asc", needle=like_needle(text), limit=10, offset=0))[2]
    print(f"{exact} of the {len(filters)} filters matched at most {FILTER_WINDOW:,} accounts (exact total); "
          f"the others more (estimated total)")


async def bench(dsn: str, users: int, runs: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await apply_schema(conn)
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM ugene_user)"):
            sys.exit("the benchmark needs a database without accounts (it loads its own)")
        await load(conn, users)
        await measure(conn, runs)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dsn", nargs="?", help="postgresql:// URL of an empty database (default: throwaway cluster)")
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    if args.dsn:
        asyncio.run(bench(args.dsn, args.users, args.runs))
        return
    root = Path(tempfile.mkdtemp(prefix="ugene-bench-"))
    server = EmbeddedPostgres(root / "pg", fast=True, log=lambda line: None)
    try:
        asyncio.run(bench(server.start(), args.users, args.runs))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
