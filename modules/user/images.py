"""Avatar checks with Pillow: a real image by content, its pixel count read from the header before
anything is decoded, and a PNG re-encoding that carries no metadata over.

Synchronous and CPU-bound: callers run it off the event loop (`asyncio.to_thread`).
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps

FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
_KEPT_MODES = {"1", "L", "LA", "RGB", "RGBA"}


class NotAnImage(Exception):
    """Not one of FORMATS, damaged, or too many pixels."""


def reencode(source: Path, target: Path, max_pixels: int) -> None:
    """Check `source` and write it to `target` as a clean PNG, or raise NotAnImage."""
    try:
        # `formats` keeps Pillow from trying its dozens of other (rarely exercised) parsers.
        with Image.open(source, formats=FORMATS) as image:
            width, height = image.size           # from the header: nothing is decoded yet
            if width < 1 or height < 1 or width * height > max_pixels:
                raise NotAnImage(f"{width}x{height} pixels")
            image.load()                         # decodes the first frame; truncated data raises
            clean = _clean(image)
    except NotAnImage:
        raise
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError,
            TypeError) as exc:
        # Pillow signals bad input with any of these, depending on the format and the damage.
        raise NotAnImage(type(exc).__name__) from None
    clean.save(target, format="PNG")


def _clean(image: Image.Image) -> Image.Image:
    """The pixels only: turned upright as EXIF says, in a mode PNG stores, without any metadata."""
    upright = ImageOps.exif_transpose(image)
    if upright.mode not in _KEPT_MODES:
        alpha = "A" in upright.getbands() or "transparency" in upright.info
        upright = upright.convert("RGBA" if alpha else "RGB")
    clean = upright if upright is not image else image.copy()
    clean.info = {}                              # EXIF, ICC profile, text chunks, comments: all dropped
    return clean
