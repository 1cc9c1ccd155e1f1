"""pytest's entry: the shared fixtures (defined in support.py) and markers by what a test uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import classifier, clip_run, config, en_script, fixtures, server, zh_script  # noqa: F401 - fixtures, registered by being here

# Markers by what a test uses, so `pytest -m "not slow and not servers and not browser"` is the quick part.
SERVER_FIXTURES = {"postgres_url", "postgres_server", "tansu", "tansu_factory", "seaweedfs", "server", "rtmp_relay"}
SLOW_FIXTURES = {"clip_run", "server"}
SLOW_MODULES = {"test_asr.py", "test_cli_clip.py", "test_live.py", "test_live_pull.py", "test_scale_out.py"}


def pytest_collection_modifyitems(items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        path = Path(str(item.fspath))
        if "web" in path.parts:
            item.add_marker(pytest.mark.browser)
        if used & SERVER_FIXTURES or "postgres" in item.name or path.name in {"test_scale_out.py", "test_live.py"}:
            item.add_marker(pytest.mark.servers)
        if used & SLOW_FIXTURES or path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
