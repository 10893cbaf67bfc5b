"""Prometheus metrics of one worker: requests by module, param and code; latency; pool; outbox."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self):
        # A registry per app, so several apps in one process (tests) do not collide.
        self.registry = CollectorRegistry()
        self.requests = Counter("ugene_requests", "Requests by module, param and code",
                                ["module", "param", "code"], registry=self.registry)
        self.latency = Histogram("ugene_request_seconds", "Request latency", ["module", "param"],
                                 registry=self.registry,
                                 buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
        self.pool_in_use = Gauge("ugene_db_pool_in_use", "Database connections in use", registry=self.registry)
        self.pool_size = Gauge("ugene_db_pool_size", "Database connections open", registry=self.registry)
        self.outbox = Gauge("ugene_outbox_mails", "Mails in the outbox by state", ["state"],
                            registry=self.registry)
        # The labelled children, found once: `labels()` takes a lock and builds a key on every call.
        # Bounded: module and param are known ones or "-", codes are the registry's.
        self._children: dict[tuple[str, str, str], tuple] = {}

    def observe(self, module: str, param: str, code: str, seconds: float) -> None:
        key = (module, param, code)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (self.requests.labels(module, param, code),
                                               self.latency.labels(module, param))
        children[0].inc()
        children[1].observe(seconds)

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
