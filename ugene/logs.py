"""Logging set-up and an access log that leaves out query strings (GET doors carry link hashes)."""
from __future__ import annotations

import logging

from aiohttp.abc import AbstractAccessLogger


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def clean(value: str) -> str:
    """Make a client-supplied value safe to log: no CR/LF to forge lines with."""
    return value.replace("\r", "\\r").replace("\n", "\\n")


class AccessLogger(AbstractAccessLogger):
    def log(self, request, response, time: float) -> None:
        self.logger.info('%s "%s %s" %s %.1fms %s', request.remote, request.method, clean(request.path),
                         response.status, time * 1000, response.headers.get("X-Request-Id", ""))
