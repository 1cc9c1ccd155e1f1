"""The check every post passes before it is sent: the file and its text against the platform's rules.

A violation names the field and says whether a conforming re-render can fix it (codec, container,
faststart, aspect by padding, too many frames per second, too large a frame). Text is never fixed:
a title that is too long is an error for a person, never cut silently.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from distribution.rules import PlatformRules, count_text

MP4_FAMILY = {"mp4", "mov", "m4a", "3gp", "3g2", "mj2"}


@dataclass(frozen=True)
class Caption:
    title: str
    description: str = ""
    tags: tuple[str, ...] = ()

    def hashtags(self) -> list[str]:
        inline = [w for w in f"{self.title} {self.description}".split() if w.startswith("#") and len(w) > 1]
        return list(dict.fromkeys([*(t.lstrip("#") for t in self.tags), *(w[1:] for w in inline)]))


@dataclass(frozen=True)
class Violation:
    field: str
    message: str
    fixable: bool = False  # a conforming re-render fixes it


@dataclass(frozen=True)
class VideoProbe:
    containers: tuple[str, ...]
    duration_s: float
    video_codec: str | None
    audio_codec: str | None
    width: int
    height: int
    fps: float
    size_bytes: int
    moov_first: bool


def probe(path: Path) -> VideoProbe:
    """What the file is, read with PyAV; ValueError when it is not a readable video."""
    path = Path(path)
    try:
        with av.open(str(path)) as container:
            video = next(iter(container.streams.video), None)
            audio = next(iter(container.streams.audio), None)
            duration = container.duration / 1_000_000 if container.duration else 0.0
            if video is None:
                raise ValueError(f"video: {path.name} has no video stream")
            rate = video.average_rate or video.guessed_rate or Fraction(0)
            return VideoProbe(
                containers=tuple(container.format.name.split(",")),
                duration_s=float(duration),
                video_codec=video.codec_context.name,
                audio_codec=audio.codec_context.name if audio else None,
                width=video.codec_context.width,
                height=video.codec_context.height,
                fps=float(rate),
                size_bytes=path.stat().st_size,
                moov_first=_moov_first(path),
            )
    except av.error.FFmpegError as exc:
        raise ValueError(f"video: {path.name} cannot be read: {exc}") from None


def _moov_first(path: Path) -> bool:
    """True when an MP4's moov box comes before its mdat (faststart); False for other files."""
    with open(path, "rb") as handle:
        while True:
            head = handle.read(8)
            if len(head) < 8:
                return False
            size, kind = int.from_bytes(head[:4], "big"), head[4:8]
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            if size == 1:
                size = int.from_bytes(handle.read(8), "big") - 8
            elif size == 0:
                return False
            handle.seek(size - 8, 1)


def _ratio(text: str) -> float:
    w, h = text.split(":")
    return int(w) / int(h)


def check_video(info: VideoProbe, rules: PlatformRules) -> list[Violation]:
    v = rules.video
    found: list[Violation] = []
    if v.containers and not set(info.containers) & set(v.containers):
        found.append(Violation("video.container", f"{'/'.join(info.containers)} is not one of {v.containers}", True))
    if v.video_codecs and info.video_codec not in v.video_codecs:
        found.append(Violation("video.codec", f"{info.video_codec} is not one of {v.video_codecs}", True))
    if info.audio_codec and v.audio_codecs and info.audio_codec not in v.audio_codecs:
        found.append(Violation("video.audio_codec", f"{info.audio_codec} is not one of {v.audio_codecs}", True))
    if v.min_duration_s and info.duration_s < v.min_duration_s:
        found.append(Violation("video.duration", f"{info.duration_s:.1f} s is shorter than {v.min_duration_s} s"))
    if v.max_duration_s and info.duration_s > v.max_duration_s:
        found.append(Violation("video.duration", f"{info.duration_s:.1f} s is longer than {v.max_duration_s} s"))
    if v.aspect_ratios and info.height:
        actual = info.width / info.height
        if not any(abs(actual / _ratio(a) - 1) <= v.aspect_tolerance for a in v.aspect_ratios):
            found.append(Violation("video.aspect", f"{info.width}x{info.height} is not one of {v.aspect_ratios}", True))
    if v.min_short_side and min(info.width, info.height) < v.min_short_side:
        found.append(
            Violation("video.resolution", f"{info.width}x{info.height}: short side below {v.min_short_side} px")
        )
    if v.max_long_side and max(info.width, info.height) > v.max_long_side:
        found.append(
            Violation("video.resolution", f"{info.width}x{info.height}: long side above {v.max_long_side} px", True)
        )
    if v.min_fps and info.fps and info.fps < v.min_fps - 0.01:
        found.append(Violation("video.fps", f"{info.fps:.2f} fps is below {v.min_fps}"))
    if v.max_fps and info.fps > v.max_fps + 0.01:
        found.append(Violation("video.fps", f"{info.fps:.2f} fps is above {v.max_fps}", True))
    if v.max_file_mb and info.size_bytes > v.max_file_mb * 1024 * 1024:
        found.append(Violation("video.size", f"{info.size_bytes / 2**20:.1f} MB is over {v.max_file_mb} MB"))
    if v.faststart and set(info.containers) & MP4_FAMILY and not info.moov_first:
        found.append(Violation("video.faststart", "moov box is after the media data", True))
    return found


def check_text(caption: Caption, rules: PlatformRules) -> list[Violation]:
    t = rules.text
    found: list[Violation] = []
    if not caption.title.strip():
        found.append(Violation("caption.title", "title is empty"))
    title_len = count_text(caption.title, t.title_count)
    if t.title_max and title_len > t.title_max:
        found.append(Violation("caption.title", f"{title_len} {t.title_count} is over {t.title_max}; shorten it"))
    caption_len = count_text(caption.description, t.caption_count)
    if t.caption_max and caption_len > t.caption_max:
        found.append(
            Violation("caption.description", f"{caption_len} {t.caption_count} is over {t.caption_max}; shorten it")
        )
    tags = caption.hashtags()
    if t.max_hashtags and len(tags) > t.max_hashtags:
        found.append(Violation("caption.tags", f"{len(tags)} hashtags, at most {t.max_hashtags}"))
    return found


def preflight(video_path: Path, caption: Caption, rules: PlatformRules, cover: Path | None = None) -> list[Violation]:
    """Every rule the post breaks; [] means it may be sent as it is."""
    try:
        found = check_video(probe(video_path), rules)
    except (ValueError, OSError) as exc:
        found = [Violation("video", str(exc))]
    if rules.cover.required and cover is None:
        found.append(Violation("cover", "the platform needs a cover image", True))
    return found + check_text(caption, rules)


def _target_size(width: int, height: int, rules: PlatformRules) -> tuple[int, int]:
    """The frame after padding to 9:16 when the aspect is not allowed, scaled under the long-side limit."""
    allowed = rules.video.aspect_ratios
    w, h = width, height
    if allowed and not any(abs((w / h) / _ratio(a) - 1) <= rules.video.aspect_tolerance for a in allowed):
        if w / h > 9 / 16:
            h = round(w * 16 / 9)
        else:
            w = round(h * 9 / 16)
    limit = rules.video.max_long_side
    if limit and max(w, h) > limit:
        scale = limit / max(w, h)
        w, h = w * scale, h * scale
    return int(w) // 2 * 2, int(h) // 2 * 2


def conform(video_path: Path, rules: PlatformRules, out_path: Path, timeout_s: float = 600.0) -> Path:
    """Re-render to H.264/AAC MP4 with faststart, padded to 9:16 where the aspect is not allowed.

    Only for fixable violations: content is never cut, sped up or cropped.
    """
    info = probe(video_path)
    width, height = _target_size(info.width, info.height, rules)
    filters = [
        f"scale={width}:{height}:force_original_aspect_ratio=decrease",
        f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:black",
        "setsar=1",
    ]
    if rules.video.max_fps and info.fps > rules.video.max_fps:
        filters.append(f"fps={rules.video.max_fps:g}")
    command = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(video_path), "-vf", ",".join(filters)]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
    command += ["-c:a", "aac", "-b:a", "128k"] if info.audio_codec else ["-an"]
    out_path = Path(out_path)
    staged = out_path.with_name(out_path.stem + ".part.mp4")
    command += ["-movflags", "+faststart", str(staged)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise ValueError(f"video: re-render failed: {done.stderr.strip()[-300:]}")
    staged.replace(out_path)
    return out_path
