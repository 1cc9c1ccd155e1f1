"""build_media_store: the MediaStore that the `[media]` section of the configuration asks for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stream.media_store import LocalMediaStore, MediaStore

MEDIA_KINDS = ("local", "s3")


class MediaConfigError(ValueError):
    """The `[media]` section names an unknown kind or lacks what that kind needs."""


def build_media_store(config: dict[str, Any]) -> MediaStore:
    """A LocalMediaStore under `<paths.data_dir>/media`, or an S3MediaStore for `[media] kind = "s3"`."""
    # A hand-made config without the section (older callers, tests) means the embedded default.
    media = config.get("media") or {"kind": "local"}
    kind = media.get("kind", "local")
    if kind == "local":
        return LocalMediaStore(Path(config["paths"]["data_dir"]).expanduser() / "media")
    if kind == "s3":
        return _s3_store(media)
    raise MediaConfigError(f"media.kind must be one of {', '.join(MEDIA_KINDS)}; got {kind!r}")


def _s3_store(media: dict[str, Any]) -> MediaStore:
    if not media.get("bucket"):
        raise MediaConfigError('media.kind = "s3" needs media.bucket (an existing bucket)')
    # Imported here so that the embedded default does not need boto3 loaded.
    from stream.s3_media_store import S3MediaStore

    cache_dir = media.get("cache_dir") or ""
    return S3MediaStore(
        media["bucket"],
        prefix=media.get("prefix") or "",
        endpoint_url=media.get("endpoint_url") or None,
        region=media.get("region") or None,
        cache_dir=Path(cache_dir).expanduser() if cache_dir else None,
    )
