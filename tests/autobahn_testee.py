"""Autobahn|Testsuite testee: echoes every case of a running fuzzingserver.

    python tests/autobahn_testee.py [--url ws://127.0.0.1:9001] [--agent NAME] [--share K/N]

The standard flow (../shared/autobahn/README.md): read the case count from
/getCaseCount, connect to /runCase?case=i&agent=NAME for each case and echo
every text and binary message back until the connection closes (pings are
answered by the client, protocol errors close the connection as the RFC
says), then /updateReports.  The agent name defaults to
"websocket-fast-<implementation>".

Every case offers permessage-deflate (cases 12.* and 13.* compress; the
others must work with it on).  Cases 13.2, 13.5 and 13.6 only accept an
offer that includes client_no_context_takeover (the fuzzingserver reads it
as "may ask the client not to take over context"): the testee asks
/getCaseInfo for the case's id and adds it there, so that the other cases
exercise context takeover in the client's compressor.

``--share K/N`` runs cases K, K+N, K+2N... only (K from 1): N testees, each
with its own fuzzingserver, share the cases (tests/test_autobahn.py runs
two, one per core: the fuzzingserver is one single-threaded process, and
most of the time goes to its zlib in 12.* and 13.*).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import websocket  # noqa: E402
from websocket import ConnectionClosed, WebSocketError, WsClient  # noqa: E402

NO_CONTEXT_TAKEOVER = ("13.2.", "13.5.", "13.6.")


def case_id(base: str, case: int) -> str:
    with WsClient(f"{base}/getCaseInfo?case={case}") as ws:
        return str(json.loads(ws.receive()["data"])["id"])


def run_case(url: str, case: str = "") -> None:
    try:
        ws = WsClient(url, max_size=None, timeout=60, close_timeout=5, compression="deflate",
                      client_no_context_takeover=case.startswith(NO_CONTEXT_TAKEOVER))
    except (WebSocketError, OSError) as exc:
        print(f"  connect failed: {exc!r}", file=sys.stderr)
        return
    try:
        while True:
            msg = ws.receive()
            kind = msg["type"]
            if kind == "text" or kind == "binary":
                ws.send(msg["data"])
            elif kind == "close":
                break
    except ConnectionClosed:
        pass
    except WebSocketError:  # a protocol error: the client already failed the connection
        pass
    finally:
        ws.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="ws://127.0.0.1:9001")
    ap.add_argument("--agent", default=f"websocket-fast-{websocket.implementation}")
    ap.add_argument("--share", default="1/1", help="K/N: cases K, K+N, K+2N... (K from 1)")
    args = ap.parse_args()
    first, step = (int(part) for part in args.share.split("/"))
    with WsClient(f"{args.url}/getCaseCount") as ws:
        count = int(ws.receive()["data"])
    print(f"{count} cases, agent {args.agent} ({websocket.implementation})", flush=True)
    start = time.monotonic()
    for case in range(first, count + 1, step):
        run_case(f"{args.url}/runCase?case={case}&agent={args.agent}", case_id(args.url, case))
    with WsClient(f"{args.url}/updateReports?agent={args.agent}") as ws:
        for _ in ws:
            pass
    print(f"done in {time.monotonic() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main()
