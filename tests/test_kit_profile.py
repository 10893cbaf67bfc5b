"""The example plugin examples/ugene-profile, installed as an operator installs it (`make install` runs
`pip install ./examples/ugene-profile`), driven through /api with the Python client."""
import json
from datetime import datetime, timedelta, timezone
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from ugene.client import UgeneClient, UgeneClientError
from ugene.registry import discover

from .helpers import Api

try:
    PLUGIN = distribution("ugene-profile")
except PackageNotFoundError:  # say how to fix it rather than skipping the plugin's tests in silence
    raise RuntimeError("the example plugin is not installed: run `make install` "
                       "(it does `pip install ./examples/ugene-profile`)") from None

LOADED = set(discover().modules)


def today():
    return datetime.now(timezone.utc).date()    # the plugin's "past" is UTC's


@pytest.fixture
async def served(aiohttp_server, app):
    server = await aiohttp_server(app)
    return str(server.make_url("")), Api(None, app)


async def signed_in(served, name: str = "alice", language: str = "en", completed: bool = True):
    url, api = served
    user = await api.user(name)
    token, _ = await api.session(user, completed=completed)
    return UgeneClient(url, token=token, language=language), user


@pytest.fixture
async def alice(served):
    client, _ = await signed_in(served)
    async with client:
        yield client


async def failure(call) -> UgeneClientError:
    with pytest.raises(UgeneClientError) as caught:
        await call
    return caught.value


def test_plugin_is_an_installed_distribution_with_its_entry_point_and_data():
    entry = [ep for ep in PLUGIN.entry_points if ep.group == "ugene.modules"]
    assert [(ep.name, ep.value) for ep in entry] == [("profile", "ugene_profile:module")]
    files = {str(path) for path in PLUGIN.files}
    for name in ("schema.sql", "messages/en.json", "messages/vi.json", "messages/ru.json", "messages/chi.json"):
        assert f"ugene_profile/{name}" in files, name
    import ugene_profile
    installed = Path(ugene_profile.__file__).resolve()
    assert "examples" not in installed.parts          # the installed copy, not the source tree
    assert (installed.parent / "schema.sql").exists()
    assert "profile" in LOADED


async def test_show_before_any_update_is_005001(alice):
    error = await failure(alice.get("profile", "show"))
    assert error.code == "005001" and error.status == 404 and error.text == "You have no profile yet"


async def test_update_creates_the_profile_and_show_returns_it(alice, served):
    _, api = served
    saved = await alice.call("profile", "update", first_name="  Lan ", last_name="Nguyễn", dob="1990-05-17",
                             address="12 Hàng Bạc", postcode="100000", city="Hà Nội", country="vn",
                             metadata={"phone": "+84 24 0000 0000", "tags": ["a", 1, None]})
    assert saved["message"] == "105001" and saved["text"] == "Profile saved"
    shown = (await alice.get("profile", "show"))["data"]
    assert shown == saved["data"]
    assert {k: shown[k] for k in ("first_name", "last_name", "dob", "address", "postcode", "city", "country")} == {
        "first_name": "Lan", "last_name": "Nguyễn", "dob": "1990-05-17", "address": "12 Hàng Bạc",
        "postcode": "100000", "city": "Hà Nội", "country": "VN"}
    assert shown["metadata"] == {"phone": "+84 24 0000 0000", "tags": ["a", 1, None]}
    assert shown["created_at"] == shown["updated_at"] > 0
    async with api.services.pool.acquire() as conn:
        assert await conn.fetchval("SELECT action FROM ugene_activity") == "profile.update"


async def test_update_changes_only_the_given_fields_and_null_clears(alice, clock):
    await alice.call("profile", "update", first_name="Lan", city="Huế", metadata={"a": 1})
    clock.advance(60)
    data = (await alice.call("profile", "update", city=None, last_name="Trần", metadata={"b": 2}))["data"]
    assert data["first_name"] == "Lan" and data["last_name"] == "Trần" and data["city"] is None
    assert data["metadata"] == {"b": 2}                              # replaced as a whole
    # The test clock is the wall clock plus what tests advance: the two calls may straddle a second.
    assert 60 <= data["updated_at"] - data["created_at"] <= 61
    cleared = (await alice.call("profile", "update", metadata=None))["data"]
    assert cleared["metadata"] == {} and cleared["first_name"] == "Lan"


async def test_update_without_any_field_is_005002(alice):
    error = await failure(alice.call("profile", "update"))
    assert error.code == "005002" and error.status == 400
    assert (await failure(alice.get("profile", "show"))).code == "005001"   # nothing was created


@pytest.mark.parametrize("args, arg, problem", [
    ({"dob": today().isoformat()}, "dob", "date_not_in_past"),
    ({"dob": "1850-01-01"}, "dob", "date_too_old"),
    ({"dob": "17/05/1990"}, "dob", "date_from_datetime_parsing"),
    ({"country": "XX"}, "country", "country_unknown"),
    ({"country": "VNM"}, "country", "string_pattern_mismatch"),
    ({"metadata": {"blob": "x" * 4096}}, "metadata", "metadata_too_large"),
    ({"metadata": ["not", "an", "object"]}, "metadata", "dict_type"),
    ({"first_name": "x" * 101}, "first_name", "string_too_long"),
    ({"last_name": "   "}, "last_name", "string_too_short"),
    ({"city": "Hà\nNội"}, "city", "control_characters"),
    ({"postcode": "#1"}, "postcode", "string_pattern_mismatch"),
    ({"state": "unknown"}, "state", "extra_forbidden"),
])
async def test_update_refuses_bad_values_with_002003_and_changes_nothing(alice, args, arg, problem):
    await alice.call("profile", "update", first_name="Lan", country="VN", dob="1990-05-17")
    before = (await alice.get("profile", "show"))["data"]
    error = await failure(alice.call("profile", "update", **{"first_name": "Mai", **args}))
    assert error.code == "002003" and error.status == 400
    assert {"arg": arg, "problem": problem} in error.body["details"]
    assert (await alice.get("profile", "show"))["data"] == before


async def test_a_date_of_birth_just_inside_the_limits_is_accepted(alice):
    yesterday = (today() - timedelta(days=1)).isoformat()
    assert (await alice.call("profile", "update", dob=yesterday))["data"]["dob"] == yesterday
    old = (today() - timedelta(days=149 * 365)).isoformat()
    assert (await alice.call("profile", "update", dob=old))["data"]["dob"] == old


async def test_profiles_belong_to_their_owner(alice, served):
    await alice.call("profile", "update", city="Đà Nẵng")
    bob, _ = await signed_in(served, "bob")
    async with bob:
        assert (await failure(bob.get("profile", "show"))).code == "005001"
        await bob.call("profile", "update", city="Cần Thơ")
    assert (await alice.get("profile", "show"))["data"]["city"] == "Đà Nẵng"


async def test_profile_needs_a_session(served):
    url, _ = served
    async with UgeneClient(url) as anonymous:
        assert (await failure(anonymous.get("profile", "show"))).code == "004004"
        assert (await failure(anonymous.call("profile", "update", city="Huế"))).code == "004004"


async def test_profile_needs_a_completed_session(served):
    client, _ = await signed_in(served, completed=False)
    async with client:
        error = await failure(client.call("profile", "update", city="Huế"))
    assert error.code == "004005" and error.status == 403


async def test_update_is_not_a_get_door(alice):
    assert (await failure(alice.get("profile", "update", city="Huế"))).code == "002001"


@pytest.mark.parametrize("language", ["en", "vi", "ru", "chi"])
async def test_codes_have_texts_in_every_language(served, language):
    client, _ = await signed_in(served, language=language)
    async with client:
        missing = await failure(client.get("profile", "show"))
        nothing = await failure(client.call("profile", "update"))
        saved = await client.call("profile", "update", city="Huế")
    texts = {code: json.loads((Path(PLUGIN.locate_file("ugene_profile/messages")) / f"{language}.json")
                              .read_text(encoding="utf-8"))[code] for code in ("005001", "005002", "105001")}
    assert (missing.text, nothing.text, saved["text"]) == (texts["005001"], texts["005002"], texts["105001"])
    assert missing.body["language"] == language


async def test_schema_and_openapi_list_the_plugin(served):
    url, _ = served
    async with UgeneClient(url) as client:
        schema = await client.schema()
        document = await (await client.http.get(url + "/openapi.json")).json()
    profile = schema["modules"]["profile"]
    assert profile["version"] == "1.0.0" and set(profile["params"]) == {"show", "update"}
    update = profile["params"]["update"]
    assert update["access"] == {"rule": "session"} and update["doors"] == ["post"]
    assert {"dob", "country", "metadata"} <= set(update["args"]["properties"])
    assert {entry["code"]: entry["http"] for entry in update["codes"]}.items() >= {
        "105001": 200, "005002": 400, "004004": 401, "004005": 403}.items()
    assert profile["params"]["show"]["doors"] == ["post", "get"]
    validate(document)
    assert "/api/profile/show/{language}" in document["paths"]
    assert "Call.profile.update" in document["components"]["schemas"]
    assert "profile" in [tag["name"] for tag in document["tags"]]


async def test_export_and_erase_hooks_cover_the_profile(alice, served):
    _, api = served
    await alice.call("profile", "update", first_name="Lan", country="VN")
    module = api.services.registry.modules["profile"]
    user = await _user(api, "alice")
    async with api.services.pool.acquire() as conn:
        exported = await module.export_hook(conn, user)
        assert exported["first_name"] == "Lan" and exported["country"] == "VN"
        await module.erase_hook(conn, user)
        assert await module.export_hook(conn, user) == {}
    assert (await failure(alice.get("profile", "show"))).code == "005001"


async def _user(api, username):
    async with api.services.pool.acquire() as conn:
        return dict(await conn.fetchrow("SELECT * FROM ugene_user WHERE username = $1", username))


@pytest.mark.skipif("gdpr" not in LOADED, reason="needs the gdpr module")
async def test_gdpr_shows_and_erases_the_profile(alice, served):
    _, api = served
    await alice.call("profile", "update", first_name="Lan", city="Sa Pa")
    shown = await alice.get("gdpr", "show-data")
    assert "Sa Pa" in json.dumps(shown, ensure_ascii=False)
    user = await _user(api, "alice")
    await alice.get("gdpr", "forget-me")
    async with api.services.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM profile_profile WHERE user_id = $1", user["id"]) == 0
