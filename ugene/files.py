"""Uploaded files on disk under generated names, outside any web root; metadata in PostgreSQL."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


class FileStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    @property
    def incoming(self) -> Path:
        """Where uploads are streamed while they arrive, before a handler accepts them."""
        path = self.root / "incoming"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def new_name(self) -> str:
        return secrets.token_hex(16)

    def path(self, stored_name: str) -> Path:
        # Stored names are generated hex; refuse anything else so no path can escape the folder.
        if not stored_name or not all(c in "0123456789abcdef" for c in stored_name):
            raise ValueError("invalid stored name")
        return self.root / stored_name[:2] / stored_name

    def keep(self, source: Path) -> str:
        """Move an accepted upload into the store; returns its generated name."""
        name = self.new_name()
        target = self.path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        return name

    def write(self, data: bytes) -> str:
        name = self.new_name()
        target = self.path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return name

    def remove(self, stored_name: str) -> None:
        try:
            self.path(stored_name).unlink()
        except (FileNotFoundError, ValueError):
            pass
