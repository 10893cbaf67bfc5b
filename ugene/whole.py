"""Files that appear whole: written aside in their folder, then renamed or linked into place, so a
process reading at the same moment never sees part of one."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_whole(path: Path, data: bytes, *, first_wins: bool = False) -> bool:
    """Write `data` to `path` (mode 600). With `first_wins` a file already there is kept: every
    process racing to make it reads the same one. Returns whether this call's data is at `path`."""
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if not first_wins:
            os.replace(draft, path)
            return True
        try:
            os.link(draft, path)        # fails, unlike a rename, when the file exists
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(draft)
