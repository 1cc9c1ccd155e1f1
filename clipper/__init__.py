"""Clip renderer (cut, 9:16 reframe, captions, thumbnail) of livecut."""

from clipper.captions import CaptionSettings, Cue, build_cues, to_srt, to_vtt
from clipper.renderer import Renderer, RenderError, RenderSettings

__all__ = [
    "CaptionSettings",
    "Cue",
    "RenderError",
    "RenderSettings",
    "Renderer",
    "build_cues",
    "to_srt",
    "to_vtt",
]
