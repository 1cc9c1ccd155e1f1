"""Each segment is normalized and encoded once: same codec, size, frame rate and time base, captions baked in.

A piece is a video-only MP4 (H.264, a keyframe every second so its per-second signature is read
from keyframes alone) and a WAV of its speech (48 kHz stereo, exactly as long as the video). Pieces
are cached by everything that shapes them, so a segment used by many variants is encoded once
and variants are joined from pieces by stream copy. The speech is sliced from each source's audio,
decoded once (SourceAudio), not cut by one ffmpeg call per piece.
"""

from __future__ import annotations

import hashlib
import json
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from clipper.captions import Cue, build_cues, to_srt
from clipper.remix.errors import RemixError
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


class SourceAudio:
    """Each source's audio decoded once to 48 kHz stereo int16, shared by all pieces cut from it (thread-safe)."""

    def __init__(self) -> None:
        self._decoded: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def samples(self, source: str) -> np.ndarray:
        """(n, 2) int16 samples of `source` from its start; decoded on first use."""
        with self._lock:
            if source not in self._decoded:
                self._decoded[source] = _decode_stereo(source)
            return self._decoded[source]


def encode_piece(segment: Segment, options: AssembleOptions, cache: Path, audio: SourceAudio | None = None) -> Piece:
    """The cached piece of `segment`, encoding it when it is not in `cache` yet."""
    piece = _planned_piece(segment, options, cache)
    meta = piece.video.with_suffix(".json")
    if not meta.exists():
        cache.mkdir(parents=True, exist_ok=True)
        _encode_video(segment, options, piece.frames, piece.cues, piece.video.with_suffix(""), piece.video)
        _encode_audio(segment, options, piece.frames, piece.audio, audio or SourceAudio())
        hashes = _keyframe_hashes(piece.video, piece.still)
        meta.write_text(json.dumps({"hashes": hashes}))
    hashes = json.loads(meta.read_text())["hashes"]
    return Piece(segment, piece.video, piece.audio, piece.still, piece.frames, piece.fps, piece.cues, hashes)


def piece_key(segment: Segment, options: AssembleOptions) -> str:
    """The cache key of `segment`'s piece: two segments with one key share one encode."""
    return _planned_piece(segment, options, Path()).video.stem


def _planned_piece(segment: Segment, options: AssembleOptions, cache: Path) -> Piece:
    """The piece's paths, frame count and cues, before (or without) encoding; hashes not read yet."""
    frames = max(1, round(segment.duration * options.fps))
    cues = build_cues(segment.words, segment.t0, segment.t0 + frames / options.fps, options.caption)
    cues = cues if options.captions else []
    base = cache / _key(segment, options, frames, cues)
    video, audio, still = (base.with_suffix(s) for s in (".mp4", ".wav", ".jpg"))
    return Piece(segment, video, audio, still, frames, options.fps, cues, [])


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


def _video_fades(options: AssembleOptions, frames: int) -> str:
    if options.transition != "fade":
        return ""
    d, end = options.fade, frames / options.fps
    return f",fade=t=in:st=0:d={d},fade=t=out:st={end - d:.4f}:d={d}"


def _encode_video(
    segment: Segment, options: AssembleOptions, frames: int, cues: list[Cue], base: Path, out: Path
) -> None:
    srt = None
    if cues:
        srt = base.with_suffix(".srt")
        srt.write_text(to_srt(cues), encoding="utf-8")
    w, h = options.size
    subtitles = caption_filter(srt, (w, h), options.font, options.caption_margin, options.caption.max_chars_cjk)
    graph = f"{_reframe(segment, options, frames)};[base]fps={options.fps},{subtitles}{_video_fades(options, frames)},format=yuv420p[v]"  # noqa: E501
    if segment.kind == "image":
        inputs = ["-loop", "1", "-framerate", str(options.fps), "-i", segment.source]
    else:
        inputs = ["-ss", f"{segment.t0:.4f}", "-i", segment.source]
    encode = ["-c:v", "libx264", "-preset", options.preset, "-crf", str(options.crf), "-g", str(options.fps),
              "-keyint_min", str(options.fps), "-sc_threshold", "0", "-bf", "0", "-video_track_timescale", str(options.fps * 512)]  # fmt: skip  # noqa: E501
    args = [*inputs, "-filter_complex", graph, "-map", "[v]", "-frames:v", str(frames), *encode, "-an", "-sn",
            "-map_metadata", "-1", str(out)]  # fmt: skip
    run_ffmpeg(args, f"encoding segment {segment.key}", options.ffmpeg)


def _encode_audio(segment: Segment, options: AssembleOptions, frames: int, out: Path, audio: SourceAudio) -> None:
    """The speech under the piece's video, sample for sample as long; silence past the source's end."""
    wanted = round(frames / options.fps * AUDIO_RATE)
    if segment.kind != "speech":
        _write_silence(out, wanted)
        return
    start = round(segment.t0 * AUDIO_RATE)
    cut = audio.samples(segment.source)[start : start + wanted]
    pcm = np.zeros((wanted, 2), dtype=np.float32)
    pcm[: len(cut)] = cut
    if options.transition == "fade":
        pcm *= _fade_gain(wanted, round(options.fade * AUDIO_RATE))[:, None]
    _write_wav(out, np.round(pcm).astype(np.int16))


def _fade_gain(samples: int, fade: int) -> np.ndarray:
    """Linear fade in over the first `fade` samples and out over the last, as ffmpeg's afade (curve tri)."""
    gain = np.ones(samples, dtype=np.float32)
    ramp = np.linspace(0.0, 1.0, min(fade, samples), endpoint=False, dtype=np.float32)
    gain[: len(ramp)] = ramp
    gain[samples - len(ramp) :] *= ramp[::-1]
    return gain


def _decode_stereo(source: str) -> np.ndarray:
    try:
        with av.open(source) as container:
            if not container.streams.audio:
                raise RemixError(f"speech segment of {source}: the file has no audio stream")
            resampler = av.AudioResampler(format="s16", layout="stereo", rate=AUDIO_RATE)
            chunks = []
            for frame in container.decode(container.streams.audio[0]):
                chunks.extend(out.to_ndarray().reshape(-1, 2) for out in resampler.resample(frame))
            chunks.extend(out.to_ndarray().reshape(-1, 2) for out in resampler.resample(None))
    except (av.FFmpegError, OSError) as exc:
        raise RemixError(f"cannot decode the audio of {source}: {exc}") from exc
    return np.concatenate(chunks) if chunks else np.zeros((0, 2), dtype=np.int16)


def _write_silence(out: Path, samples: int) -> None:
    _write_wav(out, np.zeros((samples, 2), dtype=np.int16))


def _write_wav(out: Path, pcm: np.ndarray) -> None:
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(AUDIO_RATE)
        wav.writeframes(np.ascontiguousarray(pcm, dtype="<i2").tobytes())


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
