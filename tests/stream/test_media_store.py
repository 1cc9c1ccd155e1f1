"""LocalMediaStore: key-based put/read/list/delete, atomic writes, and refusal of keys that escape."""

from __future__ import annotations

import os

import pytest

from stream.media_store import (
    InvalidKeyError,
    LocalMediaStore,
    MediaStore,
    fragment_key,
    playlist_key,
    validate_key,
)


@pytest.fixture
def store(tmp_path) -> LocalMediaStore:
    return LocalMediaStore(tmp_path / "media")


def all_files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_is_a_media_store(store):
    assert isinstance(store, MediaStore)


def test_put_bytes_read_exists_list_delete(store):
    key = "rooms/r1/fragments/000001.ts"
    uri = store.put_bytes(key, b"abc")
    assert uri == store.local_path(key).as_uri()
    assert store.exists(key) and not store.exists("rooms/r1/fragments/000002.ts")
    with store.open_read(key) as f:
        assert f.read() == b"abc"
    store.put_bytes(key, b"replaced")
    assert store.local_path(key).read_bytes() == b"replaced"
    store.put_bytes("rooms/r1/index.m3u8", b"#EXTM3U\n")
    store.put_bytes("rooms/r10/index.m3u8", b"#EXTM3U\n")
    assert store.list("rooms/r1/") == ["rooms/r1/fragments/000001.ts", "rooms/r1/index.m3u8"]
    assert store.list("rooms/r1") == [
        "rooms/r1/fragments/000001.ts",
        "rooms/r1/index.m3u8",
        "rooms/r10/index.m3u8",
    ]
    assert store.list("rooms/r1/fragments/0000") == [key]
    assert store.list("rooms/none/") == []
    assert len(store.list("")) == 3
    store.delete(key)
    store.delete(key)  # deleting a missing key is fine
    assert not store.exists(key)
    with pytest.raises(FileNotFoundError):
        store.open_read(key)


def test_put_file_moves_the_file_in_and_leaves_no_temp_files(store, tmp_path):
    source = tmp_path / "fragment.ts"
    source.write_bytes(b"x" * 10_000)
    key = fragment_key("r1", 7)
    assert key == "rooms/r1/fragments/000007.ts"
    store.put_file(key, source)
    assert not source.exists()
    assert store.local_path(key).read_bytes() == b"x" * 10_000
    assert oct(store.local_path(key).stat().st_mode & 0o777) == oct(0o644)
    store.put_bytes(playlist_key("r1"), b"#EXTM3U\n")
    assert all_files(store.root) == ["rooms/r1/fragments/000007.ts", "rooms/r1/index.m3u8"]
    with pytest.raises(FileNotFoundError):
        store.put_file("rooms/r1/other.ts", tmp_path / "missing.ts")


def test_put_file_across_filesystems_copies_then_renames(store, tmp_path, monkeypatch):
    """os.replace fails with EXDEV across filesystems; the copy path must stay atomic and clean."""
    import errno

    real_replace = os.replace
    calls = []

    def replace(src, dst):
        calls.append(src)
        if len(calls) == 1:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    source = tmp_path / "fragment.ts"
    source.write_bytes(b"payload")
    store.put_file("rooms/r1/fragments/000001.ts", source)
    assert not source.exists()
    assert store.local_path("rooms/r1/fragments/000001.ts").read_bytes() == b"payload"
    assert all_files(store.root) == ["rooms/r1/fragments/000001.ts"]


def test_failed_write_leaves_old_content_and_no_temp_file(store, monkeypatch):
    store.put_bytes("a/b.bin", b"old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.put_bytes("a/b.bin", b"new")
    assert store.local_path("a/b.bin").read_bytes() == b"old"
    assert all_files(store.root) == ["a/b.bin"]


def test_list_skips_temp_files(store):
    store.put_bytes("a/b.bin", b"1")
    (store.root / "a" / ".tmp-b.bin.xyz").write_bytes(b"partial")
    assert store.list("a/") == ["a/b.bin"]


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "non-empty"),
        ("../outside.ts", "leave"),
        ("rooms/../../outside.ts", "leave"),
        ("rooms/./a.ts", "alias"),
        ("/etc/passwd", "absolute"),
        ("rooms\\r1\\a.ts", "backslash"),
        ("rooms/r1\x00.ts", "NUL"),
        ("rooms//a.ts", "empty path segment"),
        ("rooms/r1/", "empty path segment"),
        ("rooms/.hidden", "reserved for temp"),
    ],
)
def test_bad_keys_are_refused(store, key, reason):
    with pytest.raises(InvalidKeyError, match=reason):
        validate_key(key)
    for call in (store.exists, store.local_path, store.open_read, store.delete):
        with pytest.raises(InvalidKeyError):
            call(key)
    with pytest.raises(InvalidKeyError):
        store.put_bytes(key, b"x")
    assert all_files(store.root.parent) == []


def test_symlink_escaping_the_root_is_refused(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.ts").write_bytes(b"secret")
    os.symlink(outside, store.root / "rooms")
    with pytest.raises(InvalidKeyError, match="outside the store"):
        store.open_read("rooms/secret.ts")
    with pytest.raises(InvalidKeyError, match="outside the store"):
        store.put_bytes("rooms/new.ts", b"x")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.ts"]
    assert store.list("") == []


def test_symlink_inside_the_root_is_allowed(store):
    store.put_bytes("real/a.ts", b"a")
    os.symlink(store.root / "real", store.root / "alias")
    with store.open_read("alias/a.ts") as f:
        assert f.read() == b"a"


def test_room_ids_must_be_one_segment():
    assert playlist_key("room-1") == "rooms/room-1/index.m3u8"
    for room in ("a/b", "..", "", ".x", "a\\b"):
        with pytest.raises(InvalidKeyError):
            fragment_key(room, 0)
    with pytest.raises(ValueError):
        fragment_key("r1", -1)
