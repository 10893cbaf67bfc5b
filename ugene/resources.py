"""Where the project's data files are: the source checkout, or `<prefix>/share/ugene` once installed."""
from __future__ import annotations

import sys
from pathlib import Path


def resource_root() -> Path:
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "schema.sql").exists():
        return checkout
    return Path(sys.prefix) / "share" / "ugene"


def schema_path() -> Path:
    return resource_root() / "schema.sql"


def messages_dir() -> Path:
    return resource_root() / "messages"
