"""The editor's list of expression names and functions is the engine's."""

import re
from pathlib import Path

from engine.expressions import _KNOWN_FUNCTIONS, CONTEXT_NAMES

TS = Path(__file__).parents[2] / "frontend/src/editor/expressions/celFunctions.ts"


def _keys(constant: str) -> set[str]:
    text = TS.read_text()
    body = re.search(rf"export const {constant}[^{{]*{{(.*?)\n}};", text, re.S)
    assert body is not None, constant
    return set(re.findall(r"^\s+(\w+):", body[1], re.M))


def test_the_editor_offers_exactly_the_functions_the_engine_allows() -> None:
    engine = {name for name in _KNOWN_FUNCTIONS if not name.startswith("_")}
    assert _keys("CEL_FUNCTIONS") == engine


def test_the_editor_offers_exactly_the_context_names() -> None:
    assert _keys("CONTEXT_NAMES") == set(CONTEXT_NAMES)
