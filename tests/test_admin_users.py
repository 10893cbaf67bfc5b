"""admin/show-users and admin/users-info: fields, order, filter, paging, totals and the query plan."""
from datetime import datetime, timedelta, timezone

import pytest

from ugene_modules.admin import queries

from .test_admin_support import assert_code, full_admin, give_role, make_role

SEED_FIELDS = {"id", "uid", "username", "email", "is_admin", "deleted", "mailsent", "mailconfirmed", "completed",
               "status", "created_at", "updated_at", "logged_at"}
INFO_FIELDS = (SEED_FIELDS - {"id", "is_admin"}) | {"admin", "creator_id", "group_id", "config"}
CONFIG_KEYS = {"uid", "user_id", "ConfigName", "ConfigGroup", "ConfigKey", "CurrentValue", "DefaultValue",
               "Status", "CreatedAt", "UpdatedAt"}


async def accounts(api, clock, *names: str) -> list[dict]:
    """Accounts created one second apart, in the order given."""
    made = []
    for name in names:
        made.append(await api.user(name))
        clock.advance(1)
    return made


async def bulk_accounts(db, count: int, *, name: str = "bulk") -> None:
    """`count` accounts in one INSERT ... SELECT generate_series (no password, never signed in)."""
    await db.execute(
        """INSERT INTO ugene_user (uid, username, email, completed, created_at)
           SELECT $2 || n, $2 || n, $2 || n || '@example.test', true, $3::timestamptz + n * interval '1 second'
           FROM generate_series(1, $1) AS n""", count, name, datetime(2020, 1, 1, tzinfo=timezone.utc))
    await db.execute("ANALYZE ugene_user")


def names(answer) -> list[str]:
    return [item["username"] for item in answer.answer["data"]]


async def test_show_users_answers_the_seed_example(api, clock):
    _, token = await full_admin(api)
    await accounts(api, clock, "user01", "user02")
    answer = await api.call("admin", "show-users", token=token, sort="desc", filter="", pagesize=10, pageno="1")
    assert answer.ok, answer
    assert names(answer) == ["user02", "user01", "boss"]
    assert answer.answer["total"] == 3 and answer.answer["total_exact"] is True
    item = answer.answer["data"][0]
    assert SEED_FIELDS <= set(item)
    assert item["is_admin"] is False and item["completed"] is True and item["status"] is True
    assert isinstance(item["id"], int) and item["logged_at"] == 0 and item["mailsent"] == 0
    assert isinstance(item["created_at"], int) and item["created_at"] > 0
    assert answer.answer["data"][2]["is_admin"] is True


async def test_show_users_defaults_to_oldest_first_ten_a_page(api, clock):
    _, token = await full_admin(api)
    await accounts(api, clock, *[f"user{i:02}" for i in range(12)])
    answer = await api.call("admin", "show-users", token=token)
    assert names(answer) == ["boss"] + [f"user{i:02}" for i in range(9)]
    assert answer.answer["total"] == 13


async def test_show_users_pages_follow_each_other(api, clock):
    _, token = await full_admin(api)
    await accounts(api, clock, *[f"user{i:02}" for i in range(6)])
    pages = [names(await api.call("admin", "show-users", token=token, pagesize=3, pageno=n)) for n in (1, 2, 3)]
    assert pages == [["boss", "user00", "user01"], ["user02", "user03", "user04"], ["user05"]]
    assert names(await api.call("admin", "show-users", token=token, pagesize=3, pageno=4)) == []


async def test_show_users_ties_on_creation_time_are_ordered_by_id(api, db):
    _, token = await full_admin(api)
    await db.execute("UPDATE ugene_user SET created_at = '2020-01-01'")
    await api.user("alpha")
    await api.user("beta")
    await db.execute("UPDATE ugene_user SET created_at = '2020-01-01'")
    assert names(await api.call("admin", "show-users", token=token)) == ["boss", "alpha", "beta"]
    assert names(await api.call("admin", "show-users", token=token, sort="DESC")) == ["beta", "alpha", "boss"]


async def test_show_users_filter_matches_username_or_email_ignoring_case(api, clock):
    _, token = await full_admin(api)
    await api.user("Alice")
    await api.user("bob", email="ALICIA@Example.test")
    await api.user("carol")
    answer = await api.call("admin", "show-users", token=token, filter="aLi")
    assert names(answer) == ["Alice", "bob"] and answer.answer["total"] == 2
    assert names(await api.call("admin", "show-users", token=token, filter="example.TEST")) == \
        ["boss", "Alice", "bob", "carol"]


async def test_show_users_filter_is_a_literal_substring(api):
    _, token = await full_admin(api)
    await api.user("a_b")
    await api.user("axb")
    await api.user("per.cent", email="100%sure@example.test")
    assert names(await api.call("admin", "show-users", token=token, filter="a_b")) == ["a_b"]
    assert names(await api.call("admin", "show-users", token=token, filter="%sure")) == ["per.cent"]
    assert names(await api.call("admin", "show-users", token=token, filter="%")) == ["per.cent"]
    assert names(await api.call("admin", "show-users", token=token, filter="\\")) == []


async def test_show_users_filter_never_matches_across_username_and_email(api):
    _, token = await full_admin(api)
    await api.user("alice")
    answer = await api.call("admin", "show-users", token=token, filter="alice alice@")
    assert answer.ok and names(answer) == [] and answer.answer["total"] == 0


async def test_show_users_leaves_out_erased_tombstones(api, db):
    _, token = await full_admin(api)
    gone = await api.user("gone")
    await db.execute("UPDATE ugene_user SET erased = true, deleted = true, username = NULL, email = NULL "
                     "WHERE id = $1", gone["id"])
    answer = await api.call("admin", "show-users", token=token)
    assert names(answer) == ["boss"] and answer.answer["total"] == 1


async def test_show_users_lists_deleted_and_blocked_accounts_with_their_flags(api, db):
    _, token = await full_admin(api)
    user = await api.user("quitter")
    await db.execute("UPDATE ugene_user SET deleted = true, status = false WHERE id = $1", user["id"])
    item = (await api.call("admin", "show-users", token=token, filter="quitter")).answer["data"][0]
    assert item["deleted"] is True and item["status"] is False


async def test_show_users_empty_pagesize_means_the_default(api, clock):
    _, token = await full_admin(api)
    await accounts(api, clock, *[f"user{i:02}" for i in range(11)])
    assert len((await api.call("admin", "show-users", token=token, pagesize="", pageno=None)).answer["data"]) == 10


@pytest.mark.parametrize("args, arg", [
    ({"pagesize": 0}, "pagesize"), ({"pagesize": 101}, "pagesize"), ({"pageno": 0}, "pageno"),
    ({"pageno": "first"}, "pageno"), ({"sort": "sideways"}, "sort"), ({"filter": "a\x00b"}, "filter"),
    ({"filter": "x" * 255}, "filter"), ({"pagesize": 1.5}, "pagesize"),
])
async def test_show_users_rejects_bad_paging_with_002003(api, args, arg):
    _, token = await full_admin(api)
    answer = await api.call("admin", "show-users", token=token, **args)
    assert_code(answer, "002003")
    assert answer.body["details"][0]["arg"] == arg


async def test_show_users_accepts_the_largest_page(api):
    _, token = await full_admin(api)
    assert (await api.call("admin", "show-users", token=token, pagesize=100, pageno="3")).ok


async def test_show_users_refuses_pages_beyond_the_window(api):
    _, token = await full_admin(api)
    last = queries.WINDOW // 100
    assert (await api.call("admin", "show-users", token=token, pagesize=100, pageno=last)).ok
    answer = await api.call("admin", "show-users", token=token, pagesize=100, pageno=last + 1)
    assert_code(answer, "002003")
    assert answer.body["details"] == [{"arg": "pageno", "problem": "less_than_equal"}]
    deep = await api.call("admin", "show-users", token=token, filter="boss", pagesize=10,
                          pageno=queries.FILTER_WINDOW // 10 + 1)
    assert_code(deep, "002003")
    assert_code(await api.call("admin", "show-users", token=token, pageno=10 ** 30), "002003")


async def test_many_matches_are_paged_in_order_with_an_estimated_total(api, db):
    _, token = await full_admin(api)
    await bulk_accounts(db, queries.FILTER_WINDOW + 200, name="crowd")
    answer = await api.call("admin", "show-users", token=token, filter="crowd", sort="desc", pagesize=5, pageno=2)
    assert names(answer) == [f"crowd{n}" for n in range(1195, 1190, -1)]
    assert answer.answer["total_exact"] is False and answer.answer["total"] > queries.FILTER_WINDOW
    assert names(await api.call("admin", "show-users", token=token, filter="crowd1", pagesize=2)) == \
        ["crowd1", "crowd10"]


async def test_deep_page_of_a_rare_filter_is_the_same_whichever_way_it_is_found(api, db):
    """1,200 matches among 21,200 accounts: page 1 walks the accounts in order, page 100 sorts the
    matches instead; both agree with the order of the whole list."""
    _, token = await full_admin(api)
    await bulk_accounts(db, 20_000, name="other")
    await db.execute("UPDATE ugene_user SET created_at = created_at + interval '1 day' WHERE username LIKE 'other%'")
    await bulk_accounts(db, queries.FILTER_WINDOW + 200, name="crowd")
    expected = [f"crowd{n}" for n in range(1, 1201)]
    for sort, order in (("asc", expected), ("desc", expected[::-1])):
        for pageno in (1, 2, 100):
            answer = await api.call("admin", "show-users", token=token, filter="rowd", sort=sort, pageno=pageno)
            assert names(answer) == order[(pageno - 1) * 10:pageno * 10], (sort, pageno)
            assert answer.answer["total_exact"] is False


async def test_more_accounts_than_the_window_get_an_estimated_total(api, db):
    _, token = await full_admin(api)
    await bulk_accounts(db, queries.WINDOW + 500)
    answer = await api.call("admin", "show-users", token=token, sort="desc", pagesize=3)
    assert names(answer) == ["boss", "bulk10500", "bulk10499"]
    assert answer.answer["total_exact"] is False
    assert abs(answer.answer["total"] - 10_501) < 500


async def test_filter_query_plan_uses_the_trigram_index(db):
    """The query every filtered listing starts with (show-users' and users-info's), and the one that
    sorts the matches for a deep page, are served by ugene_user_search_trgm; a seq scan is disabled
    so that a few thousand rows stand for a million."""
    await bulk_accounts(db, 5000)
    needle = queries.like_needle("LK12")
    await db.execute("SET enable_seqscan = off")
    try:
        plans = [await db.fetch("EXPLAIN " + queries.MATCHES_SQL, needle, queries.FILTER_WINDOW + 1),
                 await db.fetch("EXPLAIN " + queries.SORTED_MATCHES_SQL["desc"], needle, 10, 990)]
    finally:
        await db.execute("RESET enable_seqscan")
    for rows in plans:
        plan = "\n".join(row[0] for row in rows)
        assert "ugene_user_search_trgm" in plan, plan


async def test_users_info_answers_the_seed_fields(api, db, clock):
    boss, token = await full_admin(api)
    await api.user("user03")
    clock.advance(1)
    assert (await api.call("admin", "add-user", token=token, uname="user04", **{"pass": "Francis@1992"},
                           email="user04@example.test", status=True)).ok
    role_id = await make_role(db, "helpers", [1])
    added = await db.fetchrow("SELECT * FROM ugene_user WHERE username = 'user04'")
    await give_role(db, added, role_id)
    answer = await api.call("admin", "users-info", token=token, sort="desc", filter="", pagesize=10, pageno="1")
    assert answer.ok, answer
    data = answer.answer["data"]
    assert [item["username"] for item in data] == ["user04", "user03", "boss"]
    assert answer.answer["total"] == 3
    first = data[0]
    assert INFO_FIELDS <= set(first) and "is_admin" not in first
    assert first["admin"] is False and first["completed"] is True and first["mailconfirmed"] == 0
    assert first["creator_id"] == boss["uid"] and first["group_id"] == str(role_id)
    assert data[1]["creator_id"] == "" and data[1]["group_id"] == ""
    assert data[2]["admin"] is True
    config = first["config"]
    assert len(config) == 1 and set(config[0]) >= CONFIG_KEYS
    assert config[0]["user_id"] == first["uid"] and config[0]["ConfigKey"] == "auth_two_factor"
    assert config[0]["ConfigName"] == "Authentication Two Factor" and config[0]["ConfigGroup"] == "security"
    assert config[0]["CurrentValue"] == "0" and config[0]["DefaultValue"] == "0" and config[0]["Status"] is True
    assert isinstance(config[0]["uid"], str) and config[0]["CreatedAt"] > 0


async def test_users_info_keeps_each_accounts_config_rows_apart(api, db):
    _, token = await full_admin(api)
    for name in ("one", "two", "three"):
        await api.user(name)
    data = (await api.call("admin", "users-info", token=token, pagesize=100)).answer["data"]
    assert all(len(item["config"]) == 1 and item["config"][0]["user_id"] == item["uid"] for item in data)
    assert len({item["config"][0]["uid"] for item in data}) == 4


async def test_users_info_filters_pages_and_validates_like_show_users(api, clock):
    _, token = await full_admin(api)
    await accounts(api, clock, "anna", "annabel", "bert")
    answer = await api.call("admin", "users-info", token=token, filter="ANN", pagesize=1, pageno=2)
    assert [item["username"] for item in answer.answer["data"]] == ["annabel"] and answer.answer["total"] == 2
    assert_code(await api.call("admin", "users-info", token=token, pagesize=101), "002003")


async def test_users_info_of_a_creator_later_erased_shows_no_creator(api, db):
    boss, token = await full_admin(api)
    other, other_token = await full_admin(api, "other")
    assert (await api.call("admin", "add-user", token=other_token, uname="made", **{"pass": "Francis@1992"},
                           email="made@example.test")).ok
    await db.execute("UPDATE ugene_user SET creator_id = NULL WHERE creator_id = $1", other["id"])
    item = (await api.call("admin", "users-info", token=token, filter="made")).answer["data"][0]
    assert item["creator_id"] == ""


async def test_listing_times_are_unix_seconds(api, db):
    _, token = await full_admin(api)
    user = await api.user("timed")
    moment = datetime(2021, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    await db.execute("UPDATE ugene_user SET logged_at = $2, mailsent = $2, mailconfirmed = $3 WHERE id = $1",
                     user["id"], moment, moment + timedelta(seconds=5))
    item = (await api.call("admin", "show-users", token=token, filter="timed")).answer["data"][0]
    assert item["logged_at"] == int(moment.timestamp()) and item["mailconfirmed"] == item["mailsent"] + 5


async def test_listing_is_logged_without_the_filter_text(api, db):
    boss, token = await full_admin(api)
    assert (await api.call("admin", "users-info", token=token, filter="someone@example.test")).ok
    [entry] = await db.fetch("SELECT * FROM ugene_activity WHERE action = 'admin.users-info'")
    assert entry["actor_id"] == boss["id"] and "someone" not in entry["detail"]
