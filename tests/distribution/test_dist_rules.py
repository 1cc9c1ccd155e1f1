"""Accounts and their bad input, encrypted credentials, platform rules as data, pre-flight with a
conforming re-render (real ffmpeg), and PDQ near-duplicates on real decoded video."""

from __future__ import annotations

import subprocess
from dataclasses import replace

import pytest
from dist_helpers import job_for

from distribution import (
    Credentials,
    CredentialVault,
    ErrorKind,
    PostedVideo,
    PostError,
    account_from_record,
    count_text,
    ensure_fresh,
    fingerprint,
    known_platforms,
    load_rules,
    preflight,
    prepare,
    probe,
    refuse_duplicates,
    similarity,
)
from distribution.preflight import Caption

PLATFORMS = known_platforms()
GOOD = {
    "account_id": "a1",
    "tenant": "t1",
    "platform": "douyin",
    "display_name": "店铺一号",
    "windows": ["09:00-12:00", "20:00-01:30"],
    "timezone": "Asia/Shanghai",
    "daily_cap": 10,
}


def test_account_from_record_and_each_bad_field():
    account = account_from_record(GOOD, PLATFORMS)
    assert account.windows[1].seconds == (72000, 91800)  # past midnight
    bad = {
        "platform": ("weibo", "platform: unknown platform 'weibo'"),
        "timezone": ("Mars/Olympus", "timezone: unknown time zone"),
        "daily_cap": (-1, "daily_cap"),
        "windows": (["9-12"], "windows: '9-12'"),
        "display_name": ("", "display_name: required"),
        "status": ("sleeping", "status:"),
        "min_spacing_s": ("soon", "min_spacing_s"),
    }
    for field, (value, message) in bad.items():
        with pytest.raises(ValueError, match=message):
            account_from_record({**GOOD, field: value}, PLATFORMS)


def test_vault_encrypts_with_the_key_from_the_environment():
    env = {"LIVECUT_SECRET_KEY": CredentialVault.new_key()}
    vault = CredentialVault("LIVECUT_SECRET_KEY", env)
    secret = Credentials("access-abc", "refresh-xyz", 1.0e9, 2.0e9)
    blob = vault.encrypt(secret)
    assert b"access-abc" not in blob and b"refresh-xyz" not in blob
    assert vault.decrypt(blob) == secret
    assert "access-abc" not in repr(secret)
    other = CredentialVault("K", {"K": CredentialVault.new_key()})
    with pytest.raises(ValueError, match="cannot decrypt"):
        other.decrypt(blob)
    with pytest.raises(ValueError, match="LIVECUT_SECRET_KEY: not set"):
        CredentialVault("LIVECUT_SECRET_KEY", {})
    with pytest.raises(ValueError, match="not a Fernet key"):
        CredentialVault("K", {"K": "short"})


def test_expired_refresh_token_needs_reauth_without_calling_the_platform():
    gone = Credentials("a", "r", access_expires_at=100.0, refresh_expires_at=150.0)
    with pytest.raises(PostError) as caught:
        ensure_fresh(gone, refresher=object(), account_extra={}, now=200.0)
    assert caught.value.kind is ErrorKind.NEEDS_REAUTH
    assert ensure_fresh(Credentials("a"), None, {}, now=200.0) == (Credentials("a"), False)  # never expires


def test_every_platform_file_loads_and_counts_text_its_way():
    for name in PLATFORMS:
        rules = load_rules(name)
        assert rules.name == name and rules.protocol
    assert load_rules("douyin").error_codes["28001008"] == "token_expired"
    assert count_text("新品😀", "utf16") == 4 and count_text("新品ab", "gbk_bytes") == 6
    with pytest.raises(ValueError, match="counting"):
        count_text("x", "words")


def test_bad_platform_file_names_the_field(tmp_path):
    (tmp_path / "odd.toml").write_text('name = "odd"\nprotocol = "webhook"\n[video]\nmax_length = 3\n')
    with pytest.raises(ValueError, match=r"odd.toml \[video\]: unknown keys \['max_length'\]"):
        load_rules("odd", tmp_path)


def test_conforming_clip_passes_and_a_long_title_is_never_cut(vertical_clip, tmp_path):
    rules = load_rules("douyin")
    assert preflight(vertical_clip, Caption("新品上市"), rules) == []
    long_title = Caption("这" * 31, tags=("a", "b", "c", "d", "e", "f"))
    fields = {v.field: v for v in preflight(vertical_clip, long_title, rules)}
    assert "31 chars is over 30" in fields["caption.title"].message and not fields["caption.title"].fixable
    assert "6 hashtags" in fields["caption.tags"].message
    job = replace(job_for("douyin", vertical_clip), caption=long_title)
    with pytest.raises(PostError, match="caption.title") as caught:
        prepare(job, rules, tmp_path)
    assert caught.value.kind is ErrorKind.PERMANENT and job.caption.title == "这" * 31


def test_wrong_codec_aspect_and_box_order_are_re_rendered(wide_clip, tmp_path):
    rules = load_rules("taobao")
    found = {v.field for v in preflight(wide_clip, Caption("新品"), rules, cover=None)}
    assert {"video.codec", "video.aspect", "video.faststart"} <= found
    fixed = prepare(job_for("taobao", wide_clip), rules, tmp_path)
    info = probe(fixed.video)
    assert (info.video_codec, info.audio_codec, info.moov_first) == ("h264", "aac", True)
    assert (info.width, info.height) == (640, 1138)  # padded to 9:16, nothing cropped
    assert abs(info.duration_s - 6.0) < 0.2


def test_unfixable_video_and_unreadable_file_are_clear_errors(vertical_clip, tmp_path):
    with pytest.raises(PostError, match="video.duration: 4.0 s is shorter than 5.0 s"):
        prepare(job_for("taobao", vertical_clip), load_rules("taobao"), tmp_path)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all")
    assert [v.field for v in preflight(junk, Caption("x"), load_rules("douyin"))] == ["video"]


def test_same_content_on_a_second_account_is_refused_unless_overridden(fixtures, tmp_path):
    source = fixtures / "zh_live.mp4"
    clip_a = tmp_path / "a.mp4"
    clip_b = tmp_path / "b.mp4"
    other = tmp_path / "other.mp4"
    cut = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y"]
    subprocess.run(
        [
            *cut,
            "-ss",
            "10",
            "-t",
            "12",
            "-i",
            str(source),
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            str(clip_a),
        ],
        check=True,
    )
    # The same shots re-encoded smaller: what a re-upload to a second account looks like.
    subprocess.run(
        [
            *cut,
            "-i",
            str(clip_a),
            "-vf",
            "scale=480:270",
            "-c:v",
            "libx264",
            "-crf",
            "32",
            "-preset",
            "ultrafast",
            str(clip_b),
        ],
        check=True,
    )
    subprocess.run(
        [
            *cut,
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=15:duration=12",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            str(other),
        ],
        check=True,
    )
    fa, fb, fo = fingerprint(clip_a), fingerprint(clip_b), fingerprint(other)
    assert len(fa.hashes) >= 11
    assert similarity(fb, fa) >= 0.9 and similarity(fo, fa) <= 0.1
    history = [PostedVideo("post-a", "acc-1", posted_at=1000.0, fingerprint=fa)]
    with pytest.raises(PostError, match="near-duplicate of post post-a on account acc-1"):
        refuse_duplicates(fb, history, now=2000.0)
    assert refuse_duplicates(fb, history, now=2000.0, override=True)[0].post_id == "post-a"
    assert refuse_duplicates(fo, history, now=2000.0) == []
    assert refuse_duplicates(fb, history, now=1000.0 + 31 * 86400) == []  # older than the 30-day window
    assert type(fa).from_bytes(fa.to_bytes()).hashes.tolist() == fa.hashes.tolist()
