import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures" / "catalog"
BANNED = ("最[\u4e00-\u9fff]", "第一", "唯一|国家级")
EXCEPTIONS = ("最近|最后", "第一(次|个|款)")


def product_json(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def cardigan_result():
    from catalog import extract

    return extract(product_json("product_cardigan.json"), None, base_dir=FIXTURES)
