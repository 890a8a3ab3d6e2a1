"""``python -m websocket URL`` (and the ``websocket`` command): an
interactive client, in the manner of websocket-client's ``wsdump`` and
``python -m websockets``.

Each line typed is sent as a message (text, or binary with ``--binary``);
each message received is printed with its type: ``< text``, ``< (binary,
5 B) b'...'`` (hex with ``--hex``), ``< (ping) ...``, ``< (close 1000
'bye')``.  Ctrl-D or Ctrl-C closes the connection with the closing
handshake (RFC 6455 section 7) and exits; so does the server's close.
``--demo`` runs the package's tour against a local demo server instead.

Exit status: 0 after a clean close, 1 when the connection could not be
opened or ended abnormally, 2 for bad arguments.
"""

from __future__ import annotations

import _thread
import argparse
import logging
import os
import signal
import ssl
import sys
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from ._client import WsClient
from ._codec import implementation
from ._exceptions import ConnectionClosed, InvalidURI, WebSocketError
from ._url import parse_url

__all__ = ["main", "parse_args"]

_VERSION_LINE = "websocket-fast {version} ({implementation} codec)"
#: A line printed while the user types at the prompt, on an ANSI terminal:
#: save the cursor (on the prompt's line); a line feed, which scrolls when
#: the prompt is on the last row; back up to the prompt's line; insert a
#: blank line there, which moves the prompt down; print the message in it;
#: restore the cursor, which is then on the row the message took (or, after
#: a scroll, on the prompt's), and go down to the prompt.
_ABOVE_THE_PROMPT = "\x1b7\n\x1b[A\x1b[L{}\n\x1b8\x1b[B"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="websocket",
        description="Interactive WebSocket client: lines typed are sent, messages "
        "received are printed. Ctrl-D or Ctrl-C closes.",
    )
    parser.add_argument("url", nargs="?", help="ws:// or wss:// URL to connect to")
    parser.add_argument("--demo", action="store_true", help="run the tour against a local demo server")
    parser.add_argument(
        "--version",
        action="version",
        version=_VERSION_LINE.format(version=__version__, implementation=implementation),
    )
    parser.add_argument("-b", "--binary", action="store_true", help="send lines as binary messages")
    parser.add_argument(
        "-x",
        "--hex",
        action="store_true",
        help="show binary messages in hex (and, with --binary, read lines as hex)",
    )
    parser.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="extra request header (repeatable)",
    )
    parser.add_argument(
        "-s", "--subprotocol", action="append", default=[], help="subprotocol to offer (repeatable)"
    )
    parser.add_argument(
        "--compression",
        choices=["deflate", "none"],
        default="none",
        help="offer permessage-deflate (default: none)",
    )
    parser.add_argument(
        "--proxy",
        metavar="URL",
        help="http://, https://, socks4://, socks5:// or socks5h:// proxy "
        "(default: from the environment)",
    )
    parser.add_argument("--no-proxy", action="store_true", help="ignore proxy environment variables")
    parser.add_argument(
        "-k", "--insecure", action="store_true", help="wss://: do not verify the server's certificate"
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to connect and handshake (default 10)"
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log connection events; -vv: every frame too"
    )
    args = parser.parse_args(argv)
    if args.demo == (args.url is not None):
        parser.error("give a URL, or --demo")
    if args.url is not None:
        try:
            parse_url(args.url)
        except InvalidURI as exc:
            parser.error(str(exc))
    for header in args.header:
        if ":" not in header:
            parser.error(f"--header {header!r} is not 'Name: value'")
    if args.proxy is not None and args.no_proxy:
        parser.error("--proxy and --no-proxy contradict each other")
    return args


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """WsClient's keyword arguments from the command line."""
    options: dict[str, Any] = {
        "timeout": args.timeout,
        "headers": [tuple(part.strip() for part in h.split(":", 1)) for h in args.header],
        "subprotocols": args.subprotocol or None,
        "compression": "deflate" if args.compression == "deflate" else None,
    }
    if args.proxy is not None:
        options["proxy"] = args.proxy
    elif args.no_proxy:
        options["proxy"] = None
    if args.insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        options["ssl_context"] = context
    return options


def describe(msg: dict[str, Any], hex_binary: bool) -> str:
    """How a received message is printed."""
    kind, data = msg["type"], msg["data"]
    if kind == "text":
        return str(data)
    if kind == "close":
        return f"(close {msg['code']} {msg['reason']!r})"
    shown = data.hex(" ") if hex_binary else repr(data)
    if kind == "binary":
        return f"(binary, {len(data)} B) {shown}"
    return f"({kind}) {shown}"


def _wake_main_thread() -> None:
    """Run the SIGINT handler in the main thread, even while it blocks
    reading a line: a real SIGINT sent to that thread interrupts the read
    (interrupt_main() alone only sets a flag checked after it returns)."""
    if hasattr(signal, "pthread_kill"):
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
    else:  # Windows
        _thread.interrupt_main()


class _Session:
    """One connection: the main thread reads lines and sends them, a
    daemon thread receives and prints."""

    def __init__(self, ws: WsClient, args: argparse.Namespace, out: TextIO) -> None:
        self.ws = ws
        self.args = args
        self.out = out
        self.print_lock = threading.Lock()
        self.ended: str | None = None  # how the receiver saw the end
        self.clean = True
        self.closing = False  # we are closing: the receiver leaves input() be
        self.reading = False  # the main thread waits for a line
        self.interrupted = False  # Ctrl-C, or the receiver ended the session
        self.woken = threading.Event()  # the main thread left its input loop
        self.redraw = False  # a terminal that takes ANSI escapes (run())

    def show(self, line: str) -> None:
        with self.print_lock:
            if self.reading and self.redraw:
                # The prompt and what was typed so far stay on their own
                # line: the message goes in a line inserted above it.
                self.out.write(_ABOVE_THE_PROMPT.format(line))
            else:
                self.out.write(line + "\n")
            self.out.flush()

    def receive_loop(self) -> None:
        try:
            while True:
                msg: Any = self.ws.receive()
                self.show("< " + describe(msg, self.args.hex))
                if msg["type"] == "close":
                    self.ended = "the server closed the connection"
                    self.clean = msg["code"] in (1000, 1001, 1005)
                    break
        except ConnectionClosed as exc:
            if self.closing and exc.code != 1006:
                # Our close() read the server's close frame first (this
                # thread had not started its receive yet): show it all the
                # same, so the session prints the same whichever thread took it.
                close = {"type": "close", "code": exc.code, "reason": exc.reason, "data": b""}
                self.show("< " + describe(close, False))
            self.ended = f"connection closed: {exc}"
            self.clean = exc.code in (1000, 1001, 1005)
        except WebSocketError as exc:
            self.ended = f"connection failed: {exc}"
            self.clean = False
        if not self.closing:
            # Out of the input() of run().  One signal is not enough: landing
            # just before input() blocks in its read, it is only looked at
            # when a line comes (seen in CI: the session hung).  Repeat it
            # until the main thread says it is out.
            _wake_main_thread()
            while not self.woken.wait(0.05):
                _wake_main_thread()

    def payload(self, line: str) -> str | bytes | None:
        if not self.args.binary:
            return line
        if not self.args.hex:
            return line.encode("utf-8")
        try:
            return bytes.fromhex(line)
        except ValueError:
            self.show(f"! not hex: {line!r}")
            return None

    def on_sigint(self, signum: int, frame: object) -> None:
        """Ctrl-C, or the receiver waking us: interrupt a read in progress;
        at any other moment (a send under way) leave a note for the loop,
        so that no KeyboardInterrupt lands outside the loop's handler."""
        self.interrupted = True
        if self.reading:
            raise KeyboardInterrupt

    def read_line(self, stdin: TextIO, interactive: bool) -> str | None:
        """The next line; None at the end of the input or when interrupted."""
        self.reading = True
        try:
            if self.interrupted:
                return None
            line = input("> ") if interactive else stdin.readline()
        except (EOFError, KeyboardInterrupt):
            return None
        finally:
            self.reading = False
        return line if interactive or line else None

    def run(self, stdin: TextIO) -> int:
        interactive = stdin.isatty()
        self.redraw = interactive and self.out.isatty() and os.environ.get("TERM", "dumb") != "dumb"
        previous = signal.signal(signal.SIGINT, self.on_sigint)
        receiver = threading.Thread(target=self.receive_loop, name="websocket-receive", daemon=True)
        try:
            receiver.start()
            while self.ended is None and not self.interrupted:
                line = self.read_line(stdin, interactive)
                if line is None:
                    break
                data = self.payload(line.rstrip("\r\n"))
                if data is not None:
                    try:
                        self.ws.send(data)
                    except ConnectionClosed:
                        break  # the receiver says how it ended
            self.woken.set()
            if self.ended is None:  # Ctrl-D, Ctrl-C, end of input: we close
                self.closing = True
                if interactive:
                    self.show("")
                # Our close frame goes out, and the receiver goes on printing
                # the replies still on their way until the server's close
                # (close() alone would discard them as it waits).
                wait = 10.0 if self.ws.close_timeout is None else self.ws.close_timeout
                try:
                    self.ws.send_close()
                except WebSocketError:
                    pass  # the receiver reports how it ended
                receiver.join(wait)
                self.ws.close()
                receiver.join(wait)
                self.show("closed")
                return 0
            receiver.join(self.ws.close_timeout or 10.0)
            self.show(f"! {self.ended}")
            return 0 if self.clean else 1
        finally:
            self.woken.set()
            signal.signal(signal.SIGINT, previous)


def main(argv: Sequence[str] | None = None) -> None:
    """The ``websocket`` command; exits with its status."""
    args = parse_args(argv)
    if args.demo:
        from ._demo import run_demo

        run_demo()
        return
    if args.verbose:
        logging.basicConfig(stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        logging.getLogger("websocket").setLevel(logging.DEBUG)
        if args.verbose < 2:
            logging.getLogger("websocket.frames").setLevel(logging.INFO)
    # No readline: it switches the terminal out of canonical mode only while
    # it reads, so a Ctrl-D typed before the first prompt would be lost.
    try:
        ws = WsClient(args.url, **_options(args))
    except (WebSocketError, OSError, ValueError, TypeError) as exc:
        print(f"websocket: cannot connect to {args.url}: {exc}", file=sys.stderr)
        sys.exit(1)
    details = [f"subprotocol {ws.subprotocol}"] if ws.subprotocol else []
    if ws.compression:
        details.append(f"compression {ws.compression}")
    extra = f" ({', '.join(details)})" if details else ""
    print(f"connected to {ws.url}{extra}; Ctrl-D or Ctrl-C to close", flush=True)
    sys.exit(_Session(ws, args, sys.stdout).run(sys.stdin))
