"""The layout's rules, checked on the code: domain packages stay apart, the API stays light."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ("stream", "segmenter", "clipper", "catalog", "distribution")
# What the API process must never load: the models and the media libraries.
HEAVY = ("faster_whisper", "ctranslate2", "torch", "av", "cv2", "scipy")


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def domain_files(domain: str) -> list[Path]:
    return sorted((ROOT / domain).rglob("*.py")) if (ROOT / domain).is_dir() else []


def forbidden(name: str, domain: str) -> bool:
    """Whether a module of `domain` may not import `name`: shell code other than the contracts, or another domain."""
    top = name.split(".")[0]
    if top == "livecut":
        return name != "livecut.contracts" and not name.startswith("livecut.contracts.")
    return top in DOMAINS and top != domain


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_domain_imports_only_the_contracts_of_the_shell_and_no_other_domain(domain):
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in domain_files(domain)
        for name in imported_modules(path)
        if forbidden(name, domain)
    ]
    assert not wrong, "\n".join(wrong)


def test_the_boundary_check_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from livecut.store import MetadataStore\nimport segmenter.asr\n", encoding="utf-8")
    assert imported_modules(bad) == ["livecut.store", "segmenter.asr"]
    assert forbidden("livecut.store", "stream") and forbidden("segmenter.asr", "clipper")
    assert not forbidden("livecut.contracts.events", "clipper") and not forbidden("clipper.captions", "clipper")


@pytest.mark.parametrize("domain", [d for d in DOMAINS if (ROOT / d).is_dir()])
def test_each_domain_package_has_a_facade_whose_names_resolve(domain):
    package = importlib.import_module(domain)
    assert package.__all__, f"{domain}/__init__.py lists no public names"
    for name in package.__all__:
        assert getattr(package, name) is not None


def test_importing_the_api_loads_no_model_or_media_code():
    probe = "import sys, livecut.api; print(' '.join(sorted(m for m in sys.modules if '.' not in m)))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    top_level = set(loaded.stdout.split())
    assert "fastapi" in top_level
    assert not top_level & set(HEAVY), sorted(top_level & set(HEAVY))


def test_at_most_about_ten_modules_stay_directly_in_the_shell():
    flat = [p.name for p in (ROOT / "livecut").glob("*.py")]
    assert len(flat) <= 10, flat
