"""The catalog's settings, passed in by the caller (the domain never reads config.toml itself)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog.errors import CatalogError
from catalog.imageio import DEFAULT_MAX_MEGAPIXELS

OCR_MODES = ("auto", "always", "never")


@dataclass(frozen=True)
class CatalogSettings:
    schema_dirs: tuple[str, ...] = ()
    platform_dirs: tuple[str, ...] = ()
    # platform -> values that replace the profile's (same shape as the profile file), e.g.
    # {"taobao": {"images": {"main": {"max_bytes": 2000000}}}}
    platform_overrides: dict[str, Any] = field(default_factory=dict)
    ocr: str = "auto"
    max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
    # An embedder match counts when its cosine similarity reaches this.
    embed_threshold: float = 0.6
    # 广告法 patterns (regular expressions): the shell passes [compliance] banned_claims and exceptions.
    ad_law_phrases: tuple[str, ...] = ()
    ad_law_exceptions: tuple[str, ...] = ()
    jpeg_quality: int = 90

    def __post_init__(self) -> None:
        if self.ocr not in OCR_MODES:
            raise CatalogError("catalog.ocr", f"{self.ocr!r} is not one of {', '.join(OCR_MODES)}")
        if self.max_megapixels <= 0:
            raise CatalogError("catalog.max_megapixels", "must be positive")
        if not 30 <= self.jpeg_quality <= 100:
            raise CatalogError("catalog.jpeg_quality", "must be between 30 and 100")

    @classmethod
    def from_config(cls, catalog: dict[str, Any], compliance: dict[str, Any] | None = None) -> CatalogSettings:
        """From the `[catalog]` table and the `[compliance]` table (its banned-claim lists)."""
        compliance = compliance or {}
        known = {f for f in cls.__dataclass_fields__ if not f.startswith("ad_law")}
        unknown = set(catalog) - known - {"platforms"}
        if unknown:
            raise CatalogError("catalog", f"unknown keys: {', '.join(sorted(unknown))}")
        values = {k: v for k, v in catalog.items() if k in known}
        for key in ("schema_dirs", "platform_dirs"):
            if key in values:
                values[key] = tuple(values[key])
        if "platforms" in catalog:
            values["platform_overrides"] = dict(catalog["platforms"])
        return cls(
            **values,
            ad_law_phrases=tuple(compliance.get("banned_claims", ())),
            ad_law_exceptions=tuple(compliance.get("banned_claim_exceptions", ())),
        )
