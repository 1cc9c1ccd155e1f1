import ast
from pathlib import Path

CATALOG = Path(__file__).parents[2] / "catalog"


def test_catalog_imports_only_contracts_from_the_project():
    for path in CATALOG.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top not in ("stream", "segmenter", "clipper", "distribution"), f"{path.name} imports {name}"
                if top == "livecut":
                    assert name.startswith("livecut.contracts"), f"{path.name} imports {name}"
