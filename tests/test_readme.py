"""The README's examples (the seed interface's, in Python) run for real.

Every ```python block of the "## Examples" section runs against the demo
server of ``python -m websocket`` (ws://localhost:8080 is replaced by its
address), and its output is checked.  The "Try it" command runs too.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from websocket._demo import DemoServer

from .conftest import NO_EXTENSIONS
from .servers import T

README = Path(__file__).resolve().parent.parent / "README.md"


def example_blocks() -> list[str]:
    text = README.read_text()
    section = text.split("## Examples", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


EXPECTED = [
    ["server says: hello"],
    ["got text: first", "got text: second", "closed: feed done"],
    ["binary payload of 3 bytes", "pong type: pong", "open", "closed"],
    ["text first", "text second", "still open: open"],
    ["1000 tick 999"],
    ["binary 10890", "binary 3 010203", "b'{\"price\": 101.5}'"],
    ["upgrade accepted"],
]


def test_examples_are_all_checked():
    assert len(example_blocks()) == len(EXPECTED)


@pytest.mark.parametrize("index", range(len(EXPECTED)))
def test_readme_example(index):
    code = example_blocks()[index]
    with DemoServer() as server:
        code = code.replace("ws://localhost:8080", server.url)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"README example {index + 1}", "exec"), {})
    assert out.getvalue().splitlines() == EXPECTED[index]


def test_the_try_it_command_runs_from_the_repository_root():
    """The README's main command, as a user runs it: from the repository
    root (where the checkout could shadow the installed package)."""
    section = README.read_text().split("## Try it", 1)[1].split("\n## ", 1)[0]
    (command,) = re.findall(r"```sh\n(.*?)\n```", section, flags=re.S)
    assert command.endswith("pip install -e . && python -m websocket --demo"), command
    out = subprocess.run(
        [sys.executable, "-m", "websocket", "--demo"],
        cwd=README.parent,
        capture_output=True,
        text=True,
        timeout=3 * T,
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""  # no warning: the build is found
    first = out.stdout.splitlines()[0]
    assert first.startswith("websocket-fast ")
    assert first.endswith("(python codec)" if NO_EXTENSIONS else "(cython codec)"), first
    for line in ["server says: hello", "pong type: pong", "closed: feed done (code 1000)", "upgrade accepted"]:
        assert line in out.stdout
