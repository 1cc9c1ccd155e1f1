"""Media files over HTTP from any media store, with byte ranges so a browser can seek.

The store may be a local folder or an S3 bucket, so the response is built from
`size` and `open_range` rather than from a local file. Whole files stream in chunks.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

from fastapi import HTTPException
from fastapi.responses import Response, StreamingResponse

from stream.media_store import InvalidKeyError, MediaStore

CHUNK_BYTES = 1 << 20
# Browsers seek with one range; a multi-range request gets the whole file, as RFC 9110 allows.
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")

MEDIA_TYPES = {
    "mp4": "video/mp4",
    "ts": "video/mp2t",
    "m3u8": "application/vnd.apple.mpegurl",
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "json": "application/json",
    "zip": "application/zip",
    "srt": "application/x-subrip",
    "vtt": "text/vtt",
}


def media_type(key: str) -> str:
    return MEDIA_TYPES.get(key.rsplit(".", 1)[-1].lower(), "application/octet-stream")


async def media_response(media: MediaStore, key: str, range_header: str | None) -> Response:
    """200 with the whole file, 206 with the requested bytes, 416 for a range past the end, 404 if missing."""
    try:
        size = await asyncio.to_thread(media.size, key)
    except (InvalidKeyError, FileNotFoundError, IsADirectoryError) as exc:
        raise HTTPException(404, "not found") from exc
    headers = {"Accept-Ranges": "bytes"}
    wanted = _parse_range(range_header, size)
    if wanted is None:
        return StreamingResponse(_chunks(media, key, size), media_type=media_type(key), headers=headers)
    start, end = wanted
    if start >= size:
        raise HTTPException(416, "range not satisfiable", headers={"Content-Range": f"bytes */{size}"})
    body = await asyncio.to_thread(media.open_range, key, start, end + 1)
    headers["Content-Range"] = f"bytes {start}-{start + len(body) - 1}/{size}"
    return Response(body, status_code=206, media_type=media_type(key), headers=headers)


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte, inclusive; None for no usable single range."""
    match = _RANGE.match((header or "").strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if not first:  # a suffix: the last N bytes
        return max(0, size - int(last)), size - 1
    return int(first), min(int(last), size - 1) if last else size - 1


def _chunks(media: MediaStore, key: str, size: int) -> Iterator[bytes]:
    for start in range(0, size, CHUNK_BYTES):
        yield media.open_range(key, start, min(size, start + CHUNK_BYTES))
