"""The analysed fixture footage and one assembled batch of 10 variants, shared by the remix tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # clipper_helpers, shared with the renderer tests
from remix_helpers import PRODUCT, PRODUCT_IMAGE, SHOTS_VIDEO, TEST_ASSEMBLY, TEST_PLAN, TITLE, utterances

from clipper.remix import analyze, assemble, plan, write_manifest


@pytest.fixture(scope="session")
def footage():
    return analyze(SHOTS_VIDEO, utterances(), PRODUCT, title=TITLE)


@pytest.fixture(scope="session")
def image_footage():
    return analyze(PRODUCT_IMAGE, [], PRODUCT, title=TITLE)


@pytest.fixture(scope="session")
def batch(footage, image_footage, tmp_path_factory):
    """(plan, variants, messages, out_dir) of 10 variants with captions and music."""
    out_dir: Path = tmp_path_factory.mktemp("remix")
    result = plan([footage, image_footage], TEST_PLAN)
    variants, messages = assemble(result, out_dir, TEST_ASSEMBLY)
    write_manifest(out_dir, variants)
    return result, variants, messages, out_dir
