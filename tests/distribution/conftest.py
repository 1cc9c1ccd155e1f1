"""Fixtures of the distribution tests: the fake platforms, accounts, and media made here."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from dist_fakes import FakePlatforms

from distribution import Credentials


@pytest.fixture
def fake():
    platforms = FakePlatforms().start()
    yield platforms
    platforms.stop()


@pytest.fixture
def creds() -> Credentials:
    return Credentials(access_token="tok-1", refresh_token="ref-1")


@pytest.fixture(scope="session")
def vertical_clip(tmp_path_factory) -> Path:
    """4 s of 720x1280 H.264/AAC with faststart (a conforming Douyin clip)."""
    out = tmp_path_factory.mktemp("media") / "vertical.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=720x1280:rate=30:duration=4",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            "-movflags",
            "+faststart",
            str(out),
        ],
        check=True,
    )
    return out


@pytest.fixture(scope="session")
def wide_clip(tmp_path_factory) -> Path:
    """6 s of 640x360 MPEG-4 Part 2 in MP4 without faststart: wrong aspect, codec and box order."""
    out = tmp_path_factory.mktemp("media") / "wide.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=640x360:rate=30:duration=6",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=6",
            "-c:v",
            "mpeg4",
            "-q:v",
            "5",
            "-c:a",
            "aac",
            "-shortest",
            str(out),
        ],
        check=True,
    )
    return out
