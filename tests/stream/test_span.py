"""assemble_span: fragments back to one file the renderer can seek into, checked frame by frame with ffmpeg."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from test_recorder import make_flv, record

from livecut.contracts import Fragment
from stream.media_store import LocalMediaStore
from stream.span import SpanUnavailableError, assemble_span


@dataclasses.dataclass
class Recording:
    source: Path
    store: LocalMediaStore
    fragments: list[Fragment]
    frames: list[tuple[float, np.ndarray]]  # (room time, gray picture) of every source frame


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Recording:
    folder = tmp_path_factory.mktemp("span")
    source = make_flv(folder / "live.flv")
    store = LocalMediaStore(folder / "store")
    fragments, _ = record(source, store)
    with av.open(str(source)) as container:
        frames = [(float(f.time), gray(f)) for f in container.decode(video=0)]
    return Recording(source, store, fragments, frames)


@pytest.fixture(scope="module")
def split_fragments(recording, tmp_path_factory) -> tuple[LocalMediaStore, list[Fragment]]:
    """The same input recorded as a live room records it: fragments split every 0.5 s between keyframes."""
    store = LocalMediaStore(tmp_path_factory.mktemp("split") / "store")
    fragments, _ = record(recording.source, store, split_s=0.5)
    return store, fragments


def gray(frame: av.VideoFrame) -> np.ndarray:
    return frame.to_ndarray(format="gray").astype(np.float32)


def source_time_of_first_frame(clip: Path, recording: Recording) -> float:
    """Which source frame the clip opens with: the closest picture (testsrc2 changes every frame)."""
    with av.open(str(clip)) as container:
        first = gray(next(container.decode(video=0)))
    errors = [(float(np.mean((picture - first) ** 2)), t) for t, picture in recording.frames]
    return min(errors)[1]


def ffmpeg_cut(source: Path, seek: float, duration: float, out: Path, seek_before_input: bool = True) -> Path:
    seek_args = ["-ss", f"{seek:.3f}"]
    command = [
        *("ffmpeg", "-v", "error", "-y", *(seek_args if seek_before_input else [])),
        *("-i", str(source), *([] if seek_before_input else seek_args)),
        *("-t", f"{duration:.3f}", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(out)),
    ]
    subprocess.run(command, check=True, capture_output=True)
    return out


def media_duration(path: Path) -> float:
    with av.open(str(path)) as container:
        return container.duration / av.time_base


def first_frame_at(recording: Recording, t: float) -> float:
    """The source frame a cut at room time `t` should open with: the first one at or after it."""
    return min(ft for ft, _ in recording.frames if ft >= t - 1e-3)


@pytest.mark.parametrize(("t0", "t1"), [(3.3, 7.1), (4.2, 6.0)])
def test_mkv_span_seeks_exactly_with_ss_before_input(recording, tmp_path, t0, t1):
    dest = tmp_path / "span.mkv"
    start = assemble_span(recording.store, recording.fragments, t0, t1, dest)
    chosen = [f for f in recording.fragments if f.t1 > t0 and f.t0 < t1]
    assert start == chosen[0].t0
    clip = ffmpeg_cut(dest, t0 - start, t1 - t0, tmp_path / "clip.mp4")
    assert media_duration(clip) == pytest.approx(t1 - t0, abs=0.1)
    assert source_time_of_first_frame(clip, recording) == pytest.approx(first_frame_at(recording, t0), abs=1e-3)


@pytest.mark.parametrize(("t0", "t1"), [(3.3, 7.1), (5.3, 6.0)])
def test_a_span_of_split_fragments_starts_at_the_keyframe_before_and_seeks_exactly(
    recording, split_fragments, tmp_path, t0, t1
):
    store, fragments = split_fragments
    dest = tmp_path / "span.mkv"
    start = assemble_span(store, fragments, t0, t1, dest)
    first_overlapping = next(f for f in fragments if f.t1 > t0)
    assert not first_overlapping.keyframe  # the case that needs reaching back
    assert start == max(f.t0 for f in fragments if f.keyframe and f.t0 <= t0)
    clip = ffmpeg_cut(dest, t0 - start, t1 - t0, tmp_path / "clip.mp4")
    assert media_duration(clip) == pytest.approx(t1 - t0, abs=0.1)
    assert source_time_of_first_frame(clip, recording) == pytest.approx(first_frame_at(recording, t0), abs=1e-3)


def test_split_fragments_without_their_keyframe_fragment_are_refused(split_fragments, tmp_path):
    store, fragments = split_fragments
    after_keyframe = [f for f in fragments if f.t0 > 2.2]
    assert not after_keyframe[0].keyframe
    with pytest.raises(SpanUnavailableError, match="no keyframe fragment"):
        assemble_span(store, after_keyframe, 2.6, 3.4, tmp_path / "span.mkv")


def test_ts_span_is_the_fragments_bytes_and_plays(recording, tmp_path):
    t0, t1 = 3.3, 7.1
    dest = tmp_path / "span.ts"
    start = assemble_span(recording.store, recording.fragments, t0, t1, dest)
    chosen = [f for f in recording.fragments if f.t1 > t0 and f.t0 < t1]
    assert [f.seq for f in chosen] == [1, 2, 3]
    assert dest.read_bytes() == b"".join(recording.store.local_path(f.uri).read_bytes() for f in chosen)
    with av.open(str(dest)) as container:
        assert container.start_time / av.time_base == pytest.approx(start, abs=1e-3)
        first_video = next(p for p in container.demux(video=0) if p.pts is not None)
        assert first_video.is_keyframe
    with av.open(str(dest)) as container:
        assert len(list(container.decode(video=0))) == 90  # three whole GOPs decode across the joins
    # MPEG-TS: ffmpeg's input seeking is not keyframe-aware, so seek after -i (decodes < 1 fragment).
    clip = ffmpeg_cut(dest, t0 - start, t1 - t0, tmp_path / "clip.mp4", seek_before_input=False)
    assert media_duration(clip) == pytest.approx(t1 - t0, abs=0.1)
    assert source_time_of_first_frame(clip, recording) == pytest.approx(first_frame_at(recording, t0), abs=1e-3)


def test_span_covering_the_whole_recording(recording, tmp_path):
    fragments = recording.fragments
    start = assemble_span(recording.store, fragments, fragments[0].t0, fragments[-1].t1, tmp_path / "all.mkv")
    assert start == fragments[0].t0
    with av.open(str(tmp_path / "all.mkv")) as container:
        times = [float(f.time) for f in container.decode(video=0)]
    assert times == pytest.approx([t for t, _ in recording.frames], abs=1e-3)  # every frame, same time


def test_unrecorded_spans_are_refused(recording, tmp_path):
    store, fragments = recording.store, recording.fragments
    end = fragments[-1].t1
    dest = tmp_path / "span.ts"
    with pytest.raises(SpanUnavailableError, match="not recorded yet"):
        assemble_span(store, fragments, end - 1.0, end + 2.0, dest)
    with pytest.raises(SpanUnavailableError, match="not recorded"):
        assemble_span(store, fragments, end + 1.0, end + 2.0, dest)
    with pytest.raises(SpanUnavailableError, match="before the first fragment"):
        assemble_span(store, fragments[2:], 1.0, 5.0, dest)
    with pytest.raises(SpanUnavailableError, match="gap"):
        assemble_span(store, fragments[:2] + fragments[3:], 3.0, 7.0, dest)
    with pytest.raises(SpanUnavailableError, match="not recorded"):
        assemble_span(store, [], 1.0, 2.0, dest)
    missing = dataclasses.replace(fragments[1], uri="rooms/r1/fragments/999999.ts")
    with pytest.raises(SpanUnavailableError, match="missing"):
        assemble_span(store, [fragments[0], missing, *fragments[2:]], 1.0, 3.0, dest)
    with pytest.raises(ValueError):
        assemble_span(store, fragments, 5.0, 5.0, dest)
    with pytest.raises(ValueError, match="must end in"):
        assemble_span(store, fragments, 1.0, 2.0, tmp_path / "span.mp4")
    assert list(tmp_path.iterdir()) == [], "a refused span leaves no file behind"
