"""What a type checker sees (py.typed): a typed user script passes
``mypy --strict``, and the mistakes in tests/typing/misuse.py are caught,
each where its ``# E: code`` comment says."""

from __future__ import annotations

import inspect
import os
import re

import pytest
from mypy import api

import websocket
from websocket import ClientOptions, TextBytesMessage, WsClient

HERE = os.path.join(os.path.dirname(__file__), "typing")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.timeout(300)


def mypy_strict(name: str) -> tuple[str, int]:
    # From the repository root, as a user's mypy finds an installed
    # package (the editable install's import hook is invisible to mypy).
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        out, err, status = api.run(
            ["--strict", "--no-incremental", "--python-version", "3.10", os.path.join(HERE, name)]
        )
    finally:
        os.chdir(cwd)
    return out + err, status


def test_a_typed_user_script_passes_mypy_strict():
    out, status = mypy_strict("user_script.py")
    assert status == 0, out


def test_misuse_is_caught_where_marked():
    out, status = mypy_strict("misuse.py")
    assert status == 1, out
    with open(os.path.join(HERE, "misuse.py")) as f:
        expected = {
            (n, m.group(1))
            for n, line in enumerate(f, 1)
            if (m := re.search(r"# E: ([\w-]+)", line))
        }
    found = {
        (int(m.group(1)), m.group(2))
        for m in re.finditer(r"misuse\.py:(\d+): error: .*\[([\w-]+)\]", out)
    }
    assert found == expected, out


def test_client_options_are_what_wsclient_takes():
    # The overloads take ClientOptions; __init__ documents them: one list.
    params = inspect.signature(WsClient.__init__).parameters
    taken = {name: p.annotation for name, p in params.items() if name not in ("self", "url", "decode_text")}
    declared = {name: getattr(t, "__forward_arg__", t) for name, t in ClientOptions.__annotations__.items()}
    assert taken == declared


def test_the_generic_client_subscripts_at_run_time():
    # What a user writes in an annotation evaluated at run time.
    alias = WsClient[TextBytesMessage]
    assert alias.__origin__ is WsClient and alias.__args__ == (TextBytesMessage,)
    assert websocket.connect.__wrapped__ is WsClient  # help() shows WsClient's options
