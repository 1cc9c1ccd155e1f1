"""Evaluation figures on a tiny file whose numbers are worked out by hand, and `eval-classifier` itself."""

from __future__ import annotations

import json
import re

import pytest

from livecut.cli import main
from segmenter.evaluation import dataset_split, evaluate, format_report, in_split
from segmenter.trained_classifier import LabeledExample

# Gold labels; lines 2 and 5 are labeled wrongly on purpose, so that the (right) classifier
# disagrees with them: line 2 is a call to action, line 5 is about drape.
TINY = [
    ("今天直播间只要九十九元", "price_promo", None),
    ("拍三号链接", "chitchat", None),
    ("哈喽宝宝们欢迎来到直播间", "chitchat", None),
    ("这件是百分之百桑蚕丝的", "selling_point", "fabric"),
    ("它的垂感特别好", "selling_point", "fit"),
]
PREDICTED = [
    ("price_promo", None),
    ("call_to_action", None),
    ("chitchat", None),
    ("selling_point", "fabric"),
    ("selling_point", "drape"),
]
# Labels: 4 of 5 right. F1: price_promo 1, call_to_action 0 (one guess, never true), chitchat
# 2*1/(1 guess + 2 true) = 2/3, selling_point 1; macro (1 + 0 + 2/3 + 1) / 4 = 2/3.
# Sublabels: of the 2 gold selling points, fabric is right and fit is not: 1/2.
EXPECTED = {"accuracy": 0.8, "macro_f1": 2 / 3, "sublabel_accuracy": 0.5}
ORDER = ["price_promo", "call_to_action", "chitchat", "selling_point/fabric", "selling_point/drape"]


def gold() -> list[LabeledExample]:
    return [LabeledExample(text, label, sublabel) for text, label, sublabel in TINY]


def predictions() -> list[LabeledExample]:
    return [
        LabeledExample(text, label, sublabel) for (text, _, _), (label, sublabel) in zip(TINY, PREDICTED, strict=True)
    ]


def test_figures_match_the_hand_computed_ones():
    report = evaluate(gold(), predictions(), ORDER)
    assert report.count == 5
    assert report.accuracy == pytest.approx(EXPECTED["accuracy"])
    assert report.macro_f1 == pytest.approx(EXPECTED["macro_f1"])
    assert report.label_f1 == pytest.approx(
        {"price_promo": 1.0, "call_to_action": 0.0, "chitchat": 2 / 3, "selling_point": 1.0}
    )
    assert (report.sublabel_count, report.sublabel_accuracy) == (2, 0.5)
    assert report.classes == [*ORDER, "selling_point/fit"]
    assert report.confusion == [
        [1, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0],
        [0, 1, 1, 0, 0, 0],
        [0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 1, 0],
    ]


def test_report_is_a_readable_table():
    text = format_report(evaluate(gold(), predictions(), ORDER))
    assert "label accuracy    0.800" in text
    assert "label macro-F1    0.667" in text
    assert "sublabel accuracy 0.500   (on 2 selling points)" in text
    rows = text.splitlines()[-6:]
    assert re.split(r"\s+", rows[2].strip()) == ["3", "chitchat", "0", "1", "1", "0", "0", "0"]
    assert re.split(r"\s+", rows[5].strip()) == ["6", "selling_point/fit", "0", "0", "0", "0", "1", "0"]


def test_eval_classifier_prints_the_figures_for_a_file(tmp_path, capsys):
    path = tmp_path / "tiny.jsonl"
    lines = [json.dumps({"text": t, "label": label, "sublabel": s}, ensure_ascii=False) for t, label, s in TINY]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["eval-classifier", str(path)]) == 0
    out = capsys.readouterr().out
    assert "utterances        5" in out
    assert "label accuracy    0.800" in out
    assert "label macro-F1    0.667" in out
    assert "sublabel accuracy 0.500   (on 2 selling points)" in out


def test_the_split_rule_is_the_datasets():
    # A test line and a train line of segmenter/data/utterances.jsonl.
    assert dataset_split("欢迎大橘子宝宝回来啦") == "test"
    assert dataset_split("哈喽哈喽家人们晚上好") == "train"
    texts = [f"line {i}" for i in range(200)]
    test = [t for t in texts if in_split(t, "test")]
    assert 20 < len(test) < 60
    assert all(in_split(t, "all") for t in texts)
    assert not any(in_split(t, "train") for t in test)
    with pytest.raises(ValueError, match="split must be one of"):
        in_split("x", "dev")
