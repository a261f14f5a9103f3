"""Uploaded pictures: verified, re-encoded, stripped of metadata and bounded in size."""

from __future__ import annotations

import io

from flask import Response, abort
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}
NOT_A_PHOTO = "That file is not a photo we can use. Use a JPEG, PNG, GIF or WebP picture."


class ImageRejected(ValueError):
    """The upload is not a picture we can accept; the message says why in plain words."""


def clean_photo(data: bytes, *, max_pixels: int = 1024,
                max_bytes: int = 8 * 1024 * 1024) -> bytes:
    """Return a fresh JPEG of the picture, at most ``max_pixels`` on its longer side.

    Re-encoding from the pixels alone drops EXIF (location, camera) and anything hidden in the
    file. Anything that is not a JPEG, PNG, GIF or WebP picture is refused.
    """
    if not data:
        raise ImageRejected("The file is empty. Choose a photo to upload.")
    if len(data) > max_bytes:
        limit = max_bytes // 1_000_000
        raise ImageRejected(f"The photo is too large. Choose one under {limit} MB.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise ImageRejected(NOT_A_PHOTO)
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > 50_000_000:
                raise ImageRejected("The photo has too many pixels. Choose a smaller one.")
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGB")
            image.thumbnail((max_pixels, max_pixels))
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=85, optimize=True)
            return out.getvalue()
    except ImageRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError):
        raise ImageRejected(NOT_A_PHOTO) from None


def photo_response(data: bytes | None, *, cache: str = "private, max-age=300") -> Response:
    """Serve a cleaned photo (always JPEG), or 404 when there is none."""
    if not data:
        abort(404)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = cache
    return response
