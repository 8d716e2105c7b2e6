"""Screenshots in articles: uploaded by editors, re-encoded, stored under MEDIA_ROOT/images.

Every upload is decoded and drawn again by Pillow, so what is stored holds pixels only:
no EXIF (camera, place, time), no colour profile, nothing a crafted file smuggled along.
Wide images are scaled down to what the article column can show. A file is named by the
hash of its stored bytes, so a name never points at other content: it may be cached
forever, and the same screenshot uploaded twice is one file.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "ImageRejected",
    "StoredImage",
    "file_for",
    "images_dir",
    "import_file",
    "referenced_names",
    "store_upload",
]

# Wider than the article column at twice the density: sharp, and no bigger than needed.
MAX_WIDTH = 1600
# Decoded size, checked before decoding: a small compressed file can declare an image
# of billions of pixels (a decompression bomb) that would take the process's memory.
MAX_PIXELS = 40_000_000
URL_PREFIX = "/media/images/"
# What each accepted input is stored as: screenshots stay lossless; photos stay JPEG.
_STORED_AS = {"PNG": "PNG", "GIF": "PNG", "JPEG": "JPEG", "WEBP": "WEBP"}
_EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
NAME_RE = re.compile(r"[0-9a-f]{32}\.(?:png|jpg|webp)")
_REFERENCE_RE = re.compile(re.escape(URL_PREFIX) + r"(" + NAME_RE.pattern + r")")
ACCEPTED = _("PNG, JPEG, WebP or GIF")


class ImageRejected(ValueError):
    """The upload is not an image we store; the message says why, for the editor."""


@dataclass(frozen=True)
class StoredImage:
    name: str
    width: int
    height: int

    @property
    def url(self) -> str:
        return URL_PREFIX + self.name


def images_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "images"


def max_bytes() -> int:
    return int(settings.IMAGE_UPLOAD_MAX_MB) * 1024 * 1024


def store_upload(upload: IO[bytes], size: int) -> StoredImage:
    """Check, re-encode and store one uploaded file; ImageRejected with a reason if not."""
    # Pillow is imported here, not with the module: views import this module, and
    # every web worker would carry Pillow's ~7 MB for uploads only editors make.
    from PIL import Image, ImageOps

    if size > max_bytes():
        raise ImageRejected(
            gettext(
                "The file is %(size).1f MB; the limit is %(limit)s MB. "
                "Crop the screenshot or save it smaller."
            )
            % {"size": size / 1024 / 1024, "limit": settings.IMAGE_UPLOAD_MAX_MB}
        )
    image = _decode(upload)
    stored_format = _STORED_AS[str(image.format)]
    image = ImageOps.exif_transpose(image)  # phone photos keep their orientation
    if image.width > MAX_WIDTH:
        height = max(1, round(image.height * MAX_WIDTH / image.width))
        image = image.resize((MAX_WIDTH, height), Image.Resampling.LANCZOS)
    data = _encode(image, stored_format)
    name = f"{hashlib.sha256(data).hexdigest()[:32]}.{_EXTENSIONS[stored_format]}"
    _write(name, data)
    return StoredImage(name, image.width, image.height)


def _decode(upload: IO[bytes]) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    unreadable = gettext("This file is not an image we can use: upload a %(kinds)s file.") % {
        "kinds": ACCEPTED
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(upload)
            if image.format not in _STORED_AS:
                refused = (
                    gettext("%(format)s images are not accepted: upload a %(kinds)s file.")
                    if image.format
                    else gettext("This image type is not accepted: upload a %(kinds)s file.")
                )
                raise ImageRejected(refused % {"format": image.format, "kinds": ACCEPTED})
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageRejected(_too_large(width, height))
            image.load()  # the first frame of an animation: a screenshot is still
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard, for sizes far past ours: refused before any decoding.
        raise ImageRejected(
            gettext(
                "The image declares far more than %(millions)d million pixels; "
                "crop it to the part that matters."
            )
            % {"millions": MAX_PIXELS // 1_000_000}
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ImageRejected(unreadable) from None
    return image


def _too_large(width: int, height: int) -> str:
    return gettext(
        "The image is %(width)s by %(height)s pixels; at most %(millions)d "
        "million pixels are accepted. Crop it to the part that matters."
    ) % {"width": f"{width:,}", "height": f"{height:,}", "millions": MAX_PIXELS // 1_000_000}


def _encode(image: Image.Image, stored_format: str) -> bytes:
    out = io.BytesIO()
    # Nothing but pixels is passed on: no exif=, icc_profile= or info, so none is written.
    if stored_format == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True, progressive=True)
    elif stored_format == "WEBP":
        mode = (
            "RGBA" if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info else "RGB"
        )
        image.convert(mode).save(out, "WEBP", quality=85, method=4)
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            has_alpha = image.mode in ("PA",) or "transparency" in image.info
            image = image.convert("RGBA" if has_alpha else "RGB")
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _write(name: str, data: bytes) -> None:
    folder = images_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.exists():
        return  # the same bytes: the name is their hash
    # Written aside, then renamed: a reader never sees half a file.
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def file_for(name: str) -> Path | None:
    """The stored file for a public name, or None (no such file, or not a name we make)."""
    if not NAME_RE.fullmatch(name):
        return None
    path = images_dir() / name
    return path if path.is_file() else None


def referenced_names(*texts: str) -> set[str]:
    """The uploaded images the Markdown texts show."""
    return {match[1] for text in texts for match in _REFERENCE_RE.finditer(text)}


def import_file(path: Path) -> bool:
    """Copy an exported image into MEDIA_ROOT; False if its name does not match its content.

    The name is the hash of the bytes, so a file that does not hash to its name
    was altered (or is not ours) and is not served under that name.
    """
    data = path.read_bytes()
    if not NAME_RE.fullmatch(path.name) or hashlib.sha256(data).hexdigest()[:32] != path.stem:
        return False
    try:
        _decode(io.BytesIO(data))
    except ImageRejected:
        return False
    _write(path.name, data)
    return True
