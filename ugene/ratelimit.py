"""The global rate limit (002006): a token bucket per client address, kept by each worker in memory.

Off unless `UGENE_RATE_LIMIT` is set (calls per second per address). In memory because it is checked
before anything else on every call and must cost next to nothing: with N workers an address may make
N times the figure (SO_REUSEPORT spreads connections), which is what a flood guard needs. The
per-account and per-address sign-in throttles and the mail limits are the exact ones (in PostgreSQL).
"""
from __future__ import annotations

PRUNE_ABOVE = 50_000     # addresses kept before the idle ones (buckets full again) are forgotten


class RateLimit:
    def __init__(self, per_second: float, burst: int, clock):
        self.rate = per_second
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, list[float]] = {}    # address -> [tokens, when last counted]

    def wait(self, address: str | None) -> float:
        """Take one call from the address's bucket: 0 when it may go on, else the seconds until it may."""
        if address is None:
            return 0.0
        now = self.clock.time()
        bucket = self._buckets.get(address)
        if bucket is None:
            if len(self._buckets) >= PRUNE_ABOVE:
                self._prune(now)
            bucket = self._buckets[address] = [self.burst, now]
        else:
            # A clock that steps back refills nothing rather than taking tokens away.
            bucket[0] = min(self.burst, bucket[0] + max(0.0, now - bucket[1]) * self.rate)
            bucket[1] = now
        if bucket[0] >= 1:
            bucket[0] -= 1
            return 0.0
        return (1 - bucket[0]) / self.rate

    def _prune(self, now: float) -> None:
        full = [address for address, (tokens, when) in self._buckets.items()
                if tokens + (now - when) * self.rate >= self.burst]
        for address in full:
            del self._buckets[address]
