"""The published schema: GET /api/schema and GET /openapi.json, generated from whatever is loaded."""
import pytest
from aiohttp import web
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from ugene import PUBLIC, SESSION, Args, Code, Context, Field, Module, NoArgs, Reply, admin
from ugene.app import create_app
from ugene.registry import Registry, RegistryError
from ugene_modules.general import module as general

from .helpers import Api

probe = Module("probe", description="A module that exists only in this test")


class EchoArgs(Args):
    word: str = Field(min_length=1, max_length=10)
    times: int = Field(default=1, ge=1, le=3)
    dry_run: bool = Field(default=False, alias="dry-run")


@probe.param("echo", access=PUBLIC, get=True, codes=(Code.DONE,))
async def echo(ctx: Context, args: EchoArgs) -> Reply:
    """Say the word again."""
    return Reply.data(args.word * args.times)


@probe.param("mine", access=SESSION, get=True, codes=(Code.USER_NOT_FOUND,))
async def mine(ctx: Context, args: NoArgs) -> Reply:
    """Something of the caller's."""
    return Reply.data(ctx.user["uid"])


@probe.param("audit", access=admin(3))
async def audit(ctx: Context, args: NoArgs) -> Reply:
    """An admin function."""
    return Reply.message(Code.DONE)


@probe.param("upload-thing", access=SESSION, put=True, codes=(Code.FILE_REJECTED,))
async def upload_thing(ctx: Context, args: NoArgs) -> Reply:
    """Receive a file."""
    return Reply.message(Code.DONE, size=ctx.upload.size)


async def serve_file(request):
    return web.Response(body=b"x")


@pytest.fixture
async def probe_api(aiohttp_client, settings, clock, db):
    app = create_app(settings, registry=Registry([general, probe]), clock=clock)
    # The download and avatar routes are documented when the app serves them, whoever adds them.
    app.router.add_get("/download/file/{fileid}", serve_file)
    app.router.add_get("/image/user/avatar", serve_file)
    app.router.add_get("/image/user/avatar/{uid}", serve_file)
    return Api(await aiohttp_client(app), app)


async def openapi_of(api) -> dict:
    response = await api.client.get("/openapi.json")
    assert response.status == 200 and response.content_type == "application/json"
    return await response.json()


def codes_of(param_doc) -> dict:
    return {entry["code"]: entry for entry in param_doc["codes"]}


async def test_api_schema_is_a_success_envelope_listing_the_loaded_modules(api):
    answer = await api.get("/api/schema")
    assert answer.status == 200 and answer.ok
    assert set(answer.body) == {"success", "answer", "timestamp", "language", "session"}
    data = answer.answer["data"]
    assert data["languages"] == ["en", "vi", "ru", "chi"] and data["version"]
    assert set(data["modules"]) == set(api.services.registry.modules)
    status = data["modules"]["general"]["params"]["status"]
    assert status["access"] == {"rule": "public"} and status["doors"] == ["post", "get"]
    assert status["args"]["type"] == "object" and status["args"]["properties"] == {}
    assert status["description"].startswith("The runtime switches")
    assert codes_of(status)["002004"] == {"code": "002004", "http": 400,
                                          "text": api.services.messages.text("002004", "en")}


async def test_api_schema_gives_code_texts_in_the_asked_language(api):
    answer = await api.get("/api/schema", language="ru")
    assert answer.body["language"] == "ru"
    codes = codes_of(answer.answer["data"]["modules"]["general"]["params"]["status"])
    assert codes["002001"]["text"] == api.services.messages.text("002001", "ru")
    assert codes["002001"]["http"] == 404


async def test_api_schema_shows_a_plugin_with_its_args_access_doors_and_codes(probe_api):
    data = (await probe_api.get("/api/schema")).answer["data"]
    params = data["modules"]["probe"]["params"]
    echo_doc = params["echo"]
    assert echo_doc["args"]["required"] == ["word"]
    assert set(echo_doc["args"]["properties"]) == {"word", "times", "dry-run"}   # by alias
    assert echo_doc["args"]["additionalProperties"] is False
    assert echo_doc["access"] == {"rule": "public"}
    assert {"100100", "002000", "002003", "002008"} <= set(codes_of(echo_doc))
    assert "004004" not in codes_of(echo_doc)
    assert params["mine"]["access"] == {"rule": "session"}
    assert {"001415", "004004", "004005"} <= set(codes_of(params["mine"]))
    assert params["audit"]["access"] == {"rule": "admin", "permission": 3}
    assert params["audit"]["doors"] == ["post"]
    assert {"003012", "003013"} <= set(codes_of(params["audit"]))
    assert params["upload-thing"]["doors"] == ["post", "put"]
    assert codes_of(params["upload-thing"])["001418"]["http"] == 400


async def test_the_schema_route_wins_over_the_get_doors(api):
    assert (await api.get("/api/schema/en")).code == "002000"   # no module "schema"; not the document
    response = await api.client.post("/api/schema", json={})
    assert (await response.json())["error"] == "002002"


def test_registry_refuses_a_module_named_schema():
    shadow = Module("schema")

    @shadow.param("x", access=PUBLIC)
    async def x(ctx: Context, args: NoArgs) -> Reply:
        """Never reachable."""

    with pytest.raises(RegistryError, match="'schema'.*reserved"):
        Registry([shadow])


async def test_openapi_document_is_a_valid_openapi_3_1(api):
    document = await openapi_of(api)
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "https://ugene.example.test"}]
    for path in ("/api", "/api/schema", "/healthz", "/readyz", "/metrics", "/api/general/status/{language}"):
        assert path in document["paths"], path


async def test_openapi_with_a_plugin_is_valid_and_lists_every_door(probe_api):
    document = await openapi_of(probe_api)
    validate(document)
    paths = document["paths"]
    union = paths["/api"]["post"]["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert len(union) == sum(len(m.params) for m in probe_api.services.registry.modules.values())
    envelope = document["components"]["schemas"]["Call.probe.echo"]
    assert envelope["properties"]["module"] == {"const": "probe"}
    assert envelope["properties"]["param"] == {"const": "echo"}
    assert envelope["required"] == ["module", "param", "args"]
    assert envelope["x-ugene-access"] == {"rule": "public"}
    query = {p["name"]: p for p in paths["/api/probe/echo/{language}"]["get"]["parameters"]}
    assert query["language"]["in"] == "path"
    assert query["word"]["required"] is True and query["times"]["required"] is False
    assert query["dry-run"]["schema"]["type"] == "boolean"
    assert "security" not in paths["/api/probe/echo/{language}"]["get"]
    assert paths["/api/probe/mine/{language}"]["get"]["security"]
    assert "/api/probe/audit/{language}" not in paths                  # POST only
    upload = paths["/api"]["put"]["requestBody"]["content"]["multipart/form-data"]["schema"]["oneOf"]
    assert [variant["title"] for variant in upload] == ["probe/upload-thing"]
    for path in ("/download/file/{fileid}", "/image/user/avatar", "/image/user/avatar/{uid}"):
        assert paths[path]["get"]["security"], path


async def test_openapi_lists_uploads_only_when_an_upload_param_is_loaded(aiohttp_client, settings, clock, db):
    app = create_app(settings, registry=Registry([general]), clock=clock)
    client = await aiohttp_client(app)
    document = await (await client.get("/openapi.json")).json()
    assert "put" not in document["paths"]["/api"]   # no upload param loaded
    assert "/download/file/{fileid}" in document["paths"]   # the core always serves downloads


def schema_validator(document: dict, name: str) -> Draft202012Validator:
    root = {"components": document["components"], "$ref": f"#/components/schemas/{name}"}
    return Draft202012Validator(root)


async def test_openapi_envelopes_describe_real_requests_and_answers(probe_api):
    document = await openapi_of(probe_api)
    request = {"components": document["components"],
               **document["paths"]["/api"]["post"]["requestBody"]["content"]["application/json"]["schema"]}
    requests = Draft202012Validator(request)
    good = {"module": "probe", "param": "echo", "args": {"word": "hi", "times": 2}, "language": "en"}
    assert requests.is_valid(good)
    assert not requests.is_valid({"module": "probe", "param": "echo", "args": {"word": "hi", "bad": 1}})
    assert not requests.is_valid({"module": "probe", "param": "nothing", "args": {}})
    success = await probe_api.post(good)
    assert success.ok
    schema_validator(document, "SuccessEnvelope").validate(success.body)
    failure = await probe_api.post({"module": "probe", "param": "echo", "args": {"word": ""}})
    assert failure.code == "002003"
    schema_validator(document, "ErrorEnvelope").validate(failure.body)
    user, token = await probe_api.login("dora")
    with_session = await probe_api.get("/api/probe/mine/en", token=token)
    assert with_session.answer["data"] == user["uid"]
    schema_validator(document, "SuccessEnvelope").validate(with_session.body)
