"""`livecut remix` from the command line: what it says when the footage has nothing to sell, and bad input.

The variants themselves are tested in tests/clipper/remix/ (planning, assembly, loudness, distinctness).
"""

from __future__ import annotations

import subprocess

from support import FIXTURES, LIVECUT


def test_images_without_speech_make_no_empty_videos_and_say_why(tmp_path):
    garbage = tmp_path / "broken.mp4"
    garbage.write_bytes(b"\x00not a video\xff" * 100)
    out = tmp_path / "out"
    proc = subprocess.run(
        [*LIVECUT, "remix", str(FIXTURES / "remix" / "product.jpg"), str(garbage), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"livecut: skipped {garbage}" in proc.stderr
    assert "selling point" in proc.stderr.lower()
    assert (out / "variants.jsonl").read_text() == ""
    assert not list(out.glob("variants/*.mp4"))


def test_a_bad_duration_is_a_one_line_error(tmp_path):
    proc = subprocess.run(
        [*LIVECUT, "remix", str(FIXTURES / "remix" / "product.jpg"), "--out", str(tmp_path), "--duration", "60-15"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("livecut: duration must be MIN-MAX")
