"""The package's layout rules (docs/how-it-works.rst): rooms small enough to
name, and one source for both builds."""

from __future__ import annotations

import ast
import pathlib

import pytest

import websocket

PACKAGE = pathlib.Path(websocket.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_800_lines_nor_class_over_500(path):
    text = path.read_text()
    assert text.count("\n") <= 800, f"{path.name} has {text.count(chr(10))} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef):
            size = node.end_lineno - node.lineno + 1
            assert size <= 500, f"class {node.name} in {path.name} has {size} lines"


def test_at_most_three_compiled_only_branches():
    # A step only C can take is a primitive with a pure twin (_speedups),
    # not a second code path in a room.
    found = [
        f"{path.name}:{number}"
        for path in SOURCES
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "cython.compiled" in line and not line.lstrip().startswith("#")
    ]
    assert len(found) <= 3, found
