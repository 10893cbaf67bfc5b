"""The mail sender stops when cancelled, whenever the cancellation comes: Python 3.11's wait_for loses a
cancellation that races a result, and the app's shutdown used to wait for the sender forever."""
import asyncio

import pytest

from ugene.outbox import FolderTransport, Sender

pytestmark = pytest.mark.check


@pytest.mark.parametrize("steps", range(6))
async def test_the_sender_stops_when_cancelled_just_as_it_is_woken(api, tmp_path, clock, steps):
    sender = Sender(api.services.pool, clock, FolderTransport(tmp_path), mail_from="u@example.test",
                    max_attempts=3, retry_base=1, poll_seconds=30)
    task = asyncio.create_task(sender.run())
    await asyncio.sleep(0.05)                  # idle, waiting to be woken
    sender.wake.set()                          # a request committed a mail...
    for _ in range(steps):                     # ...and the shutdown comes a few loop steps later
        await asyncio.sleep(0)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert done, "the sender went on after its cancellation"
