"""`livecut classify`, `eval-classifier` and `train-classifier`: label, measure and teach the classifier.

Operators teach the classifier by relabelling clips; the metadata store exports those reviews to
`classifier.reviews_path` and `train-classifier --from-reviews` folds them in. The commands take
every default from config.toml, so the shipped model is rebuilt with one line:

    livecut train-classifier segmenter/data/utterances.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

CLASSIFIER_CHOICES = ("trained", "v0")


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    _register_classify(commands, common, epilog)
    _register_eval(commands, common, epilog)
    _register_train(commands, common, epilog)


def _register_classify(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    classify = commands.add_parser(
        "classify",
        parents=[common],
        help="label utterance texts read from stdin",
        description="Read one utterance per line on stdin; write one JSON object per line to stdout "
        "with text, label, sublabel, confidence, needs_review, time_bound and banned_claims.",
        epilog=epilog,
    )
    _classifier_options(classify)
    classify.set_defaults(handler=_run_classify)


def _register_eval(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    evaluate = commands.add_parser(
        "eval-classifier",
        parents=[common],
        help="measure the classifier on a labeled JSON-lines file",
        description="Print label accuracy, macro-F1 over the labels, sublabel accuracy on selling points "
        "and the confusion matrix for FILE (JSON lines with text, label, sublabel).",
        epilog=epilog,
    )
    evaluate.add_argument("file", type=Path, metavar="FILE", help="labeled utterances (JSON lines)")
    evaluate.add_argument(
        "--split",
        choices=("all", "train", "test"),
        default="all",
        help="only the lines of this split of the dataset's split rule (default: all)",
    )
    _classifier_options(evaluate)
    evaluate.set_defaults(handler=_run_eval)


def _register_train(commands: argparse._SubParsersAction, common: argparse.ArgumentParser, epilog: str) -> None:
    train = commands.add_parser(
        "train-classifier",
        parents=[common],
        help="train the utterance classifier and write its model",
        description="Train the classifier on FILE (JSON lines with text, label, sublabel; optional weight) "
        "plus the taxonomy examples, and write the model to classifier.model_path.",
        epilog=epilog,
    )
    train.add_argument("file", type=Path, metavar="FILE", help="labeled utterances (JSON lines)")
    train.add_argument(
        "--split",
        choices=("train", "all"),
        default="train",
        help="lines of FILE to learn from: the train split of the split rule (default; keeps the test "
        "split unseen) or all of them",
    )
    train.add_argument(
        "--from-reviews", action="store_true", help="also learn from the reviews at classifier.reviews_path"
    )
    train.add_argument("--brand", help="train BRAND's own model (needs classifier.brand_models = true)")
    train.add_argument("--out", type=Path, metavar="PATH", help="model file to write (default from config)")
    train.set_defaults(handler=_run_train)


def _classifier_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--classifier", choices=CLASSIFIER_CHOICES, help="which classifier (default: classifier.kind)")
    parser.add_argument("--brand", help="use this brand's own model when it has one")


def _run_classify(args: argparse.Namespace, config: dict) -> int:
    from livecut.runtime.classifiers import build_classifier
    from segmenter.compliance import load_compliance

    classifier = build_classifier(config, brand=args.brand, kind=args.classifier)
    compliance = load_compliance(config["compliance"])
    threshold = config["classifier"]["review_threshold"]
    texts = [line.strip() for line in sys.stdin if line.strip()]
    for text, prediction in zip(texts, classifier.predict(texts), strict=True):
        flags = compliance.check(text)
        record = {
            "text": text,
            "label": prediction.label,
            "sublabel": prediction.sublabel,
            "confidence": round(prediction.confidence, 4),
            "needs_review": prediction.confidence < threshold,
            "time_bound": flags.time_bound,
            "banned_claims": flags.banned_claims,
        }
        print(json.dumps(record, ensure_ascii=False))
    return 0


def _run_eval(args: argparse.Namespace, config: dict) -> int:
    from livecut.runtime.classifiers import build_classifier
    from segmenter.evaluation import evaluate, format_report, in_split
    from segmenter.taxonomy import load_taxonomy
    from segmenter.trained_classifier import TrainingError, read_examples

    try:
        gold = [e for e in read_examples(args.file) if in_split(e.text, args.split)]
    except (OSError, ValueError, TrainingError) as exc:
        print(f"livecut: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    kind = args.classifier or config["classifier"]["kind"]
    classifier = build_classifier(config, brand=args.brand, kind=kind)
    started = time.perf_counter()
    predictions = classifier.predict([e.text for e in gold])
    elapsed = time.perf_counter() - started
    order = [c.name for c in load_taxonomy(config["taxonomy"])]
    title = f"classifier {kind} on {args.file} (split {args.split}), {elapsed:.2f} s to classify"
    print(format_report(evaluate(gold, predictions, order), title))
    return 0


def _run_train(args: argparse.Namespace, config: dict) -> int:
    from segmenter.trained_classifier import TrainingError

    settings = config["classifier"]
    if args.brand and not settings["brand_models"]:
        print("livecut: --brand needs classifier.brand_models = true in the config", file=sys.stderr)
        return 2
    try:
        examples = _training_examples(args, config)
        model, out = _train_model(examples, args, config)
    except (OSError, ValueError, TrainingError) as exc:
        print(f"livecut: {exc}", file=sys.stderr)
        return 2
    _print_training(model, out, len(examples))
    return 0


def _training_examples(args: argparse.Namespace, config: dict) -> list:
    from livecut.runtime.classifiers import config_relative
    from segmenter.evaluation import in_split
    from segmenter.taxonomy import load_taxonomy
    from segmenter.trained_classifier import merge_reviews, read_examples, taxonomy_examples

    settings = config["classifier"]
    lines = read_examples(args.file)
    examples = [e for e in lines if in_split(e.text, args.split)]
    known = {e.text for e in lines}
    if args.from_reviews:
        reviews_path = config_relative(settings["reviews_path"])
        if not reviews_path.is_file():
            raise FileNotFoundError(f"no reviews to learn from at {reviews_path} (classifier.reviews_path)")
        reviews = read_examples(reviews_path, weight=settings["review_weight"])
        examples = merge_reviews(examples, reviews, args.brand, per_brand=settings["brand_models"])
        known |= {r.text for r in reviews}
    if settings["train_on_taxonomy_examples"]:
        examples += taxonomy_examples(load_taxonomy(config["taxonomy"]), known)
    return examples


def _train_model(examples: list, args: argparse.Namespace, config: dict) -> tuple[Any, Path]:
    from livecut.runtime.classifiers import brand_model_path, classifier_embedder, config_relative
    from segmenter.taxonomy import load_taxonomy
    from segmenter.trained_classifier import Rule, TrainSettings, train

    settings = config["classifier"]
    rules = [Rule(_class_name(r), r["pattern"]) for r in settings["rules"]]
    train_settings = TrainSettings(
        c=settings["regularisation_c"],
        keyword_weight=settings["keyword_weight"],
        cv_folds=settings["cv_folds"],
        rule_min_precision=settings["rule_min_precision"],
    )
    classes = load_taxonomy(config["taxonomy"])
    model = train(
        examples,
        classes,
        classifier_embedder(config, settings["embedder"]),
        settings["embedder"],
        rules,
        train_settings,
    )
    out = args.out or (brand_model_path(config, args.brand) if args.brand else config_relative(settings["model_path"]))
    model.save(out)
    return model, out


def _class_name(rule: dict[str, str]) -> str:
    return f"{rule['label']}/{rule['sublabel']}" if rule.get("sublabel") else rule["label"]


def _print_training(model: Any, out: Path, count: int) -> None:
    print(f"trained on {count} examples; confidence temperature {model.temperature:.3f}")
    cv = model.info.get("cross_validation")
    if cv:
        print(
            f"cross-validation on the training examples: label accuracy {cv['accuracy']:.3f}, "
            f"macro-F1 {cv['macro_f1']:.3f}, sublabel accuracy {cv['sublabel_accuracy']:.3f}"
        )
    for rule in model.rules:
        print(f"rule kept: {rule.class_name} (precision {rule.precision:.3f} on {rule.hits} hits)")
    print(f"model: {out} ({out.stat().st_size // 1024} KiB)")
