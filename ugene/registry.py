"""Modules and their params as data: what exists, who may call it, through which doors.

Discovery happens when the app is built (never at import): the entry-point group `ugene.modules`
(where the built-in modules are registered too), then the folder `UGENE_MODULES_DIR`. A duplicate
module or param, a code clash or a code without text stops the start with the culprit's name.
"""
from __future__ import annotations

import importlib.util
import inspect
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Awaitable, Callable

from pydantic import BaseModel, ConfigDict

from .codes import CORE_CODES, PluginCode


class Args(BaseModel):
    """Base of every argument model: unknown arguments are refused (002003).

    A field with an alias is known by its alias alone (`"new-pwd"`, never `new_pwd`): the protocol
    names each argument once.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class NoArgs(Args):
    """A param that takes no arguments."""


@dataclass(frozen=True)
class Access:
    """Who may call a param: `public`, `session`, `partial` (2FA pending is enough) or `admin`."""

    kind: str
    permission: int | None = None

    def __str__(self) -> str:
        return f"admin({self.permission})" if self.kind == "admin" else self.kind


PUBLIC = Access("public")
SESSION = Access("session")
PARTIAL_SESSION = Access("partial")


def admin(permission: int) -> Access:
    """An admin function with its permission id (protocol §5, admin)."""
    return Access("admin", permission)


Handler = Callable[..., Awaitable[Any]]


@dataclass
class Param:
    """One callable param of a module."""

    module: str
    name: str
    handler: Handler
    args_model: type[Args]
    access: Access
    get: bool = False
    put: bool = False
    codes: tuple = ()
    max_upload: Callable[[Any], int] | None = None
    description: str = ""
    # For mail links: fields a browser page offers (None: no page). The page never calls the param
    # by itself; only its button does, so mail scanners that prefetch links cannot burn them.
    page: tuple | None = None
    # The least time an answer takes (seconds), so that what the handler did (mail a link to a known
    # account, or nothing for an unknown one) cannot be told from how long it took. The wait happens
    # after the transaction, with no database connection held.
    min_seconds: float = 0.0

    def __post_init__(self):
        # A param without arguments that receives none needs no validation (ugene.dispatcher).
        self.takes_nothing = not self.args_model.model_fields
        self.no_args = self.args_model.model_construct() if self.takes_nothing else None

    @property
    def doors(self) -> tuple[str, ...]:
        return ("post",) + (("get",) if self.get else ()) + (("put",) if self.put else ())


@dataclass
class Module:
    """A module: a named group of params, its own codes, messages, schema and GDPR hooks."""

    name: str
    version: str = "1.0.0"
    description: str = ""
    title: str = ""
    codes: dict[str, int] = field(default_factory=dict)
    messages_dir: Path | None = None
    schema_file: Path | None = None
    params: dict[str, Param] = field(default_factory=dict)
    export_hook: Handler | None = None
    erase_hook: Handler | None = None

    def __post_init__(self):
        self.codes = {value: PluginCode(value, http) for value, http in self.codes.items()}
        if not self.title:
            self.title = f"Module {self.name.capitalize()}"

    def param(self, name: str, *, access: Access, get: bool = False, put: bool = False,
              codes: tuple = (), max_upload: Callable[[Any], int] | None = None, page: tuple | None = None,
              min_seconds: float = 0.0):
        """Declare a param: `@module.param("signup", access=PUBLIC)` on `async def h(ctx, args)`."""
        if not isinstance(access, Access):
            raise TypeError(f"{self.name}/{name}: access must be PUBLIC, SESSION, PARTIAL_SESSION or admin(n)")

        def register(handler: Handler) -> Handler:
            if name in self.params:
                raise RegistryError(f"duplicate param {self.name}/{name}")
            annotation = inspect.signature(handler).parameters.get("args")
            model = annotation.annotation if annotation is not None else NoArgs
            if isinstance(model, str):
                model = handler.__globals__[model]
            if not (isinstance(model, type) and issubclass(model, Args)):
                raise RegistryError(f"{self.name}/{name}: `args` must be annotated with an Args model")
            doc = (inspect.getdoc(handler) or "").split("\n")[0]
            self.params[name] = Param(self.name, name, handler, model, access, get, put,
                                      tuple(codes), max_upload, doc, page, min_seconds)
            return handler

        return register

    def export_user(self, hook: Handler) -> Handler:
        """Declare `async def hook(conn, user) -> dict|list`: the module's data about a person."""
        self.export_hook = hook
        return hook

    def erase_user(self, hook: Handler) -> Handler:
        """Declare `async def hook(conn, user)`: erase the module's data about a person."""
        self.erase_hook = hook
        return hook


# Paths under /api that the gateway itself serves; a module of that name would be shadowed.
RESERVED_NAMES = frozenset({"schema"})


class RegistryError(RuntimeError):
    """A plugin that cannot be loaded; the message names the culprit."""


class Registry:
    """Every loaded module, looked up by the dispatcher on each call."""

    def __init__(self, modules: list[Module] = ()):
        self.modules: dict[str, Module] = {}
        self.codes: dict[str, Any] = dict(CORE_CODES)
        for module in modules:
            self.add(module)

    def add(self, module: Module, origin: str = "") -> None:
        where = f" (from {origin})" if origin else ""
        if not isinstance(module, Module):
            raise RegistryError(f"{origin or module!r} does not provide a ugene Module")
        if module.name in RESERVED_NAMES:
            raise RegistryError(f"module name {module.name!r}{where} is reserved: GET /api/{module.name} "
                                "publishes the schema of every module")
        if module.name in self.modules:
            raise RegistryError(f"duplicate module {module.name!r}{where}")
        if not module.params:
            raise RegistryError(f"module {module.name!r}{where} declares no params")
        for value in module.codes:
            if value in self.codes:
                raise RegistryError(f"module {module.name!r}{where} declares code {value}, which is already taken")
        self.codes.update(module.codes)
        self.modules[module.name] = module

    def find(self, module: str, param: str) -> Param | None:
        # Names come from clients: a list or an object is no name (and no dict key).
        if not isinstance(module, str) or not isinstance(param, str):
            return None
        found = self.modules.get(module)
        return found.params.get(param) if found else None

    def code(self, value: str):
        return self.codes.get(value)

    def message_dirs(self) -> list[Path]:
        return [m.messages_dir for m in self.modules.values() if m.messages_dir]

    def schema_files(self) -> list[Path]:
        return [m.schema_file for m in self.modules.values() if m.schema_file]


def discover(modules_dir: Path | None = None, group: str = "ugene.modules") -> Registry:
    """Build the registry from the entry-point group, then from the plugins folder."""
    registry = Registry()
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        try:
            module = ep.load()
        except Exception as exc:  # a broken plugin must name itself, not crash anonymously
            raise RegistryError(f"plugin entry point {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
        registry.add(module, origin=f"entry point {ep.value}")
    if modules_dir:
        for path in sorted(Path(modules_dir).iterdir()):
            if path.name.startswith((".", "_")):
                continue
            registry.add(_load_from_path(path), origin=str(path.name))
    return registry


def _load_from_path(path: Path) -> Module:
    """Load `module` from a plugin folder (package with __init__.py) or a single .py file."""
    init = path / "__init__.py" if path.is_dir() else path
    if init.suffix != ".py" or not init.exists():
        raise RegistryError(f"plugin {path.name!r} is neither a package nor a .py file")
    name = f"ugene_plugin_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(path)] if path.is_dir() else None)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    try:
        spec.loader.exec_module(loaded)
    except Exception as exc:
        raise RegistryError(f"plugin {path.name!r} failed to load: {exc}") from exc
    module = getattr(loaded, "module", None)
    if not isinstance(module, Module):
        raise RegistryError(f"plugin {path.name!r} has no `module = Module(...)`")
    return module
