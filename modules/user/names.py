"""Client-supplied file names and content types, made safe to keep as metadata and show again."""
from __future__ import annotations

import re
import secrets
import string
import unicodedata

MAX_NAME = 255
_DROPPED = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}   # controls, bidi tricks, surrogates, private use, breaks
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
_ALPHABET = string.ascii_letters + string.digits


def display_name(raw: str | None, fallback: str) -> str:
    """The last path part of the client's name, without control characters; `fallback` if nothing is left."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _DROPPED).strip()
    if name in ("", ".", ".."):
        return fallback
    return name[:MAX_NAME]


def content_type(raw: str | None) -> str:
    """The client's `type/subtype` when well-formed (parameters dropped), else application/octet-stream."""
    value = (raw or "").split(";", 1)[0].strip().lower()
    return value if _MIME.fullmatch(value) else "application/octet-stream"


def new_fileid() -> str:
    """A public file id: 16 letters and digits (95 random bits), unguessable."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(16))
