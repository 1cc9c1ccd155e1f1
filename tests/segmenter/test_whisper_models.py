import hashlib

import pytest

from segmenter.whisper_models import BASE_MODEL_SHA256, ModelNotFoundError, resolve_whisper_model


def sha256(path):
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def test_base_is_assembled_once_checksummed_and_reused(tmp_path):
    folder = resolve_whisper_model("base", tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "model.bin",
        "model.bin.sha256",
        "tokenizer.json",
        "vocabulary.json",
    ]
    assert sha256(folder / "model.bin") == BASE_MODEL_SHA256
    assert [p.name for p in tmp_path.iterdir()] == ["whisper-base"]
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert resolve_whisper_model("base", tmp_path) == folder
    assert (folder / "model.bin").stat().st_mtime_ns == stamp


def test_a_damaged_model_is_reassembled(tmp_path):
    folder = resolve_whisper_model("base", tmp_path)
    (folder / "model.bin").write_bytes(b"half a model")
    (folder / "model.bin.sha256").write_text("0" * 64)
    resolve_whisper_model("base", tmp_path)
    assert sha256(folder / "model.bin") == BASE_MODEL_SHA256


def test_tiny_en_and_model_folders_resolve_and_unknown_names_fail(tmp_path):
    tiny = resolve_whisper_model("tiny.en", tmp_path)
    assert (tiny / "model.bin").is_file()
    assert resolve_whisper_model(str(tiny), tmp_path) == tiny
    with pytest.raises(ModelNotFoundError, match="not 'base', 'tiny.en' or a folder"):
        resolve_whisper_model("large-v9", tmp_path)
