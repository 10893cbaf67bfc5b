"""An open-loop load generator: requests start at fixed intervals whatever the server does.

A closed loop (N clients, each waiting for its answer before the next request) slows down with the
server and so never sees the queue it builds: coordinated omission. Here the i-th request is due at
start + i / rate, it is started at that time even when earlier ones are still waiting, and its
latency is counted from the time it was due, so a stall shows in the tail as it would for users.
"""
from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Awaitable, Callable

from ..helpers import Answer


@dataclass
class Sample:
    """One request: its kind, when it was due (the event loop's clock), its latency and its answer."""

    kind: str
    due: float
    latency: float
    status: int = 0
    code: str | None = None
    ok: bool = False
    retry_after: str | None = None
    error: str | None = None           # a transport failure: refused, reset, timed out
    answer: dict | None = None
    tag: object = None                  # what the plan wants to know afterwards (e.g. the signup's name)

    @property
    def finished(self) -> float:
        return self.due + self.latency

    @property
    def throttled(self) -> bool:
        return self.code == "001417"


# plan(i) -> (kind, the call to make, a tag); the call is only created when it is due.
Plan = Callable[[int], tuple[str, Callable[[], Awaitable[Answer]], object]]


async def open_loop(rate: float, seconds: float, plan: Plan, *, timeout: float = 30.0) -> tuple[list[Sample], float]:
    """Run `rate * seconds` requests at fixed intervals; returns the samples and the worst start lag."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    tasks, worst_lag = [], 0.0
    for i in range(int(rate * seconds)):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        worst_lag = max(worst_lag, loop.time() - due)
        kind, make, tag = plan(i)
        tasks.append(asyncio.create_task(_timed(kind, make, tag, due, timeout)))
    return list(await asyncio.gather(*tasks)), worst_lag


async def _timed(kind: str, make, tag, due: float, timeout: float) -> Sample:
    loop = asyncio.get_running_loop()
    sample = Sample(kind, due, 0.0, tag=tag)
    try:
        async with asyncio.timeout(timeout):
            answer = await make()
        sample.status, sample.code, sample.ok = answer.status, answer.code, answer.ok
        sample.retry_after = answer.headers.get("Retry-After")
        sample.answer = answer.answer if answer.ok else None
    except Exception as exc:            # the load goes on; the failure is counted
        sample.error = type(exc).__name__
    sample.latency = loop.time() - due
    return sample


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(samples: list[Sample]) -> dict:
    """Counts and latency percentiles (milliseconds) of a set of samples."""
    latencies = [s.latency for s in samples]
    errors = [s for s in samples if not s.ok and not s.throttled]
    return {"requests": len(samples), "ok": sum(s.ok for s in samples),
            "throttled": sum(s.throttled for s in samples), "errors": len(errors),
            "p50_ms": round(percentile(latencies, 50) * 1000, 1), "p90_ms": round(percentile(latencies, 90) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1), "max_ms": round(max(latencies, default=0) * 1000, 1)}
