"""Instructions per message of every bench client, ours and the peers', on
the bench's own workloads: where the client's CPU goes, without the noise.

    python3 bench/peer_icount.py --peers ours,picows,raw-tls-bio --workloads tls-recv-4k
    python3 bench/peer_icount.py --workloads send-64,rtt-64 --messages 5000

``run.py``'s CPU per message mixes the kernel's share (most of it on
loopback) with the client's own, and moves by a tenth between runs on a
shared machine.  This script runs one peer's bench client (``clients/``,
in its ``run.py`` environment, against ``servers.py``) under ``valgrind
--tool=callgrind`` twice, for about ``--messages`` messages and for two,
and prints the difference divided by the message count: the user-space
instructions one message costs that client, repeatable to within about
3% between invocations (bench/README.md).
Kernel work (the system calls themselves) is not in it: compare system
call counts with ``strace -c`` (bench/README.md has both).

The count includes the client's interpreter, its libraries (OpenSSL's
decryption, zlib) and the shared checks of ``clients/common.py``; a
client that spins while it waits counts its spinning (websocket-rs, whose
counts are not comparable for that reason).  Needs valgrind and the
environments ``run.py`` creates (run it once first).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench/run.py: the peers, their environments and clients, the server.
from run import (  # noqa: E402
    CLIENTS,
    PEERS,
    WORKLOADS,
    client_command,
    make_certificate,
    real_workload,
    runs_workload,
    start_server,
)


def instructions(peer: str, workload: str, port: int, scale: float) -> int:
    """Total instructions of one client run under callgrind."""
    cmd, env = client_command(peer, workload, port, scale)
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg", *cmd],
                              capture_output=True, text=True, env=env, timeout=1800, cwd=str(CLIENTS))
    if proc.returncode != 0:
        raise RuntimeError(f"{peer} {workload} failed: {proc.stderr.strip()[-600:]}")
    found = re.search(r"Collected : (\d+)", proc.stderr)  # every thread of the client
    if not found:
        raise RuntimeError(f"{peer} {workload}: no instruction count from valgrind: {proc.stderr[-500:]}")
    return int(found.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--peers", default="ours,ours-pure,picows,websockets,aiohttp,raw-socket")
    ap.add_argument("--workloads", default="rtt-64,send-64,recv-4k,tls-rtt-64,tls-recv-4k")
    ap.add_argument("--messages", type=int, default=5000, help="about this many messages per measured run")
    args = ap.parse_args()
    peers = [p for p in args.peers.split(",") if p]
    workloads = [w for w in args.workloads.split(",") if w]
    for name in peers:
        if name not in PEERS:
            sys.exit(f"unknown peer {name!r}; known: {', '.join(PEERS)}")
    for name in workloads:
        if real_workload(name) not in WORKLOADS:
            sys.exit(f"unknown workload {name!r}; known: {', '.join(WORKLOADS)}")
    make_certificate()
    print("| workload | client | instructions per message | messages |")
    print("|---|---|---:|---:|")
    for workload in workloads:
        count = WORKLOADS[real_workload(workload)][2]
        scale = min(1.0, args.messages / count)
        n = max(2, int(count * scale))
        for peer in peers:
            if not runs_workload(peer, workload):
                continue
            server, port = start_server()
            try:
                many = instructions(peer, workload, port, scale)
                # Two messages: start-up, imports, handshake and close.
                few = instructions(peer, workload, port, 2 / count)
            finally:
                server.kill()
                server.wait()
            print(f"| {workload} | {peer} | {(many - few) / (n - 2):,.0f} | {n:,} |", flush=True)


if __name__ == "__main__":
    main()
