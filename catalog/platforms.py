"""Platform profiles: one TOML file per platform in `catalog/platforms/` (distribution reuses `[video]`).

A profile says the title limit and how it is counted, the image slots (size, byte cap, fit), the
attribute names and value names, the required attributes per category, and which rules are
unverified (a user overrides any value through settings.platform_overrides).
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from catalog.errors import CatalogError

BUILTIN_DIR = Path(__file__).parent / "platforms"
COUNTS = ("chars", "gbk_bytes", "cjk_double", "utf16")
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\ufe0f]")


@dataclass(frozen=True)
class PlatformProfile:
    key: str
    name: str
    language: str
    data: dict[str, Any]

    @property
    def title(self) -> dict[str, Any]:
        return self.data.get("title", {})

    @property
    def images(self) -> dict[str, dict[str, Any]]:
        return self.data.get("images", {})

    @property
    def text(self) -> dict[str, Any]:
        return self.data.get("text", {})

    @property
    def video(self) -> dict[str, Any]:
        return self.data.get("video", {})

    def attribute_name(self, key: str, fallback: str) -> str:
        return self.data.get("attributes", {}).get("names", {}).get(key, fallback)

    def value_name(self, attribute: str, value: str, fallback: str) -> str:
        return self.data.get("attributes", {}).get("values", {}).get(attribute, {}).get(value, fallback)

    def required(self, category: str) -> list[str]:
        return list(self.data.get("attributes", {}).get("required", {}).get(category, ()))

    def unverified(self) -> list[str]:
        """The rule tables that no official source backs (a user should check them)."""
        tables = [
            ("title", self.title),
            ("text", self.text),
            ("attributes", self.data.get("attributes", {})),
            ("video", self.video),
        ]
        tables += [(f"images.{slot}", spec) for slot, spec in self.images.items()]
        return [name for name, table in tables if table and not table.get("verified", False)]


def count_length(text: str, method: str) -> int:
    """A title's length the platform's way. gbk_bytes: Taobao counts GBK bytes (汉字 = 2)."""
    if method == "chars":
        return len(text)
    if method == "gbk_bytes":
        return len(text.encode("gbk"))  # UnicodeEncodeError for characters GBK lacks: callers report it
    if method == "cjk_double":
        return sum(1 if ord(c) < 0x80 else 2 for c in text)
    if method == "utf16":
        return len(text.encode("utf-16-le")) // 2
    raise CatalogError("title.count", f"{method!r} is not one of {', '.join(COUNTS)}")


def has_emoji(text: str) -> bool:
    return bool(_EMOJI.search(text))


def load_platforms(
    extra_dirs: tuple[str, ...] = (), overrides: dict[str, Any] | None = None
) -> dict[str, PlatformProfile]:
    """Built-in profiles, then extra folders' (same key replaces), then the user's override values."""
    profiles = dict(_load_dirs(tuple(map(str, extra_dirs))))
    for key, change in (overrides or {}).items():
        if key not in profiles:
            raise CatalogError(f"catalog.platforms.{key}", f"unknown platform; known: {', '.join(sorted(profiles))}")
        data = _merge(copy.deepcopy(profiles[key].data), change)
        profiles[key] = _profile(f"catalog.platforms.{key}", data)
    return profiles


def select_platforms(profiles: dict[str, PlatformProfile], wanted: str | list[str]) -> list[PlatformProfile]:
    """ "all", one key or a list of keys; an unknown key is an error naming it."""
    keys = (
        sorted(profiles)
        if wanted == "all" or wanted == ["all"]
        else ([wanted] if isinstance(wanted, str) else list(wanted))
    )
    unknown = [k for k in keys if k not in profiles]
    if unknown:
        raise CatalogError("platform", f"unknown {', '.join(unknown)}; known: {', '.join(sorted(profiles))} or all")
    return [profiles[k] for k in keys]


@lru_cache(maxsize=8)
def _load_dirs(extra_dirs: tuple[str, ...]) -> tuple[tuple[str, PlatformProfile], ...]:
    profiles: dict[str, PlatformProfile] = {}
    for folder in (BUILTIN_DIR, *map(Path, extra_dirs)):
        if not folder.is_dir():
            raise CatalogError("platform_dirs", f"{folder} is not a folder")
        for path in sorted(folder.glob("*.toml")):
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise CatalogError(str(path), f"cannot read the profile: {exc}") from exc
            profile = _profile(path.name, data)
            profiles[profile.key] = profile
    return tuple(profiles.items())


def _profile(where: str, data: dict[str, Any]) -> PlatformProfile:
    platform = data.get("platform", {})
    if not platform.get("key"):
        raise CatalogError(f"{where}: platform.key", "every profile names its platform")
    title = data.get("title", {})
    if not isinstance(title.get("max"), int) or title.get("count") not in COUNTS:
        raise CatalogError(f"{where}: title", f"needs max (an integer) and count (one of {', '.join(COUNTS)})")
    for slot, spec in data.get("images", {}).items():
        if not isinstance(spec.get("width"), int) or not isinstance(spec.get("max_bytes"), int):
            raise CatalogError(f"{where}: images.{slot}", "needs width and max_bytes (integers)")
    return PlatformProfile(platform["key"], platform.get("name", platform["key"]), platform.get("language", "zh"), data)


def _merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base
