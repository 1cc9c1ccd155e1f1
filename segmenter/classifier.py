"""Utterance classifier v0: keyword rules plus nearest prototype on sentence embeddings.

Each class scores the best cosine similarity between the utterance and the class's
example phrases, plus `rule_weight` per distinct keyword hit (at most three count).
A softmax over the scores gives the confidence of the winner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from livecut.contracts import Utterance
from segmenter.embedders import Embedder
from segmenter.taxonomy import TopicClass

MAX_COUNTED_HITS = 3


@dataclass(frozen=True)
class Prediction:
    label: str
    sublabel: str | None
    confidence: float


class PrototypeClassifier:
    def __init__(
        self,
        classes: list[TopicClass],
        embedder: Embedder,
        rule_weight: float = 0.35,
        temperature: float = 0.08,
    ) -> None:
        self.classes = classes
        self.embedder = embedder
        self.rule_weight = rule_weight
        self.temperature = temperature
        self.owner = np.array([i for i, c in enumerate(classes) for _ in c.examples])
        self.prototypes = embedder.encode([e for c in classes for e in c.examples])

    def predict(self, texts: list[str]) -> list[Prediction]:
        if not texts:
            return []
        scores = self._similarity(texts) + self.rule_weight * self._rule_hits(texts)
        return [self._prediction(row) for row in scores]

    def label(self, utterances: list[Utterance]) -> list[Utterance]:
        """Set label, sublabel and confidence on each utterance (in place) and return them."""
        for utterance, prediction in zip(utterances, self.predict([u.text for u in utterances]), strict=True):
            utterance.label = prediction.label
            utterance.sublabel = prediction.sublabel
            utterance.confidence = prediction.confidence
        return utterances

    def _similarity(self, texts: list[str]) -> np.ndarray:
        sims = self.embedder.encode(texts) @ self.prototypes.T
        best = np.full((len(texts), len(self.classes)), -1.0, dtype=np.float32)
        for index in range(len(self.classes)):
            best[:, index] = sims[:, self.owner == index].max(axis=1)
        return best

    def _rule_hits(self, texts: list[str]) -> np.ndarray:
        hits = [[min(c.keyword_hits(t), MAX_COUNTED_HITS) for c in self.classes] for t in texts]
        return np.asarray(hits, dtype=np.float32)

    def _prediction(self, row: np.ndarray) -> Prediction:
        logits = (row - row.max()) / self.temperature
        probs = np.exp(logits) / np.exp(logits).sum()
        best = int(probs.argmax())
        winner = self.classes[best]
        return Prediction(winner.label, winner.sublabel, float(probs[best]))
