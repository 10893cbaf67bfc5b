"""The admin module's SQL: user listings (bounded, index-served), account flags, roles and settings."""
from __future__ import annotations

import json

# A listing is served within a window of its first rows: OFFSET walks every row it skips, and a
# substring match must be re-checked in the heap row by row (a few microseconds each), so both the
# deepest page and an exact count must stop somewhere. Within the window `total` is exact; beyond
# it PostgreSQL's estimate is given with `total_exact: false`. An admin looking further narrows the
# filter or reverses the sort (Elasticsearch's max_result_window and GitHub search work alike).
WINDOW = 10_000
FILTER_WINDOW = 1_000

_COLUMNS = """u.id, u.uid, u.username, u.email, u.is_admin, u.deleted, u.mailsent, u.mailconfirmed,
    u.completed, u.status, u.restricted, u.created_at, u.updated_at, u.logged_at, u.role_id, u.creator_id"""
# Written exactly like the expression of ugene_user_search_trgm (schema.sql) so the planner can
# use that trigram index for the substring filter.
_MATCH = {1: " AND (lower(u.username) || ' ' || lower(u.email)) LIKE '%' || $1 || '%'",
          3: " AND (lower(u.username) || ' ' || lower(u.email)) LIKE '%' || $3 || '%'"}


def _order(alias: str, sort: str) -> str:
    """Creation order, then id (§8): the order of ugene_user_created, which can be walked both ways."""
    way = " DESC" if sort == "desc" else ""
    return f" ORDER BY {alias}.created_at{way}, {alias}.id{way}"


# The matches of a filter, at most $2 of them: few enough to sort here and fetch a page by id.
MATCHES_SQL = "SELECT u.id, u.created_at FROM ugene_user u WHERE NOT u.erased" + _MATCH[1] + " LIMIT $2"
# All the matches of a filter sorted, then one page of their ids ($2 limit, $3 offset). MATERIALIZED
# keeps the planner from turning it back into a walk of the accounts in creation order.
SORTED_MATCHES_SQL = {sort: "WITH m AS MATERIALIZED (SELECT u.id, u.created_at FROM ugene_user u WHERE NOT u.erased"
                      + _MATCH[1] + ") SELECT m.id FROM m" + _order("m", sort) + " LIMIT $2 OFFSET $3"
                      for sort in ("asc", "desc")}
COUNT_SQL = "SELECT count(*) FROM (SELECT 1 FROM ugene_user u WHERE NOT u.erased LIMIT $1) s"
_ESTIMATE = "EXPLAIN (FORMAT JSON) SELECT 1 FROM ugene_user u WHERE NOT u.erased"


def page_sql(sort: str, filtered: bool) -> str:
    """A page by LIMIT $1 OFFSET $2 (filter $3), walking ugene_user_created in order when it can.

    The creator's uid is joined onto the page only, never onto every row skipped or matched.
    """
    return (f"SELECT p.*, c.uid AS creator_uid FROM (SELECT {_COLUMNS} FROM ugene_user u WHERE NOT u.erased"
            + (_MATCH[3] if filtered else "") + _order("u", sort) + " LIMIT $1 OFFSET $2) p"
            + " LEFT JOIN ugene_user c ON c.id = p.creator_id" + _order("p", sort))


def by_ids_sql(sort: str) -> str:
    """The accounts of a page chosen by id ($1), in the listing's order."""
    return (f"SELECT {_COLUMNS}, c.uid AS creator_uid FROM ugene_user u"
            " LEFT JOIN ugene_user c ON c.id = u.creator_id WHERE u.id = ANY($1::bigint[])" + _order("u", sort))


def like_needle(text: str) -> str:
    """The filter as a literal LIKE operand: lower-cased, with `\\`, `%` and `_` escaped."""
    return text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def window(filtered: bool) -> int:
    return FILTER_WINDOW if filtered else WINDOW


async def list_users(conn, *, sort: str, needle: str, limit: int, offset: int) -> tuple[list, int, bool]:
    """One page of accounts, how many match and whether that number is exact."""
    if not needle:
        rows = await conn.fetch(page_sql(sort, False), limit, offset)
        counted = await conn.fetchval(COUNT_SQL, WINDOW + 1)
        if counted <= WINDOW:
            return rows, counted, True
        return rows, max(counted, await estimate_users(conn, "")), False
    if " " in needle:
        # Usernames and emails never hold a space, so such a filter could only match across the
        # separator of the indexed expression: nothing matches.
        return [], 0, True
    matches = await conn.fetch(MATCHES_SQL, needle, FILTER_WINDOW + 1)
    if len(matches) > FILTER_WINDOW:
        return await _many_matches(conn, sort, needle, limit, offset)
    # Few matches: the page is chosen here, so no plan can walk the whole table to find it.
    ordered = sorted(matches, key=lambda row: (row["created_at"], row["id"]), reverse=sort == "desc")
    return await _by_ids(conn, sort, [row["id"] for row in ordered[offset:offset + limit]]), len(matches), True


async def _many_matches(conn, sort: str, needle: str, limit: int, offset: int) -> tuple[list, int, bool]:
    """A page among more matches than FILTER_WINDOW, by the cheaper of two ways, and their estimate.

    Walking the accounts in creation order passes about (offset + limit) x accounts / matching
    rows before the page is full; sorting the matches re-checks each of them. The choice is made
    here from the estimates because a cached generic plan, blind to the filter, would always walk:
    up to the whole table for a deep page of a filter matching a thousandth of the accounts.
    """
    matching = max(FILTER_WINDOW + 1, await estimate_users(conn, needle))
    accounts = max(matching, await estimate_users(conn, ""))
    if (offset + limit) * accounts / matching <= matching:
        return await conn.fetch(page_sql(sort, True), limit, offset, needle), matching, False
    ids = [row["id"] for row in await conn.fetch(SORTED_MATCHES_SQL[sort], needle, limit, offset)]
    return await _by_ids(conn, sort, ids), matching, False


async def _by_ids(conn, sort: str, ids: list[int]) -> list:
    return await conn.fetch(by_ids_sql(sort), ids) if ids else []


async def estimate_users(conn, needle: str) -> int:
    """How many accounts match, as the planner estimates it from the statistics (no scan)."""
    if needle:
        plan = await conn.fetchval(_ESTIMATE + _MATCH[1], needle)
    else:
        plan = await conn.fetchval(_ESTIMATE)
    return int(json.loads(plan)[0]["Plan"]["Plan Rows"])


async def config_rows(conn, user_ids: list[int]) -> list:
    """Every config row of a page's accounts in one query (no query per account)."""
    return await conn.fetch(
        "SELECT * FROM ugene_user_config WHERE user_id = ANY($1::bigint[]) ORDER BY user_id, id", user_ids)


async def set_user_flag(conn, user_id: int, column: str, value, now) -> None:
    """Set `status`, `is_admin` or `role_id` of an account (the column name is one of ours)."""
    sql = {
        "status": "UPDATE ugene_user SET status = $2, updated_at = $3 WHERE id = $1",
        "is_admin": "UPDATE ugene_user SET is_admin = $2, updated_at = $3 WHERE id = $1",
        "role_id": "UPDATE ugene_user SET role_id = $2, updated_at = $3 WHERE id = $1",
    }[column]
    await conn.execute(sql, user_id, value, now)


async def save_setting(conn, key: str, value: bool, now) -> bool:
    """Store a runtime switch; False when its row is not there to change."""
    result = await conn.execute(
        "UPDATE ugene_setting SET value = $2::jsonb, updated_at = $3 WHERE key = $1",
        key, "true" if value else "false", now)
    return result != "UPDATE 0"


async def find_role(conn, role_id: int, *, lock: bool = False):
    sql = "SELECT * FROM ugene_role WHERE id = $1" + (" FOR UPDATE" if lock else "")
    return await conn.fetchrow(sql, role_id)


async def name_taken(conn, name: str, *, excluding: int | None = None) -> bool:
    return await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM ugene_role WHERE lower(name) = lower($1) AND id IS DISTINCT FROM $2)",
        name, excluding)


async def insert_role(conn, name: str, permissions: list[int], status: bool, now) -> int:
    return await conn.fetchval(
        """INSERT INTO ugene_role (name, permissions, status, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $4) RETURNING id""", name, permissions, status, now)


async def update_role(conn, role_id: int, name: str, permissions: list[int], status: bool, now) -> None:
    await conn.execute(
        "UPDATE ugene_role SET name = $2, permissions = $3, status = $4, updated_at = $5 WHERE id = $1",
        role_id, name, permissions, status, now)


async def delete_role(conn, role_id: int, now) -> int:
    """Delete a role; its holders lose it (and their `updated_at` says so). Returns how many held it."""
    result = await conn.execute(
        "UPDATE ugene_user SET role_id = NULL, updated_at = $2 WHERE role_id = $1", role_id, now)
    await conn.execute("DELETE FROM ugene_role WHERE id = $1", role_id)
    return int(result.split()[-1])


async def all_roles(conn) -> list:
    return await conn.fetch("SELECT id, name, permissions, status FROM ugene_role ORDER BY id")
