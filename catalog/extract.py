"""Attributes of a product from its title, description, photos (roles, colours, OCR) and the host's words.

Every value keeps its confidence, its source and its evidence (the text span, the image and region,
the utterance and its time). Where sources disagree the most confident wins and a warning says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from catalog.adlaw import ad_law_findings
from catalog.composition import main_composition, parse_composition
from catalog.corrections import BrandCorrections
from catalog.errors import CatalogError, CompositionError
from catalog.images import ImageAnalysis, analyse_image
from catalog.model import AttributeValue
from catalog.schema import Attribute, Schema, detect_category, load_schemas
from catalog.settings import CatalogSettings
from catalog.speech import SpeechLine, fit_advice, routed, speech_lines
from catalog.textmatch import number_mentions, text_mentions, value_mentions

Embed = Callable[[list[str]], np.ndarray]

# How far each source is trusted: a brand's own title more than a photo's colour.
BASE_CONFIDENCE = {"title": 0.9, "description": 0.8, "ocr": 0.85, "speech": 0.7, "image": 0.5}
EMBED_WEIGHT = 0.6  # an embedding match is a guess: its confidence is this times the similarity
IMAGE_COLOR_ROLES = ("packshot", "model", "mannequin", "flat_lay")


@dataclass
class ExtractionResult:
    category: str
    attributes: dict[str, AttributeValue]
    images: list[ImageAnalysis]
    warnings: list[str] = field(default_factory=list)

    def values(self) -> dict[str, Any]:
        return {key: value.value for key, value in self.attributes.items()}

    def to_json(self) -> dict[str, Any]:
        """The `livecut catalog extract` contract."""
        return {
            "category": self.category,
            "attributes": {key: value.to_json() for key, value in self.attributes.items()},
            "images": [image.to_json() for image in self.images],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class _Text:
    source: str
    text: str
    evidence: dict[str, Any]
    weight: float = 1.0
    sublabel_line: SpeechLine | None = None


@lru_cache(maxsize=8)
def _schemas(dirs: tuple[str, ...]) -> dict[str, Schema]:
    return load_schemas(dirs)


def extract(
    product_input: dict[str, Any],
    category: str | None = None,
    settings: CatalogSettings | None = None,
    *,
    embed: Embed | None = None,
    corrections: BrandCorrections | None = None,
    base_dir: str | Path | None = None,
) -> ExtractionResult:
    """Attributes of one product. product_input: title, description, images (paths), speech (lines).

    Relative image paths are read from base_dir (the product file's folder). `embed` maps texts to
    unit vectors (the shell passes the sentence embedder); without it, synonyms and rules only.
    """
    settings = settings or CatalogSettings()
    corrections = corrections or BrandCorrections()
    if not isinstance(product_input, dict):
        raise CatalogError("product", "is a JSON object")
    title = product_input.get("title")
    if not isinstance(title, str) or not title.strip():
        raise CatalogError("title", "is required and is text")
    description = product_input.get("description") or ""
    if not isinstance(description, str):
        raise CatalogError("description", "is text")
    paths = product_input.get("images") or []
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise CatalogError("images", "is a list of file paths")
    lines = speech_lines(product_input.get("speech") or [])
    schemas = _schemas(tuple(map(str, settings.schema_dirs)))
    schema = _schema_for(schemas, category or product_input.get("category"), [title, description])

    warnings: list[str] = []
    base = Path(base_dir) if base_dir else Path.cwd()
    images = [
        analyse_image(_resolve(base, p), f"images[{i}]", settings.ocr, settings.max_megapixels)
        for i, p in enumerate(paths)
    ]
    for analysis, path in zip(images, paths, strict=True):
        analysis.path = path
    texts = _texts(title, description, images, lines)
    candidates: dict[str, list[AttributeValue]] = {}
    for attribute in schema.attributes.values():
        found = candidates.setdefault(attribute.key, [])
        for text in texts:
            if text.sublabel_line is not None and not routed(attribute.slots, text.sublabel_line):
                continue
            found.extend(_from_text(attribute, text, corrections, warnings))
    _add_image_colors(schema, images, candidates)
    if embed is not None:
        _add_embedding_matches(schema, texts, candidates, embed, settings.embed_threshold)
    attributes = {}
    for key, found in candidates.items():
        chosen = _choose(schema.attributes[key], found, warnings)
        if chosen is not None:
            attributes[key] = _apply_override(key, chosen, corrections)
    for name, text in (("title", title), ("description", description)):
        for finding in ad_law_findings(text, settings.ad_law_phrases, settings.ad_law_exceptions):
            warnings.append(f"{name}: 广告法 phrase {finding.phrase!r} at {finding.start}-{finding.end}")
    return ExtractionResult(schema.key, attributes, images, warnings)


def _schema_for(schemas: dict[str, Schema], category: str | None, texts: list[str]) -> Schema:
    if category:
        if category not in schemas:
            raise CatalogError("category", f"unknown category {category!r}; known: {', '.join(sorted(schemas))}")
        return schemas[category]
    detected = detect_category(schemas, texts)
    if detected is None:
        raise CatalogError("category", f"cannot tell it from the title; give one of {', '.join(sorted(schemas))}")
    return schemas[detected]


def _resolve(base: Path, path: str) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else base / candidate


def _texts(title: str, description: str, images: list[ImageAnalysis], lines: list[SpeechLine]) -> list[_Text]:
    texts = [_Text("title", title, {"field": "title"}), _Text("description", description, {"field": "description"})]
    for index, analysis in enumerate(images):
        for line in analysis.text:
            evidence = {
                "image": analysis.path,
                "index": index,
                "region": list(line.box),
                "ocr_score": round(line.score, 3),
            }
            texts.append(_Text("ocr", line.text, evidence, weight=line.score))
        if len(analysis.text) > 1:  # a composition may run over two lines of a label
            joined = " ".join(line.text for line in analysis.text)
            texts.append(_Text("ocr", joined, {"image": analysis.path, "index": index, "region": "label"}, weight=0.95))
    for index, line in enumerate(lines):
        texts.append(_Text("speech", line.text, {**line.evidence(), "index": index}, sublabel_line=line))
    return [t for t in texts if t.text]


def _from_text(
    attribute: Attribute, text: _Text, corrections: BrandCorrections, warnings: list[str]
) -> list[AttributeValue]:
    confidence = BASE_CONFIDENCE[text.source] * text.weight

    def value(v: Any, start: int, end: int, extra: dict[str, Any] | None = None) -> AttributeValue:
        evidence = {**text.evidence, "text": text.text[start:end], "span": [start, end], **(extra or {})}
        return AttributeValue(v, confidence, text.source, evidence)

    if attribute.type in ("enum", "multi"):
        brand = corrections.phrases(attribute.key)
        results = []
        for m in value_mentions(attribute, text.text, brand):
            from_brand = any(phrase.lower() == m.phrase.lower() for phrase, _ in brand)
            results.append(value(m.value, m.start, m.end, {"brand_example": True} if from_brand else None))
        return results
    if attribute.type == "number":
        return [
            value({"amount": amount, "unit": attribute.unit}, m.start, m.end)
            for amount, m in number_mentions(attribute, text.text)
        ]
    if attribute.type == "text":
        return [value(m.value, m.start, m.end) for m in text_mentions(attribute, text.text)]
    if attribute.type == "fit_advice":
        advice = fit_advice(text.text)
        return [value(advice[0], *advice[1])] if advice else []
    if attribute.type == "composition":
        field_name = text.evidence.get("field") or (
            f"images[{text.evidence['index']}]" if text.source == "ocr" else f"speech[{text.evidence.get('index')}]"
        )
        try:
            part = main_composition(parse_composition(text.text, attribute.values, field=field_name))
        except CompositionError as exc:
            if str(exc) not in warnings:
                warnings.append(str(exc))
            return []
        if part is None:
            return []
        return [value(part.fibres, part.start, part.end)]
    return []


def _add_image_colors(schema: Schema, images: list[ImageAnalysis], candidates: dict[str, list[AttributeValue]]) -> None:
    attribute = schema.attributes.get("color")
    if attribute is None:
        return
    for index, analysis in enumerate(images):
        if analysis.role not in IMAGE_COLOR_ROLES or not analysis.colors:
            continue
        top = analysis.colors[0]
        if attribute.value(top.key) is None:
            continue
        evidence = {
            "image": analysis.path,
            "index": index,
            "role": analysis.role,
            "region": [round(v, 3) for v in analysis.product_box],
            "share": round(top.share, 3),
            "hex": top.hex,
        }
        confidence = BASE_CONFIDENCE["image"] + 0.3 * top.share
        candidates.setdefault("color", []).append(AttributeValue(top.key, confidence, "image", evidence))


def _add_embedding_matches(
    schema: Schema, texts: list[_Text], candidates: dict[str, list[AttributeValue]], embed: Embed, threshold: float
) -> None:
    """Clauses near a value's names fill listed attributes that no rule filled."""
    clauses = [
        (text, clause) for text in texts for clause in re.split(r"[，。,.;；!！?？\s]+", text.text) if len(clause) >= 2
    ]
    if not clauses:
        return
    clause_vectors = _unit(embed([c for _, c in clauses]))
    for attribute in schema.attributes.values():
        if attribute.type not in ("enum", "multi") or candidates.get(attribute.key):
            continue
        names = [(value.key, name) for value in attribute.values for name in value.names]
        name_vectors = _unit(embed([n for _, n in names]))
        similarity = clause_vectors @ name_vectors.T
        best = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
        score = float(similarity[best])
        if score >= threshold:
            text, clause = clauses[best[0]]
            key, name = names[best[1]]
            evidence = {
                **text.evidence,
                "text": clause,
                "method": "embedding",
                "matched": name,
                "similarity": round(score, 3),
            }
            candidates[attribute.key].append(AttributeValue(key, EMBED_WEIGHT * score, text.source, evidence))


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


def _choose(attribute: Attribute, found: list[AttributeValue], warnings: list[str]) -> AttributeValue | None:
    if not found:
        return None
    ranked = sorted(found, key=lambda v: (-v.confidence, 0 if v.evidence.get("brand_example") else 1))
    if attribute.type == "multi":
        keys = list(dict.fromkeys(v.value for v in ranked))
        best = ranked[0]
        evidence = [{"value": v.value, "source": v.source, **v.evidence} for v in ranked]
        return AttributeValue(keys, best.confidence, best.source, {"mentions": evidence})
    best = ranked[0]
    if best.evidence.get("brand_example"):
        best.confidence = min(1.0, best.confidence + 0.05)
    rivals = [v for v in ranked[1:] if v.value != best.value and v.confidence >= 0.5]
    if rivals:
        other = rivals[0]
        warnings.append(
            f"{attribute.key}: {best.source} says {best.value!r}, {other.source} says {other.value!r}; "
            f"kept {best.value!r}"
        )
    return best


def _apply_override(key: str, chosen: AttributeValue, corrections: BrandCorrections) -> AttributeValue:
    if isinstance(chosen.value, list):
        replaced = [corrections.override(key, v) for v in chosen.value]
        if not any(hit for hit, _ in replaced):
            return chosen
        values = list(dict.fromkeys(v for _, v in replaced))
        return AttributeValue(
            values, chosen.confidence, chosen.source, {**chosen.evidence, "corrected_from": chosen.value}
        )
    hit, value = corrections.override(key, chosen.value)
    if not hit:
        return chosen
    return AttributeValue(
        value,
        max(chosen.confidence, 0.9),
        chosen.source,
        {**chosen.evidence, "corrected_from": chosen.value, "brand_example": True},
    )
