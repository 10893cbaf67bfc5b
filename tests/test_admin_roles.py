"""admin/create-role, modify-role, delete-role, assign-role and show-roles, with the delegation rules."""
import pytest

from .test_admin_support import activity, assert_code, delegate, full_admin, give_role, make_role, user_row


async def role(db, role_id: int):
    return await db.fetchrow("SELECT * FROM ugene_role WHERE id = $1", role_id)


# create-role

async def test_create_role_answers_the_seed_example_with_the_new_id(api, db):
    boss, token = await full_admin(api)
    answer = await api.call("admin", "create-role", token=token, name="role 1", permissions=[4, 3, 1, 7, 6],
                            status=False)
    assert answer.ok and answer.code == "100018", answer
    saved = await role(db, answer.answer["id"])
    assert saved["name"] == "role 1" and saved["permissions"] == [1, 3, 4, 6, 7] and saved["status"] is False
    [entry] = await activity(db, "admin.create-role")
    assert entry["actor_id"] == boss["id"]


async def test_create_role_defaults_to_enabled_and_drops_repeated_ids(api, db):
    _, token = await full_admin(api)
    answer = await api.call("admin", "create-role", token=token, name="  viewers  ", permissions=[1, 1, "3"])
    saved = await role(db, answer.answer["id"])
    assert saved["name"] == "viewers" and saved["permissions"] == [1, 3] and saved["status"] is True


@pytest.mark.parametrize("args", [
    {"name": "", "permissions": [1]}, {"name": "   ", "permissions": [1]}, {"name": "x" * 65, "permissions": [1]},
    {"name": "bad\nname", "permissions": [1]}, {"name": "unknown", "permissions": [14]},
    {"name": "zero", "permissions": [0]}, {"name": "VIEWERS", "permissions": [1]},
])
async def test_create_role_refuses_empty_duplicate_or_unknown_with_001412(api, db, args):
    _, token = await full_admin(api)
    await make_role(db, "viewers", [1])
    assert_code(await api.call("admin", "create-role", token=token, **args), "001412")
    assert await db.fetchval("SELECT count(*) FROM ugene_role") == 1


@pytest.mark.parametrize("args", [{"permissions": [1]}, {"name": "x", "permissions": "1,2"},
                                  {"name": "x", "permissions": ["one"]}, {"name": 5}])
async def test_create_role_with_malformed_args_is_002003(api, args):
    _, token = await full_admin(api)
    assert_code(await api.call("admin", "create-role", token=token, **args), "002003")


async def test_delegate_cannot_create_a_role_granting_what_they_lack(api, db):
    _, token = await delegate(api, db, "helper", [8, 1])
    assert_code(await api.call("admin", "create-role", token=token, name="more", permissions=[1, 5]), "003014")
    assert (await api.call("admin", "create-role", token=token, name="less", permissions=[1])).ok


# modify-role

async def test_modify_role_answers_the_seed_example(api, db):
    _, token = await full_admin(api)
    role_id = await make_role(db, "role 2", [3], status=False)
    answer = await api.call("admin", "modify-role", token=token, id=role_id, name="role 2 updated",
                            permissions=[1, 2, 4], status=True)
    assert answer.ok and answer.code == "100018", answer
    saved = await role(db, role_id)
    assert (saved["name"], saved["permissions"], saved["status"]) == ("role 2 updated", [1, 2, 4], True)


async def test_modify_role_changes_only_the_fields_given(api, db):
    boss, token = await full_admin(api)
    role_id = await make_role(db, "keepers", [1, 3], status=True)
    assert (await api.call("admin", "modify-role", token=token, id=role_id, status=False)).ok
    assert (await api.call("admin", "modify-role", token=token, id=role_id, name="Keepers")).ok
    saved = await role(db, role_id)
    assert (saved["name"], saved["permissions"], saved["status"]) == ("Keepers", [1, 3], False)
    assert [e["actor_id"] for e in await activity(db, "admin.modify-role")] == [boss["id"]] * 2


@pytest.mark.parametrize("args", [{"name": ""}, {"name": "others"}, {"name": "OTHERS"}, {"permissions": [99]}])
async def test_modify_role_refuses_bad_names_and_ids_with_001412(api, db, args):
    _, token = await full_admin(api)
    role_id = await make_role(db, "mine", [1])
    await make_role(db, "others", [2])
    assert_code(await api.call("admin", "modify-role", token=token, id=role_id, **args), "001412")
    saved = await role(db, role_id)
    assert (saved["name"], saved["permissions"]) == ("mine", [1])


@pytest.mark.parametrize("role_id", [12345, 0, -1, 2 ** 70])
async def test_modify_role_unknown_id_is_001414(api, role_id):
    _, token = await full_admin(api)
    assert_code(await api.call("admin", "modify-role", token=token, id=role_id, name="x"), "001414")


async def test_modify_role_without_an_id_is_002003(api):
    _, token = await full_admin(api)
    assert_code(await api.call("admin", "modify-role", token=token, name="x"), "002003")


async def test_delegate_cannot_widen_a_role_beyond_their_own_permissions(api, db):
    helper, token = await delegate(api, db, "helper", [9, 1])
    own_role = (await user_row(db, helper["uid"]))["role_id"]
    assert_code(await api.call("admin", "modify-role", token=token, id=own_role, permissions=[1, 9, 5]), "003014")
    wide = await make_role(db, "wide", [1, 2, 3])
    assert_code(await api.call("admin", "modify-role", token=token, id=wide, name="renamed"), "003014")
    assert (await api.call("admin", "modify-role", token=token, id=wide, permissions=[1])).ok


# delete-role

async def test_delete_role_takes_it_from_its_holders(api, db):
    boss, token = await full_admin(api)
    role_id = await make_role(db, "doomed", [1])
    holder = await api.user("holder")
    await give_role(db, holder, role_id)
    answer = await api.call("admin", "delete-role", token=token, id=role_id)
    assert answer.ok and answer.code == "100021", answer
    assert await role(db, role_id) is None
    assert (await user_row(db, holder["uid"]))["role_id"] is None
    [entry] = await activity(db, "admin.delete-role")
    assert entry["actor_id"] == boss["id"]


async def test_delete_role_unknown_id_is_001414(api):
    _, token = await full_admin(api)
    answer = await api.call("admin", "delete-role", token=token, id=2)
    assert_code(answer, "001414")
    assert answer.body["session"]["is_admin"] == 1


# assign-role

async def test_assign_role_gives_and_role_0_takes_it_away(api, db):
    boss, token = await full_admin(api)
    user = await api.user("member")
    role_id = await make_role(db, "viewers", [1])
    answer = await api.call("admin", "assign-role", token=token, uid=user["uid"], role=role_id)
    assert answer.ok and answer.code == "100022", answer
    assert (await user_row(db, user["uid"]))["role_id"] == role_id
    assert (await api.call("admin", "assign-role", token=token, uid=user["uid"], role=0)).ok
    assert (await user_row(db, user["uid"]))["role_id"] is None
    entries = await activity(db, "admin.assign-role")
    assert [(e["actor_id"], e["user_id"]) for e in entries] == [(boss["id"], user["id"])] * 2


async def test_assign_role_can_give_a_disabled_role(api, db):
    _, token = await full_admin(api)
    user = await api.user("member")
    role_id = await make_role(db, "dormant", [1], status=False)
    assert (await api.call("admin", "assign-role", token=token, uid=user["uid"], role=role_id)).ok


async def test_assign_role_unknown_role_is_001414(api, db):
    _, token = await full_admin(api)
    user = await api.user("member")
    assert_code(await api.call("admin", "assign-role", token=token, uid=user["uid"], role=77), "001414")
    assert_code(await api.call("admin", "assign-role", token=token, uid=user["uid"], role=-3), "001414")


async def test_assign_role_unknown_user_is_001415(api, db):
    _, token = await full_admin(api)
    role_id = await make_role(db, "viewers", [1])
    assert_code(await api.call("admin", "assign-role", token=token, uid="nobody00000", role=role_id), "001415")


async def test_assign_role_to_a_restricted_account_is_001420(api, db):
    _, token = await full_admin(api)
    user = await api.user("private")
    await db.execute("UPDATE ugene_user SET restricted = true WHERE id = $1", user["id"])
    role_id = await make_role(db, "viewers", [1])
    assert_code(await api.call("admin", "assign-role", token=token, uid=user["uid"], role=role_id), "001420")
    assert (await user_row(db, user["uid"]))["role_id"] is None


async def test_delegate_cannot_assign_a_role_to_a_full_admin(api, db):
    boss, _ = await full_admin(api)
    _, token = await delegate(api, db, "helper", [12])
    assert_code(await api.call("admin", "assign-role", token=token, uid=boss["uid"], role=0), "003014")


async def test_delegate_cannot_hand_out_a_role_wider_than_their_own(api, db):
    helper, token = await delegate(api, db, "helper", [12, 1])
    wide = await make_role(db, "wide", list(range(1, 14)))
    assert_code(await api.call("admin", "assign-role", token=token, uid=helper["uid"], role=wide), "003014")
    other = await api.user("other")
    assert_code(await api.call("admin", "assign-role", token=token, uid=other["uid"], role=wide), "003014")
    narrow = await make_role(db, "narrow", [1])
    assert (await api.call("admin", "assign-role", token=token, uid=other["uid"], role=narrow)).ok


async def test_nobody_assigns_a_role_to_themselves(api, db):
    helper, token = await delegate(api, db, "helper", [12, 1])
    role_id = (await user_row(db, helper["uid"]))["role_id"]
    narrow = await make_role(db, "narrow", [1])
    for role in (0, narrow):
        assert_code(await api.call("admin", "assign-role", token=token, uid=helper["uid"], role=role), "003014")
    assert (await user_row(db, helper["uid"]))["role_id"] == role_id
    boss, boss_token = await full_admin(api)
    assert_code(await api.call("admin", "assign-role", token=boss_token, uid=boss["uid"], role=narrow), "003014")


# show-roles

async def test_show_roles_lists_every_role(api, db):
    _, token = await full_admin(api)
    first = await make_role(db, "viewers", [3, 1])
    second = await make_role(db, "dormant", [], status=False)
    answer = await api.call("admin", "show-roles", token=token)
    assert answer.ok, answer
    assert answer.answer["data"] == [{"id": first, "name": "viewers", "permissions": [1, 3], "status": True},
                                     {"id": second, "name": "dormant", "permissions": [], "status": False}]


async def test_show_roles_takes_no_arguments(api):
    _, token = await full_admin(api)
    assert_code(await api.call("admin", "show-roles", token=token, page=1), "002003")
