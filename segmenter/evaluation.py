"""Classifier evaluation: the figures `livecut eval-classifier` prints, computed without sklearn.

Why these figures: clips are cut per label, so label accuracy and macro-F1 over the labels (every
label counts the same, however rare) say whether clips start and stop at the right places; a
selling-point clip is then named by its sublabel, so sublabel accuracy is measured on the lines whose
true label is selling_point (a wrong label there counts as a wrong sublabel). The confusion matrix
over all classes shows which topics get mixed up.

The dataset's split rule lives here too, so training and evaluation agree on it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

SPLITS = ("all", "train", "test")
SELLING_POINT = "selling_point"


class Labeled(Protocol):
    # Read-only, so frozen dataclasses (LabeledExample, Prediction) are Labeled too.
    @property
    def label(self) -> str: ...

    @property
    def sublabel(self) -> str | None: ...


def dataset_split(text: str) -> str:
    """The fixed split rule of segmenter/data/README.md: about one line in five is test."""
    return "test" if int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % 5 == 0 else "train"


def in_split(text: str, split: str) -> bool:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    return split == "all" or dataset_split(text) == split


def class_name(item: Labeled) -> str:
    return f"{item.label}/{item.sublabel}" if item.sublabel else item.label


@dataclass(frozen=True)
class EvaluationReport:
    count: int
    accuracy: float
    macro_f1: float
    label_f1: dict[str, float]
    sublabel_count: int
    sublabel_accuracy: float
    classes: list[str]
    confusion: list[list[int]]


def evaluate(
    gold: Sequence[Labeled], predicted: Sequence[Labeled], class_order: Sequence[str] = ()
) -> EvaluationReport:
    """Compare predictions with gold labels, position by position."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold items but {len(predicted)} predictions")
    pairs = list(zip(gold, predicted, strict=True))
    label_f1 = _label_f1([g.label for g in gold], [p.label for p in predicted])
    selling = [(g, p) for g, p in pairs if g.label == SELLING_POINT]
    classes = _ordered({class_name(x) for pair in pairs for x in pair}, class_order)
    return EvaluationReport(
        count=len(pairs),
        accuracy=_mean(g.label == p.label for g, p in pairs),
        macro_f1=_mean(label_f1.values()),
        label_f1=label_f1,
        sublabel_count=len(selling),
        sublabel_accuracy=_mean(class_name(g) == class_name(p) for g, p in selling),
        classes=classes,
        confusion=_confusion(pairs, classes),
    )


def _mean(values: object) -> float:
    values = list(values)  # type: ignore[call-overload]
    return float(sum(values) / len(values)) if values else 0.0


def _label_f1(gold: list[str], predicted: list[str]) -> dict[str, float]:
    """F1 per label, over every label that occurs in the gold or the predictions."""
    scores = {}
    for label in sorted(set(gold) | set(predicted)):
        hits = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        guessed, actual = predicted.count(label), gold.count(label)
        scores[label] = 2 * hits / (guessed + actual) if guessed + actual else 0.0
    return scores


def _ordered(names: set[str], class_order: Sequence[str]) -> list[str]:
    known = [c for c in class_order if c in names]
    return known + sorted(names - set(known))


def _confusion(pairs: list[tuple[Labeled, Labeled]], classes: list[str]) -> list[list[int]]:
    matrix = [[0] * len(classes) for _ in classes]
    for gold, predicted in pairs:
        matrix[classes.index(class_name(gold))][classes.index(class_name(predicted))] += 1
    return matrix


def format_report(report: EvaluationReport, title: str = "") -> str:
    """Figures, then the confusion matrix with numbered columns (row n is class n)."""
    lines = [title] if title else []
    lines += [
        f"utterances        {report.count}",
        f"label accuracy    {report.accuracy:.3f}",
        f"label macro-F1    {report.macro_f1:.3f}   "
        + "  ".join(f"{label} {f1:.3f}" for label, f1 in report.label_f1.items()),
        f"sublabel accuracy {report.sublabel_accuracy:.3f}   (on {report.sublabel_count} selling points)",
        "",
        "confusion (rows: true class, columns: predicted class, numbered as the rows)",
    ]
    return "\n".join(lines + format_confusion(report.classes, report.confusion))


def format_confusion(classes: list[str], matrix: list[list[int]]) -> list[str]:
    name_width = max(len(c) for c in classes) + 4 if classes else 4
    cell = max(3, *(len(str(v)) + 1 for row in matrix for v in row)) if classes else 3
    header = " " * name_width + "".join(f"{i + 1:>{cell}}" for i in range(len(classes)))
    rows = [
        f"{i + 1:>2}  {name:<{name_width - 4}}" + "".join(f"{v:>{cell}}" for v in row)
        for i, (name, row) in enumerate(zip(classes, matrix, strict=True))
    ]
    return [header, *rows]
