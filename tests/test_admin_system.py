"""admin/change-registration, switch-confirm-email and show-module."""
from pathlib import Path

import pytest

from ugene.app import create_app

from .helpers import Api
from .test_admin_support import activity, assert_code, call, full_admin

PLUGINS = Path(__file__).parent / "plugins"
SWITCHES = [("change-registration", "allow-registration"), ("switch-confirm-email", "comfirmation-email")]


async def status_config(api) -> dict:
    return (await api.get("/api/general/status/en")).answer["data"]["Config"]


@pytest.mark.parametrize("param, key", SWITCHES)
async def test_switch_is_saved_and_seen_by_general_status(api, db, param, key):
    boss, token = await full_admin(api)
    answer = await api.call("admin", param, token=token, status=False)
    assert answer.ok and answer.code == "100016", answer
    assert (await status_config(api))[key] is False
    assert await db.fetchval("SELECT value FROM ugene_setting WHERE key = $1", key) == "false"
    assert (await api.call("admin", param, token=token, status=True)).ok
    assert (await status_config(api))[key] is True
    [first, second] = await activity(db, f"admin.{param}")
    assert first["actor_id"] == boss["id"] and second["actor_id"] == boss["id"]


@pytest.mark.parametrize("param, key", SWITCHES)
async def test_switch_leaves_the_other_switches_alone(api, param, key):
    _, token = await full_admin(api)
    await api.call("admin", param, token=token, status=False)
    config = await status_config(api)
    assert [name for name, value in config.items() if not value] == [key]


@pytest.mark.parametrize("param, key", SWITCHES)
async def test_switch_whose_setting_is_missing_is_003007(api, db, param, key):
    _, token = await full_admin(api)
    await db.execute("DELETE FROM ugene_setting WHERE key = $1", key)
    assert_code(await api.call("admin", param, token=token, status=False), "003007")
    assert await db.fetchval("SELECT count(*) FROM ugene_setting WHERE key = $1", key) == 0


@pytest.mark.parametrize("param", [p for p, _ in SWITCHES])
@pytest.mark.parametrize("args", [{}, {"status": "maybe"}, {"status": [True]}])
async def test_switch_without_a_boolean_status_is_002003(api, db, param, args):
    _, token = await full_admin(api)
    assert_code(await api.call("admin", param, token=token, **args), "002003")
    assert await db.fetchval("SELECT count(*) FROM ugene_setting WHERE value = 'false'") == 0


async def test_show_module_answers_the_seed_example(api):
    _, token = await full_admin(api)
    answer = await call(api, "show-module", token, {"module": "admin"})
    assert answer.ok, answer
    assert answer.answer["data"] == {"description": api.services.registry.modules["admin"].description,
                                     "language": "en", "name": "Module Admin", "version": "1.0.0"}


async def test_show_module_answers_in_the_request_language(api):
    _, token = await full_admin(api)
    answer = await call(api, "show-module", token, {"module": "general"}, language="vi")
    assert answer.answer["data"]["language"] == "vi" and answer.answer["data"]["name"] == "Module General"


async def test_show_module_knows_every_loaded_module(api):
    _, token = await full_admin(api)
    for name, module in api.services.registry.modules.items():
        data = (await call(api, "show-module", token, {"module": name})).answer["data"]
        assert data["name"] == module.title and data["version"] == module.version


async def test_show_module_knows_a_plugin_from_the_plugins_folder(aiohttp_client, settings, clock, db):
    app = create_app(settings.with_(modules_dir=PLUGINS), clock=clock)
    papi = Api(await aiohttp_client(app), app)
    _, token = await full_admin(papi)
    answer = await call(papi, "show-module", token, {"module": "notes"})
    assert answer.answer["data"] == {"description": "Personal notes (test plugin)", "language": "en",
                                     "name": "Module Notes", "version": "0.1.0"}


async def test_show_module_unknown_is_002000(api):
    _, token = await full_admin(api)
    answer = await call(api, "show-module", token, {"module": "nope"})
    assert_code(answer, "002000")
    assert answer.status == 404 and answer.body["session"]["is_admin"] == 1


async def test_show_module_without_a_module_is_002003(api):
    _, token = await full_admin(api)
    assert_code(await call(api, "show-module", token, {}), "002003")
