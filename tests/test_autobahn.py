"""Autobahn|Testsuite fuzzingserver, all 517 cases with permessage-deflate.

Runs ../shared/autobahn/serve.sh (it installs wstest on first use; root and
Debian's package mirror are needed) on a free loopback port, runs
tests/autobahn_testee.py in a subprocess, and fails unless every case is OK
or INFORMATIONAL (behaviour and close behaviour).  The compiled run of the
suite tests the compiled build and the WEBSOCKET_NO_EXTENSIONS=1 run the
pure one (``.ci/run`` does both): 12.* and 13.* take most of the time, so
each build runs them once, shared between two fuzzingservers (one per
core; each is a single-threaded process) and two testees, whose reports
are then read together.
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


#: Fuzzingservers (and testees) sharing the cases.
SERVERS = 2


@pytest.fixture(scope="module")
def fuzzingservers(tmp_path_factory):
    """``SERVERS`` fuzzingservers: [(URL, report directory)]."""
    serve = AUTOBAHN / "serve.sh"
    assert serve.exists(), f"Autobahn scripts not found at {AUTOBAHN}"
    workdir = tmp_path_factory.mktemp("autobahn")
    spec = workdir / "spec.json"
    spec.write_text(
        json.dumps({"url": "ws://127.0.0.1:9001", "outdir": "unused", "cases": ["*"],
                    "exclude-cases": [], "exclude-agent-cases": {}})
    )
    procs, logs, servers = [], [], []
    try:
        for i in range(SERVERS):
            reports, port, log_path = workdir / f"reports{i}", free_port(), workdir / f"server{i}.log"
            logs.append(open(log_path, "w+"))
            procs.append(subprocess.Popen(["bash", str(serve), str(spec), str(reports), str(port)],
                                          stdout=logs[-1], stderr=subprocess.STDOUT, start_new_session=True))
            deadline = time.monotonic() + 300 * TIMEOUT_FACTOR  # includes a first install
            while "Listening on" not in log_path.read_text():
                assert procs[-1].poll() is None, log_path.read_text()[-2000:]
                assert time.monotonic() < deadline, "fuzzingserver did not start"
                time.sleep(0.2)
            servers.append((f"ws://127.0.0.1:{port}", reports))
        yield servers
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()


IMPLEMENTATION = "python" if NO_EXTENSIONS else "cython"


@pytest.mark.timeout(1800 * TIMEOUT_FACTOR)
@pytest.mark.parametrize("implementation", [IMPLEMENTATION])
def test_autobahn_all_cases(fuzzingservers, implementation, tmp_path):
    agent = f"websocket-fast-{implementation}"
    env = dict(os.environ, WEBSOCKET_NO_EXTENSIONS="1" if implementation == "python" else "0")
    start = time.monotonic()
    # Output to files: a testee that prints much must not stall on a pipe
    # while the other one is waited for.
    outputs = [(tmp_path / f"testee{i}.out", tmp_path / f"testee{i}.err") for i in range(len(fuzzingservers))]
    testees = []
    try:
        for i, (url, _) in enumerate(fuzzingservers):
            with open(outputs[i][0], "w") as out, open(outputs[i][1], "w") as err:
                testees.append(subprocess.Popen(
                    [sys.executable, str(ROOT / "tests" / "autobahn_testee.py"), "--url", url,
                     "--agent", agent, "--share", f"{i + 1}/{len(fuzzingservers)}"],
                    env=env, stdout=out, stderr=err, text=True))
        for testee in testees:
            testee.wait(timeout=1500 * TIMEOUT_FACTOR)
    finally:
        for testee in testees:
            testee.kill()
    for testee, (out_path, err_path) in zip(testees, outputs, strict=True):
        assert testee.returncode == 0, err_path.read_text()[-3000:]
        # The testee ran the implementation asked for.
        assert f"({implementation})" in out_path.read_text()
    cases: dict = {}
    for _, reports in fuzzingservers:
        shared = json.loads((reports / "index.json").read_text())[agent]
        assert not cases.keys() & shared.keys(), "a case ran twice"
        cases.update(shared)
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
