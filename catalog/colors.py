"""Dominant colours of a product: k-means in CIE Lab over the product's pixels, named in zh and en."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Reference colours; a key may have several references (light and dark grey are both grey). The keys
# are the apparel schema's colour values, so an image colour fills the colour attribute directly.
PALETTE: tuple[tuple[str, str, str, str], ...] = (
    ("black", "黑色", "black", "#1c1c1c"),
    ("white", "白色", "white", "#f7f7f5"),
    ("gray", "灰色", "gray", "#808080"),
    ("gray", "灰色", "gray", "#b8b8b8"),
    ("gray", "灰色", "gray", "#4d4d4d"),
    ("red", "红色", "red", "#c8102e"),
    ("burgundy", "酒红色", "burgundy", "#7b1f2e"),
    ("pink", "粉色", "pink", "#f4a6b8"),
    ("orange", "橙色", "orange", "#f28c28"),
    ("yellow", "黄色", "yellow", "#f2d024"),
    ("beige", "米色", "beige", "#e6d8bd"),
    ("khaki", "卡其色", "khaki", "#b8a77a"),
    ("camel", "驼色", "camel", "#c19a6b"),
    ("brown", "棕色", "brown", "#6b4423"),
    ("green", "绿色", "green", "#2e8b57"),
    ("olive", "军绿色", "olive", "#6b6b2e"),
    ("blue", "蓝色", "blue", "#1f5fbf"),
    ("light_blue", "浅蓝色", "light blue", "#8ec5ec"),
    ("navy", "藏青色", "navy", "#1f2a44"),
    ("purple", "紫色", "purple", "#7d4fa0"),
)


@dataclass(frozen=True)
class NamedColor:
    key: str
    zh: str
    en: str
    hex: str
    share: float

    def to_json(self) -> dict[str, object]:
        return {"key": self.key, "en": self.en, "zh": self.zh, "hex": self.hex, "share": round(self.share, 3)}


def _lab(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 (N, 3) -> Lab float (N, 3) with L in 0..100."""
    return cv2.cvtColor(rgb.reshape(-1, 1, 3).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab).reshape(-1, 3)


def _hex_rgb(value: str) -> tuple[int, int, int]:
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


_PALETTE_LAB = _lab(np.array([_hex_rgb(p[3]) for p in PALETTE], dtype=np.uint8))


def name_color(rgb: tuple[int, int, int]) -> tuple[str, str, str]:
    """The palette's nearest colour (Delta E 1976) as (key, zh, en)."""
    lab = _lab(np.array([rgb], dtype=np.uint8))[0]
    index = int(np.argmin(np.linalg.norm(_PALETTE_LAB - lab, axis=1)))
    key, zh, en, _ = PALETTE[index]
    return key, zh, en


def dominant_colors(pixels: np.ndarray, k: int = 4, min_share: float = 0.12, seed: int = 7) -> list[NamedColor]:
    """Named colours covering at least min_share of the pixels (N, 3 RGB uint8), largest first."""
    if len(pixels) == 0:
        return []
    rng = np.random.default_rng(seed)
    sample = pixels[rng.choice(len(pixels), size=min(len(pixels), 4000), replace=False)]
    lab = _lab(sample)
    k = min(k, len(np.unique(sample, axis=0)))
    cv2.setRNGSeed(seed)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, _ = cv2.kmeans(lab, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    labels = labels.ravel()
    merged: dict[str, list] = {}
    for cluster in range(k):
        members = sample[labels == cluster]
        if len(members) == 0:
            continue
        mean = tuple(int(c) for c in np.median(members, axis=0))
        key, zh, en = name_color(mean)
        entry = merged.setdefault(key, [zh, en, mean, 0])
        entry[3] += len(members)
    total = len(sample)
    colors = [
        NamedColor(key, zh, en, "#{:02x}{:02x}{:02x}".format(*mean), count / total)
        for key, (zh, en, mean, count) in merged.items()
        if count / total >= min_share
    ]
    return sorted(colors, key=lambda c: -c.share)
