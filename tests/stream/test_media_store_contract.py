"""One contract for every MediaStore: the local folder and S3 (a real SeaweedFS) must behave alike.

Each test gets an empty store: a fresh folder, or a fresh prefix in one bucket of the module's
SeaweedFS (started once per module, only if an S3 test runs).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest

from livecut.config import ConfigError, load_config
from stream.media_factory import MediaConfigError, build_media_store
from stream.media_store import InvalidKeyError, LocalMediaStore, MediaStore
from stream.s3_media_store import S3MediaStore

pytest_plugins = ["servers.seaweedfs"]

BUCKET = "livecut-media"
KINDS = ["local", "s3"]
# Keys that try to leave the store's folder or prefix, or to pass for a temp file.
ESCAPING_KEYS = [
    "../x",
    "/abs",
    "/etc/passwd",
    "a/../../b",
    "a/..",
    "a/./b",
    "a\\..\\b",
    "a//b",
    "a/",
    "",
    ".tmp-x",
    "a/.tmp-b.ts.123",
    "a/\x00b",
]


@pytest.fixture(scope="module")
def bucket(seaweedfs) -> str:
    return seaweedfs.create_bucket(BUCKET)


def make_s3_store(seaweedfs, bucket: str, cache_dir: Path, prefix: str | None = None) -> S3MediaStore:
    return S3MediaStore(
        bucket,
        prefix=prefix if prefix is not None else f"t-{uuid.uuid4().hex[:12]}",
        endpoint_url=seaweedfs.url,
        region=seaweedfs.region,
        access_key_id=seaweedfs.access_key,
        secret_access_key=seaweedfs.secret_key,
        cache_dir=cache_dir,
    )


@pytest.fixture(params=KINDS)
def store(request, tmp_path) -> MediaStore:
    if request.param == "local":
        return LocalMediaStore(tmp_path / "media")
    seaweedfs = request.getfixturevalue("seaweedfs")
    return make_s3_store(seaweedfs, request.getfixturevalue("bucket"), tmp_path / "cache")


@pytest.fixture
def s3_store(seaweedfs, bucket, tmp_path) -> S3MediaStore:
    return make_s3_store(seaweedfs, bucket, tmp_path / "cache")


def read_all(store: MediaStore, key: str) -> bytes:
    with store.open_read(key) as f:
        return f.read()


def count_downloads(store: S3MediaStore) -> list[str]:
    """GetObject calls made by the store's client from now on (HEADs do not count)."""
    calls: list[str] = []
    store.client.meta.events.register("before-call.s3.GetObject", lambda params, **_: calls.append(params["url"]))
    return calls


def test_is_a_media_store(store):
    assert isinstance(store, MediaStore)


def test_put_read_exists_list_delete_round_trip(store):
    key = "rooms/r1/fragments/000001.ts"
    assert store.put_bytes(key, b"abc") == store.uri(key)
    assert store.exists(key) and not store.exists("rooms/r1/fragments/000002.ts")
    assert read_all(store, key) == b"abc"
    store.put_bytes(key, b"replaced")
    assert read_all(store, key) == b"replaced"
    store.put_bytes("rooms/r1/index.m3u8", b"#EXTM3U\n")
    store.put_bytes("rooms/r10/index.m3u8", b"#EXTM3U\n")
    assert store.list("rooms/r1/") == [key, "rooms/r1/index.m3u8"]
    assert store.list("rooms/r1") == [key, "rooms/r1/index.m3u8", "rooms/r10/index.m3u8"]
    assert store.list("rooms/r1/fragments/0000") == [key]
    assert store.list("rooms/none/") == []
    assert len(store.list("")) == 3
    store.delete(key)
    store.delete(key)  # deleting a missing key is fine
    assert not store.exists(key)
    assert store.list("rooms/r1/") == ["rooms/r1/index.m3u8"]


def test_nested_keys(store):
    keys = ["a/b/c/d/e.bin", "a/b/c/f.bin", "a/b/g.bin", "a/h.bin", "top.bin"]
    for i, key in enumerate(keys):
        store.put_bytes(key, f"payload {i}".encode())
    assert store.list("") == sorted(keys)
    assert store.list("a/b/c/") == ["a/b/c/d/e.bin", "a/b/c/f.bin"]
    assert store.list("a/b/c/d/") == ["a/b/c/d/e.bin"]
    assert [read_all(store, key) for key in keys] == [f"payload {i}".encode() for i in range(len(keys))]


def test_put_file_consumes_the_file(store, tmp_path):
    source = tmp_path / "fragment.ts"
    source.write_bytes(b"x" * 10_000)
    assert store.put_file("rooms/r1/fragments/000007.ts", source) == store.uri("rooms/r1/fragments/000007.ts")
    assert not source.exists()
    assert read_all(store, "rooms/r1/fragments/000007.ts") == b"x" * 10_000
    with pytest.raises(FileNotFoundError, match="missing.ts"):
        store.put_file("rooms/r1/other.ts", tmp_path / "missing.ts")
    assert not store.exists("rooms/r1/other.ts")


@pytest.mark.parametrize("key", ESCAPING_KEYS, ids=repr)
def test_keys_that_leave_the_store_are_refused(store, key, tmp_path):
    source = tmp_path / "f.ts"
    source.write_bytes(b"x")
    calls = [
        lambda: store.put_bytes(key, b"x"),
        lambda: store.put_file(key, source),
        lambda: store.open_read(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
        lambda: store.local_path(key),
        lambda: store.size(key),
        lambda: store.open_range(key, 0, 1),
        lambda: store.uri(key),
    ]
    for call in calls:
        with pytest.raises(InvalidKeyError):
            call()
    assert source.exists()
    assert store.list("") == []


def test_nothing_escapes_the_prefix_on_the_server(s3_store, bucket, tmp_path):
    """A refused key never reaches S3: no object appears anywhere in the bucket, not even normalised."""
    before = s3_store.client.list_objects_v2(Bucket=bucket).get("KeyCount", 0)
    for key in ESCAPING_KEYS:
        with pytest.raises(InvalidKeyError):
            s3_store.put_bytes(key, b"x")
    assert s3_store.client.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == before


@pytest.mark.parametrize("prefix", ["../", "/abs/x", "a/../../b/", "a\\b/"])
def test_list_prefixes_that_leave_the_store_are_refused(store, prefix):
    with pytest.raises(InvalidKeyError):
        store.list(prefix)


def test_byte_ranges(store):
    data = bytes(range(256)) * 40
    n = len(data)
    store.put_bytes("clips/c1.mp4", data)
    assert store.size("clips/c1.mp4") == n
    cases = [(0, 10), (1000, 1100), (n - 1, n), (n - 5, n + 100), (n, n + 10), (n + 10, n + 20), (5, 5), (0, n)]
    for start, end in cases:
        assert store.open_range("clips/c1.mp4", start, end) == data[start:end], (start, end)
    for start, end in [(-1, 3), (5, 4)]:
        with pytest.raises(ValueError):
            store.open_range("clips/c1.mp4", start, end)


def test_missing_key_errors_name_the_key(store):
    key = "rooms/r1/fragments/000404.ts"
    assert not store.exists(key)
    for call in (
        store.open_read,
        store.size,
        lambda k: store.open_range(k, 0, 10),
        lambda k: store.open_range(k, 3, 3),
    ):
        with pytest.raises(FileNotFoundError, match="000404.ts"):
            call(key)
    store.delete(key)


def test_local_path_gives_the_objects_bytes(store):
    data = os.urandom(300_000)
    store.put_bytes("rooms/r1/fragments/000001.ts", data)
    path = store.local_path("rooms/r1/fragments/000001.ts")
    assert path.suffix == ".ts"  # ffmpeg and PyAV guess the container from it
    assert path.read_bytes() == data


def test_s3_local_path_downloads_once_and_follows_rewrites(s3_store, tmp_path):
    key = "rooms/r1/index.m3u8"
    s3_store.put_bytes(key, b"#EXTM3U\n#v1\n")
    downloads = count_downloads(s3_store)
    first = s3_store.local_path(key)
    assert first.is_relative_to(tmp_path / "cache")
    assert s3_store.local_path(key) == first and first.read_bytes() == b"#EXTM3U\n#v1\n"
    assert len(downloads) == 1
    s3_store.put_bytes(key, b"#EXTM3U\n#v2\n")
    assert s3_store.local_path(key).read_bytes() == b"#EXTM3U\n#v2\n"
    assert len(downloads) == 2
    assert not [p.name for p in first.parent.iterdir() if p.name.startswith(".tmp-")]
    s3_store.delete(key)
    assert not first.exists()
    with pytest.raises(FileNotFoundError, match="index.m3u8"):
        s3_store.local_path(key)


def test_s3_local_path_cache_is_shared_between_store_instances(seaweedfs, bucket, s3_store, tmp_path):
    """A second process (another store on the same cache folder) reuses the download."""
    s3_store.put_bytes("a/b.ts", b"fragment")
    path = s3_store.local_path("a/b.ts")
    other = make_s3_store(seaweedfs, bucket, tmp_path / "cache", prefix=s3_store.prefix)
    downloads = count_downloads(other)
    assert other.local_path("a/b.ts") == path
    assert downloads == []


def test_large_file_uploads_intact(store, tmp_path):
    source = tmp_path / "big.mp4"
    data = os.urandom(12 * 1024 * 1024)
    source.write_bytes(data)
    store.put_file("clips/big.mp4", source)
    assert store.size("clips/big.mp4") == len(data)
    assert hashlib.sha256(read_all(store, "clips/big.mp4")).digest() == hashlib.sha256(data).digest()
    assert store.open_range("clips/big.mp4", 9_000_000, 9_000_100) == data[9_000_000:9_000_100]
    if isinstance(store, S3MediaStore):
        etag = store.client.head_object(Bucket=store.bucket, Key=store.prefix + "clips/big.mp4")["ETag"]
        assert etag.strip('"').endswith("-2"), f"expected a 2-part multipart upload, got ETag {etag}"


def test_s3_prefixes_isolate_stores(seaweedfs, bucket, s3_store, tmp_path):
    other = make_s3_store(seaweedfs, bucket, tmp_path / "cache2")
    s3_store.put_bytes("k.bin", b"mine")
    other.put_bytes("k.bin", b"theirs")
    assert s3_store.list("") == ["k.bin"] and read_all(s3_store, "k.bin") == b"mine"
    assert s3_store.uri("k.bin") == f"s3://{bucket}/{s3_store.prefix}k.bin"


def test_s3_list_skips_objects_that_are_not_valid_keys(s3_store):
    s3_store.put_bytes("ok.ts", b"1")
    s3_store.client.put_object(Bucket=s3_store.bucket, Key=s3_store.prefix + "a/.tmp-partial", Body=b"x")
    assert s3_store.list("") == ["ok.ts"]


def test_s3_prefix_must_be_clean(seaweedfs, bucket, tmp_path):
    assert make_s3_store(seaweedfs, bucket, tmp_path, prefix="/media/live/").prefix == "media/live/"
    assert make_s3_store(seaweedfs, bucket, tmp_path, prefix="").prefix == ""
    with pytest.raises(InvalidKeyError, match="prefix"):
        make_s3_store(seaweedfs, bucket, tmp_path, prefix="media/../other")


def test_media_config_defaults_to_the_local_folder(tmp_path):
    config = load_config()
    assert config["media"]["kind"] == "local"
    config["paths"]["data_dir"] = str(tmp_path)
    store = build_media_store(config)
    assert isinstance(store, LocalMediaStore) and store.root == (tmp_path / "media").resolve()


def test_media_config_s3_takes_credentials_from_the_environment(seaweedfs, bucket, tmp_path, monkeypatch):
    user = tmp_path / "mine.toml"
    user.write_text(
        f'[media]\nkind = "s3"\nbucket = "{bucket}"\nprefix = "from-config"\n'
        f'endpoint_url = "{seaweedfs.url}"\ncache_dir = "{tmp_path / "cache"}"\n'
    )
    for name, value in seaweedfs.env().items():
        monkeypatch.setenv(name, value)
    store = build_media_store(load_config(user))
    assert isinstance(store, S3MediaStore) and store.prefix == "from-config/"
    store.put_bytes("hello.txt", b"hi")
    assert store.local_path("hello.txt").read_bytes() == b"hi"
    assert store.local_path("hello.txt").is_relative_to(tmp_path / "cache")
    store.delete("hello.txt")


def test_media_config_errors_are_clear(tmp_path):
    config = load_config()
    with pytest.raises(MediaConfigError, match="media.bucket"):
        build_media_store({**config, "media": {**config["media"], "kind": "s3"}})
    with pytest.raises(MediaConfigError, match="'ftp'"):
        build_media_store({**config, "media": {**config["media"], "kind": "ftp"}})
    user = tmp_path / "typo.toml"
    user.write_text('[media]\naccess_key = "never here"\n')
    with pytest.raises(ConfigError, match="media.access_key"):
        load_config(user)
