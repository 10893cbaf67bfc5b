"""The one way a handler fails: `raise UgeneError(code)`; the dispatcher makes it an envelope."""
from __future__ import annotations


class UgeneError(Exception):
    """A protocol error code.

    `commit=True` keeps the request's writes although it fails: a failed sign-in must still count
    against the throttle and reach the activity log. `retry_after` sets the `Retry-After` header.
    """

    def __init__(self, code, *, details: list | None = None, retry_after: int | None = None,
                 commit: bool = False):
        super().__init__(code.value if hasattr(code, "value") else str(code))
        self.code = code
        self.details = details
        self.retry_after = retry_after
        self.commit = commit
