"""Configuration from `UGENE_*` environment variables (protocol.md §7).

Runtime switches that admins change (registration, confirmation, deletion mails) are not here:
they live in the database so every worker sees a change on its next request.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

MiB = 1024 * 1024


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _networks(value: str) -> tuple:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip())


def local_url(host: str, port: int) -> str:
    """The URL of a server listening on host:port, as seen from this machine."""
    if host in ("", "0.0.0.0", "::"):            # every address: the loopback is one of them
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


@dataclass(frozen=True)
class Settings:
    """Everything an operator can set; `Settings.from_env()` reads the environment."""

    host: str = "127.0.0.1"
    port: int = 3040
    workers: int = 1
    database_url: str | None = None
    data_dir: Path = Path(".ugene")
    public_url: str | None = None          # unset: this server's own address (see __post_init__)
    secret: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: str = "none"
    mail_from: str = "Ugene <no-reply@localhost>"
    default_language: str = "en"
    modules_dir: Path | None = None
    trusted_proxies: tuple = ()
    # Limits and lifetimes: not in the protocol's table, but operators expect to tune them.
    max_body_bytes: int = 1 * MiB
    avatar_max_bytes: int = 5 * MiB
    file_max_bytes: int = 20 * MiB
    user_quota_bytes: int = 100 * MiB
    avatar_max_pixels: int = 40_000_000
    session_seconds: int = 2 * 3600
    refresh_seconds: int = 30 * 86400
    confirm_link_seconds: int = 24 * 3600
    restore_link_seconds: int = 3600
    otp_seconds: int = 600
    argon2_memory_kib: int = 19456
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1
    pool_min: int = 2
    pool_max: int = 20
    pool_acquire_timeout: float = 5.0
    shutdown_timeout: float = 10.0
    mail_max_attempts: int = 8
    mail_retry_base_seconds: float = 5.0
    # How long a sender owns a mail it is sending; a crashed worker's mails wait this long before
    # another takes them. Longer than one SMTP attempt (15 s), or a slow send could go out twice.
    mail_claim_seconds: float = 120.0
    ip_failure_ceiling: int = 100
    # The global rate limit (002006): calls per second per client address (0: off) and the burst
    # allowed above it (0: twice the rate, at least 1).
    rate_limit: float = 0.0
    rate_burst: int = 0
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Links in mails reach this server unless told otherwise: `UGENE_PORT=3999` alone must not
        # mail links to port 3040.
        if self.public_url is None:
            object.__setattr__(self, "public_url", local_url(self.host, self.port))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> "Settings":
        """Read `UGENE_*` variables; explicit keyword overrides win (used by the CLI and tests)."""
        env = dict(os.environ if env is None else env)
        values: dict = {}
        for name, kind in _FIELDS.items():
            raw = env.get("UGENE_" + name.upper())
            if raw is None or raw == "":
                continue
            values[name] = kind(raw)
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def smtp_enabled(self) -> bool:
        return bool(self.smtp_host)


_FIELDS = {
    "host": str, "port": int, "workers": int, "database_url": str, "data_dir": Path,
    "public_url": lambda v: v.rstrip("/"), "secret": str, "smtp_host": str, "smtp_port": int,
    "smtp_user": str, "smtp_password": str, "smtp_tls": str.lower, "mail_from": str,
    "default_language": str, "modules_dir": Path, "trusted_proxies": _networks,
    "max_body_bytes": int, "avatar_max_bytes": int, "file_max_bytes": int, "user_quota_bytes": int,
    "avatar_max_pixels": int, "session_seconds": int, "refresh_seconds": int,
    "argon2_memory_kib": int, "argon2_time_cost": int, "argon2_parallelism": int,
    "pool_min": int, "pool_max": int, "pool_acquire_timeout": float, "shutdown_timeout": float,
    "mail_max_attempts": int, "mail_retry_base_seconds": float, "mail_claim_seconds": float, "ip_failure_ceiling": int,
    "rate_limit": float, "rate_burst": int,
}
