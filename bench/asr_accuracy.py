"""Transcription accuracy: character error rate (Mandarin) and word error rate (English) of the
committed samples against their scripts, with and without each of the room-vocabulary steps.

    .venv/bin/python bench/asr_accuracy.py [--beam N] [--show] [--config FILE]

(asr.pack_window_s = 0 in FILE measures one speech chunk per Whisper window, as before packing.)

Columns (every one compares with the script in readable number form, "原价599", "80%"):
  verbatim   no step, against the script as written (Chinese numerals): the old figure
  none       no step
  numbers    prices, percentages, sizes as digits (segmenter/numbers.py)
  correct    sound-alike correction to the lexicon (segmenter/pinyin_correction.py)
  hotwords   the lexicon as Whisper hotwords
  corr+num   correct, then numbers
  all        hotwords, correct, numbers
zh_heldout is held out of all tuning (the lexicon, the correction rules and their thresholds
were chosen on zh_live and en_live only) and is reported on its own line below the others.
Its catalog terms (the products in its .json) are passed as the room's product terms
(--no-products leaves them out, as `livecut clip` does until the catalog passes them).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livecut.config import load_config  # noqa: E402
from livecut.contracts import Utterance  # noqa: E402
from livecut.runtime.settings import transcriber_settings  # noqa: E402
from segmenter.asr import SpeechRecognizer  # noqa: E402
from segmenter.numbers import normalize_numbers  # noqa: E402
from segmenter.room_vocabulary import RoomVocabulary  # noqa: E402
from segmenter.transcriber import Transcriber  # noqa: E402
from stream.file_source import FileSource  # noqa: E402

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SAMPLES = ["zh_live", "en_live", "zh_heldout"]
COLUMNS = ["verbatim", "none", "numbers", "correct", "hotwords", "corr+num", "all"]
_NOT_WORD = re.compile(r"[^\w\s']+|_")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beam", type=int, default=None, help="Whisper beam size (default: config asr.beam_size)")
    parser.add_argument("--show", action="store_true", help="print each utterance and its corrections")
    parser.add_argument("--samples", default=",".join(SAMPLES))
    parser.add_argument(
        "--skip-hotwords", action="store_true", help="one Whisper pass per sample (hotwords columns: -)"
    )
    parser.add_argument(
        "--no-products", action="store_true", help="leave zh_heldout's catalog terms out of its room's lexicon"
    )
    parser.add_argument("--config", type=Path, default=None, help="a config.toml merged over the defaults")
    args = parser.parse_args()
    config = load_config(args.config)
    settings = transcriber_settings(config)
    if args.beam is not None:
        settings = dataclasses.replace(settings, asr=dataclasses.replace(settings.asr, beam_size=args.beam))
    recognizer = SpeechRecognizer(settings.asr)
    row = "{:11} {:5} {:>6}" + " {:>9}" * len(COLUMNS) + " {:>12}"
    print(f"beam {settings.asr.beam_size}; CER for Mandarin, WER for English, in %")
    print(row.format("sample", "unit", "tokens", *COLUMNS, "wall s"))
    print("(wall s: transcription without / with hotwords; noisy on shared cores)")
    lines = []
    for name in args.samples.split(","):
        figures, tokens, wall = _measure(
            name, settings, recognizer, args.show, not args.skip_hotwords, args.no_products
        )
        unit = "CER" if name.startswith("zh") else "WER"
        cells = (f"{figures[c]:.1f}" if c in figures else "-" for c in COLUMNS)
        lines.append((name, row.format(name, unit, tokens, *cells, wall)))
    for name, line in lines:
        if name != "zh_heldout":
            print(line)
    for name, line in lines:
        if name == "zh_heldout":
            print("held out:")
            print(line)


def _measure(
    name: str, settings, recognizer: SpeechRecognizer, show: bool, hotwords: bool, no_products: bool
) -> tuple[dict[str, float], int, str]:
    script = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    products = [] if no_products else _product_terms(script)
    verbatim = "".join(s["text"] for s in script["sentences"]) if name.startswith("zh") else _english(script)
    reference = normalize_numbers(verbatim)
    plain = dataclasses.replace(
        settings.vocabulary,
        hotwords=False,
        numbers=False,
        correction=dataclasses.replace(settings.vocabulary.correction, enabled=False),
    )
    vocabulary = RoomVocabulary(dataclasses.replace(plain, correction=settings.vocabulary.correction), products)
    started = time.perf_counter()
    heard = _transcribe(name, dataclasses.replace(settings, vocabulary=plain), recognizer, products)
    wall = time.perf_counter() - started
    with_hotwords = dataclasses.replace(settings, vocabulary=dataclasses.replace(plain, hotwords=True))
    started = time.perf_counter()
    hot = _transcribe(name, with_hotwords, recognizer, products) if hotwords else []
    hot_wall = time.perf_counter() - started

    def score(utterances: list[Utterance], correct: bool, numbers: bool, against: str = reference) -> float:
        fixed = copy.deepcopy(utterances)
        for u in fixed:
            if correct:
                vocabulary.correct_words(u)
            if numbers:
                vocabulary.normalize_numbers(u)
        if show and correct and numbers:
            for u in fixed:
                print(f"  {name} {u.t0:6.2f} {u.text}  {[(c.original, c.replacement) for c in u.corrections]}")
        return _error_rate(against, _joined(fixed, name), name)

    figures = {
        "verbatim": score(heard, False, False, verbatim),
        "none": score(heard, False, False),
        "numbers": score(heard, False, True),
        "correct": score(heard, True, False),
        "corr+num": score(heard, True, True),
    }
    if hotwords:
        figures["hotwords"] = score(hot, False, False)
        figures["all"] = score(hot, True, True)
    return figures, len(_tokens(reference, name)), f"{wall:.1f}/{hot_wall:.1f}" if hotwords else f"{wall:.1f}"


def _transcribe(name: str, settings, recognizer: SpeechRecognizer, products: list[str]) -> list[Utterance]:
    transcriber = Transcriber(settings, recognizer, products, full_windows=True)
    return list(transcriber.transcribe(FileSource(FIXTURES / f"{name}.mp4", room=name).events()))


def _product_terms(script: dict) -> list[str]:
    terms: list[str] = []
    for product in script.get("products", []):
        terms += [product["name"], *product["aliases"], *product["attributes"], *product["colors"], product["link"]]
    return terms


def _english(script: dict) -> str:
    return " ".join(s["text"] for s in script["sentences"])


def _joined(utterances: list[Utterance], name: str) -> str:
    return ("" if name.startswith("zh") else " ").join(u.text for u in utterances)


def _tokens(text: str, name: str) -> list[str]:
    if name.startswith("zh"):
        return [ch for ch in text if ch.isalnum()]
    return _NOT_WORD.sub(" ", text.lower()).split()


def _error_rate(reference: str, hypothesis: str, name: str) -> float:
    ref, hyp = _tokens(reference, name), _tokens(hypothesis, name)
    return 100.0 * _edit_distance(ref, hyp) / max(1, len(ref))


def _edit_distance(a: list[str], b: list[str]) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


if __name__ == "__main__":
    main()
