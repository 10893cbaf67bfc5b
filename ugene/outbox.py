"""Mail: written to the outbox in the request's transaction, delivered by a sender with retries.

Nothing is lost when the mail server is down: a row stays queued until it is sent, or is marked
abandoned with the last error after `mail_max_attempts` tries.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import time
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import aiosmtplib

from .clock import Clock
from .whole import write_whole

log = logging.getLogger("ugene.mail")
CLAIM_SECONDS = 120


class Outbox:
    """Queue mails inside the caller's transaction."""

    def __init__(self, clock: Clock, messages):
        self.clock = clock
        self.messages = messages

    async def enqueue(self, conn, template: str, recipient: str, language: str, *, user_id: int | None = None,
                      attachment: tuple[str, bytes] | None = None, **values) -> int:
        subject, body = self.messages.mail(template, language, **values)
        now = self.clock.now()
        name, data = attachment if attachment else (None, None)
        return await conn.fetchval(
            """INSERT INTO ugene_outbox (user_id, recipient, template, language, subject, body,
                   attachment_name, attachment, next_attempt_at, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id""",
            user_id, recipient, template, language, subject, body, name, data, now)


def build_message(row, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row["recipient"]
    message["Subject"] = row["subject"]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="ugene.local")
    message.set_content(row["body"])
    if row["attachment_name"]:
        message.add_attachment(bytes(row["attachment"]), maintype="application", subtype="json",
                               filename=row["attachment_name"])
    return message


class SmtpTransport:
    def __init__(self, settings):
        self.s = settings

    async def send(self, message: EmailMessage) -> None:
        await aiosmtplib.send(
            message, hostname=self.s.smtp_host, port=self.s.smtp_port, username=self.s.smtp_user,
            password=self.s.smtp_password, use_tls=self.s.smtp_tls == "tls",
            start_tls=True if self.s.smtp_tls == "starttls" else False, timeout=15)


class FolderTransport:
    """No SMTP configured: mails become .eml files, each announced on the console."""

    def __init__(self, folder: Path):
        self.folder = folder

    async def send(self, message: EmailMessage) -> None:
        # Mails hold links, codes and passwords: readable by the server's user only (a new folder 700,
        # each file 600), and a file appears whole, so whatever watches the folder never reads half a mail.
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.folder / f"{self._stamp()}-{secrets.token_hex(4)}.eml"
        write_whole(path, message.as_bytes())
        # The file's name, never its link: output ends up in logs, and logs never hold a link hash (§8).
        print(f"mail to {message['To']}: {message['Subject']} ({path})", flush=True)

    @staticmethod
    def _stamp() -> str:
        return time.strftime("%Y%m%d-%H%M%S")


class Sender:
    """Claims due mails with FOR UPDATE SKIP LOCKED, so any number of workers can run one."""

    def __init__(self, pool, clock: Clock, transport, *, mail_from: str, max_attempts: int,
                 retry_base: float, poll_seconds: float = 1.0, claim_seconds: float = CLAIM_SECONDS):
        self.pool, self.clock, self.transport = pool, clock, transport
        self.mail_from, self.max_attempts, self.retry_base = mail_from, max_attempts, retry_base
        self.poll_seconds, self.claim_seconds = poll_seconds, claim_seconds
        self.wake = asyncio.Event()
        self._claimed: set[int] = set()
        self._unrecorded: dict[int, object] = {}    # mail id -> when SMTP took it

    async def run(self) -> None:
        # Python 3.11's wait_for (aiosmtplib uses it) loses a cancellation that races a result, and
        # the shutdown then waited for this loop forever; a requested cancellation stays counted in
        # `cancelling()`, so the loop ends on it all the same.
        task = asyncio.current_task()
        while not task.cancelling():
            try:
                sent = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be down: try again on the next tick
                log.warning("mail sender: %s", type(exc).__name__)
                sent = 0
            if sent:
                continue
            # Not asyncio.wait_for: on Python 3.11 it swallows a cancellation that arrives as the event
            # is set, and the sender (and a shutdown waiting for it) would run on forever.
            try:
                async with asyncio.timeout(self.poll_seconds):
                    await self.wake.wait()
            except TimeoutError:
                pass
            self.wake.clear()

    async def deliver_due(self, limit: int = 20) -> int:
        now = self.clock.now()
        async with self.pool.acquire() as conn:
            await self._settle(conn)
            rows = await conn.fetch(
                """UPDATE ugene_outbox SET claimed_until = $2, attempts = attempts + 1
                   WHERE id IN (SELECT id FROM ugene_outbox
                                WHERE state = 'queued' AND next_attempt_at <= $1
                                  AND (claimed_until IS NULL OR claimed_until < $1)
                                ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
                   RETURNING *""", now, now + timedelta(seconds=self.claim_seconds), limit)
            self._claimed.update(row["id"] for row in rows)
            # Past half the claim's life the rest of the batch goes back, so that no other sender
            # takes a mail while this one may still be sending it (each send may take 15 s).
            deadline = time.monotonic() + self.claim_seconds / 2
            for row in rows:
                if time.monotonic() > deadline:
                    break
                await self._deliver(conn, row)
                self._claimed.discard(row["id"])
            await self._settle(conn)
        return len(rows)

    async def _deliver(self, conn, row) -> None:
        try:
            await self.transport.send(build_message(row, self.mail_from))
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            if row["attempts"] >= self.max_attempts:
                log.error("mail %s abandoned after %s attempts: %s", row["id"], row["attempts"], error)
                await conn.execute(
                    "UPDATE ugene_outbox SET state = 'abandoned', last_error = $2, claimed_until = NULL WHERE id = $1",
                    row["id"], error)
            else:
                delay = self.retry_base * 2 ** (row["attempts"] - 1)
                await conn.execute(
                    """UPDATE ugene_outbox SET next_attempt_at = $2, last_error = $3, claimed_until = NULL
                       WHERE id = $1""", row["id"], self.clock.now() + timedelta(seconds=delay), error)
            return
        # Kept until the row says so: if the database is gone now, `_settle` records it when it is back,
        # instead of the claim expiring and the mail going out a second time.
        self._unrecorded[row["id"]] = self.clock.now()
        await self._mark_sent(conn, row["id"], self._unrecorded[row["id"]])

    async def _mark_sent(self, conn, mail_id: int, sent_at) -> None:
        await conn.execute(
            "UPDATE ugene_outbox SET state = 'sent', sent_at = $2, claimed_until = NULL WHERE id = $1",
            mail_id, sent_at)
        self._unrecorded.pop(mail_id, None)
        self._claimed.discard(mail_id)

    async def _settle(self, conn) -> None:
        """After a batch cut short (database gone, claim half over): record the mails already sent and
        give back the claims on the others, so they go out on the next tick and not after the claim."""
        for mail_id, sent_at in list(self._unrecorded.items()):
            await self._mark_sent(conn, mail_id, sent_at)
        if self._claimed:
            await conn.execute(
                """UPDATE ugene_outbox SET claimed_until = NULL, attempts = greatest(attempts - 1, 0)
                   WHERE id = ANY($1::bigint[]) AND state = 'queued'""", list(self._claimed))
            self._claimed.clear()

    async def release(self) -> None:
        """On shutdown: record what was sent and give back the other claims, so another worker takes
        them at once."""
        if not self._claimed and not self._unrecorded:
            return
        async with self.pool.acquire() as conn:
            await self._settle(conn)
