import subprocess

import numpy as np
import pytest

from livecut.contracts import SAMPLE_RATE, AudioChunk, EndOfStream
from stream.file_source import FileSource, SourceError, probe


def remux(source, target):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), "-c", "copy", str(target)], check=True)
    return target


def test_probe_describes_the_sample(fixtures):
    info = probe(fixtures / "zh_live.mp4")
    assert info.has_video and info.video_codec == "h264" and info.audio_codec == "aac"
    assert (info.width, info.height) == (640, 360)
    assert 60 < info.duration < 100


@pytest.mark.parametrize("suffix", [".mp4", ".flv", ".ts"])
def test_audio_comes_out_continuous_on_the_media_timeline(fixtures, tmp_path, suffix):
    source = fixtures / "zh_live.mp4"
    path = source if suffix == ".mp4" else remux(source, tmp_path / f"sample{suffix}")
    events = list(FileSource(path, room="r", chunk_s=1.0).events())
    chunks = [e for e in events if isinstance(e, AudioChunk)]
    assert isinstance(events[-1], EndOfStream)
    assert all(c.samples.dtype == np.float32 and c.samples.ndim == 1 for c in chunks)
    assert all(len(c.samples) == SAMPLE_RATE for c in chunks[:-1])
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.t0 == pytest.approx(before.t1, abs=1e-6)
    assert chunks[0].t0 == pytest.approx(0.0, abs=0.15)
    assert events[-1].t - chunks[0].t0 == pytest.approx(probe(source).duration, abs=0.2)
    assert max(float(np.abs(c.samples).max()) for c in chunks) > 0.1


def test_file_without_audio_is_a_clear_error(fixtures):
    with pytest.raises(SourceError, match="has no audio stream"):
        probe(fixtures / "no_audio.mp4")
    with pytest.raises(SourceError, match="has no audio stream"):
        list(FileSource(fixtures / "no_audio.mp4", room="r").events())


def test_garbage_and_missing_files_are_clear_errors(tmp_path):
    garbage = tmp_path / "broken.mp4"
    garbage.write_bytes(b"\x00\x01not a video" * 500)
    with pytest.raises(SourceError, match="not a readable media file"):
        probe(garbage)
    with pytest.raises(SourceError, match="no such file"):
        probe(tmp_path / "missing.mp4")


def test_truncated_file_yields_what_it_holds(fixtures, tmp_path):
    truncated = tmp_path / "cut.ts"
    remux(fixtures / "zh_live.mp4", tmp_path / "whole.ts")
    data = (tmp_path / "whole.ts").read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    chunks = [e for e in FileSource(truncated, room="r").events() if isinstance(e, AudioChunk)]
    assert 20 < chunks[-1].t1 - chunks[0].t0 < probe(fixtures / "zh_live.mp4").duration
