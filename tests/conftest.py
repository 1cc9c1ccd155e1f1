"""Shared fixtures: the committed media and its script, the default config, loaded models."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def zh_script() -> dict:
    return json.loads((FIXTURES / "zh_live.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def en_script() -> dict:
    return json.loads((FIXTURES / "en_live.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def config() -> dict:
    from livecut.config import load_config

    return load_config()


@pytest.fixture(scope="session")
def classifier(config):
    from livecut.pipeline import build_classifier

    return build_classifier(config)
