"""Faults of the mail path, on real processes: the SMTP server down and back, a mail given up after
its attempts, and the server killed (SIGKILL) with mails queued and one in the middle of its send."""
import asyncio
import signal
import time

import pytest

from .conftest import free_port
from .served import CHEAP_ARGON2, Server, Smtp, call, client, eventually, figure, serve_env

pytestmark = pytest.mark.check
PASSWORD = {"pass": "Correct7Horse"}


def mail_server(tmp_path, pg, smtp: Smtp, **extra) -> Server:
    env = serve_env(tmp_path / "data", free_port(), UGENE_DATABASE_URL=pg, UGENE_SMTP_HOST="127.0.0.1",
                    UGENE_SMTP_PORT=str(smtp.port), **CHEAP_ARGON2, **{"UGENE_MAIL_RETRY_BASE_SECONDS": "0.2", **extra})
    return Server(env, tmp_path / "serve.log")


async def outbox(db):
    return await db.fetch("SELECT id, recipient, state, attempts, claimed_until, last_error FROM ugene_outbox "
                          "ORDER BY id")


async def test_smtp_down_signups_and_restores_answer_and_their_mails_go_out_once_when_it_returns(pg, db, tmp_path):
    smtp = Smtp()                                  # nothing listens on its port yet
    server = mail_server(tmp_path, pg, smtp, UGENE_MAIL_MAX_ATTEMPTS="8").start()
    try:
        async with client() as http:
            latencies, recipients = [], []
            for i in range(5):
                started = time.monotonic()
                answer = await call(http, server.base, "reg", "signup", uname=f"down{i}",
                                    email=f"down{i}@example.test", **PASSWORD)
                latencies.append(time.monotonic() - started)
                assert answer.ok, answer
                recipients.append(f"down{i}@example.test")
            started = time.monotonic()
            assert (await call(http, server.base, "auth", "restore-pwd", uname="admin")).ok
            latencies.append(time.monotonic() - started)
            recipients.append("admin@ugene.local")
        # The sender tried while SMTP was down: every mail is still queued, with its failure noted.
        rows = await eventually(lambda: _all_tried(db, 2), 15, "two failed attempts on every mail")
        assert {r["state"] for r in rows} == {"queued"} and all(r["last_error"] for r in rows)
        attempts_before = max(r["attempts"] for r in rows)
        smtp.up()
        back = time.monotonic()
        await smtp.mailbox.wait(len(recipients), timeout=20)
        delivered_after = time.monotonic() - back
        await eventually(lambda: _states(db, {"sent"}), 5, "every mail marked sent")
        await asyncio.sleep(2.5)                   # two more sender ticks: nothing is sent twice
        assert sorted(m["To"] for m in smtp.mailbox.messages) == sorted(recipients)
        figure("smtp-down", calls=len(latencies), max_call_ms=max(latencies) * 1000,
               attempts_while_down=attempts_before, mails=len(recipients), delivered_s_after_smtp_up=delivered_after,
               duplicates=0)
    finally:
        server.stop()
        smtp.down()


async def _all_tried(db, attempts: int):
    rows = await outbox(db)
    return rows if rows and all(r["attempts"] >= attempts for r in rows) else None


async def _states(db, states: set[str]):
    rows = await outbox(db)
    return rows if rows and {r["state"] for r in rows} <= states else None


async def test_mail_is_abandoned_after_max_attempts_and_metrics_show_it(pg, db, tmp_path):
    smtp = Smtp()
    server = mail_server(tmp_path, pg, smtp, UGENE_MAIL_MAX_ATTEMPTS="3").start()
    try:
        async with client() as http:
            queued = time.monotonic()
            assert (await call(http, server.base, "reg", "signup", uname="lost", email="lost@example.test",
                               **PASSWORD)).ok
            rows = await eventually(lambda: _states(db, {"abandoned"}), 20, "the mail abandoned")
            abandoned_after = time.monotonic() - queued
            assert rows[0]["attempts"] == 3 and "Error" in rows[0]["last_error"]
            async with http.get(f"{server.base}/metrics") as response:
                metrics = await response.text()
            assert 'ugene_outbox_mails{state="abandoned"} 1.0' in metrics
            assert 'ugene_outbox_mails{state="queued"} 0.0' in metrics
            # SMTP back: new mails go out, the abandoned one stays given up (an operator resends it).
            smtp.up()
            assert (await call(http, server.base, "auth", "restore-pwd", uname="admin")).ok
            await smtp.mailbox.wait(to="admin@ugene.local", timeout=10)
            await asyncio.sleep(1.5)
            assert smtp.to("lost@example.test") == []
            assert await db.fetchval("SELECT state FROM ugene_outbox WHERE recipient = 'lost@example.test'") == \
                "abandoned"
        figure("mail-abandoned", max_attempts=3, attempts=rows[0]["attempts"], abandoned_s=abandoned_after,
               metrics_abandoned=1)
    finally:
        server.stop()
        smtp.down()


async def test_sigkill_with_mails_queued_and_one_mid_send_delivers_each_once_after_restart(pg, db, tmp_path):
    smtp = Smtp()                                  # down: the first mail fails and waits for its retry
    claim = 3
    server = mail_server(tmp_path, pg, smtp, UGENE_MAIL_MAX_ATTEMPTS="20", UGENE_MAIL_CLAIM_SECONDS=str(claim),
                         UGENE_MAIL_RETRY_BASE_SECONDS="5")
    server.start()
    try:
        async with client() as http:
            await _signup(http, server, "retried")
            await eventually(lambda: _failed_once(db), 10, "the first mail's failure recorded")
            # Now the SMTP server accepts connections and never greets: the next send hangs, claimed,
            # and the sender (one task) is stuck in it, so the third mail stays queued, untried.
            smtp.black_hole()
            await _signup(http, server, "claimed")
            await eventually(lambda: _claimed(db, "claimed@example.test"), 10, "the second mail claimed")
            await _signup(http, server, "queued")
        server.process.kill()                      # SIGKILL: no shutdown, no claim given back
        assert server.wait(10) == -signal.SIGKILL
        killed = time.monotonic()
        at_kill = {r["recipient"].split("@")[0]: (r["attempts"], r["claimed_until"] is not None)
                   for r in await outbox(db)}
        assert at_kill == {"retried": (1, False), "claimed": (1, True), "queued": (0, False)}
        smtp.up()
        server.start()
        await smtp.mailbox.wait(3, timeout=claim + 20)
        delivered_after = time.monotonic() - killed
        await eventually(lambda: _states(db, {"sent"}), 5, "every mail marked sent")
        await asyncio.sleep(2.5)                   # two more sender ticks: nothing is sent twice
        assert sorted(m["To"].split("@")[0] for m in smtp.mailbox.messages) == ["claimed", "queued", "retried"]
        figure("sigkill-outbox", mails_at_kill=3, claimed_at_kill=1, claim_s=claim,
               delivered_s_after_kill=delivered_after, copies_each=1)
    finally:
        server.stop()
        smtp.down()


async def _signup(http, server: Server, name: str) -> None:
    answer = await call(http, server.base, "reg", "signup", uname=name, email=f"{name}@example.test", **PASSWORD)
    assert answer.ok, answer


async def _failed_once(db):
    rows = await outbox(db)
    return rows if rows and rows[0]["last_error"] and rows[0]["claimed_until"] is None else None


async def _claimed(db, recipient: str):
    rows = await outbox(db)
    return rows if any(r["recipient"] == recipient and r["claimed_until"] is not None for r in rows) else None
