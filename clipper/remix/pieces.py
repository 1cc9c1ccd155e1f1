"""Each segment is normalized and encoded once: same codec, size, frame rate and time base, captions baked in.

A piece is a video-only MP4 (H.264, a keyframe every second so its per-second signature is read
from keyframes alone) and a WAV of its speech (48 kHz stereo, exactly as long as the video). Pieces
are cached by everything that shapes them, so a segment used by many variants is encoded once
and variants are joined from pieces by stream copy.
"""

from __future__ import annotations

import hashlib
import json
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from clipper.captions import Cue, build_cues, to_srt
from clipper.remix.ffmpeg import run_ffmpeg
from clipper.remix.footage import Segment
from clipper.remix.settings import AssembleOptions
from clipper.remix.signature import frame_hash
from clipper.renderer import caption_filter

AUDIO_RATE = 48_000


@dataclass(frozen=True)
class Piece:
    segment: Segment
    video: Path
    audio: Path
    still: Path  # its first frame, for the cover
    frames: int
    fps: int
    cues: list[Cue]
    hashes: list[str]

    @property
    def duration(self) -> float:
        return self.frames / self.fps


def encode_piece(segment: Segment, options: AssembleOptions, cache: Path) -> Piece:
    """The cached piece of `segment`, encoding it when it is not in `cache` yet."""
    frames = max(1, round(segment.duration * options.fps))
    cues = build_cues(segment.words, segment.t0, segment.t0 + frames / options.fps, options.caption)
    cues = cues if options.captions else []
    key = _key(segment, options, frames, cues)
    base = cache / key
    video, audio, still, meta = (base.with_suffix(s) for s in (".mp4", ".wav", ".jpg", ".json"))
    if not meta.exists():
        cache.mkdir(parents=True, exist_ok=True)
        _encode_video(segment, options, frames, cues, base, video)
        _encode_audio(segment, options, frames, audio)
        hashes = _keyframe_hashes(video, still)
        meta.write_text(json.dumps({"hashes": hashes}))
    hashes = json.loads(meta.read_text())["hashes"]
    return Piece(segment, video, audio, still, frames, options.fps, cues, hashes)


def _key(segment: Segment, options: AssembleOptions, frames: int, cues: list[Cue]) -> str:
    shape = [segment.key, segment.kind, frames, options.size, options.fps, _reframe_mode(segment, options),
             segment.box, options.crf, options.preset, options.transition, options.fade, options.font,
             options.caption_margin, [(c.t0, c.t1, c.text) for c in cues]]  # fmt: skip
    return hashlib.sha256(repr(shape).encode()).hexdigest()[:20]


def _reframe_mode(segment: Segment, options: AssembleOptions) -> str:
    if segment.kind == "image":
        return "kenburns"
    if options.reframe == "auto":
        return "crop" if segment.box is not None and segment.box.kind == "face" else "blur"
    return "crop" if options.reframe == "crop" and segment.box is not None else options.reframe


def _reframe(segment: Segment, options: AssembleOptions, frames: int) -> str:
    """Filter graph from [0:v] to [base] of exactly the output size."""
    w, h = options.size
    mode = _reframe_mode(segment, options)
    if mode == "crop":
        return f"[0:v]{_crop_on_box(segment, w, h)},scale={w}:{h},setsar=1[base]"
    blur = _blur_fill(w, h)
    if mode == "kenburns":
        zoom = f"zoompan=z='1+0.15*on/{frames}':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s={w}x{h}:fps={options.fps}"
        return f"[0:v]scale={w}:{h}:force_original_aspect_ratio=decrease,setsar=1,split=2[bg][fg];{blur}[fill];[fill]{zoom}[base]"  # noqa: E501
    return f"[0:v]split=2[bg][fg];{blur}[base]"


def _blur_fill(w: int, h: int) -> str:
    sw, sh = max(2, w // 8 * 2), max(2, h // 8 * 2)
    return (
        f"[bg]scale={sw}:{sh}:force_original_aspect_ratio=increase,crop={sw}:{sh},boxblur=8:2,scale={w}:{h},setsar=1[blurred];"
        f"[fg]scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1[fit];"
        "[blurred][fit]overlay=(W-w)/2:(H-h)/2"
    )


def _crop_on_box(segment: Segment, w: int, h: int) -> str:
    """The largest crop of the output's aspect, centred on the box as far as the frame allows."""
    cx, cy = segment.box.centre if segment.box else (0.0, 0.0)
    return (
        f"crop='min(iw,ih*{w}/{h})':'min(ih,iw*{h}/{w})':"
        f"'max(0,min(iw-min(iw,ih*{w}/{h}),{cx:.1f}-min(iw,ih*{w}/{h})/2))':"
        f"'max(0,min(ih-min(ih,iw*{h}/{w}),{cy:.1f}-min(ih,iw*{h}/{w})/2))'"
    )


def _fades(options: AssembleOptions, frames: int, kind: str) -> str:
    if options.transition != "fade":
        return ""
    d, end = options.fade, frames / options.fps
    if kind == "video":
        return f",fade=t=in:st=0:d={d},fade=t=out:st={end - d:.4f}:d={d}"
    return f",afade=t=in:st=0:d={d},afade=t=out:st={end - d:.4f}:d={d}"


def _encode_video(
    segment: Segment, options: AssembleOptions, frames: int, cues: list[Cue], base: Path, out: Path
) -> None:
    srt = None
    if cues:
        srt = base.with_suffix(".srt")
        srt.write_text(to_srt(cues), encoding="utf-8")
    w, h = options.size
    subtitles = caption_filter(srt, (w, h), options.font, options.caption_margin, options.caption.max_chars_cjk)
    graph = f"{_reframe(segment, options, frames)};[base]fps={options.fps},{subtitles}{_fades(options, frames, 'video')},format=yuv420p[v]"  # noqa: E501
    if segment.kind == "image":
        inputs = ["-loop", "1", "-framerate", str(options.fps), "-i", segment.source]
    else:
        inputs = ["-ss", f"{segment.t0:.4f}", "-i", segment.source]
    encode = ["-c:v", "libx264", "-preset", options.preset, "-crf", str(options.crf), "-g", str(options.fps),
              "-keyint_min", str(options.fps), "-sc_threshold", "0", "-bf", "0", "-video_track_timescale", str(options.fps * 512)]  # fmt: skip  # noqa: E501
    args = [*inputs, "-filter_complex", graph, "-map", "[v]", "-frames:v", str(frames), *encode, "-an", "-sn",
            "-map_metadata", "-1", str(out)]  # fmt: skip
    run_ffmpeg(args, f"encoding segment {segment.key}", options.ffmpeg)


def _encode_audio(segment: Segment, options: AssembleOptions, frames: int, out: Path) -> None:
    seconds = frames / options.fps
    if segment.kind != "speech":
        _write_silence(out, round(seconds * AUDIO_RATE))
        return
    chain = f"aresample={AUDIO_RATE},aformat=channel_layouts=stereo,apad{_fades(options, frames, 'audio')}"
    args = ["-ss", f"{segment.t0:.4f}", "-i", segment.source, "-map", "0:a:0", "-af", chain, "-t", f"{seconds:.6f}",
            "-c:a", "pcm_s16le", str(out)]  # fmt: skip
    run_ffmpeg(args, f"cutting the speech of {segment.key}", options.ffmpeg)


def _write_silence(out: Path, samples: int) -> None:
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(AUDIO_RATE)
        wav.writeframes(np.zeros(samples * 2, dtype=np.int16).tobytes())


def _keyframe_hashes(video: Path, still: Path) -> list[str]:
    """PDQ hash of each keyframe (one a second); the first one is also saved as the piece's still."""
    hashes = []
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        for frame in container.decode(stream):
            if not hashes:
                frame.to_image().save(still, quality=90)
            rgb = frame.reformat(width=256, height=max(2, round(256 * frame.height / frame.width)), format="rgb24")
            hashes.append(frame_hash(rgb.to_ndarray()))
    return hashes
