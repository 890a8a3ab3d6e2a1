"""Autobahn|Testsuite fuzzingserver, all 517 cases with permessage-deflate.

Runs ../shared/autobahn/serve.sh (it installs wstest on first use; root and
Debian's package mirror are needed) on a free loopback port, runs
tests/autobahn_testee.py in a subprocess, and fails unless every case is OK
or INFORMATIONAL (behaviour and close behaviour).  The compiled run of the
suite tests the compiled build and the WEBSOCKET_NO_EXTENSIONS=1 run the
pure one (``.ci/run`` does both): 12.* and 13.* take most of the time, so
each build runs them once.
Set WEBSOCKET_AUTOBAHN=0 to leave it out of a local run; it is a test error,
not a skip, when ../shared/autobahn is missing.
"""

from __future__ import annotations

import collections
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import NO_EXTENSIONS, TIMEOUT_FACTOR

ROOT = Path(__file__).resolve().parent.parent
AUTOBAHN = Path(os.environ.get("WEBSOCKET_AUTOBAHN_DIR", ROOT.parent / "shared" / "autobahn"))
GOOD = {"OK", "INFORMATIONAL"}

pytestmark = [
    pytest.mark.autobahn,
    pytest.mark.skipif(os.environ.get("WEBSOCKET_AUTOBAHN", "1") == "0", reason="WEBSOCKET_AUTOBAHN=0"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def fuzzingserver(tmp_path_factory):
    serve = AUTOBAHN / "serve.sh"
    assert serve.exists(), f"Autobahn scripts not found at {AUTOBAHN}"
    workdir = tmp_path_factory.mktemp("autobahn")
    spec = workdir / "spec.json"
    spec.write_text(
        json.dumps({"url": "ws://127.0.0.1:9001", "outdir": "unused", "cases": ["*"],
                    "exclude-cases": [], "exclude-agent-cases": {}})
    )
    reports, port = workdir / "reports", free_port()
    log = open(workdir / "server.log", "w+")
    proc = subprocess.Popen(["bash", str(serve), str(spec), str(reports), str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 300 * TIMEOUT_FACTOR  # includes a first install
        while "Listening on" not in (workdir / "server.log").read_text():
            assert proc.poll() is None, (workdir / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "fuzzingserver did not start"
            time.sleep(0.2)
        yield f"ws://127.0.0.1:{port}", reports
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


IMPLEMENTATION = "python" if NO_EXTENSIONS else "cython"


@pytest.mark.timeout(1800 * TIMEOUT_FACTOR)
@pytest.mark.parametrize("implementation", [IMPLEMENTATION])
def test_autobahn_all_cases(fuzzingserver, implementation):
    url, reports = fuzzingserver
    agent = f"websocket-fast-{implementation}"
    env = dict(os.environ, WEBSOCKET_NO_EXTENSIONS="1" if implementation == "python" else "0")
    start = time.monotonic()
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "autobahn_testee.py"), "--url", url,
                          "--agent", agent], env=env, capture_output=True, text=True,
                         timeout=1500 * TIMEOUT_FACTOR)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"({implementation})" in out.stdout  # the testee ran the implementation asked for
    cases = json.loads((reports / "index.json").read_text())[agent]
    behaviours = collections.Counter(c["behavior"] for c in cases.values())
    closes = collections.Counter(c["behaviorClose"] for c in cases.values())
    print(f"\n{agent}: {len(cases)} cases in {time.monotonic() - start:.1f} s: "
          f"{dict(behaviours)}, close: {dict(closes)}")
    bad = {k: (c["behavior"], c["behaviorClose"]) for k, c in cases.items()
           if c["behavior"] not in GOOD or c["behaviorClose"] not in GOOD}
    assert not bad, f"{len(bad)} cases not OK/INFORMATIONAL: {sorted(bad.items())[:30]}"
    assert len(cases) == 517
    deflate_cases = [k for k in cases if k.startswith(("12.", "13."))]
    assert len(deflate_cases) == 216
