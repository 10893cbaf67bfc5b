"""Prometheus metrics of one worker: requests by module, param and code; latency; pool; outbox."""
from __future__ import annotations

from bisect import bisect_left

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.utils import floatToGoString

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)


class RequestFigures:
    """Request counts and latencies kept in plain dicts, turned into metric families only when scraped.

    prometheus_client's labelled Counter and Histogram take a lock and walk their buckets on every
    call: several microseconds a request, which make bench sees. One event loop records here, so no
    lock is needed; a scrape reads a copy. Labels are bounded: module and param are known ones or "-",
    codes are the registry's.
    """

    def __init__(self):
        self.counts: dict[tuple[str, str, str], int] = {}
        # (module, param) -> [count per bucket (the last one for +Inf), sum of seconds]
        self.latency: dict[tuple[str, str], list] = {}

    def observe(self, module: str, param: str, code: str, seconds: float) -> None:
        key = (module, param, code)
        self.counts[key] = self.counts.get(key, 0) + 1
        figures = self.latency.get(key[:2])
        if figures is None:
            figures = self.latency[key[:2]] = [[0] * (len(BUCKETS) + 1), 0.0]
        figures[0][bisect_left(BUCKETS, seconds)] += 1
        figures[1] += seconds

    def collect(self):
        requests = CounterMetricFamily("ugene_requests", "Requests by module, param and code",
                                       labels=["module", "param", "code"])
        for labels, count in list(self.counts.items()):
            requests.add_metric(list(labels), count)
        yield requests
        latency = HistogramMetricFamily("ugene_request_seconds", "Request latency", labels=["module", "param"])
        for labels, (counts, total) in list(self.latency.items()):
            cumulative, running = [], 0
            for bound, count in zip((*map(floatToGoString, BUCKETS), "+Inf"), counts):
                running += count
                cumulative.append((bound, running))
            latency.add_metric(list(labels), cumulative, total)
        yield latency


class Metrics:
    def __init__(self):
        # A registry per app, so several apps in one process (tests) do not collide.
        self.registry = CollectorRegistry()
        self.requests = RequestFigures()
        self.registry.register(self.requests)
        self.pool_in_use = Gauge("ugene_db_pool_in_use", "Database connections in use", registry=self.registry)
        self.pool_size = Gauge("ugene_db_pool_size", "Database connections open", registry=self.registry)
        self.outbox = Gauge("ugene_outbox_mails", "Mails in the outbox by state", ["state"],
                            registry=self.registry)

    def observe(self, module: str, param: str, code: str, seconds: float) -> None:
        self.requests.observe(module, param, code, seconds)

    async def render(self, pool) -> bytes:
        if pool is not None:
            self.pool_size.set(pool.get_size())
            self.pool_in_use.set(pool.get_size() - pool.get_idle_size())
            try:
                async with pool.acquire(timeout=2) as conn:
                    rows = await conn.fetch(
                        "SELECT state, count(*) AS n FROM ugene_outbox WHERE state <> 'sent' GROUP BY state")
                counts = {row["state"]: row["n"] for row in rows}
                for state in ("queued", "abandoned"):
                    self.outbox.labels(state).set(counts.get(state, 0))
            except Exception:   # metrics must still answer while the database is down
                pass
        return generate_latest(self.registry)
