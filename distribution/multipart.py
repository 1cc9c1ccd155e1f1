"""multipart/form-data bodies that stream a file (or one part of it) instead of loading it whole."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

READ_BLOCK = 1 << 20


@dataclass(frozen=True)
class FileSlice:
    """Bytes [offset, offset + length) of a file, read lazily."""

    path: Path
    offset: int
    length: int

    def blocks(self) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            left = self.length
            while left > 0:
                block = handle.read(min(READ_BLOCK, left))
                if not block:
                    raise OSError(f"{self.path} ended {left} bytes early")
                left -= len(block)
                yield block

    def read(self) -> bytes:
        return b"".join(self.blocks())


def whole_file(path: Path) -> FileSlice:
    return FileSlice(path, 0, path.stat().st_size)


def form(
    fields: dict[str, str], files: dict[str, tuple[str, FileSlice, str]]
) -> tuple[dict[str, str], list[bytes | FileSlice]]:
    """Headers and the body pieces of a form; `files` maps field -> (filename, slice, content type)."""
    boundary = "livecut" + secrets.token_hex(12)
    pieces: list[bytes | FileSlice] = []
    for name, value in fields.items():
        pieces.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, part, content_type) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        )
        pieces += [head.encode(), part, b"\r\n"]
    pieces.append(f"--{boundary}--\r\n".encode())
    length = sum(p.length if isinstance(p, FileSlice) else len(p) for p in pieces)
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(length)}
    return headers, pieces


def stream(pieces: list[bytes | FileSlice]) -> Iterator[bytes]:
    for piece in pieces:
        if isinstance(piece, FileSlice):
            yield from piece.blocks()
        else:
            yield piece
