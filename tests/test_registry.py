"""Discovery of modules (entry points and the plugins folder) and the start-up checks."""
import sys

import pytest

from ugene import PUBLIC, Args, Module, NoArgs, Reply
from ugene.app import create_app
from ugene.codes import Code
from ugene.messages import LANGUAGES, load_messages, placeholders
from ugene.registry import Registry, RegistryError, discover
from ugene.resources import messages_dir

PLUGIN = '''
from ugene import PUBLIC, Module, NoArgs, Reply, Code

module = Module("{name}", version="2.0.0", description="a test plugin")


@module.param("ping", access=PUBLIC, get=True)
async def ping(ctx, args: NoArgs) -> Reply:
    """Answer pong."""
    return Reply.data("pong-{name}")
'''


def write_plugin(folder, name):
    package = folder / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(PLUGIN.format(name=name))
    return package


@pytest.fixture
def entry_point_plugin(tmp_path, monkeypatch):
    """A plugin installed the way pip installs one: a package plus dist-info with an entry point."""
    site = tmp_path / "site"
    write_plugin(site, "ugene_ep_demo")
    info = site / "ugene_ep_demo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ugene-ep-demo\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ugene.modules]\nepdemo = ugene_ep_demo:module\n")
    monkeypatch.syspath_prepend(str(site))
    yield
    sys.modules.pop("ugene_ep_demo", None)


def test_builtin_modules_are_found_through_entry_points():
    registry = discover()
    assert "general" in registry.modules
    assert registry.find("general", "status").get


def test_plugin_through_entry_point_is_loaded(entry_point_plugin):
    registry = discover()
    assert registry.find("ugene_ep_demo", "ping") is not None


def test_plugin_through_folder_is_loaded(tmp_path):
    write_plugin(tmp_path, "folderdemo")
    registry = discover(tmp_path)
    assert registry.modules["folderdemo"].version == "2.0.0"


async def test_folder_plugin_answers_through_api(tmp_path, settings, clock, db, aiohttp_client):
    write_plugin(tmp_path / "plugins", "folderapi")
    app = create_app(settings.with_(modules_dir=tmp_path / "plugins"), clock=clock)
    client = await aiohttp_client(app)
    body = await (await client.get("/api/folderapi/ping/en")).json()
    assert body["success"] == 1 and body["answer"]["data"] == "pong-folderapi"


def test_duplicate_module_names_the_culprit(tmp_path):
    write_plugin(tmp_path, "general")
    with pytest.raises(RegistryError, match="duplicate module 'general'.*general"):
        discover(tmp_path)


def test_duplicate_param_names_the_culprit():
    module = Module("dup")

    @module.param("same", access=PUBLIC)
    async def first(ctx, args: NoArgs) -> Reply:
        """First."""

    with pytest.raises(RegistryError, match="duplicate param dup/same"):
        @module.param("same", access=PUBLIC)
        async def second(ctx, args: NoArgs) -> Reply:
            """Second."""


def test_code_clash_names_the_culprit():
    module = Module("clash", codes={"001402": 400})

    @module.param("x", access=PUBLIC)
    async def x(ctx, args: NoArgs) -> Reply:
        """X."""

    with pytest.raises(RegistryError, match="'clash' declares code 001402"):
        Registry([module])


def test_param_without_args_model_is_refused():
    module = Module("bad")
    with pytest.raises(RegistryError, match="bad/x"):
        @module.param("x", access=PUBLIC)
        async def x(ctx, args: dict) -> Reply:
            """X."""


def test_plugin_code_without_text_stops_the_start(tmp_path):
    module = Module("coded", codes={"009001": 400})

    @module.param("x", access=PUBLIC)
    async def x(ctx, args: NoArgs) -> Reply:
        """X."""

    registry = Registry([module])
    with pytest.raises(RegistryError, match="009001 have no text in messages/en.json"):
        load_messages([messages_dir()], registry.codes)
    texts = tmp_path / "messages"
    texts.mkdir()
    for lang in LANGUAGES:
        (texts / f"{lang}.json").write_text('{"009001": "text %s"}' % lang)
    messages = load_messages([messages_dir(), texts], registry.codes)
    assert messages.text("009001", "ru") == "text ru"


def test_every_code_has_text_in_every_language():
    messages = load_messages([messages_dir()], {c.value: c for c in Code})
    for lang in LANGUAGES:
        for code in Code:
            assert messages.text(code.value, lang).strip(), (lang, code)
    # real translations: the tables differ from English
    assert messages.table("vi")["001402"] != messages.table("en")["001402"]


def test_mail_templates_have_the_same_placeholders_in_every_language():
    messages = load_messages([messages_dir()], {c.value: c for c in Code})
    for name, entry in messages.mails["en"].items():
        for lang in LANGUAGES:
            other = messages.mails[lang][name]
            assert placeholders(other["body"]) == placeholders(entry["body"]), (name, lang)


def test_args_model_refuses_unknown_fields():
    class Demo(Args):
        a: int

    with pytest.raises(Exception):
        Demo.model_validate({"a": 1, "b": 2})
    assert Demo.model_validate({"a": "1"}).a == 1
