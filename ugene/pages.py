"""Small localized HTML pages for mail links opened in a browser.

Opening a link shows a page with a form; only pressing its button calls the param, so a mail scanner
that prefetches links cannot use them up. No script, no external asset, a strict CSP.
"""
from __future__ import annotations

import html
import secrets

from aiohttp import web

from . import doors
from .keys import DISPATCHER, SERVICES

_STYLE = ("body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}"
          "h1{font-size:1.4rem}label{display:block;margin:1rem 0 .3rem}"
          "input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}"
          "button{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem}.error{color:#a00}.ok{color:#070}")


def wants_html(request: web.Request) -> bool:
    """A browser asks for HTML first; API clients ask for JSON or nothing in particular."""
    accept = request.headers.get("Accept", "")
    html_at, json_at = accept.find("text/html"), accept.find("application/json")
    return html_at != -1 and (json_at == -1 or html_at < json_at)


def _page(language: str, title: str, body: str) -> web.Response:
    nonce = secrets.token_urlsafe(16)
    document = (f'<!doctype html><html lang="{html.escape(language)}"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width,initial-scale=1">'
                f'<meta name="referrer" content="no-referrer">'
                f'<title>{html.escape(title)}</title><style nonce="{nonce}">{_STYLE}</style></head>'
                f'<body><h1>{html.escape(title)}</h1>{body}</body></html>')
    return web.Response(text=document, content_type="text/html", headers={
        "Content-Security-Policy": (f"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self'; "
                                    "base-uri 'none'; frame-ancestors 'none'"),
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})


def form_page(request: web.Request, param) -> web.Response:
    """The page a mail link opens: the link's arguments as hidden fields, the param's fields, a button."""
    messages = request.app[SERVICES].messages
    language = messages.language(request.match_info.get("language"))
    key = f"{param.module}/{param.name}"
    hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in request.query.items() if k not in param.page)
    fields = "".join(
        f'<label for="{html.escape(name)}">{html.escape(messages.page("field." + name, language))}</label>'
        f'<input type="password" id="{html.escape(name)}" name="{html.escape(name)}" autocomplete="new-password">'
        for name in param.page)
    action = f"/pages/{param.module}/{param.name}/{language}"
    body = (f'<p>{html.escape(messages.page(key + ".intro", language))}</p>'
            f'<form method="post" action="{html.escape(action)}">{hidden}{fields}'
            f'<button type="submit">{html.escape(messages.page(key + ".button", language))}</button></form>')
    return _page(language, messages.page(key + ".title", language), body)


async def submit(request: web.Request) -> web.Response:
    """The page's button: call the param with the form's fields, show the outcome."""
    services = request.app[SERVICES]
    info = request.match_info
    param = services.registry.find(info["module"], info["param"])
    language = services.messages.language(info["language"])
    if param is None or param.page is None:
        raise web.HTTPNotFound()
    form = await request.post()
    # An empty optional field means "not given" (e.g. no new password: generate one).
    args = {k: v for k, v in form.items() if isinstance(v, str) and (v or k not in param.page)}
    call = doors.base_call(request, "get", param.module, param.name, args, language)
    outcome = await request.app[DISPATCHER].dispatch(call)
    body = outcome.body
    ok = body.get("success") == 1
    text = body["answer"].get("text", "") if ok else body.get("text", "")
    title = services.messages.page("result.ok" if ok else "result.error", language)
    css = "ok" if ok else "error"
    return _page(language, title, f'<p class="{css}">{html.escape(text)}</p>')


def setup_pages(app: web.Application) -> None:
    app.router.add_post("/pages/{module}/{param}/{language}", submit)
