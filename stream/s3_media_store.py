"""S3MediaStore: the MediaStore on an S3-compatible object store (AWS S3, SeaweedFS, MinIO), for scale-out.

Keys are validated exactly as in the local store: some S3 servers (SeaweedFS among them) map
object names onto a file tree and normalise `..`, so an unchecked key could leave the prefix.

A PUT (and a completed multipart upload) replaces an object atomically, so readers see the old
object or the whole new one, as with the local store's rename.

ffmpeg and PyAV need files: `local_path` keeps a read-through cache of downloaded objects.
Each cached file has a sidecar holding the ETag it was downloaded at, and every call asks the
store for the current ETag (a HEAD, no body), so a rewritten object (a playlist) is fetched again
while an unchanged one (a fragment) is downloaded once.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from stream.media_store import InvalidKeyError, check_range, staged, validate_key

# Uploads above this size go in parts of this size (parallel, and retried per part).
MULTIPART_BYTES = 8 * 1024 * 1024
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
# Sidecars start with a dot, which keys may not, so a sidecar can never shadow an object.
_ETAG_PREFIX = ".etag-"
_COPY_CHUNK = 1 << 20


class S3MediaStore:
    """A MediaStore on one bucket of an S3-compatible store; keys live under `prefix`.

    Credentials: explicit `access_key_id`/`secret_access_key`, else boto3's standard chain
    (the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY environment variables, ~/.aws, instance roles).
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("S3MediaStore needs a bucket name")
        self.bucket = bucket
        self.prefix = _normalise_prefix(prefix)
        self.endpoint_url = endpoint_url or None
        self.client: Any = _make_client(self.endpoint_url, region, access_key_id, secret_access_key)
        self.cache_root = _cache_root(cache_dir, self.endpoint_url, bucket, self.prefix)
        self._transfer = TransferConfig(multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES)

    def __repr__(self) -> str:
        return f"S3MediaStore(s3://{self.bucket}/{self.prefix}, endpoint={self.endpoint_url or 'AWS'})"

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._name(key)}"

    def put_file(self, key: str, path: Path) -> str:
        """Upload the finished file (in parts when large), then remove it: `path` is consumed."""
        name = self._name(key)
        source = Path(path)
        if not source.is_file():
            raise FileNotFoundError(f"put_file: {source} is not a file")
        self.client.upload_file(str(source), self.bucket, name, Config=self._transfer)
        source.unlink()
        return self.uri(key)

    def put_bytes(self, key: str, data: bytes) -> str:
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)
        return self.uri(key)

    def open_read(self, key: str) -> BinaryIO:
        """A streaming, closeable binary reader over the object's body."""
        return self._get(key)["Body"]

    def open_range(self, key: str, start: int, end: int) -> bytes:
        check_range(start, end)
        name = self._name(key)
        if start == end:
            self.size(key)  # an empty range still says whether the object exists
            return b""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=name, Range=f"bytes={start}-{end - 1}")
        except ClientError as exc:
            if _error_code(exc) == "InvalidRange":
                return b""  # starts at or past the end: data[start:end] is empty
            raise self._translate(exc, key) from exc
        with response["Body"] as body:
            return body.read()

    def size(self, key: str) -> int:
        return int(self._head(key)["ContentLength"])

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except FileNotFoundError:
            return False
        return True

    def list(self, prefix: str) -> list[str]:
        """Keys starting with `prefix`, sorted; objects whose names are not valid keys are skipped."""
        _validate_list_prefix(prefix)
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        keys = []
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                if item["Key"].startswith(self.prefix) and key.startswith(prefix) and _is_valid(key):
                    keys.append(key)
        return sorted(keys)

    def delete(self, key: str) -> None:
        """Remove the object and its cached copy; S3 deletes are idempotent, so a missing key is fine."""
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))
        self._drop_cached(key)

    def local_path(self, key: str) -> Path:
        """A local file with the object's current bytes, downloaded once per ETag into the cache.

        FileNotFoundError (naming the key) if there is no such object.
        """
        etag = self._head(key)["ETag"]
        cached = self.cache_root / key
        if cached.is_file() and _read_quietly(_etag_path(cached)) == etag:
            return cached
        return self._download(key, cached)

    def _download(self, key: str, cached: Path) -> Path:
        """Fetch into a temp file beside `cached`, then rename: readers of `cached` never see a partial file."""
        response = self._get(key)
        cached.parent.mkdir(parents=True, exist_ok=True)
        with staged(cached) as tmp, response["Body"] as body, open(tmp, "wb") as out:
            shutil.copyfileobj(body, out, _COPY_CHUNK)
        # The ETag of the bytes actually fetched: if the object changed after the HEAD, the next
        # call sees the mismatch and fetches again rather than trusting stale bytes.
        with staged(_etag_path(cached)) as tmp:
            tmp.write_text(response["ETag"])
        return cached

    def _drop_cached(self, key: str) -> None:
        cached = self.cache_root / key
        for path in (cached, _etag_path(cached)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _name(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def _head(self, key: str) -> dict[str, Any]:
        name = self._name(key)
        try:
            return self.client.head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            raise self._translate(exc, key) from exc

    def _get(self, key: str) -> dict[str, Any]:
        name = self._name(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            raise self._translate(exc, key) from exc

    def _translate(self, exc: ClientError, key: str) -> Exception:
        if _error_code(exc) in _MISSING_CODES:
            return FileNotFoundError(f"media key {key!r}: no such object at {self.uri(key)}")
        return exc


def _make_client(
    endpoint_url: str | None, region: str | None, access_key_id: str | None, secret_access_key: str | None
) -> Any:
    # Path-style addressing: S3-compatible servers on an IP and port have no per-bucket host names.
    style = "path" if endpoint_url else "auto"
    config = Config(s3={"addressing_style": style}, retries={"max_attempts": 5, "mode": "standard"})
    # A session of its own: boto3's default session is shared and not thread-safe to create clients from.
    session = boto3.session.Session(
        aws_access_key_id=access_key_id or None,
        aws_secret_access_key=secret_access_key or None,
        region_name=region or None,
    )
    return session.client("s3", endpoint_url=endpoint_url, config=config)


def _normalise_prefix(prefix: str) -> str:
    """`""` or a valid key followed by one `/`, so that prefix + key is always a clean object name."""
    stripped = (prefix or "").strip("/")
    if not stripped:
        return ""
    try:
        validate_key(stripped)
    except InvalidKeyError as exc:
        raise InvalidKeyError(f"S3 prefix {prefix!r}: {exc}") from exc
    return stripped + "/"


def _validate_list_prefix(prefix: str) -> None:
    """As in the local store: the prefix may end mid-segment (`rooms/r1` matches `rooms/r10/…`), its folders not."""
    folder = prefix.rpartition("/")[0]
    if folder:
        validate_key(folder)


def _is_valid(key: str) -> bool:
    try:
        validate_key(key)
    except InvalidKeyError:
        return False
    return True


def _cache_root(cache_dir: Path | None, endpoint_url: str | None, bucket: str, prefix: str) -> Path:
    """One folder per (endpoint, bucket, prefix), so two stores never share cached names."""
    base = Path(cache_dir).expanduser() if cache_dir else Path(tempfile.gettempdir()) / "livecut-media-cache"
    digest = hashlib.sha256(f"{endpoint_url or 'aws'}|{bucket}|{prefix}".encode()).hexdigest()[:16]
    root = (base / f"{bucket}-{digest}").resolve()
    root.mkdir(parents=True, exist_ok=True)
    return root


def _etag_path(cached: Path) -> Path:
    return cached.with_name(_ETAG_PREFIX + cached.name)


def _read_quietly(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
