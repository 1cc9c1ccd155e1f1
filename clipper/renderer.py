"""Clip renderer: cut one clip out of a source file and write everything the operator queue needs.

For a `ClipRequest` the renderer writes, under `<out_dir>/clips/`:

- `<clip_id>.mp4`: H.264 (yuv420p) + AAC, re-encoded with exact boundaries, `+faststart`;
- `<clip_id>.srt` and `<clip_id>.vtt`: captions on the clip timeline;
- `<clip_id>.jpg`: a thumbnail from the middle of the clip;
- `<clip_id>.vertical.mp4` (when enabled): 9:16, blurred-background fill or centre crop,
  with the captions burned in by libass.

Every file is first written under a hidden temporary name in the same folder and only renamed
(`os.replace`) once all files of the clip are complete, the main `.mp4` last; a failure removes
the temporary files, so a final name never points at a half-written file. Media work runs in the
`ffmpeg` command-line tool; PyAV only probes the source and measures the written clip.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

import av

from clipper.captions import CaptionSettings, build_cues, to_srt, to_vtt
from livecut.contracts import ClipReady, ClipRequest

log = logging.getLogger(__name__)

CLIPS_DIR = "clips"
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_STDERR_LINES = 12
# One video frame as a single JPEG file.
_JPEG = ["-frames:v", "1", "-q:v", "3", "-update", "1", "-f", "image2"]


class RenderError(RuntimeError):
    """A clip could not be rendered; the message says why (with ffmpeg's last stderr lines)."""


@dataclass
class RenderSettings:
    """Encoding, reframing, caption and thumbnail options of the clip renderer."""

    crf: int = 23
    preset: str = "veryfast"
    audio_bitrate: str = "96k"
    vertical: bool = False
    vertical_mode: Literal["blur", "crop"] = "blur"
    vertical_size: tuple[int, int] = (720, 1280)
    burn_captions: bool = True
    font: str = "WenQuanYi Micro Hei"
    caption_margin: float = 0.2
    captions: CaptionSettings = field(default_factory=CaptionSettings)
    thumbnail_at: float = 0.5
    thumbnail_width: int = 360
    ffmpeg: str = "ffmpeg"
    timeout: float = 600.0

    def __post_init__(self) -> None:
        self.vertical_size = (int(self.vertical_size[0]), int(self.vertical_size[1]))
        if isinstance(self.captions, dict):
            self.captions = CaptionSettings(**self.captions)
        if self.vertical_mode not in ("blur", "crop"):
            raise ValueError(f"vertical_mode must be 'blur' or 'crop', not {self.vertical_mode!r}")
        if any(side <= 0 or side % 2 for side in self.vertical_size):
            raise ValueError(f"vertical_size must be two positive even numbers, not {self.vertical_size}")
        if not 0.0 <= self.thumbnail_at <= 1.0:
            raise ValueError(f"thumbnail_at is a fraction of the clip in [0, 1], not {self.thumbnail_at}")


@dataclass(frozen=True)
class SourceInfo:
    """What the renderer needs to know about a source file."""

    has_video: bool
    has_audio: bool
    duration: float | None


def probe_source(path: Path) -> SourceInfo:
    """Open `path` with PyAV and report its streams; unreadable files raise RenderError."""
    try:
        with av.open(str(path)) as container:
            duration = container.duration / 1e6 if container.duration else None
            return SourceInfo(bool(container.streams.video), bool(container.streams.audio), duration)
    except (av.FFmpegError, OSError) as exc:
        raise RenderError(f"cannot open source {path}: {exc}") from exc


def measure_duration(path: Path) -> float:
    """Duration in seconds of the first video stream of a written file (container duration as fallback)."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            if container.duration:
                return container.duration / 1e6
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise RenderError(f"cannot measure rendered clip {path}: {exc}") from exc
    raise RenderError(f"rendered clip {path} has no duration")


def escape_filter_value(value: str) -> str:
    """Escape a filter option value twice: for the option parser, then for the filter-graph parser."""
    option_level = re.sub(r"([\\':])", r"\\\1", value)
    return re.sub(r"([\\'\[\],;])", r"\\\1", option_level)


def caption_filter(srt: Path | None, size: tuple[int, int], font: str, margin: float, max_chars_cjk: int) -> str:
    """libass `subtitles` filter for the SRT, sized so one full CJK line fits 90% of the width."""
    if srt is None:
        return "null"
    w, h = size
    font_size = max(12, round(w * 0.9 / max_chars_cjk))
    style = ",".join(
        [
            f"PlayResX={w}",
            f"PlayResY={h}",
            f"FontName={font}",
            f"FontSize={font_size}",
            "PrimaryColour=&H00FFFFFF",
            "OutlineColour=&H00000000",
            "BorderStyle=1",
            f"Outline={max(2, font_size // 16)}",
            "Shadow=0",
            "Alignment=2",
            f"MarginL={w // 20}",
            f"MarginR={w // 20}",
            f"MarginV={round(h * margin)}",
        ]
    )
    return f"subtitles=filename={escape_filter_value(str(srt))}:force_style={escape_filter_value(style)}"


class _Staging:
    """Temporary files beside their final names, renamed into place together or removed together."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._pending: list[tuple[Path, Path]] = []

    def path(self, name: str) -> Path:
        """A fresh temporary path for the final file `name`; it keeps the extension for ffmpeg."""
        temp = self.folder / f".tmp-{uuid.uuid4().hex[:12]}-{name}"
        self._pending.append((temp, self.folder / name))
        return temp

    def commit(self) -> None:
        """Rename every temporary file to its final name, in the order they were requested."""
        for temp, final in self._pending:
            os.replace(temp, final)
        self._pending.clear()

    def __enter__(self) -> _Staging:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for temp, _ in self._pending:
            temp.unlink(missing_ok=True)
        self._pending.clear()


class Renderer:
    """Renders a `ClipRequest` from a local source file into `<out_dir>/clips/` and returns `ClipReady`."""

    def __init__(self, settings: RenderSettings, out_dir: Path) -> None:
        self.settings = settings
        self.out_dir = Path(out_dir)
        self.clips_dir = (self.out_dir / CLIPS_DIR).resolve()  # absolute: ffmpeg must not see "x:" prefixes

    def render(self, request: ClipRequest, source_path: Path, source_offset: float = 0.0) -> ClipReady:
        """Render every file of one clip; the same request always writes (and replaces) the same names.

        `source_offset` is the media-timeline time of the first instant of `source_path`, so the
        clip is cut at `request.t0 - source_offset` seconds into the file.
        """
        _check_clip_id(request.clip_id)
        source_path = Path(source_path).resolve()
        info = probe_source(source_path)
        start = _clip_start(request, info, source_path, source_offset)
        self.clips_dir.mkdir(parents=True, exist_ok=True)
        cues = build_cues(request.words, request.t0, request.t1, self.settings.captions)
        names = _file_names(request.clip_id, self.settings.vertical)
        with _Staging(self.clips_dir) as stage:
            temps = {kind: stage.path(name) for kind, name in names.items()}
            temps["srt"].write_text(to_srt(cues), encoding="utf-8")
            temps["vtt"].write_text(to_vtt(cues), encoding="utf-8")
            self._cut(source_path, info, start, request.duration, temps["video"], temps["thumbnail"])
            duration = measure_duration(temps["video"])
            if not _written(temps["thumbnail"]):
                # The video ended before the thumbnail time (it stopped before the requested end).
                self._thumbnail(temps["video"], duration, temps["thumbnail"])
            if self.settings.vertical:
                srt = temps["srt"] if cues and self.settings.burn_captions else None
                self._vertical(source_path, info, start, request.duration, srt, temps["vertical"])
            stage.commit()
        log.info("rendered clip %s (%.2fs) from %s", request.clip_id, duration, source_path)
        return self._ready(request, names, duration)

    def _ready(self, request: ClipRequest, names: dict[str, str], duration: float) -> ClipReady:
        rel = {kind: f"{CLIPS_DIR}/{name}" for kind, name in names.items()}
        return ClipReady(
            clip_id=request.clip_id,
            room=request.room,
            source=request.source,
            t0=request.t0,
            t1=request.t1,
            label=request.label,
            sublabel=request.sublabel,
            text=request.text,
            video=rel["video"],
            captions=rel["srt"],
            captions_vtt=rel["vtt"],
            thumbnail=rel["thumbnail"],
            duration=duration,
            vertical=rel.get("vertical"),
            confidence=request.confidence,
            needs_review=request.needs_review,
            time_bound=request.time_bound,
            banned_claims=list(request.banned_claims),
            sublabels=list(request.sublabels),
            product=request.product,
        )

    def _inputs(self, source: Path, info: SourceInfo, start: float) -> list[str]:
        """Input arguments: accurate fast seek before `-i`, plus silence when the source has no audio."""
        args = ["-ss", f"{start:.6f}", "-i", str(source)]
        if not info.has_audio:
            args += ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo"]
        return args

    def _encoding(self, duration: float, audio: str) -> list[str]:
        s = self.settings
        return [
            "-map", audio, "-t", f"{duration:.6f}",
            "-c:v", "libx264", "-preset", s.preset, "-crf", str(s.crf), "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", s.audio_bitrate,
            "-sn", "-dn", "-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4",
        ]  # fmt: skip

    def _cut(self, source: Path, info: SourceInfo, start: float, duration: float, out: Path, thumbnail: Path) -> None:
        """Encode the clip and write its thumbnail in one run: a second run would start ffmpeg and decode again.

        The thumbnail branch passes one frame at most; none when the video ends before the thumbnail time.
        """
        audio = "0:a:0" if info.has_audio else "1:a:0"
        graph = (
            "[0:v:0]scale=trunc(iw/2)*2:trunc(ih/2)*2,setsar=1,split[clip][still];"
            f"[still]{self._thumbnail_filter(duration)}[thumbnail]"
        )
        video = ["-filter_complex", graph, "-map", "[clip]"]
        still = ["-map", "[thumbnail]", *_JPEG, str(thumbnail)]
        args = [*self._inputs(source, info, start), *video, *self._encoding(duration, audio), str(out), *still]
        self._run(args, "cutting the clip")

    def _thumbnail_filter(self, duration: float) -> str:
        """The first frame at the thumbnail time, scaled; `trim` ends the branch with the clip, not the input."""
        at = self._thumbnail_time(duration)
        pick = f"select='gte(t,{at:.6f})*isnan(prev_selected_t)'"
        return f"trim=end={duration:.6f},{pick},scale={self.settings.thumbnail_width}:-2"

    def _thumbnail_time(self, duration: float) -> float:
        return max(0.0, min(duration * self.settings.thumbnail_at, duration - 0.1))

    def _vertical(
        self, source: Path, info: SourceInfo, start: float, duration: float, srt: Path | None, out: Path
    ) -> None:
        audio = "0:a:0" if info.has_audio else "1:a:0"
        graph = f"{self._reframe_graph()};[base]{self._caption_filter(srt)}[v]"
        video = ["-filter_complex", graph, "-map", "[v]"]
        args = [*self._inputs(source, info, start), *video, *self._encoding(duration, audio), str(out)]
        self._run(args, "rendering the vertical version")

    def _reframe_graph(self) -> str:
        """Filter graph from `[0:v]` to a `[base]` of exactly `vertical_size`."""
        w, h = self.settings.vertical_size
        if self.settings.vertical_mode == "crop":
            return f"[0:v]scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1[base]"
        sw, sh = max(2, w // 8 * 2), max(2, h // 8 * 2)
        return (
            "[0:v]split=2[bg][fg];"
            f"[bg]scale={sw}:{sh}:force_original_aspect_ratio=increase,crop={sw}:{sh},"
            f"boxblur=8:2,scale={w}:{h},setsar=1[blurred];"
            f"[fg]scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1[fit];"
            "[blurred][fit]overlay=(W-w)/2:(H-h)/2[base]"
        )

    def _caption_filter(self, srt: Path | None) -> str:
        s = self.settings
        return caption_filter(srt, s.vertical_size, s.font, s.caption_margin, s.captions.max_chars_cjk)

    def _thumbnail(self, clip: Path, duration: float, out: Path) -> None:
        """The thumbnail from the written clip, for a clip whose video ended before the thumbnail time."""
        at = self._thumbnail_time(duration)
        scale = f"scale={self.settings.thumbnail_width}:-2"
        args = ["-ss", f"{at:.6f}", "-i", str(clip), "-vf", scale]
        self._run([*args, *_JPEG, str(out)], "writing the thumbnail")
        if not _written(out):
            raise RenderError(f"writing the thumbnail: no frame at {at:.2f}s of {clip}")

    def _run(self, args: list[str], what: str) -> None:
        """Run ffmpeg; a non-zero exit raises RenderError with the last lines of its stderr."""
        cmd = [self.settings.ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args]
        log.debug("ffmpeg: %s", cmd)
        try:
            proc = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=self.settings.timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise RenderError(f"{what}: ffmpeg binary not found: {self.settings.ffmpeg!r}") from exc
        except subprocess.TimeoutExpired as exc:
            raise RenderError(f"{what}: ffmpeg ran longer than {self.settings.timeout:.0f}s") from exc
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-_STDERR_LINES:])
            raise RenderError(f"{what} failed (ffmpeg exit code {proc.returncode}):\n{tail}")


def _check_clip_id(clip_id: str) -> None:
    if not _SAFE_ID.fullmatch(clip_id) or ".." in clip_id:
        raise RenderError(f"clip id {clip_id!r} is not a safe file name")


# A stream's first fragment can begin a few milliseconds after its timeline's zero (a publisher's
# stream copy starts on a keyframe, an encoder primes its audio): a clip asked from 0 starts at the
# source's first frame. The span's own check allows as much (stream.span.GAP_TOLERANCE_S).
START_TOLERANCE_S = 0.1


def _clip_start(request: ClipRequest, info: SourceInfo, source: Path, source_offset: float) -> float:
    """Seek position in the file; raises RenderError for spans that cannot yield a clip."""
    if not info.has_video:
        raise RenderError(f"source has no video stream: {source}")
    if request.t1 <= request.t0:
        raise RenderError(f"empty clip span [{request.t0:.3f}, {request.t1:.3f}] for {request.clip_id}")
    start = request.t0 - source_offset
    if -START_TOLERANCE_S <= start < 0:
        start = 0.0
    if start < 0:
        raise RenderError(f"clip starts {-start:.3f}s before the source {source} begins")
    if info.duration is not None and start >= info.duration:
        raise RenderError(f"clip starts at {start:.3f}s, after the end of {source} ({info.duration:.3f}s)")
    return start


def _written(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def _file_names(clip_id: str, vertical: bool) -> dict[str, str]:
    """Final file names, in commit order: the main video comes last, so it appears only when all is done."""
    names = {
        "srt": f"{clip_id}.srt",
        "vtt": f"{clip_id}.vtt",
        "thumbnail": f"{clip_id}.jpg",
    }
    if vertical:
        names["vertical"] = f"{clip_id}.vertical.mp4"
    names["video"] = f"{clip_id}.mp4"
    return names
