"""Injection over real HTTP: a forged Host never reaches a mail link, CR/LF in an address never reaches a
mail header, and no param takes an argument it does not declare (mass assignment)."""
import pytest

from .helpers import link_in

pytestmark = pytest.mark.check

PASSWORD = "Correct7Horse"
FORGED_HOST = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http",
               "X-Forwarded-Server": "evil.example", "Forwarded": "host=evil.example;proto=http",
               "X-Original-URL": "http://evil.example/", "Origin": "http://evil.example",
               "Referer": "http://evil.example/"}
# Line breaks of every kind a mail or log line could be split on, each followed by a header.
BREAKS = ["\r\n", "\n", "\r", "\u2028", "\u0085", "\x0b", "\x0c"]
PRIVILEGES = {"is_admin": True, "completed": True, "status": True, "restricted": False, "deleted": False,
              "uid": "AAAAAAAAAAAA", "id": 1, "role_id": 1, "permissions": [1, 2, 3], "creator_id": 1}


def mail_text(message) -> str:
    """Every header and every part of a mail, as one text."""
    parts = [str(value) for value in message.values()]
    for part in message.walk():
        if not part.is_multipart():
            parts.append(part.get_content() if isinstance(part.get_content(), str) else "")
    return "\n".join(parts)


async def test_a_forged_host_never_reaches_a_mail_link(api, db, smtp, clock, settings):
    answers = [await api.call("reg", "signup", uname="bob", email="bob@example.test", headers=FORGED_HOST,
                              **{"pass": PASSWORD})]
    clock.advance(61)
    answers.append(await api.call("reg", "resend-confirm", email="bob@example.test", headers=FORGED_HOST))
    await api.user("alice", PASSWORD)
    answers.append(await api.call("auth", "restore-pwd", uname="alice", headers=FORGED_HOST))
    _, token = await api.login("carol")
    answers.append(await api.call("user", "change-email", token=token, email="carol2@example.test",
                                  headers=FORGED_HOST))
    assert all(a.ok for a in answers), answers
    mails = [*await smtp.wait(2, to="bob@example.test"), await smtp.wait(to="alice@example.test"),
             await smtp.wait(to="carol2@example.test")]
    for mail in mails:
        assert link_in(mail).startswith(settings.public_url + "/api/")
        assert "evil" not in mail_text(mail)


@pytest.mark.parametrize("brk", BREAKS, ids=repr)
async def test_a_line_break_in_the_signup_address_is_001405_and_mails_nothing(api, db, smtp, brk):
    for email in (f"bob@example.test{brk}Bcc: victim@evil.example", f"bob@example.test{brk}",
                  f"{brk}Bcc: victim@evil.example"):
        answer = await api.call("reg", "signup", uname="bob", email=email, **{"pass": PASSWORD})
        assert (answer.code, answer.status) == ("001405", 400), (email, answer)
    assert await db.fetchval("SELECT count(*) FROM ugene_user") == 0
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == 0


@pytest.mark.parametrize("brk", ["\r\n", "\n", "\r", "\u2028"], ids=repr)
async def test_a_line_break_in_a_changed_or_resent_address_is_001405_and_mails_nothing(api, db, smtp, brk):
    _, token = await api.login("alice")
    injected = f"alice2@example.test{brk}Bcc: victim@evil.example"
    answer = await api.call("user", "change-email", token=token, email=injected)
    assert (answer.code, answer.status) == ("001405", 400)
    answer = await api.call("reg", "resend-confirm", email=injected)
    assert (answer.code, answer.status) == ("001405", 400)
    # restore-pwd takes a login, not an address: an injected one matches nobody and mails nothing.
    assert (await api.call("auth", "restore-pwd", uname=f"alice@example.test{brk}Bcc: x@evil.example")).ok
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == 0
    assert await db.fetchval("SELECT pending_email FROM ugene_user") is None


async def test_a_nul_in_an_address_or_login_is_002003_and_mails_nothing(api, db, smtp):
    """A NUL is no text PostgreSQL can hold: every argument carrying one is refused before any handler."""
    _, token = await api.login("alice")
    injected = "alice2@example.test\x00Bcc: victim@evil.example"
    for answer in (await api.call("reg", "signup", uname="bob", email=injected, **{"pass": PASSWORD}),
                   await api.call("user", "change-email", token=token, email=injected),
                   await api.call("reg", "resend-confirm", email=injected),
                   await api.call("auth", "restore-pwd", uname=injected)):
        assert (answer.code, answer.status) == ("002003", 400), answer
        assert answer.body["details"][0]["problem"] == "string_unicode"
    assert await db.fetchval("SELECT count(*) FROM ugene_outbox") == 0
    assert await db.fetchval("SELECT count(*) FROM ugene_user") == 1


async def test_mails_carry_exactly_one_recipient_and_no_injected_header(api, db, smtp, clock):
    assert (await api.call("reg", "signup", uname="bob", email="bob@example.test", **{"pass": PASSWORD})).ok
    for brk in ("\r\n", "\n"):
        await api.call("reg", "resend-confirm", email=f"bob@example.test{brk}Bcc: victim@evil.example")
    mail = await smtp.wait(to="bob@example.test")
    assert mail.get_all("To") == ["bob@example.test"]
    assert mail["Bcc"] is None and mail["Cc"] is None
    assert len(smtp.messages) == 1


async def test_signup_with_privilege_fields_is_002003_and_creates_nothing(api, db, smtp):
    for name, value in PRIVILEGES.items():
        answer = await api.call("reg", "signup", uname="mallory", email="mallory@example.test",
                                **{"pass": PASSWORD, name: value})
        assert (answer.code, answer.status) == ("002003", 400), answer
        assert {"arg": name, "problem": "extra_forbidden"} in answer.body["details"]
    assert await db.fetchval("SELECT count(*) FROM ugene_user") == 0


def declared(param) -> set:
    fields = param.args_model.model_fields
    return set(fields) | {field.alias for field in fields.values() if field.alias}


async def test_every_param_refuses_undeclared_privilege_fields_with_002003(api, db):
    """Through POST with a completed admin session, so access passes and the arguments decide."""
    _, token = await api.login("root", is_admin=True)
    before = await db.fetch("SELECT * FROM ugene_user ORDER BY id")
    checked = []
    for module in api.services.registry.modules.values():
        for param in module.params.values():
            extra = {name: value for name, value in PRIVILEGES.items() if name not in declared(param)}
            answer = await api.call(module.name, param.name, token=token, **extra)
            assert (answer.code, answer.status) == ("002003", 400), (module.name, param.name, answer)
            for name in extra:
                assert {"arg": name, "problem": "extra_forbidden"} in answer.body["details"], (param.name, name)
            checked.append(f"{module.name}/{param.name}")
    assert "reg/signup" in checked and "user/profile" in checked
    assert ("admin/add-user" in checked) == ("admin" in api.services.registry.modules)
    assert await db.fetch("SELECT * FROM ugene_user ORDER BY id") == before


async def test_get_doors_refuse_an_undeclared_is_admin_with_002003(api, db):
    _, token = await api.login("alice")
    for module in api.services.registry.modules.values():
        for param in module.params.values():
            if not param.get:
                continue
            answer = await api.get(f"/api/{module.name}/{param.name}/en", token=token, is_admin="1")
            # Admin params stop at access (003013) before their arguments are read (protocol §8).
            expected = "003013" if param.access.kind == "admin" else "002003"
            assert answer.code == expected, (module.name, param.name, answer)
    assert not await db.fetchval("SELECT is_admin FROM ugene_user")
