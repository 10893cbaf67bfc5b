"""Who may call each admin function: the role matrix, and permission changes seen on the next request."""
import pytest

from .test_admin_support import ALL_PERMISSIONS, assert_code, call, delegate, full_admin, give_role, make_role

# Protocol §5: each admin function and its permission id.
FUNCTIONS = {
    "show-users": 1, "add-user": 2, "users-info": 3, "change-user-status": 4, "change-admin": 5,
    "change-registration": 6, "switch-confirm-email": 7, "create-role": 8, "modify-role": 9,
    "delete-role": 10, "show-module": 11, "assign-role": 12, "show-roles": 13,
}


async def valid_args(param: str, api, db) -> dict:
    """Arguments with which `param` succeeds for anyone allowed to call it."""
    if param in ("change-user-status", "change-admin", "assign-role"):
        target = await api.user("target")
        flag = {"change-user-status": ("status", True), "change-admin": ("is_admin", False),
                "assign-role": ("role", 0)}[param]
        return {"uid": target["uid"], flag[0]: flag[1]}
    if param in ("modify-role", "delete-role"):
        return {"id": await make_role(db, "spare", [])}
    return {
        "add-user": {"uname": "newcomer", "pass": "Francis@1992", "email": "newcomer@example.test", "status": True},
        "change-registration": {"status": True}, "switch-confirm-email": {"status": True},
        "create-role": {"name": "fresh", "permissions": []}, "show-module": {"module": "admin"},
    }.get(param, {})


async def caller_token(kind: str, permission: int, api, db) -> str | None:
    if kind == "full admin":
        return (await full_admin(api))[1]
    if kind == "delegate with the permission":
        return (await delegate(api, db, "helper", [permission]))[1]
    if kind == "delegate without it":
        return (await delegate(api, db, "helper", [p for p in ALL_PERMISSIONS if p != permission]))[1]
    if kind == "plain user":
        return (await api.login("someone"))[1]
    return None


@pytest.mark.parametrize("kind, expected", [
    ("full admin", None), ("delegate with the permission", None), ("delegate without it", "003013"),
    ("plain user", "003013"), ("no token", "003012"),
])
@pytest.mark.check
@pytest.mark.parametrize("param", FUNCTIONS)
async def test_role_matrix(api, db, param, kind, expected):
    token = await caller_token(kind, FUNCTIONS[param], api, db)
    answer = await call(api, param, token, await valid_args(param, api, db))
    if expected is None:
        assert answer.ok, answer
    else:
        assert_code(answer, expected)
        assert answer.status == {"003012": 401, "003013": 403}[expected]


async def test_invalid_token_is_003012(api):
    assert_code(await api.call("admin", "show-users", token="not.a.jwt"), "003012")


async def test_anonymous_call_with_bad_args_is_003012_not_002003(api):
    assert_code(await api.call("admin", "show-users", pagesize="many", surprise=1), "003012")


@pytest.mark.check
async def test_denied_call_with_bad_args_is_003013_not_002003(api):
    _, token = await api.login("someone")
    assert_code(await api.call("admin", "show-users", token=token, pagesize="many"), "003013")


@pytest.mark.check
async def test_session_waiting_for_its_one_time_code_is_refused(api):
    user = await api.user("boss", is_admin=True)
    token, _ = await api.session(user, completed=False)
    assert_code(await api.call("admin", "show-users", token=token), "004005")


async def test_disabled_role_grants_nothing(api, db):
    _, token = await delegate(api, db, "helper", ALL_PERMISSIONS, status=False)
    assert_code(await api.call("admin", "show-users", token=token), "003013")


async def test_permission_removed_from_role_is_refused_on_the_next_request(api, db):
    _, boss = await full_admin(api)
    helper, token = await delegate(api, db, "helper", [1, 13])
    assert (await api.call("admin", "show-users", token=token)).ok
    role_id = (await db.fetchrow("SELECT role_id FROM ugene_user WHERE id = $1", helper["id"]))["role_id"]
    assert (await api.call("admin", "modify-role", token=boss, id=role_id, permissions=[13])).ok
    assert_code(await api.call("admin", "show-users", token=token), "003013")
    assert (await api.call("admin", "show-roles", token=token)).ok


async def test_disabling_the_role_is_refused_on_the_next_request(api, db):
    _, boss = await full_admin(api)
    helper, token = await delegate(api, db, "helper", [1])
    role_id = (await db.fetchrow("SELECT role_id FROM ugene_user WHERE id = $1", helper["id"]))["role_id"]
    assert (await api.call("admin", "modify-role", token=boss, id=role_id, status=False)).ok
    assert_code(await api.call("admin", "show-users", token=token), "003013")
    assert (await api.call("admin", "modify-role", token=boss, id=role_id, status=True)).ok
    assert (await api.call("admin", "show-users", token=token)).ok


async def test_deleting_the_role_is_refused_on_the_next_request(api, db):
    _, boss = await full_admin(api)
    helper, token = await delegate(api, db, "helper", [1])
    role_id = (await db.fetchrow("SELECT role_id FROM ugene_user WHERE id = $1", helper["id"]))["role_id"]
    assert (await api.call("admin", "delete-role", token=boss, id=role_id)).ok
    assert_code(await api.call("admin", "show-users", token=token), "003013")


async def test_role_taken_away_is_refused_on_the_next_request(api, db):
    _, boss = await full_admin(api)
    helper, token = await delegate(api, db, "helper", [1])
    assert (await api.call("admin", "assign-role", token=boss, uid=helper["uid"], role=0)).ok
    assert_code(await api.call("admin", "show-users", token=token), "003013")


async def test_role_given_works_on_the_next_request(api, db):
    _, boss = await full_admin(api)
    helper, token = await api.login("helper")
    assert_code(await api.call("admin", "show-users", token=token), "003013")
    role_id = await make_role(db, "viewers", [1])
    assert (await api.call("admin", "assign-role", token=boss, uid=helper["uid"], role=role_id)).ok
    assert (await api.call("admin", "show-users", token=token)).ok


async def test_admin_rights_revoked_are_refused_on_the_next_request(api):
    _, boss = await full_admin(api)
    other, token = await full_admin(api, "other")
    assert (await api.call("admin", "show-users", token=token)).ok
    assert (await api.call("admin", "change-admin", token=boss, uid=other["uid"], is_admin=False)).ok
    answer = await api.call("admin", "show-users", token=token)
    assert_code(answer, "003013")
    assert answer.body["session"]["is_admin"] == 0


async def test_role_of_a_full_admin_does_not_limit_them(api, db):
    boss, token = await full_admin(api)
    await give_role(db, boss, await make_role(db, "narrow", [13]))
    assert (await api.call("admin", "show-users", token=token)).ok


@pytest.mark.parametrize("param", FUNCTIONS)
async def test_every_admin_function_is_written_to_the_activity_log(api, db, param):
    boss, token = await full_admin(api)
    args = await valid_args(param, api, db)
    assert (await call(api, param, token, args)).ok
    [entry] = await db.fetch("SELECT * FROM ugene_activity WHERE action = $1", f"admin.{param}")
    assert entry["actor_id"] == boss["id"] and entry["created_at"] is not None
    if "uid" in args:
        assert entry["user_id"] == (await db.fetchval("SELECT id FROM ugene_user WHERE uid = $1", args["uid"]))


@pytest.mark.check
async def test_refused_admin_calls_leave_no_trace_of_a_change(api, db):
    _, token = await api.login("someone")
    assert_code(await api.call("admin", "change-registration", token=token, status=False), "003013")
    assert await db.fetchval("SELECT count(*) FROM ugene_activity WHERE action LIKE 'admin.%'") == 0
    assert await db.fetchval("SELECT value FROM ugene_setting WHERE key = 'allow-registration'") == "true"


async def test_published_schema_gives_each_function_its_permission_id_and_codes(api):
    answer = await api.get("/api/schema")
    params = answer.answer["data"]["modules"]["admin"]["params"]
    assert {name: doc["access"] for name, doc in params.items()} == \
        {name: {"rule": "admin", "permission": permission} for name, permission in FUNCTIONS.items()}
    codes = {name: {entry["code"] for entry in doc["codes"]} for name, doc in params.items()}
    assert all({"003012", "003013", "002003"} <= found for found in codes.values())
    assert {"100015", "001415", "001420", "003014"} <= codes["change-admin"]
    assert {"100022", "001414", "001415", "001420", "003014"} <= codes["assign-role"]
    assert {"100016", "003007"} <= codes["change-registration"]
