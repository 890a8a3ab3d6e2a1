"""The fuzz corpora replayed through their targets: fuzz/corpus/parser
through the differential parser target (both builds agree on every input
kept), fuzz/corpus/helpers through the helpers' target (each helper meets
its oracle), fuzz/corpus/client through the client target (WsClient over a
socket pair returns what the protocol makes of the bytes); the inputs that found something stay as regression cases."""

from __future__ import annotations

import base64
import importlib.util
import pathlib
import sys

import pytest

from .conftest import NO_EXTENSIONS

FUZZ = pathlib.Path(__file__).resolve().parent.parent / "fuzz"
TARGETS = {"parser": "fuzz_parser.py", "helpers": "fuzz_helpers.py", "client": "fuzz_client.py"}

pytestmark = pytest.mark.skipif(
    NO_EXTENSIONS, reason="differential: needs the compiled build beside the pure one"
)

#: Inputs of the parser target worth keeping by name (base64 of the
#: fuzzer's input bytes).
REGRESSIONS = {
    # A piecewise read of a compressed fragmented message failed on bad
    # deflate data before the frame had all arrived, where a whole read
    # waits for the frame's end: early detection, not a disagreement.
    "piecewise-fails-sooner": "BP8HAQAxnQDVAAAAMZ0A1QAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAADEBADEBAAA=",
    # The same, failing on another fault: invalid UTF-8 in the output of a
    # piece (1007) where the whole frame is bad deflate data first (1002).
    "piecewise-fails-on-another-fault": "rzsBAEERW0EEOwEBAAH/////////////////////////////////////////////////////////////////////////AEEEAN09",
}


def load_target(name: str):
    pytest.importorskip("atheris", reason="pip install -e '.[fuzz]' (Linux)")
    sys.path.insert(0, str(FUZZ))  # the targets import fuzz/common.py
    spec = importlib.util.spec_from_file_location(f"fuzz_{name}", FUZZ / TARGETS[name])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TestOneInput


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_corpus_input_passes(name):
    corpus = sorted((FUZZ / "corpus" / name).glob("*"))
    assert len(corpus) >= 30, f"the {name} corpus is missing"
    target = load_target(name)
    for path in corpus:
        target(path.read_bytes())


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_parser_regressions(name):
    load_target("parser")(base64.b64decode(REGRESSIONS[name]))


#: Inputs of fuzz_helpers.py that found a bug.
HELPER_REGRESSIONS = {
    # A masked frame announcing 2**63 - 1 bytes: the compiled decode_frame
    # wrapped header size + length and returned an empty frame where the
    # pure one raised IncompleteFrame (fixed in decode_frame and the
    # parser's max_size check; tests/test_reader.py has the direct tests).
    "length-2**63-wraps": "Ev9//////////////////////////////////////////////////////////////w==",
}


@pytest.mark.parametrize("name", sorted(HELPER_REGRESSIONS))
def test_helper_regressions(name):
    load_target("helpers")(base64.b64decode(HELPER_REGRESSIONS[name]))
