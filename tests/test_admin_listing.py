"""admin/show-users and users-info past the filter's window: however a page is found (sorting every
match as they are counted, walking the accounts in creation order, or sorting after a walk that
came back short), it is the page a plain query gives; and the listing's statement keeps the plan
it was written for."""
from datetime import datetime, timedelta, timezone

import pytest

from ugene_modules.admin import queries

from .test_admin_support import full_admin

START = datetime(2020, 1, 1, tzinfo=timezone.utc)
CROWD = 1_050       # the oldest: more than the window, fewer than its last page of 99 needs
LATE = 4_500        # then these: too many to sort (SORT_ALL), too few to walk past the newer ones
MIXED = 15_000      # the newest, hex names: one or two characters match a share of them


async def listing_data(db) -> None:
    """CROWD accounts `crowd<n>`, LATE accounts `late<n>`, then MIXED accounts with hex names and
    addresses created two at a time in the same second (ties are ordered by id)."""
    for name, count, after in (("crowd", CROWD, timedelta(0)), ("late", LATE, timedelta(hours=1))):
        await db.execute(
            """INSERT INTO ugene_user (uid, username, email, completed, created_at)
               SELECT $1 || n, $1 || n, $1 || n || '@' || $1 || '.test', true,
                      $3::timestamptz + $4 + n * interval '1 ms'
               FROM generate_series(1, $2) AS n""", name, count, START, after)
    await db.execute(
        """INSERT INTO ugene_user (uid, username, email, completed, created_at)
           SELECT 'x' || n, 'h' || substr(md5(n::text), 1, 10), substr(md5(n::text), 11, 8) || '@Example.test',
                  true, $2::timestamptz + interval '1 day' + (n / 2) * interval '1 second'
           FROM generate_series(1, $1) AS n""", MIXED, START)
    await db.execute("ANALYZE ugene_user")


async def plain(db, text: str, sort: str, pagesize: int, pageno: int) -> tuple[list[str], int]:
    """The page and the number of matches by a plain query: no index, no window, no strategy."""
    way = " DESC" if sort == "desc" else ""
    rows = await db.fetch(
        "SELECT username FROM ugene_user WHERE NOT erased"
        " AND strpos(lower(username) || ' ' || lower(email), lower($1)) > 0"
        f" ORDER BY created_at{way}, id{way}", text)
    names = [row["username"] for row in rows]
    return names[(pageno - 1) * pagesize:pageno * pagesize], len(names)


@pytest.mark.parametrize("text", ["h", "a", "EXAMPLE", "ab", "0a1", "crowd", "late", "ate", "d.t", "zzz"])
async def test_every_way_to_a_page_gives_the_plain_querys_page(api, db, text):
    _, token = await full_admin(api)
    await listing_data(db)
    for sort in ("asc", "desc"):
        for pagesize, pageno in ((10, 1), (10, 2), (7, 50), (10, 100), (99, 11)):
            answer = await api.call("admin", "show-users", token=token, filter=text, sort=sort,
                                    pagesize=pagesize, pageno=pageno)
            page, matched = await plain(db, text, sort, pagesize, pageno)
            case = (text, sort, pagesize, pageno)
            assert [item["username"] for item in answer.answer["data"]] == page, case
            if matched <= queries.FILTER_WINDOW:
                assert answer.answer["total"] == matched and answer.answer["total_exact"] is True, case
            else:
                assert answer.answer["total"] > queries.FILTER_WINDOW and answer.answer["total_exact"] is False, case


@pytest.mark.parametrize("text, sort", [("h", "desc"), ("crowd", "desc"), ("late", "desc"), ("d.t", "desc")])
async def test_users_info_pages_past_the_window_carry_creator_and_role(api, db, text, sort):
    """Walked (h), sorted as counted (crowd), sorted after a walk came back short (late), walked as
    far as it takes (d.t, which has no trigram of its own)."""
    boss, token = await full_admin(api)
    await listing_data(db)
    await db.execute("UPDATE ugene_user SET creator_id = $1 WHERE username LIKE 'crowd1%'", boss["id"])
    for pageno in (1, 100):
        answer = await api.call("admin", "users-info", token=token, filter=text, sort=sort, pageno=pageno)
        page, _ = await plain(db, text, sort, 10, pageno)
        data = answer.answer["data"]
        assert [item["username"] for item in data] == page
        for item in data:
            made_by_boss = item["username"].startswith("crowd1")
            assert item["creator_id"] == (boss["uid"] if made_by_boss else "") and item["group_id"] == ""
            assert item["admin"] is False and "is_admin" not in item


async def test_a_filter_the_statistics_do_not_know_yet_is_still_paged_in_order(api, db):
    """Accounts added since the last ANALYZE: the estimate says few, the sort as they are counted
    stops at SORT_CAP, and every match is sorted instead."""
    _, token = await full_admin(api)
    await listing_data(db)
    await db.execute(
        """INSERT INTO ugene_user (uid, username, email, completed, created_at)
           SELECT 'z' || n, 'zebra' || n, 'zebra' || n || '@zoo.test', true, $2::timestamptz + n * interval '1 ms'
           FROM generate_series(1, $1) AS n""", queries.SORT_CAP + 500, START + timedelta(days=3))
    for sort, pageno in (("desc", 1), ("asc", 3)):
        answer = await api.call("admin", "show-users", token=token, filter="zebra", sort=sort, pageno=pageno)
        page, _ = await plain(db, "zebra", sort, 10, pageno)
        assert [item["username"] for item in answer.answer["data"]] == page
        assert answer.answer["total_exact"] is False and answer.answer["total"] > queries.FILTER_WINDOW


@pytest.mark.parametrize("mode", ["force_custom_plan", "force_generic_plan"])
async def test_filtered_listing_plan_counts_with_the_trigram_index_and_walks_the_creation_index(db, mode):
    """The one statement of a filtered page counts the matches through ugene_user_search_trgm and
    walks ugene_user_created, whether PostgreSQL plans it for the filter or once for any filter
    (which it may do after a few runs of a prepared statement). A seq scan is disabled so that a
    few thousand rows stand for a million."""
    await db.execute(
        """INSERT INTO ugene_user (uid, username, email, completed, created_at)
           SELECT 'b' || n, 'bulk' || n, 'bulk' || n || '@example.test', true, now() FROM generate_series(1, 5000) n""")
    await db.execute("ANALYZE ugene_user")
    await db.execute(f"PREPARE listing (text, bigint, bigint, bigint, bigint) AS {queries.filtered_sql('desc', True)}")
    await db.execute(f"SET plan_cache_mode = {mode}")
    await db.execute("SET enable_seqscan = off")
    try:
        rows = await db.fetch("EXPLAIN EXECUTE listing('lk12', 1001, 10, 0, 5000)")
    finally:
        await db.execute("RESET enable_seqscan")
        await db.execute("RESET plan_cache_mode")
    plan = "\n".join(row[0] for row in rows)
    assert "Bitmap Index Scan on ugene_user_search_trgm" in plan, plan
    assert "Index Scan Backward using ugene_user_created" in plan, plan
