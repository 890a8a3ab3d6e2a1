"""Memory per open, idle connection: this client beside its peers.

    python3 bench/idle_memory.py                     # 500 connections each
    python3 bench/idle_memory.py --connections 1000 --peers ours,websockets

For each client, a fresh process (in the peer's virtual environment,
created by bench/run.py's rules under bench/.venvs) opens one connection
to warm up, then ``--connections`` connections to a local echo server
(the ``websockets`` asyncio server, in this environment), sends 1 KiB on
each and reads its echo, and leaves them open and idle.  It reports the
growth of its resident memory (``/proc/self/statm``) divided by the count:
what each idle connection keeps, buffers, objects and threads included
(websockets' sync client runs a thread per connection).  Then it closes
them all and reports what stayed (``after close``): memory the allocator
kept, not a leak by itself.  Linux only (``/proc``).

    python3 bench/idle_memory.py --churn 2000        # open/close cycles

With ``--churn``, each client opens a connection, echoes one message
(``--churn-size`` bytes) and closes it, that many times one after the
other, and reports its RSS growth since the first 100 cycles at four
points: a client whose memory follows the work stays flat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import ENVS, ensure_env, env_python  # noqa: E402

#: peer: (bench env, extra environment, how it opens, sends, receives, closes)
PEERS = {
    "ours": ("ours", {"WEBSOCKET_NO_EXTENSIONS": "0"},
             "from websocket import WsClient as open_",
             "ws.send(data)", "ws.receive()", "ws.close()"),
    "ours-pure": ("ours", {"WEBSOCKET_NO_EXTENSIONS": "1"},
                  "from websocket import WsClient as open_",
                  "ws.send(data)", "ws.receive()", "ws.close()"),
    "websocket-client": ("websocket-client", {},
                         "from websocket import create_connection as open_",
                         "ws.send_binary(data)", "ws.recv()", "ws.close()"),
    "websockets": ("websockets", {},
                   "from websockets.sync.client import connect as open_",
                   "ws.send(data)", "ws.recv()", "ws.close()"),
    "websocket-rs": ("websocket-rs", {},
                     "from websocket_rs.sync.client import connect as open_",
                     "ws.send(data)", "ws.recv()", "ws.close()"),
}

#: The client process: {opening import} and the calls are filled in.
CHILD = """
import gc, json, os, resource, sys
{opening}

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
url, count = sys.argv[1], int(sys.argv[2])
data = b"x" * 1024
ws = open_(url)
{send}; {receive}; {close}
gc.collect()
before = rss()
conns = []
for _ in range(count):
    ws = open_(url)
    {send}
    {receive}
    conns.append(ws)
gc.collect()
open_rss = rss()
for ws in conns:
    {close}
del conns, ws
gc.collect()
print(json.dumps({{"open": (open_rss - before) / count, "after_close": (rss() - before) / count}}))
"""


#: The churning client: open, echo, close, ``cycles`` times.
CHURN = """
import gc, json, os, sys
{opening}

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

url, cycles, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = b"x" * size
marks = {{}}
base = None
for i in range(1, cycles + 1):
    ws = open_(url)
    {send}
    {receive}
    {close}
    del ws
    if i == 100:
        gc.collect()
        base = rss()
    if i % (cycles // 4) == 0:
        gc.collect()
        marks[i] = rss() - base
print(json.dumps(marks))
"""


def serve(ready: threading.Event, port: list[int], stop: threading.Event) -> None:
    """An echo server (websockets, asyncio) in this thread until ``stop``."""
    from websockets.asyncio.server import serve as ws_serve

    async def echo(conn) -> None:
        async for message in conn:
            await conn.send(message)

    async def main() -> None:
        async with ws_serve(echo, "127.0.0.1", 0, max_size=None, compression=None) as server:
            port.append(server.sockets[0].getsockname()[1])
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.1)

    asyncio.run(main())


def measure(peer: str, url: str, count: int) -> dict:
    env_name, extra, opening, send, receive, close = PEERS[peer]
    code = CHILD.format(opening=opening, send=send, receive=receive, close=close)
    env = dict(os.environ, **extra)
    env.pop("VIRTUAL_ENV", None)
    out = subprocess.run([str(env_python(env_name)), "-c", code, url, str(count)],
                         capture_output=True, text=True, env=env, cwd=str(HERE / "clients"), timeout=600)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout)


def churn(peer: str, url: str, cycles: int, size: int) -> dict:
    env_name, extra, opening, send, receive, close = PEERS[peer]
    code = CHURN.format(opening=opening, send=send, receive=receive, close=close)
    env = dict(os.environ, **extra)
    env.pop("VIRTUAL_ENV", None)
    out = subprocess.run([str(env_python(env_name)), "-c", code, url, str(cycles), str(size)],
                         capture_output=True, text=True, env=env, cwd=str(HERE / "clients"), timeout=1200)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--connections", type=int, default=500)
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--no-reinstall", action="store_true", help="keep the installed copy of this project")
    ap.add_argument("--churn", type=int, default=0, help="open/echo/close cycles instead (at least 400)")
    ap.add_argument("--churn-size", type=int, default=1024, help="the message each churn cycle echoes")
    args = ap.parse_args()
    if args.churn and args.churn < 400:
        ap.error(f"--churn takes at least 400 cycles, not {args.churn}")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    peers = args.peers.split(",")
    for env in dict.fromkeys(PEERS[p][0] for p in peers):
        assert env in ENVS, env
        why = ensure_env(env, reinstall_ours=not args.no_reinstall and env == "ours")
        if why:
            print(f"{env}: {why}", file=sys.stderr)
            peers = [p for p in peers if PEERS[p][0] != env]
    ready, stop, port = threading.Event(), threading.Event(), []
    server = threading.Thread(target=serve, args=(ready, port, stop), daemon=True)
    server.start()
    ready.wait(30)
    url = f"ws://127.0.0.1:{port[0]}/"
    if args.churn:
        n = args.churn
        print(f"{n} open/echo/close cycles of {args.churn_size} bytes; RSS growth since cycle 100")
        print("| client | " + " | ".join(f"cycle {n * k // 4}" for k in range(1, 5)) + " |")
        print("|---|" + "---:|" * 4)
        for peer in peers:
            got = churn(peer, url, n, args.churn_size)
            if "error" in got:
                print(f"| {peer} | failed: {got['error']} | | | |")
            else:
                print(f"| {peer} | " + " | ".join(f"{v / 2**20:+.1f} MiB" for v in got.values()) + " |")
            sys.stdout.flush()
        stop.set()
        server.join(5)
        return
    print(f"{args.connections} idle connections each, one 1 KiB echo on each; RSS growth per connection")
    print("| client | open, idle | after close |\n|---|---:|---:|")
    for peer in peers:
        got = measure(peer, url, args.connections)
        if "error" in got:
            print(f"| {peer} | failed: {got['error']} | |")
        else:
            print(f"| {peer} | {got['open'] / 1024:.1f} KiB | {got['after_close'] / 1024:.1f} KiB |")
        sys.stdout.flush()
    stop.set()
    server.join(5)


if __name__ == "__main__":
    main()
