"""Assembly options, and the presets that bundle them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from clipper.captions import CaptionSettings
from clipper.remix.errors import RemixError

ASPECTS = {"9:16": (9, 16), "3:4": (3, 4), "1:1": (1, 1)}


@dataclass(frozen=True)
class AssembleOptions:
    aspect: str = "9:16"
    width: int = 720  # the short side; 9:16 at 720 is 720x1280
    fps: int = 30
    reframe: Literal["auto", "crop", "blur"] = "auto"  # auto: crop on a detected face, blurred fill otherwise
    captions: bool = True
    caption: CaptionSettings = field(default_factory=CaptionSettings)
    caption_margin: float = 0.18
    font: str = "WenQuanYi Micro Hei"
    font_file: str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
    transition: Literal["cut", "fade"] = "cut"  # fade: 0.15 s through black at each join, baked into the pieces
    fade: float = 0.15
    music: str | None = None  # a folder of audio files
    music_level: float = -16.0  # dB under speech before ducking
    loudness: float = -14.0  # LUFS target of the mix (EBU R128 integrated)
    true_peak: float = -1.5  # dBTP the limiter keeps to
    crf: int = 23
    preset: str = "veryfast"
    audio_bitrate: str = "128k"
    cover: bool = True
    ffmpeg: str = "ffmpeg"
    jobs: int = 0  # ffmpeg encodes at a time; 0: one per CPU core

    def __post_init__(self) -> None:
        if self.aspect not in ASPECTS:
            raise RemixError(f"aspect must be one of {', '.join(ASPECTS)}, not {self.aspect!r}")
        if self.reframe not in ("auto", "crop", "blur"):
            raise RemixError(f"reframe must be auto, crop or blur, not {self.reframe!r}")
        if self.transition not in ("cut", "fade"):
            raise RemixError(f"transition must be cut or fade, not {self.transition!r}")
        if self.width < 64 or self.fps < 1:
            raise RemixError(f"width ({self.width}) and fps ({self.fps}) are too small")
        if self.jobs < 0:
            raise RemixError(f"jobs must be 0 (one per CPU core) or more, not {self.jobs}")

    @property
    def workers(self) -> int:
        """How many encodes run at once: `jobs`, or the CPU cores this process may use."""
        return self.jobs or len(os.sched_getaffinity(0))

    @property
    def size(self) -> tuple[int, int]:
        across, down = ASPECTS[self.aspect]
        return (self.width, round(self.width * down / across / 2) * 2)


# Taobao 微详情 (micro-detail): 3:4 or 9:16, 10-60 s, product images welcome.
MICRO_DETAIL = {"aspect": "3:4", "duration": (10.0, 60.0)}
