"""The published schema: `GET /api/schema` and `GET /openapi.json`, both generated from the registry.

Nothing here is written by hand per module: a plugin's params, argument models, access rules, doors
and codes appear in both documents as soon as it is loaded.
"""
from __future__ import annotations

import json
import re

from aiohttp import web
from pydantic.json_schema import models_json_schema

from . import __version__
from .codes import Code
from .context import Reply
from .guard import guard
from .keys import DISPATCHER, SERVICES
from .messages import LANGUAGES
from .registry import Param, Registry

# The documents are built once per app (the registry never changes after start-up); the dict is
# filled lazily because the routes of the frozen app are only final once it serves.
SCHEMA_CACHE = web.AppKey("schema_cache", dict)

# Codes any call may answer whatever its param (protocol §5: "002xxx ... may come anywhere").
REQUEST_CODES = tuple(code.value for code in Code if code.value.startswith("002"))
ACCESS_CODES = {
    "public": (),
    "partial": (Code.SESSION_INVALID.value,),
    "session": (Code.SESSION_INVALID.value, Code.SESSION_NOT_COMPLETED.value),
    # The dispatcher refuses an admin session whose sign-in is not completed with 004005.
    "admin": (Code.ADMIN_SESSION_REQUIRED.value, Code.ADMIN_FUNCTION_DENIED.value,
              Code.SESSION_NOT_COMPLETED.value),
}


def setup_schema_routes(app: web.Application) -> None:
    """Serve both documents; call before the `/api/{tail}` catch-all so `/api/schema` wins."""
    app[SCHEMA_CACHE] = {}
    app.router.add_get("/api/schema", guard(api_schema))
    app.router.add_get("/openapi.json", guard(openapi_json))


async def api_schema(request: web.Request) -> web.Response:
    """Every module and param as an envelope; code texts in `?language=` (else the default)."""
    services = request.app[SERVICES]
    language = services.messages.language(request.query.get("language"))
    cache = request.app[SCHEMA_CACHE]
    if language not in cache:
        cache[language] = describe(services.registry, services.messages, language)
    outcome = request.app[DISPATCHER].success(Reply.data(cache[language]), language, None)
    return web.Response(body=json.dumps(outcome.body, ensure_ascii=False, separators=(",", ":")),
                        content_type="application/json")


async def openapi_json(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of this app's HTTP surface."""
    cache = request.app[SCHEMA_CACHE]
    if "openapi" not in cache:
        services = request.app[SERVICES]
        document = openapi(services.registry, services.settings.public_url, route_templates(request.app))
        cache["openapi"] = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return web.Response(text=cache["openapi"], content_type="application/json")


# What a param may answer

def code_value(code) -> str:
    return getattr(code, "value", None) or str(code)


def param_codes(param: Param) -> list[str]:
    """The param's declared codes plus those every call with its access rule may answer."""
    own = {code_value(code) for code in param.codes}
    return sorted(own | set(REQUEST_CODES) | set(ACCESS_CODES[param.access.kind]))


def access_doc(param: Param) -> dict:
    doc = {"rule": param.access.kind}
    if param.access.permission is not None:
        doc["permission"] = param.access.permission
    return doc


def describe(registry: Registry, messages, language: str) -> dict:
    """`GET /api/schema`'s data: modules, params, args schemas, access, doors and codes."""
    modules = {}
    for module in registry.modules.values():
        params = {}
        for param in module.params.values():
            params[param.name] = {
                "description": param.description,
                "access": access_doc(param),
                "doors": list(param.doors),
                "args": param.args_model.model_json_schema(by_alias=True),
                "codes": [{"code": code, "http": _http(registry, code), "text": messages.text(code, language)}
                          for code in param_codes(param)],
            }
        modules[module.name] = {"title": module.title, "version": module.version,
                                "description": module.description, "params": params}
    return {"version": __version__, "languages": list(LANGUAGES), "modules": modules}


def _http(registry: Registry, code: str) -> int:
    known = registry.code(code)
    return getattr(known, "http", 200 if code.startswith("10") else 400)


# OpenAPI 3.1

REF = "#/components/schemas/{model}"
SECURED = [{"token": []}, {"bearer": []}]


def _ref(name: str) -> dict:
    return {"$ref": REF.format(model=name)}


def _name(*parts: str) -> str:
    """A component name OpenAPI accepts (letters, digits, `.`, `-`, `_`)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", ".".join(parts))


def route_templates(app: web.Application) -> set[str]:
    """The path templates the app really serves (the download and avatar routes may be absent)."""
    return {resource.canonical for resource in app.router.resources()}


def openapi(registry: Registry, public_url: str, routes: set[str]) -> dict:
    """The whole document: `/api` (POST, PUT), the GET shortcuts, files, health and the schema."""
    params = [p for m in registry.modules.values() for p in m.params.values()]
    schemas = _base_schemas()
    args_refs, defs = models_json_schema([(p.args_model, "validation") for p in params],
                                         by_alias=True, ref_template=REF)
    schemas.update(defs.get("$defs", {}))
    args_of = {id(p): args_refs[(p.args_model, "validation")] for p in params}
    for param in params:
        schemas[_name("Call", param.module, param.name)] = _envelope(
            param, args_of[id(param)], _model_schema(schemas, args_of[id(param)]))
    paths = {"/api": {"post": _post_operation(params)}}
    uploads = [p for p in params if p.put]
    if uploads:
        paths["/api"]["put"] = _put_operation(uploads, schemas, args_of)
    for param in params:
        if param.get:
            path = f"/api/{param.module}/{param.name}/{{language}}"
            paths[path] = {"get": _get_operation(param, _model_schema(schemas, args_of[id(param)]))}
    paths.update(_fixed_paths(routes))
    return {
        "openapi": "3.1.0",
        "info": {"title": "Ugene", "version": __version__, "license": {"name": "MIT", "identifier": "MIT"},
                 "description": "User-management gateway: JSON envelopes posted to /api, numeric codes "
                                "localized in en, vi, ru and chi. Generated from the loaded modules."},
        "servers": [{"url": public_url}],
        "tags": [{"name": m.name, "description": m.description or m.title} for m in registry.modules.values()],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "token": {"type": "apiKey", "in": "header", "name": "X-Authorization-Token",
                      "description": "`Bearer <token>` from auth/signin or auth/refresh-session"},
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }


def _base_schemas() -> dict:
    """The envelope parts every operation shares (protocol §2)."""
    session = {"oneOf": [
        {"type": "object", "maxProperties": 0, "description": "no session"},
        {"type": "object", "required": ["completed", "is_admin", "session_exp", "uid"], "properties": {
            "completed": {"enum": [0, 1]}, "is_admin": {"enum": [0, 1]},
            "session_exp": {"type": "integer"}, "uid": {"type": "string"}}}]}
    common = {"timestamp": {"type": "integer"}, "language": {"enum": list(LANGUAGES)},
              "session": _ref("Session")}
    return {
        "Code": {"type": "string", "pattern": "^[0-9]{6}$"},
        "Language": {"type": "string", "examples": list(LANGUAGES),
                     "description": "en, vi, ru or chi; anything else falls back to the default language"},
        "Session": session,
        "SuccessEnvelope": {
            "type": "object", "additionalProperties": False,
            "required": ["success", "answer", "timestamp", "language", "session"],
            "properties": {"success": {"const": 1}, "answer": {
                "type": "object", "description": "a `message` code (with its `text`) or the param's data",
                "properties": {"message": _ref("Code"), "text": {"type": "string"}}}, **common}},
        "ErrorEnvelope": {
            "type": "object", "additionalProperties": False,
            "required": ["success", "error", "text", "timestamp", "language", "session"],
            "properties": {"success": {"const": 0}, "error": _ref("Code"), "text": {"type": "string"},
                           "details": {"type": "array", "description": "on 002003 only", "items": {
                               "type": "object", "required": ["arg", "problem"],
                               "properties": {"arg": {"type": "string"}, "problem": {"type": "string"}}}},
                           **common}},
        "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
    }


def _envelope(param: Param, args_ref: dict, model: dict) -> dict:
    """One param's request envelope; its access, doors and codes ride along as extensions."""
    required = ["module", "param"] + (["args"] if model.get("required") else [])
    return {
        "type": "object", "title": f"{param.module}/{param.name}", "description": param.description,
        "required": required,
        "properties": {"module": {"const": param.module}, "param": {"const": param.name}, "args": args_ref,
                       "language": _ref("Language"),
                       "timestamp": {"type": ["string", "number"], "description": "ignored"}},
        "x-ugene-access": access_doc(param), "x-ugene-doors": list(param.doors),
        "x-ugene-codes": param_codes(param),
    }


def _responses() -> dict:
    return {"200": {"description": "success envelope", "content": {
                "application/json": {"schema": _ref("SuccessEnvelope")}}},
            "default": {"description": "error envelope; the HTTP status is the code's class", "content": {
                "application/json": {"schema": _ref("ErrorEnvelope")}}}}


def _post_operation(params: list[Param]) -> dict:
    return {
        "operationId": "call", "summary": "Call any param with a JSON envelope",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "oneOf": [_ref(_name("Call", p.module, p.name)) for p in params]}}}},
        "responses": _responses(),
        "security": [{}, *SECURED],
    }


def _model_schema(schemas: dict, ref: dict) -> dict:
    return schemas[ref["$ref"].rsplit("/", 1)[1]]


def _put_operation(uploads: list[Param], schemas: dict, args_of: dict) -> dict:
    """`PUT /api` multipart: the envelope's fields as text parts, the file as `source`."""
    variants = []
    for param in uploads:
        model = _model_schema(schemas, args_of[id(param)])
        variants.append({
            "type": "object", "title": f"{param.module}/{param.name}",
            "required": ["module", "param", "type", "source", *model.get("required", [])],
            "properties": {
                "module": {"const": param.module}, "param": {"const": param.name},
                "type": {"type": "string", "description": "what is uploaded: avatar or file"},
                "source": {"type": "string", "contentMediaType": "application/octet-stream"},
                "language": _ref("Language"), **model.get("properties", {})},
            "x-ugene-access": access_doc(param), "x-ugene-codes": param_codes(param),
        })
    return {"operationId": "upload", "summary": "Upload a file (multipart/form-data)",
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {"oneOf": variants}}}},
            "responses": _responses(), "security": SECURED}


def _get_operation(param: Param, model: dict) -> dict:
    """A GET shortcut: the query string becomes `args`."""
    parameters = [{"name": "language", "in": "path", "required": True, "schema": _ref("Language")}]
    for name, schema in model.get("properties", {}).items():
        parameters.append({"name": name, "in": "query", "required": name in model.get("required", []),
                           "schema": schema})
    operation = {"operationId": _name("get", param.module, param.name), "tags": [param.module],
                 "summary": param.description or f"{param.module}/{param.name}", "parameters": parameters,
                 "responses": _responses(), "x-ugene-access": access_doc(param),
                 "x-ugene-codes": param_codes(param)}
    if param.access.kind != "public":
        operation["security"] = SECURED
    return operation


def _error_json(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("ErrorEnvelope")}}}


def _fixed_paths(routes: set[str]) -> dict:
    """The routes outside the envelope protocol, documented only when the app serves them."""
    paths = {
        "/api/schema": {"get": {
            "operationId": "schema", "summary": "Every module and param: args schema, access, doors, codes",
            "parameters": [{"name": "language", "in": "query", "required": False, "schema": _ref("Language")}],
            "responses": {"200": {"description": "success envelope; `answer.data` holds the schema",
                                  "content": {"application/json": {"schema": _ref("SuccessEnvelope")}}}}}},
        "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document",
                                  "responses": {"200": {"description": "OpenAPI 3.1",
                                                        "content": {"application/json": {}}}}}},
        "/healthz": {"get": {"operationId": "healthz", "summary": "The process is alive", "responses": {
            "200": {"description": "alive", "content": {"application/json": {"schema": _ref("Health")}}}}}},
        "/readyz": {"get": {"operationId": "readyz", "summary": "The database is reachable", "responses": {
            "200": {"description": "ready", "content": {"application/json": {"schema": _ref("Health")}}},
            "503": {"description": "database unreachable",
                    "content": {"application/json": {"schema": _ref("Health")}}}}}},
        "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics", "responses": {
            "200": {"description": "Prometheus text format", "content": {"text/plain": {}}}}}},
    }
    files = {"/download/file/": ("download", "The owner's (or an admin's) file, as an attachment",
                                 "application/octet-stream"),
             "/image/user/avatar": ("avatar", "The caller's own avatar", "image/*"),
             "/image/user/avatar/": ("avatar.uid", "A user's avatar", "image/*")}
    for template in sorted(routes):
        for prefix, (operation_id, summary, media) in files.items():
            variable = template[len(prefix):]
            if template == prefix or (prefix.endswith("/") and template.startswith(prefix)
                                      and re.fullmatch(r"\{\w+\}", variable)):
                paths[template] = {"get": _file_operation(operation_id, summary, media, variable.strip("{}"))}
    return paths


def _file_operation(operation_id: str, summary: str, media: str, variable: str) -> dict:
    parameters = [{"name": variable, "in": "path", "required": True, "schema": {"type": "string"}}] \
        if variable else []
    return {"operationId": operation_id, "summary": summary, "parameters": parameters, "security": SECURED,
            "responses": {"200": {"description": "the bytes", "content": {media: {}}},
                          "401": _error_json("004004: session token missing, invalid or expired"),
                          "404": _error_json("001419: file not found")}}
