"""What admin changes do to the rest of the gateway, seen through the other modules' params."""
from .test_admin_support import assert_code, full_admin


async def signin(api, uname: str, password: str):
    return await api.call("auth", "signin", uname=uname, **{"pass": password})


async def test_added_user_signs_in_at_once_without_a_confirmation_mail(api, db, smtp):
    _, token = await full_admin(api)
    assert (await api.call("admin", "add-user", token=token, uname="user04", **{"pass": "Francis@1992"},
                           email="user04@example.test", status=True)).ok
    answer = await signin(api, "user04", "Francis@1992")
    assert answer.ok and answer.body["session"]["completed"] == 1, answer
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == 0


async def test_user_added_blocked_cannot_sign_in(api):
    _, token = await full_admin(api)
    await api.call("admin", "add-user", token=token, uname="user05", **{"pass": "Francis@1992"},
                   email="user05@example.test", status=False)
    assert_code(await signin(api, "user05", "Francis@1992"), "001411")


async def test_blocking_ends_a_signed_in_users_session_and_refresh(api):
    _, token = await full_admin(api)
    user = await api.user("member", "Correct7Horse")
    session = (await signin(api, "member", "Correct7Horse")).answer
    assert (await api.get("/api/user/profile/en", token=session["token"])).ok
    assert (await api.call("admin", "change-user-status", token=token, uid=user["uid"], status=False)).ok
    assert_code(await api.get("/api/user/profile/en", token=session["token"]), "004004")
    assert_code(await api.call("auth", "refresh-session", **{"refresh-token": session["refresh_token"]}), "001411")
    assert_code(await signin(api, "member", "Correct7Horse"), "001411")


async def test_closed_registration_refuses_signup(api, db, smtp):
    _, token = await full_admin(api)
    assert (await api.call("admin", "change-registration", token=token, status=False)).ok
    answer = await api.call("reg", "signup", uname="late", **{"pass": "Francis1992"}, email="late@example.test")
    assert_code(answer, "001407")
    assert await db.fetchval("SELECT count(*) FROM ugene_user WHERE username = 'late'") == 0
    assert (await api.call("admin", "change-registration", token=token, status=True)).ok
    assert (await api.call("reg", "signup", uname="late", **{"pass": "Francis1992"}, email="late@example.test")).ok
    await smtp.wait(1, to="late@example.test")        # the confirmation mail, as registration is open again


async def test_without_confirmation_a_signup_is_completed_at_once(api, db):
    _, token = await full_admin(api)
    assert (await api.call("admin", "switch-confirm-email", token=token, status=False)).ok
    assert (await api.call("reg", "signup", uname="quick", **{"pass": "Francis1992"}, email="quick@example.test")).ok
    assert (await db.fetchrow("SELECT completed FROM ugene_user WHERE username = 'quick'"))["completed"] is True
    assert (await signin(api, "quick", "Francis1992")).ok
