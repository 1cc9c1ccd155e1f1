"""Clip renderer on real media with the real ffmpeg: cut, captions, thumbnail, 9:16, atomic writes."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest
from clipper_helpers import FIXTURES, decode_all, frame_at, gray, parse_srt, parse_vtt, top_level_boxes

from clipper.renderer import Renderer, RenderError, RenderSettings
from livecut.contracts import ClipReady, ClipRequest, Word, clip_id_for

T0, T1 = 10.2, 17.5
SENTENCES = [
    (10.0, "大家好！"),  # starts 0.2 s before the clip: clamped to 0
    (11.0, "今天给大家推荐这款口红。"),
    (13.8, "颜色特别显白黄皮姐妹也能放心涂抹"),  # exactly one full line of 16 characters
    (17.35, "现在下单！"),  # runs past the clip's end: the first character is clamped, the rest dropped
]
EXPECTED_CUES = [
    (0.0, 0.68, "大家好！"),
    (0.8, 3.44, "今天给大家推荐这款口红。"),
    (3.6, 7.12, "颜色特别显白黄皮姐妹也能放心涂抹"),
    (7.15, 7.3, "现"),
]


def words_of(sentences: list[tuple[float, str]], step: float = 0.22) -> list[Word]:
    return [Word(t + i * step, t + (i + 1) * step, ch) for t, text in sentences for i, ch in enumerate(text)]


def request(t0: float, t1: float, words: list[Word] | None = None, label: str = "product_intro") -> ClipRequest:
    return ClipRequest(
        clip_id=clip_id_for("room-1", t0, t1, label, None),
        room="room-1",
        source="room-1/live",
        t0=t0,
        t1=t1,
        label=label,
        sublabel=None,
        text="今天给大家推荐这款口红",
        words=words or [],
    )


@pytest.fixture(scope="module")
def source() -> Path:
    path = FIXTURES / "zh_live.mp4"
    if not path.exists():
        pytest.skip(f"fixture {path} is missing")
    return path


@pytest.fixture(scope="module")
def main_request() -> ClipRequest:
    return request(T0, T1, words_of(SENTENCES))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, source: Path, main_request: ClipRequest):
    out_dir = tmp_path_factory.mktemp("out")
    settings = RenderSettings(vertical=True, vertical_mode="blur")
    ready = Renderer(settings, out_dir).render(main_request, source)
    return out_dir, ready


def test_clip_ready_points_at_files_relative_to_out_dir(rendered: tuple[Path, ClipReady]) -> None:
    out_dir, ready = rendered
    cid = ready.clip_id
    assert (ready.video, ready.captions, ready.captions_vtt) == (
        f"clips/{cid}.mp4",
        f"clips/{cid}.srt",
        f"clips/{cid}.vtt",
    )
    assert (ready.thumbnail, ready.vertical) == (f"clips/{cid}.jpg", f"clips/{cid}.vertical.mp4")
    assert (ready.t0, ready.t1, ready.label, ready.room) == (T0, T1, "product_intro", "room-1")
    assert sorted(p.name for p in (out_dir / "clips").iterdir()) == sorted(
        Path(p).name for p in (ready.video, ready.captions, ready.captions_vtt, ready.thumbnail, ready.vertical)
    )


def test_clip_decodes_fully_with_exact_duration(rendered: tuple[Path, ClipReady]) -> None:
    out_dir, ready = rendered
    assert abs(ready.duration - (T1 - T0)) < 0.1
    video = decode_all(out_dir / ready.video, "video")
    audio = decode_all(out_dir / ready.video, "audio")
    fps = video.rate
    assert abs(video.count / fps - (T1 - T0)) < 0.1
    assert abs(video.last_end - (T1 - T0)) < 0.1
    assert abs(audio.last_end - (T1 - T0)) < 0.1
    assert video.first_pts < 0.05 and audio.first_pts < 0.05


def test_clip_streams_are_h264_yuv420p_and_aac(rendered: tuple[Path, ClipReady]) -> None:
    out_dir, ready = rendered
    with av.open(str(out_dir / ready.video)) as container:
        assert len(container.streams.video) == 1 and len(container.streams.audio) == 1
        assert len(container.streams) == 2
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "h264"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert audio.codec_context.name == "aac"


def test_clip_is_faststart(rendered: tuple[Path, ClipReady]) -> None:
    out_dir, ready = rendered
    boxes = top_level_boxes(out_dir / ready.video)
    assert "moov" in boxes and "mdat" in boxes
    assert boxes.index("moov") < boxes.index("mdat")


def test_clip_starts_at_the_requested_frame(rendered: tuple[Path, ClipReady], source: Path) -> None:
    out_dir, ready = rendered
    first = gray(frame_at(out_dir / ready.video, 0.0))
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        container.seek(int((T0 - 2.0) / stream.time_base), stream=stream)
        candidates = [
            (float(frame.time), gray(frame)) for frame in container.decode(stream) if T0 - 1.0 <= frame.time <= T0 + 1.0
        ]
    best_time = min(candidates, key=lambda item: np.abs(item[1] - first).mean())[0]
    assert abs(best_time - T0) < 0.05


def test_caption_files_are_on_the_clip_timeline(rendered: tuple[Path, ClipReady], main_request: ClipRequest) -> None:
    out_dir, ready = rendered
    srt = parse_srt((out_dir / ready.captions).read_text(encoding="utf-8"))
    vtt = parse_vtt((out_dir / ready.captions_vtt).read_text(encoding="utf-8"))
    assert srt == vtt
    assert [cue.text for cue in srt] == [text for _, _, text in EXPECTED_CUES]
    times = [t for cue in srt for t in (cue.t0, cue.t1)]
    assert times == pytest.approx([t for t0, t1, _ in EXPECTED_CUES for t in (t0, t1)], abs=0.001)
    for cue in srt:
        assert 0.0 <= cue.t0 < cue.t1 <= T1 - T0 + 0.001
        assert len(cue.text) <= 16
    for before, after in zip(srt, srt[1:], strict=False):
        assert before.t1 <= after.t0
    inside = [w.text for w in main_request.words if w.t1 > T0 and w.t0 < T1]
    assert "".join(cue.text for cue in srt) == "".join(inside)
    assert not any(" " in cue.text for cue in srt)


def test_thumbnail_is_a_jpeg_from_the_middle(rendered: tuple[Path, ClipReady]) -> None:
    out_dir, ready = rendered
    path = out_dir / ready.thumbnail
    assert path.read_bytes()[:3] == b"\xff\xd8\xff"
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "mjpeg"
        thumb = next(container.decode(video=0))
    with av.open(str(out_dir / ready.video)) as container:
        width, height = container.streams.video[0].width, container.streams.video[0].height
    assert thumb.width == 360
    assert abs(thumb.height - 360 * height / width) <= 2
    clip = out_dir / ready.video
    image = gray(thumb)
    middle = ready.duration / 2
    errors = {
        at: np.abs(gray(frame_at(clip, at), thumb.width, thumb.height) - image).mean()
        for at in (0.0, middle / 2, middle - 1.0, middle, middle + 1.0, middle * 1.5, ready.duration - 0.1)
    }
    assert min(errors, key=errors.get) == middle


def test_thumbnail_when_the_video_ends_before_the_thumbnail_time(
    tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Video 0-3 s, audio 0-8 s: the thumbnail comes from the middle of the video there is, in a second run."""
    short_video = tmp_path / "short_video.mp4"
    streams = ["-t", "3", "-i", str(source), "-t", "8", "-i", str(source), "-map", "0:v", "-map", "1:a"]
    subprocess.run(["ffmpeg", "-v", "error", *streams, "-c", "copy", str(short_video)], check=True)
    original, second_runs = Renderer._thumbnail, []
    monkeypatch.setattr(Renderer, "_thumbnail", lambda self, *args: second_runs.append(original(self, *args)))
    ready = Renderer(RenderSettings(), tmp_path / "out").render(request(1.0, 7.9), short_video)
    assert len(second_runs) == 1
    assert ready.duration < 2.5  # the video's duration, as for any clip: not the 6.9 s asked for
    clip, thumbnail = tmp_path / "out" / ready.video, tmp_path / "out" / ready.thumbnail
    with av.open(str(thumbnail)) as container:
        thumb = next(container.decode(video=0))
    middle = ready.duration / 2
    errors = {
        at: np.abs(gray(frame_at(clip, at), thumb.width, thumb.height) - gray(thumb)).mean()
        for at in (0.0, middle - 1.0, middle, middle + 1.0)
    }
    assert min(errors, key=errors.get) == middle


def test_vertical_blur_version_is_720x1280(rendered: tuple[Path, ClipReady]) -> None:
    out_dir, ready = rendered
    assert ready.vertical is not None
    video = decode_all(out_dir / ready.vertical, "video")
    assert (video.width, video.height) == (720, 1280)
    assert abs(video.last_end - (T1 - T0)) < 0.1


def test_vertical_crop_burns_captions_and_escapes_odd_paths(tmp_path: Path, source: Path) -> None:
    """Crop mode, in a folder whose name needs filter-graph escaping; captions must be visible."""
    words = words_of([(3.2, "姐妹们快来买")], step=0.25)
    req = request(3.0, 5.0, words)
    odd_dir = tmp_path / "it's [odd], a;b:c\\d"
    settings = RenderSettings(vertical=True, vertical_mode="crop")
    with_captions = Renderer(settings, odd_dir).render(req, source)
    plain = Renderer(replace(settings, burn_captions=False), tmp_path / "plain").render(req, source)
    assert with_captions.vertical is not None and plain.vertical is not None
    captioned_video = decode_all(odd_dir / with_captions.vertical, "video")
    assert (captioned_video.width, captioned_video.height) == (720, 1280)
    a = gray(frame_at(odd_dir / with_captions.vertical, 1.0))
    b = gray(frame_at(tmp_path / "plain" / plain.vertical, 1.0))
    band = slice(1280 - 256 - 60, 1280 - 256 + 5)  # bottom margin 20 %, 40 px font
    assert np.abs(a[band] - b[band]).mean() > 8.0
    assert np.abs(a[:800] - b[:800]).mean() < 3.0
    assert (a[band] > 235).sum() > 500


def test_rerender_replaces_the_same_files(tmp_path: Path, source: Path) -> None:
    req = request(2.0, 3.5, words_of([(2.1, "再来一次")]))
    renderer = Renderer(RenderSettings(), tmp_path)
    first = renderer.render(req, source)
    clips = tmp_path / "clips"
    names = sorted(p.name for p in clips.iterdir())
    inodes = {name: (clips / name).stat().st_ino for name in names}
    second = renderer.render(req, source)
    assert second == first
    assert sorted(p.name for p in clips.iterdir()) == names
    assert names == sorted(f"{req.clip_id}{ext}" for ext in (".mp4", ".srt", ".vtt", ".jpg"))
    assert all((clips / name).stat().st_ino != inodes[name] for name in names)


def test_source_without_audio_gets_a_silent_aac_track(tmp_path: Path) -> None:
    path = FIXTURES / "no_audio.mp4"
    if not path.exists():
        pytest.skip(f"fixture {path} is missing")
    ready = Renderer(RenderSettings(), tmp_path).render(request(1.0, 3.0), path)
    assert abs(ready.duration - 2.0) < 0.1
    with av.open(str(tmp_path / ready.video)) as container:
        assert [s.codec_context.name for s in container.streams] == ["h264", "aac"]
    assert abs(decode_all(tmp_path / ready.video, "audio").last_end - 2.0) < 0.1


def test_source_without_video_raises(tmp_path: Path, source: Path) -> None:
    audio_only = tmp_path / "audio_only.m4a"
    with av.open(str(source)) as inp, av.open(str(audio_only), "w") as out:
        stream = out.add_stream_from_template(inp.streams.audio[0])
        for packet in inp.demux(inp.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    with pytest.raises(RenderError, match="source has no video stream: .*audio_only.m4a"):
        Renderer(RenderSettings(), tmp_path / "out").render(request(1.0, 2.0), audio_only)
    assert not (tmp_path / "out" / "clips").exists()


def test_corrupt_source_raises_and_leaves_no_clip(tmp_path: Path) -> None:
    garbage = tmp_path / "x.mp4"
    garbage.write_bytes(os.urandom(64 * 1024))
    req = request(1.0, 2.0)
    with pytest.raises(RenderError, match="x.mp4"):
        Renderer(RenderSettings(), tmp_path / "out").render(req, garbage)
    assert not (tmp_path / "out" / "clips" / f"{req.clip_id}.mp4").exists()


def test_failing_ffmpeg_reports_stderr_and_cleans_up(tmp_path: Path, source: Path) -> None:
    req = request(1.0, 2.0, words_of([(1.1, "你好")]))
    with pytest.raises(RenderError, match=r"(?s)cutting the clip failed.*no-such-preset"):
        Renderer(RenderSettings(preset="no-such-preset"), tmp_path).render(req, source)
    assert list((tmp_path / "clips").iterdir()) == []


def test_failure_in_a_later_step_commits_nothing(tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Renderer, "_reframe_graph", lambda self: "[0:v]no_such_filter[base]")
    req = request(1.0, 2.0, words_of([(1.1, "你好")]))
    with pytest.raises(RenderError, match=r"(?s)vertical version failed.*no_such_filter"):
        Renderer(RenderSettings(vertical=True), tmp_path).render(req, source)
    assert list((tmp_path / "clips").iterdir()) == []


@pytest.mark.parametrize(
    ("t0", "t1", "offset", "message"),
    [
        (5.0, 5.0, 0.0, "empty clip span"),
        (5.0, 6.0, 10.0, "before the source"),
        (10_000.0, 10_001.0, 0.0, "after the end"),
    ],
)
def test_impossible_spans_raise(
    tmp_path: Path, source: Path, t0: float, t1: float, offset: float, message: str
) -> None:
    with pytest.raises(RenderError, match=message):
        Renderer(RenderSettings(), tmp_path).render(request(t0, t1), source, source_offset=offset)


def test_a_clip_from_the_streams_zero_starts_at_a_first_frame_a_few_ms_later(tmp_path: Path, source: Path) -> None:
    """Seen in bench/live.py: a publisher's copy began 0.023 s into the room's timeline and a clip
    from 0.0 failed. Up to 0.1 s early, the clip starts with the source."""
    clip = Renderer(RenderSettings(), tmp_path).render(request(0.0, 2.0), source, source_offset=0.05)
    assert (tmp_path / clip.video).exists() and clip.duration == pytest.approx(2.0, abs=0.1)
    with pytest.raises(RenderError, match="0.150s before the source"):
        Renderer(RenderSettings(), tmp_path).render(request(0.0, 2.0), source, source_offset=0.15)


def test_unsafe_clip_id_is_refused(tmp_path: Path, source: Path) -> None:
    req = replace(request(1.0, 2.0), clip_id="../escape")
    with pytest.raises(RenderError, match="not a safe file name"):
        Renderer(RenderSettings(), tmp_path).render(req, source)


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="vertical_mode"):
        RenderSettings(vertical_mode="stretch")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="vertical_size"):
        RenderSettings(vertical_size=(721, 1280))
    assert RenderSettings(vertical_size=[1080, 1920]).vertical_size == (1080, 1920)  # type: ignore[arg-type]
