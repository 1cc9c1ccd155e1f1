"""Media store: the single source of truth for media, addressed by keys, not paths.

The recorder writes fragments and playlists here; the renderer, the batch remix and
the replay page read them back. Everything goes through relative POSIX keys such as
`rooms/<room>/fragments/000123.ts` so that a local folder (the embedded default) and
an S3-compatible object store (for scale-out) are interchangeable.

Writes are atomic: a reader (an HLS player polling the playlist, ffmpeg reading a
fragment) sees either the old object or the complete new one, never a half-written
file. Keys are validated strictly, because room ids come from the outside (stream
keys, API calls) and must never let a write escape the store's root.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

# Temporary names start with a dot; keys may not, so the two can never collide.
_TMP_PREFIX = ".tmp-"
_FILE_MODE = 0o644


class InvalidKeyError(ValueError):
    """A key is not a clean relative POSIX path inside the store."""


@runtime_checkable
class MediaStore(Protocol):
    """Key-addressed media storage. Keys are relative POSIX paths (`a/b/c.ts`)."""

    def put_file(self, key: str, path: Path) -> str:
        """Move the finished local file `path` in under `key`, atomically; `path` is consumed.

        Returns the object's uri.
        """
        ...

    def put_bytes(self, key: str, data: bytes) -> str:
        """Store `data` under `key` atomically; returns the object's uri."""
        ...

    def open_read(self, key: str) -> BinaryIO:
        """Open the object for binary reading; FileNotFoundError if there is none."""
        ...

    def local_path(self, key: str) -> Path:
        """A local file path for the key, for ffmpeg and PyAV.

        The local store returns where the file is (or would be); a remote store downloads the
        object into a cache and raises FileNotFoundError if there is none. Serve HTTP ranges with
        `size` and `open_range` instead: they need no local copy.
        """
        ...

    def uri(self, key: str) -> str:
        """Where the object lives, for logs and for tools that take a URL (`file://…`, `s3://…`)."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """The object's length in bytes; FileNotFoundError if there is none."""
        ...

    def open_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes `start` up to, not including, `end`: `data[start:end]`, so a range past the end is cut short.

        Serves HTTP Range requests without a local copy. FileNotFoundError if there is no object.
        """
        ...

    def list(self, prefix: str) -> list[str]:
        """Keys starting with `prefix` (a plain string prefix, as in S3), sorted."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        ...


def validate_key(key: str) -> str:
    """Return `key` unchanged if it is a clean relative POSIX path, else raise InvalidKeyError."""
    if not isinstance(key, str) or not key:
        raise InvalidKeyError(f"key {key!r}: must be a non-empty string")
    if "\x00" in key:
        raise InvalidKeyError(f"key {key!r}: contains a NUL character")
    if "\\" in key:
        raise InvalidKeyError(f"key {key!r}: contains a backslash; keys use '/' only")
    if key.startswith("/"):
        raise InvalidKeyError(f"key {key!r}: is absolute; keys are relative to the store root")
    for segment in key.split("/"):
        _validate_segment(key, segment)
    return key


def _validate_segment(key: str, segment: str) -> None:
    if not segment:
        raise InvalidKeyError(f"key {key!r}: has an empty path segment ('//' or a trailing '/')")
    if segment in (".", ".."):
        raise InvalidKeyError(f"key {key!r}: '{segment}' segments would leave or alias the store root")
    if segment.startswith("."):
        raise InvalidKeyError(f"key {key!r}: segment {segment!r} starts with '.', reserved for temp files")


def check_range(start: int, end: int) -> None:
    """Refuse a byte range that `data[start:end]` would not mean literally (negative or reversed)."""
    if start < 0 or end < start:
        raise ValueError(f"byte range [{start}, {end}) is invalid: need 0 <= start <= end")


def room_prefix(room: str) -> str:
    """`rooms/<room>/`: everything stored for one room lives under this prefix."""
    if not isinstance(room, str) or "/" in room:
        raise InvalidKeyError(f"room id {room!r}: must be one key segment (no '/')")
    validate_key(room)
    return f"rooms/{room}/"


def fragment_key(room: str, seq: int) -> str:
    """`rooms/<room>/fragments/<seq:06d>.ts`."""
    if seq < 0:
        raise ValueError(f"fragment seq must be >= 0, got {seq}")
    return f"{room_prefix(room)}fragments/{seq:06d}.ts"


def playlist_key(room: str) -> str:
    """`rooms/<room>/index.m3u8`."""
    return f"{room_prefix(room)}index.m3u8"


class LocalMediaStore:
    """A MediaStore on a local folder; keys map to files under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def local_path(self, key: str) -> Path:
        """The file for `key`; InvalidKeyError if it would resolve (through symlinks) outside the root."""
        path = self.root / validate_key(key)
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root):
            raise InvalidKeyError(f"key {key!r}: resolves through a symlink to {resolved}, outside the store")
        return path

    def uri(self, key: str) -> str:
        return self.local_path(key).as_uri()

    def put_file(self, key: str, path: Path) -> str:
        dest = self._prepare(key)
        source = Path(path)
        if not source.is_file():
            raise FileNotFoundError(f"put_file: {source} is not a file")
        _fsync_file(source)
        os.chmod(source, _FILE_MODE)
        try:
            os.replace(source, dest)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            # Another filesystem: copy next to the destination, then rename there.
            self._commit(self._stage_copy(source, dest), dest)
            source.unlink()
        return self.uri(key)

    def put_bytes(self, key: str, data: bytes) -> str:
        dest = self._prepare(key)
        tmp = self._temp_name(dest)
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            _remove_quietly(tmp)
            raise
        self._commit(tmp, dest)
        return self.uri(key)

    def open_read(self, key: str) -> BinaryIO:
        return open(self.local_path(key), "rb")

    def exists(self, key: str) -> bool:
        return self.local_path(key).is_file()

    def size(self, key: str) -> int:
        return self._existing_file(key).stat().st_size

    def open_range(self, key: str, start: int, end: int) -> bytes:
        check_range(start, end)
        with open(self._existing_file(key), "rb") as f:
            f.seek(start)
            return f.read(end - start)

    def list(self, prefix: str) -> list[str]:
        folder = self._list_folder(prefix)
        if not folder.is_dir():
            return []
        keys = []
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            base = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                key = name if base == "." else f"{base}/{name}"
                if not name.startswith(".") and key.startswith(prefix) and self._is_plain_file(key):
                    keys.append(key)
        return sorted(keys)

    def delete(self, key: str) -> None:
        _remove_quietly(self.local_path(key))

    def _existing_file(self, key: str) -> Path:
        path = self.local_path(key)
        if not path.is_file():
            raise FileNotFoundError(f"media key {key!r}: no such object in {self.root}")
        return path

    def _prepare(self, key: str) -> Path:
        dest = self.local_path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        # mkdir may have followed a symlinked folder: check again now that it exists.
        return self.local_path(key)

    def _list_folder(self, prefix: str) -> Path:
        """The deepest folder that can hold keys starting with `prefix`."""
        if prefix in ("", "/"):
            return self.root
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        return self.local_path(folder) if folder else self.root

    def _is_plain_file(self, key: str) -> bool:
        path = self.root / key
        return path.is_file() and not path.is_symlink() and path.resolve().is_relative_to(self.root)

    @staticmethod
    def _temp_name(dest: Path) -> Path:
        fd, name = tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{dest.name}.", dir=dest.parent)
        os.close(fd)
        return Path(name)

    def _stage_copy(self, source: Path, dest: Path) -> Path:
        tmp = self._temp_name(dest)
        try:
            with open(source, "rb") as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            _remove_quietly(tmp)
            raise
        return tmp

    @staticmethod
    def _commit(tmp: Path, dest: Path) -> None:
        try:
            os.chmod(tmp, _FILE_MODE)
            os.replace(tmp, dest)
        except BaseException:
            _remove_quietly(tmp)
            raise


@contextlib.contextmanager
def staged(dest: Path) -> Iterator[Path]:
    """A temp path beside `dest` (folder made if missing), renamed onto it on success and removed on failure."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{dest.name}.", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_file(path: Path) -> None:
    """Flush a finished file to disk before it is renamed into place (crash safety)."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
