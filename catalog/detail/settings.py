"""Detail-page settings, passed in by the caller (the domain never reads config.toml itself)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog.errors import CatalogError


@dataclass(frozen=True)
class LlmSettings:
    """An OpenAI-compatible chat endpoint (DeepSeek, vLLM, Ollama) that writes one text slot at a time."""

    enabled: bool = False
    base_url: str = ""  # up to /v1, e.g. "http://127.0.0.1:11434/v1"
    model: str = ""
    api_key_env: str = ""  # the NAME of the environment variable holding the key ("" sends none)
    timeout_s: float = 8.0
    max_tokens: int = 120
    temperature: float = 0.3

    def __post_init__(self) -> None:
        if self.enabled and (not self.base_url.startswith(("http://", "https://")) or not self.model):
            raise CatalogError("detail.llm", "an enabled LLM needs base_url (http:// or https://) and model")
        if self.timeout_s <= 0:
            raise CatalogError("detail.llm.timeout_s", "must be positive")


@dataclass(frozen=True)
class DetailSettings:
    template_dirs: tuple[str, ...] = ()  # brand template folders (or folders of them)
    template_set: str = ""  # "" picks the set whose [set] brand is the product's brand, else "default"
    schema_dirs: tuple[str, ...] = ()
    llm: LlmSettings = field(default_factory=LlmSettings)
    # 广告法 patterns: the shell passes [compliance] banned_claims and banned_claim_exceptions.
    ad_law_phrases: tuple[str, ...] = ()
    ad_law_exceptions: tuple[str, ...] = ()
    jpeg_quality: int = 90
    preview_width: int = 375
    max_megapixels: float = 60.0

    def __post_init__(self) -> None:
        if not 40 <= self.jpeg_quality <= 100:
            raise CatalogError("detail.jpeg_quality", "must be between 40 and 100")
        if self.preview_width < 100:
            raise CatalogError("detail.preview_width", "must be at least 100 pixels")

    @classmethod
    def from_config(
        cls, detail: dict[str, Any], compliance: dict[str, Any] | None = None, catalog: dict[str, Any] | None = None
    ) -> DetailSettings:
        """From `[catalog.detail]` (with `[catalog.detail.llm]`), `[compliance]` and `[catalog]` (schema_dirs)."""
        known = {"template_dirs", "template_set", "llm", "jpeg_quality", "preview_width", "max_megapixels"}
        unknown = set(detail) - known
        if unknown:
            raise CatalogError("catalog.detail", f"unknown keys: {', '.join(sorted(unknown))}")
        llm = dict(detail.get("llm", {}))
        llm_known = set(LlmSettings.__dataclass_fields__)
        if set(llm) - llm_known:
            raise CatalogError("catalog.detail.llm", f"unknown keys: {', '.join(sorted(set(llm) - llm_known))}")
        values = {k: v for k, v in detail.items() if k not in ("llm", "template_dirs")}
        compliance = compliance or {}
        return cls(
            template_dirs=tuple(detail.get("template_dirs", ())),
            schema_dirs=tuple((catalog or {}).get("schema_dirs", ())),
            llm=LlmSettings(**llm),
            ad_law_phrases=tuple(compliance.get("banned_claims", ())),
            ad_law_exceptions=tuple(compliance.get("banned_claim_exceptions", ())),
            **values,
        )
