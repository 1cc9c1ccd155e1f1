"""What the shell hands the catalog: its settings from `[catalog]` and `[compliance]`, and the sentence embedder.

Both are built on first use, so a process that never extracts a product (the API serving clips)
loads neither the catalog's image code nor the embedder's weights. Importing this module loads
nothing of either.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livecut.config import ConfigError, expand_path

if TYPE_CHECKING:  # the catalog package loads OpenCV: only a type here
    import numpy as np

    from catalog import CatalogSettings
    from catalog.detail import DetailSettings


IMAGE_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "BMP": "bmp"}
PRODUCT_FIELDS: tuple[str, ...] = ("sku", "title", "category", "brand", "price", "images", "aliases")
PRODUCT_FIELDS += ("description", "titles", "attributes")
# One encoder per embedder and thread count, shared by every CatalogTools of the process.
_ENCODERS: dict[tuple[str, int], Any] = {}
_ENCODERS_LOCK = threading.Lock()


def product_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The metadata store's fields of a product (a catalog.Product's dict, a PRODUCT.json object)."""
    return {key: data[key] for key in PRODUCT_FIELDS if key in data}


def image_extension(path: Path, field: str, max_megapixels: float) -> str:
    """The image's file extension by its real format; catalog.CatalogError naming `field` when it is unreadable,
    unsupported or over max_megapixels (only the header is read: the catalog's decompression-bomb guard)."""
    from catalog.imageio import open_checked

    with open_checked(path, field, max_megapixels) as image:
        return IMAGE_EXTENSIONS[str(image.format)]


def catalog_settings(config: dict[str, Any]) -> CatalogSettings:
    """CatalogSettings from the `[catalog]` table and the banned-claim lists of `[compliance]`."""
    from catalog import CatalogError, CatalogSettings

    table = {key: value for key, value in config["catalog"].items() if key != "detail"}
    for key in ("schema_dirs", "platform_dirs"):
        table[key] = [str(expand_path(folder)) for folder in table.get(key, [])]
    try:
        return CatalogSettings.from_config(table, config["compliance"])
    except (CatalogError, TypeError) as exc:
        raise ConfigError(f"[catalog]: {exc}") from exc


def detail_settings(config: dict[str, Any]) -> DetailSettings:
    """catalog.detail.DetailSettings from `[catalog.detail]` (with its `llm` table), `[compliance]` and `[catalog]`."""
    from catalog import CatalogError
    from catalog.detail import DetailSettings

    detail = dict(config["catalog"].get("detail", {}))
    detail["template_dirs"] = [str(expand_path(folder)) for folder in detail.get("template_dirs", [])]
    catalog = {"schema_dirs": [str(expand_path(folder)) for folder in config["catalog"].get("schema_dirs", [])]}
    try:
        return DetailSettings.from_config(detail, config["compliance"], catalog)
    except (CatalogError, TypeError) as exc:
        raise ConfigError(f"[catalog.detail]: {exc}") from exc


class CatalogTools:
    """The catalog's settings and the project's sentence embedder (`classifier.embedder`), loaded once, when asked.

    `use_embedder=False` leaves the embedder out: extraction then uses synonyms and rules only.
    """

    def __init__(self, config: dict[str, Any], use_embedder: bool = True) -> None:
        self.config = config
        self.use_embedder = use_embedder
        self._settings: CatalogSettings | None = None
        self._detail: DetailSettings | None = None

    @property
    def settings(self) -> CatalogSettings:
        if self._settings is None:
            self._settings = catalog_settings(self.config)
        return self._settings

    @property
    def detail(self) -> DetailSettings:
        """The detail pages' settings (`[catalog.detail]`)."""
        if self._detail is None:
            self._detail = detail_settings(self.config)
        return self._detail

    @property
    def embed(self):
        """texts -> vectors, as catalog.extract takes it; None without an embedder."""
        return self._embed if self.use_embedder else None

    def _embed(self, texts: list[str]) -> np.ndarray:
        name, threads = self.config["classifier"]["embedder"], self.config["classifier"]["embedder_threads"]
        with _ENCODERS_LOCK:
            if (name, threads) not in _ENCODERS:
                from livecut.runtime.classifiers import classifier_embedder

                _ENCODERS[(name, threads)] = classifier_embedder(self.config, name)
        return _ENCODERS[(name, threads)].encode(texts)
