"""Each platform's video and text rules, read from `distribution/platforms/<name>.toml`.

The files hold only data, with a comment per value saying where it comes from; values marked
unverified are defaults a user overrides by passing another folder (or merged files, see the
report) to `load_rules`. Unknown tables (e.g. the catalog's listing rules) are ignored, so one
file per platform can serve both packages.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PLATFORMS_DIR = Path(__file__).parent / "platforms"
COUNTINGS = ("chars", "utf16", "gbk_bytes", "utf8_bytes")


@dataclass(frozen=True)
class VideoRules:
    containers: tuple[str, ...] = ("mp4",)
    video_codecs: tuple[str, ...] = ("h264",)
    audio_codecs: tuple[str, ...] = ("aac",)
    min_duration_s: float = 0.0
    max_duration_s: float = 0.0  # 0 = no limit
    aspect_ratios: tuple[str, ...] = ()  # "9:16" ...; empty = any
    aspect_tolerance: float = 0.02
    min_short_side: int = 0
    max_long_side: int = 0
    min_fps: float = 0.0
    max_fps: float = 0.0
    max_file_mb: float = 0.0
    faststart: bool = False  # moov before mdat, so players start before the whole file arrives


@dataclass(frozen=True)
class TextRules:
    title_max: int = 0
    title_count: str = "chars"
    caption_max: int = 0
    caption_count: str = "chars"
    max_hashtags: int = 0


@dataclass(frozen=True)
class CoverRules:
    required: bool = False
    aspect_ratios: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlatformRules:
    name: str
    protocol: str
    display: str = ""
    video: VideoRules = field(default_factory=VideoRules)
    text: TextRules = field(default_factory=TextRules)
    cover: CoverRules = field(default_factory=CoverRules)
    # Platform error code -> error kind (strings, as platforms mix numbers and names).
    error_codes: dict[str, str] = field(default_factory=dict)
    posting: dict[str, Any] = field(default_factory=dict)


def count_text(text: str, counting: str) -> int:
    """Length as the platform counts it: characters, UTF-16 units (TikTok), GBK bytes (Taobao: 汉字 = 2)."""
    if counting == "chars":
        return len(text)
    if counting == "utf16":
        return len(text.encode("utf-16-le")) // 2
    if counting == "gbk_bytes":
        return len(text.encode("gbk", errors="replace"))
    if counting == "utf8_bytes":
        return len(text.encode())
    raise ValueError(f"counting: {counting!r} is not one of {COUNTINGS}")


def _section(cls: type, data: dict[str, Any], where: str):
    known = cls.__dataclass_fields__
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return cls(**values)


def rules_from_dict(data: dict[str, Any], where: str = "rules") -> PlatformRules:
    for key in ("name", "protocol"):
        if not isinstance(data.get(key), str):
            raise ValueError(f"{where}: {key} is required")
    text = _section(TextRules, data.get("text", {}), f"{where} [text]")
    for counting in (text.title_count, text.caption_count):
        if counting not in COUNTINGS:
            raise ValueError(f"{where} [text]: counting {counting!r} is not one of {COUNTINGS}")
    codes = {}
    for kind, values in data.get("errors", {}).items():
        codes.update({str(v): kind for v in values})
    return PlatformRules(
        name=data["name"],
        protocol=data["protocol"],
        display=data.get("display", data["name"]),
        video=_section(VideoRules, data.get("video", {}), f"{where} [video]"),
        text=text,
        cover=_section(CoverRules, data.get("cover", {}), f"{where} [cover]"),
        error_codes=codes,
        posting=dict(data.get("posting", {})),
    )


def known_platforms(folder: Path = PLATFORMS_DIR) -> set[str]:
    return {p.stem for p in Path(folder).glob("*.toml")}


def load_rules(platform: str, folder: Path = PLATFORMS_DIR) -> PlatformRules:
    path = Path(folder) / f"{platform}.toml"
    if not platform.replace("_", "").isalnum() or not path.is_file():
        raise ValueError(
            f"platform: unknown platform {platform!r}; known: {', '.join(sorted(known_platforms(folder)))}"
        )
    with open(path, "rb") as handle:
        return rules_from_dict(tomllib.load(handle), where=str(path.name))
