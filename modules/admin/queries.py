"""The admin module's SQL: user listings (bounded, index-served), account flags, roles and settings."""
from __future__ import annotations

import orjson

# A listing is served within a window of its first rows: OFFSET walks every row it skips, and a
# substring match must be re-checked in the heap row by row (a few microseconds each), so both the
# deepest page and an exact count must stop somewhere. Within the window `total` is exact; beyond
# it PostgreSQL's estimate is given with `total_exact: false`. An admin looking further narrows the
# filter or reverses the sort (Elasticsearch's max_result_window and GitHub search work alike).
WINDOW = 10_000
FILTER_WINDOW = 1_000

# What show-users shows; users-info adds the role and (joined on the page only) the creator's uid.
_COLUMNS = """u.id, u.uid, u.username, u.email, u.is_admin, u.deleted, u.mailsent, u.mailconfirmed,
    u.completed, u.status, u.restricted, u.created_at, u.updated_at, u.logged_at"""
_CREATOR = ", u.role_id, c.uid AS creator_uid"
_CREATOR_JOIN = " LEFT JOIN ugene_user c ON c.id = u.creator_id"


def _match(alias: str) -> str:
    """The filter ($1), written exactly like the expression of ugene_user_search_trgm (schema.sql)
    so that the planner can serve it from that trigram index."""
    return f" AND (lower({alias}.username) || ' ' || lower({alias}.email)) LIKE '%' || $1 || '%'"


def _order(alias: str, sort: str) -> str:
    """Creation order, then id (§8): the order of ugene_user_created, which can be walked both ways."""
    way = " DESC" if sort == "desc" else ""
    return f" ORDER BY {alias}.created_at{way}, {alias}.id{way}"


# The matches of a filter, at most $2 of them: counting them stops there, and when there are fewer
# they are all the listing has to sort.
MATCHES_SQL = "SELECT u.id, u.created_at FROM ugene_user u WHERE NOT u.erased" + _match("u") + " LIMIT $2"
# All the matches of a filter sorted, then one page of their ids ($2 limit, $3 offset). MATERIALIZED
# keeps the planner from turning it back into a walk of the accounts in creation order.
SORTED_MATCHES_SQL = {sort: "WITH m AS MATERIALIZED (SELECT u.id, u.created_at FROM ugene_user u WHERE NOT u.erased"
                      + _match("u") + ") SELECT m.id FROM m" + _order("m", sort) + " LIMIT $2 OFFSET $3"
                      for sort in ("asc", "desc")}
# The planner's estimates of the matching and of all accounts, from one plan (planning only, no
# scan): each branch of the Append carries its own row estimate.
_ESTIMATES = ("EXPLAIN (FORMAT JSON) SELECT 1 FROM ugene_user u WHERE NOT u.erased" + _match("u")
              + " UNION ALL SELECT 1 FROM ugene_user u WHERE NOT u.erased")
_ESTIMATE_ALL = "EXPLAIN (FORMAT JSON) SELECT 1 FROM ugene_user u WHERE NOT u.erased"

# A row walked in creation order costs about half of a match sorted (measured on a million
# accounts: ~0.9 to 2 us against ~1.6 to 2.7 us, depending on how many match).
WALK_PER_MATCH = 2
# How far a first page's walk goes before the estimates are known: 5,000 rows cost about as much as
# counting the first 1,001 matches, and hold a page of up to 50 for a filter matching 1 % of the
# accounts (the first page of ten, for 0.2 %).
WALK_ROWS = 5_000
FIRST_PAGE = WALK_ROWS // 100


def _counted_page(count_sql: str, page_sql: str, sort: str, creator: bool, before: str = "") -> str:
    """One round trip: `count_sql` (one row, `matched`: a count that stops at a cap) as CTE `n`, and
    the page of ids that `page_sql` chooses, joined to the listed columns. The count comes on every
    row, and on a single row of NULLs when the page is empty. `before` holds CTEs both may use."""
    return (f"WITH {before}n AS ({count_sql}), page AS ({page_sql})"
            f" SELECT n.matched, {_COLUMNS}{_CREATOR if creator else ''}"
            " FROM n LEFT JOIN (page p JOIN ugene_user u ON u.id = p.id) ON true"
            + (_CREATOR_JOIN if creator else "") + _order("p", sort))


def unfiltered_sql(sort: str, creator: bool) -> str:
    """A page of every account ($1 limit, $2 offset) walking ugene_user_created, and how many
    accounts there are up to $3."""
    return _counted_page(
        "SELECT count(*) AS matched FROM (SELECT 1 FROM ugene_user u WHERE NOT u.erased LIMIT $3) s",
        "SELECT u.id, u.created_at FROM ugene_user u WHERE NOT u.erased" + _order("u", sort) + " LIMIT $1 OFFSET $2",
        sort, creator)


def filtered_sql(sort: str, creator: bool) -> str:
    """How many accounts match $1, up to $2, and a page ($3 limit, $4 offset) of them.

    Fewer than $2 matches: the page is sorted from those matches. Otherwise the first $5 accounts
    in creation order are walked and the page is the one found among them; a page that came out
    short is not proven (the walk may have stopped before it), and list_users sorts every match
    instead. Each way is gated by the count, so only one runs.
    """
    few = ("SELECT m.id, m.created_at FROM m WHERE (SELECT matched FROM n) < $2"
           + _order("m", sort) + " LIMIT $3 OFFSET $4")
    walked = ("SELECT w.id, w.created_at FROM (SELECT u.id, u.created_at, u.username, u.email FROM ugene_user u"
              " WHERE NOT u.erased" + _order("u", sort) + " LIMIT $5) w WHERE (SELECT matched FROM n) = $2"
              + _match("w") + _order("w", sort) + " LIMIT $3 OFFSET $4")
    return _counted_page("SELECT count(*) AS matched FROM m", f"({few}) UNION ALL ({walked})", sort, creator,
                         before=f"m AS MATERIALIZED ({MATCHES_SQL}), ")


def sorted_sql(sort: str, creator: bool) -> str:
    """A page ($2 limit, $3 offset) among every match of $1, sorted (SORTED_MATCHES_SQL)."""
    return (f"WITH page AS ({SORTED_MATCHES_SQL[sort]}) SELECT {_COLUMNS}{_CREATOR if creator else ''}"
            " FROM page p JOIN ugene_user u ON u.id = p.id" + (_CREATOR_JOIN if creator else "") + _order("u", sort))


def like_needle(text: str) -> str:
    """The filter as a literal LIKE operand: lower-cased, with `\\`, `%` and `_` escaped."""
    return text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def window(filtered: bool) -> int:
    return FILTER_WINDOW if filtered else WINDOW


def _split(rows: list) -> tuple[list, int]:
    """The page's rows and the count that came with them (_counted_page)."""
    return [row for row in rows if row["id"] is not None], rows[0]["matched"]


async def list_users(conn, *, sort: str, needle: str, limit: int, offset: int,
                     creator: bool = False) -> tuple[list, int, bool]:
    """One page of accounts, how many match and whether that number is exact.

    `creator` adds each account's role_id and creator_uid (users-info)."""
    if not needle:
        rows, counted = _split(await conn.fetch(unfiltered_sql(sort, creator), limit, offset, WINDOW + 1))
        if counted <= WINDOW:
            return rows, counted, True
        return rows, max(counted, await estimate_users(conn)), False
    if " " in needle:
        # Usernames and emails never hold a space, so such a filter could only match across the
        # separator of the indexed expression: nothing matches.
        return [], 0, True
    estimated = None
    if offset + limit <= FIRST_PAGE:
        # Walked before the estimates are known: asking for them first would cost a round trip every
        # time, more than the walk loses now and then on a rare filter.
        bound = WALK_ROWS
    else:
        estimated = await estimates(conn, needle)
        bound = _walk_bound(*estimated, offset + limit)
    rows, counted = _split(await conn.fetch(filtered_sql(sort, creator), needle, FILTER_WINDOW + 1,
                                            limit, offset, bound))
    if counted <= FILTER_WINDOW:
        return rows, counted, True
    matching, _ = estimated or await estimates(conn, needle)
    if len(rows) < limit:
        # Too rare to walk to, or the walk stopped before the page was full: sort every match.
        rows = await conn.fetch(sorted_sql(sort, creator), needle, limit, offset)
    return rows, max(matching, counted), False


def _walk_bound(matching: int, accounts: int, depth: int) -> int:
    """How many accounts a deeper page's walk may pass: as many as sorting the matches would cost,
    or none when the page (`depth` matches in) is expected further, matches spread evenly. The walk
    only runs when more than FILTER_WINDOW match, so never fewer are assumed.

    Chosen here from the estimates, not left to the planner: a cached generic plan, blind to the
    filter, would walk up to the whole table for a deep page of a filter matching a thousandth."""
    matching = max(matching, FILTER_WINDOW + 1)
    bound = WALK_PER_MATCH * matching
    return bound if depth * max(accounts, matching) / matching <= bound else 0


async def estimates(conn, needle: str) -> tuple[int, int]:
    """How many accounts match `needle` and how many there are, as the planner estimates them."""
    plan = orjson.loads(await conn.fetchval(_ESTIMATES, needle))[0]["Plan"]
    matching, accounts = (int(branch["Plan Rows"]) for branch in plan["Plans"])
    return matching, accounts


async def estimate_users(conn) -> int:
    """How many accounts there are, as the planner estimates it from the statistics (no scan)."""
    return int(orjson.loads(await conn.fetchval(_ESTIMATE_ALL))[0]["Plan"]["Plan Rows"])


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
