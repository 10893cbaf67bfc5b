"""Each worker keeps the runtime switches while PostgreSQL tells it of every change (ugene/switches.py)."""
import asyncio

from .test_admin_support import full_admin


async def status_config(api) -> dict:
    return (await api.get("/api/general/status/en")).answer["data"]["Config"]


async def eventually_registration(api, wanted: bool) -> None:
    for _ in range(100):
        if (await status_config(api))["allow-registration"] is wanted:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"general/status never showed allow-registration = {wanted}")


async def test_status_answers_from_the_copy_while_the_table_is_locked(api, db):
    await status_config(api)                                    # the first call reads the table
    async with db.transaction():
        await db.execute("LOCK TABLE ugene_setting IN ACCESS EXCLUSIVE MODE")
        # A read of the table would wait for the lock; the copy does not.
        config = await asyncio.wait_for(status_config(api), 5)
    assert config["allow-registration"] is True


async def test_a_change_by_hand_in_sql_reaches_status(api, db):
    assert (await status_config(api))["allow-registration"] is True
    await db.execute("UPDATE ugene_setting SET value = 'false' WHERE key = 'allow-registration'")
    await eventually_registration(api, False)
    answer = await api.call("reg", "signup", uname="walker", email="walker@example.test", **{"pass": "Journey7Horse"})
    assert answer.code == "001407", answer


async def test_the_worker_that_changes_a_switch_sees_it_at_once(api):
    _, token = await full_admin(api)
    assert (await status_config(api))["allow-registration"] is True
    assert (await api.call("admin", "change-registration", token=token, status=False)).ok
    assert (await status_config(api))["allow-registration"] is False


async def test_without_its_listener_a_worker_reads_the_table_and_listens_again(api, db):
    switches = api.services.switches
    await status_config(api)
    # The listener's connection dies (a database restart looks the same to it).
    await db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()")
    for _ in range(100):
        if switches._listener is None:
            break
        await asyncio.sleep(0.02)
    assert switches._listener is None
    await db.execute("UPDATE ugene_setting SET value = 'false' WHERE key = 'allow-registration'")
    assert (await status_config(api))["allow-registration"] is False      # read from the table
    for _ in range(200):                                                 # reconnects every 2 s
        if switches._listener is not None:
            break
        await asyncio.sleep(0.05)
    assert switches._listener is not None
    await db.execute("UPDATE ugene_setting SET value = 'true' WHERE key = 'allow-registration'")
    await eventually_registration(api, True)
