"""The admin module's SQL: user listings (bounded, index-served), account flags, roles and settings."""
from __future__ import annotations

import re

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

# Sorting a match costs about as much as walking three accounts in creation order (measured on a
# million accounts: ~2 to 2.7 us against ~0.6 to 0.9 us).
WALK_PER_MATCH = 3
# Up to this many estimated matches, they are all sorted by the statement that counts them: that
# costs about what counting to 1,001 and walking would, wherever the matches lie (a walk from the
# newest accounts passes every one of them that does not match: make bench's newest 10,000 never do).
SORT_ALL = 4_000
# There that sort stops, should the estimate be far too low (it says 100 for some 2,000 matches).
SORT_CAP = 2 * SORT_ALL


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
    in creation order (all of them when $5 is NULL) are walked and the page is the one found among
    them; a page that came out short of a bounded walk is not proven (the walk may have stopped
    before it), and list_users sorts every match instead. Each way is gated by the count, so only
    one runs.
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
    estimated = None if _looks_selective(needle) else await estimates(conn, needle)
    rows, counted, cap, bound = await _count_and_page(conn, sort, creator, needle, limit, offset, estimated)
    if counted > FILTER_WINDOW and estimated is None:
        # Not so selective after all: choose the way from the estimates, and count again.
        estimated = await estimates(conn, needle)
        rows, counted, cap, bound = await _count_and_page(conn, sort, creator, needle, limit, offset, estimated)
    if counted <= FILTER_WINDOW:
        return rows, counted, True
    if counted == cap and len(rows) < limit and bound is not None:
        # More matches than the sort took, or the walk stopped before the page was full: sort them all.
        rows = await conn.fetch(sorted_sql(sort, creator), needle, limit, offset)
    return rows, max(estimated[0], FILTER_WINDOW + 1), False


async def _count_and_page(conn, sort: str, creator: bool, needle: str, limit: int, offset: int,
                          estimated: tuple[int, int] | None) -> tuple[list, int, int, int | None]:
    """filtered_sql's rows and count, and the cap and walk bound it ran with (_way)."""
    cap, bound = _way(needle, estimated, offset + limit)
    rows, counted = _split(await conn.fetch(filtered_sql(sort, creator), needle, cap, limit, offset, bound))
    return rows, counted, cap, bound


def _way(needle: str, estimated: tuple[int, int] | None, depth: int) -> tuple[int, int | None]:
    """The count's cap and the walk's bound (None: as far as it takes) for filtered_sql."""
    if estimated is None:
        return FILTER_WINDOW + 1, 0                 # count only: a few matches are expected
    matching, accounts = estimated
    if not _has_trigram(needle):
        # Its matches are re-checked among a large share of the accounts: sorting them costs far
        # more than their number says, walking at most the accounts. Count, and walk to the page.
        return FILTER_WINDOW + 1, None
    if matching <= SORT_ALL:
        return SORT_CAP, 0
    return FILTER_WINDOW + 1, _walk_bound(matching, accounts, depth)


def _looks_selective(needle: str) -> bool:
    """Four characters or more, with a trigram: a piece of a name or an address, which few accounts
    match (each further trigram divides the matches). Such a filter is counted before any estimate
    is asked for: the estimate is then only needed past the window."""
    return len(needle) >= 4 and _has_trigram(needle)


def _has_trigram(needle: str) -> bool:
    """Whether the filter holds three letters or digits in a row. pg_trgm splits words at any other
    character, so 'a.b' or 'o_l' has no trigram of its own in ugene_user_search_trgm, only word
    ends ('a  ', '  b') that most accounts share."""
    return re.search(r"[^\W_]{3}", needle) is not None


def _walk_bound(matching: int, accounts: int, depth: int) -> int:
    """How many accounts the walk to a page `depth` matches in may pass: as many as sorting the
    matches would cost, or none when the page is expected further, matches spread evenly.

    Chosen here from the estimates, not left to the planner: a cached generic plan, blind to the
    filter, would walk up to the whole table for a deep page of a filter matching a thousandth."""
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
