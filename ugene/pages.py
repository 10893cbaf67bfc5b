"""Small localized HTML pages for mail links opened in a browser.

Opening a link shows a page with a form; only pressing its button calls the param, so a mail scanner
that prefetches links cannot use them up. No script, no external asset, a strict CSP.
"""
from __future__ import annotations

import html
import secrets

from aiohttp import web

from . import doors
from .guard import guard
from .keys import DISPATCHER, SERVICES

# One small inline sheet (nonce'd, so the CSP needs no 'unsafe-inline'): a card on a quiet background, a
# clear primary button, visible focus, and readable text in every language (system fonts with CJK fallbacks).
_STYLE = (
    ":root{color-scheme:light dark;--bg:#f3f4f6;--card:#fff;--text:#1f2937;--muted:#4b5563;--line:#d1d5db;"
    "--accent:#1d4ed8;--accent-text:#fff;--ok:#047857;--error:#b91c1c}"
    "@media (prefers-color-scheme:dark){:root{--bg:#111827;--card:#1f2937;--text:#f3f4f6;--muted:#d1d5db;"
    "--line:#4b5563;--accent:#3b82f6;--ok:#34d399;--error:#f87171}}"
    "*{box-sizing:border-box}"
    "body{margin:0;padding:3rem 1rem;background:var(--bg);color:var(--text);"
    "font:1rem/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans','Noto Sans CJK SC',"
    "'WenQuanYi Micro Hei','DejaVu Sans',sans-serif}"
    "main{max-width:30rem;margin:0 auto;padding:2rem;background:var(--card);border:1px solid var(--line);"
    "border-radius:.75rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}"
    "@media (max-width:34rem){body{padding:0}main{border:0;border-radius:0;min-height:100vh}}"
    "h1{font-size:1.4rem;line-height:1.3;margin:0 0 1rem}p{margin:0 0 1rem;color:var(--muted)}"
    "main>:last-child{margin-bottom:0}"
    "label{display:block;margin:1.25rem 0 .4rem;font-weight:600;font-size:.95rem}"
    "input[type=password]{width:100%;padding:.65rem .75rem;font:inherit;color:inherit;background:var(--card);"
    "border:1px solid var(--line);border-radius:.5rem}"
    "button{margin-top:1.25rem;width:100%;padding:.75rem 1rem;font:inherit;font-weight:600;cursor:pointer;"
    "color:var(--accent-text);background:var(--accent);border:0;border-radius:.5rem}"
    "button:hover{filter:brightness(1.1)}"
    "input:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}"
    ".ok,.error{padding:.75rem 1rem;border-left:4px solid;border-radius:.25rem;color:var(--text)}"
    ".ok{border-color:var(--ok)}.error{border-color:var(--error)}")
# The protocol's language names are not all BCP 47 tags; the lang attribute must be one (it picks fonts,
# hyphenation and screen-reader voices).
_HTML_LANG = {"chi": "zh-Hans"}


def wants_html(request: web.Request) -> bool:
    """A browser asks for HTML first; API clients ask for JSON or nothing in particular."""
    accept = request.headers.get("Accept", "")
    html_at, json_at = accept.find("text/html"), accept.find("application/json")
    return html_at != -1 and (json_at == -1 or html_at < json_at)


def _page(language: str, title: str, body: str) -> web.Response:
    nonce = secrets.token_urlsafe(16)
    lang = html.escape(_HTML_LANG.get(language, language))
    document = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width,initial-scale=1">'
                f'<meta name="referrer" content="no-referrer">'
                f'<title>{html.escape(title)}</title><style nonce="{nonce}">{_STYLE}</style></head>'
                f'<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>')
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
    app.router.add_post("/pages/{module}/{param}/{language}", guard(submit))
