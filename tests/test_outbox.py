"""The mail outbox: queued with the change, delivered over real SMTP, retried, abandoned, never lost."""
import asyncio
import stat

import pytest
from aiosmtpd.controller import Controller

from ugene.app import create_app
from ugene.outbox import FolderTransport, Sender, SmtpTransport

from .conftest import Mailbox, free_port
from .helpers import Api


@pytest.fixture
async def quiet(settings, clock, db, aiohttp_client):
    """An app whose own sender does not run, so each test drives a sender of its own."""
    app = create_app(settings, clock=clock, run_sender=False)
    return Api(await aiohttp_client(app), app)


async def queue_mail(api, recipient="bob@example.test", template="otp_code", **values):
    values = values or {"username": "bob", "code": "123456"}
    async with api.services.pool.acquire() as conn:
        async with conn.transaction():
            return await api.services.outbox.enqueue(conn, template, recipient, "en", **values)


def sender_for(api, settings, **kwargs):
    return Sender(api.services.pool, api.services.clock, SmtpTransport(settings), mail_from=settings.mail_from,
                  max_attempts=kwargs.get("max_attempts", 3), retry_base=1.0, poll_seconds=0.05)


async def test_mail_is_delivered_by_the_running_sender(api, smtp):
    await queue_mail(api)
    api.services.wake_sender()
    message = await smtp.wait(to="bob@example.test")
    assert "123456" in message.get_body(("plain",)).get_content().splitlines()


async def test_smtp_down_keeps_the_mail_queued_until_it_is_back(quiet, settings, db, clock):
    port = free_port()
    sender = sender_for(quiet, settings.with_(smtp_port=port))
    mail_id = await queue_mail(quiet)
    assert await sender.deliver_due() == 1
    row = await db.fetchrow("SELECT state, attempts, last_error FROM ugene_outbox WHERE id = $1", mail_id)
    assert row["state"] == "queued" and row["attempts"] == 1 and row["last_error"]
    assert await sender.deliver_due() == 0            # backing off: not due yet
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        clock.advance(5)
        assert await sender.deliver_due() == 1
        await mailbox.wait(to="bob@example.test")
    finally:
        controller.stop()
    assert await db.fetchval("SELECT state FROM ugene_outbox WHERE id = $1", mail_id) == "sent"


async def test_mail_is_abandoned_after_max_attempts_and_metrics_show_it(quiet, settings, db, clock):
    sender = sender_for(quiet, settings.with_(smtp_port=free_port()), max_attempts=3)
    mail_id = await queue_mail(quiet)
    for _ in range(3):
        await sender.deliver_due()
        clock.advance(60)
    row = await db.fetchrow("SELECT state, last_error FROM ugene_outbox WHERE id = $1", mail_id)
    assert row["state"] == "abandoned" and "Error" in row["last_error"]
    text = await (await quiet.client.get("/metrics")).text()
    assert 'ugene_outbox_mails{state="abandoned"} 1.0' in text


async def test_claims_are_released_on_shutdown(quiet, settings, db):
    sender = sender_for(quiet, settings)
    mail_id = await queue_mail(quiet)
    await db.execute("UPDATE ugene_outbox SET claimed_until = next_attempt_at + interval '1 hour', attempts = 1 "
                     "WHERE id = $1", mail_id)
    sender._claimed.add(mail_id)
    await sender.release()
    assert await db.fetchval("SELECT claimed_until FROM ugene_outbox WHERE id = $1", mail_id) is None


async def test_without_smtp_mails_become_eml_files_announced_without_their_links(quiet, settings, tmp_path, capsys):
    folder = tmp_path / "mail"
    sender = Sender(quiet.services.pool, quiet.services.clock, FolderTransport(folder), mail_from=settings.mail_from,
                    max_attempts=3, retry_base=1.0)
    await queue_mail(quiet, template="restore_pwd", username="bob", link="https://ugene.example.test/quiet/x?hash=abc")
    assert await sender.deliver_due() == 1
    files = list(folder.glob("*.eml"))
    assert len(files) == 1 and b"To: bob@example.test" in files[0].read_bytes()
    assert list(folder.iterdir()) == files                       # no draft left beside it
    # Links, codes and passwords are for the server's user alone.
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    printed = capsys.readouterr().out
    assert "mail to bob@example.test" in printed and files[0].name in printed
    assert "hash=abc" not in printed and "hash=abc" in files[0].read_text()      # logs never hold a link hash


class SlowMailbox(Mailbox):
    """A real SMTP server that takes its time over each message."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.3)
        return await super().handle_DATA(server, session, envelope)


async def test_a_batch_gives_back_its_claims_past_half_the_claim_lifetime(quiet, settings, db):
    mailbox = SlowMailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        transport = SmtpTransport(settings.with_(smtp_port=controller.port))
        sender = Sender(quiet.services.pool, quiet.services.clock, transport, mail_from=settings.mail_from,
                        max_attempts=3, retry_base=1.0, claim_seconds=0.4)
        first = await queue_mail(quiet, "first@example.test")
        second = await queue_mail(quiet, "second@example.test")
        assert await sender.deliver_due() == 2
    finally:
        controller.stop()
    rows = {r["id"]: r for r in await db.fetch("SELECT id, state, attempts, claimed_until FROM ugene_outbox")}
    assert rows[first]["state"] == "sent"
    # Not tried: back in the queue at once, its attempt not counted, for the next tick of any sender.
    assert (rows[second]["state"], rows[second]["attempts"], rows[second]["claimed_until"]) == ("queued", 0, None)


async def test_a_mail_sent_while_its_row_could_not_be_updated_is_recorded_on_the_next_tick(quiet, settings, db,
                                                                                            clock, smtp):
    sender = sender_for(quiet, settings)
    mail_id = await queue_mail(quiet)
    # As deliver_due leaves it when the database went away right after SMTP took the mail.
    await db.execute("UPDATE ugene_outbox SET claimed_until = now() + interval '2 minutes', attempts = 1 "
                     "WHERE id = $1", mail_id)
    sender._claimed.add(mail_id)
    sender._unrecorded[mail_id] = clock.now()
    assert await sender.deliver_due() == 0            # settles first: nothing is left to send
    row = await db.fetchrow("SELECT state, sent_at, claimed_until FROM ugene_outbox WHERE id = $1", mail_id)
    assert row["state"] == "sent" and row["sent_at"] and row["claimed_until"] is None
    assert smtp.messages == []                        # recorded, never sent a second time

