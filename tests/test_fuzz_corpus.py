"""The fuzz corpus (fuzz/corpus/parser) replayed through the differential
target fuzz/fuzz_parser.py: both builds agree on every input kept, and the
inputs that found something stay as regression cases."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

from .conftest import NO_EXTENSIONS

FUZZ = pathlib.Path(__file__).resolve().parent.parent / "fuzz"
CORPUS = sorted((FUZZ / "corpus" / "parser").glob("*"))

pytestmark = pytest.mark.skipif(
    NO_EXTENSIONS, reason="differential: needs the compiled build beside the pure one"
)

#: Inputs worth keeping by name (base64 of the fuzzer's input bytes).
REGRESSIONS = {
    # A piecewise read of a compressed fragmented message failed on bad
    # deflate data before the frame had all arrived, where a whole read
    # waits for the frame's end: early detection, not a disagreement.
    "piecewise-fails-sooner": "BP8HAQAxnQDVAAAAMZ0A1QAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADEBADEBAAA=",
}


@pytest.fixture(scope="module")
def target():
    pytest.importorskip("atheris", reason="pip install -e '.[fuzz]' (Linux)")
    spec = importlib.util.spec_from_file_location("fuzz_parser", FUZZ / "fuzz_parser.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TestOneInput


def test_the_corpus_is_kept():
    assert len(CORPUS) >= 100


def test_every_corpus_input_passes(target):
    for path in CORPUS:
        target(path.read_bytes())


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regressions(target, name):
    import base64

    target(base64.b64decode(REGRESSIONS[name]))
