"""Shot boundaries with scenedetect's ContentDetector on its PyAV backend.

The default threshold (27) misses soft cuts (DESIGN.md, measured traps), so the default here is
lower; `min_shot` keeps flashes and fades from splitting a shot into slivers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scenedetect import ContentDetector, SceneManager
from scenedetect.backends.pyav import VideoStreamAv


@dataclass(frozen=True)
class ShotSettings:
    threshold: float = 18.0
    min_shot: float = 0.8  # seconds
    downscale: int = 2


def detect_shots(path: Path, duration: float, fps: float, settings: ShotSettings) -> list[tuple[float, float]]:
    """Shots as (t0, t1) seconds covering [0, duration]; one shot when no cut is found."""
    video = VideoStreamAv(str(path), suppress_output=True)
    manager = SceneManager()
    manager.auto_downscale = False
    manager.downscale = max(1, settings.downscale)
    min_frames = max(1, round(settings.min_shot * fps))
    manager.add_detector(ContentDetector(threshold=settings.threshold, min_scene_len=min_frames))
    manager.detect_scenes(video=video)
    cuts = sorted({round(start.seconds, 3) for start, _end in manager.get_scene_list()[1:]})
    bounds = [0.0, *[c for c in cuts if 0.0 < c < duration], duration]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
