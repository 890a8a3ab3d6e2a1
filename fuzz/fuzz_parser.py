"""Differential fuzz target for the receive path's parser (atheris).

The input chooses the parser's options (``max_size``, ``decode_text``,
permessage-deflate on or off), how the bytes are cut into reads, and
whether messages are read whole (``next_message``) or piecewise
(``next_piece``); the rest is the bytes a server sends.  Both builds of
the receiving rooms (``_buffer.py``, ``_reader.py``, ``_parser.py``)
parse the same reads, and must agree exactly: the same
messages and control frames in the same order, then the same exception
type and close code.  Read piecewise, the pieces of each message joined
must equal what a whole read returns (with permessage-deflate, a
piecewise read may fail sooner, or on another fault of the same stream:
see same_until_failure).  Coverage guides the fuzzer through
the pure build (Python bytecode, instrumented by atheris); the compiled
build runs the same paths as C.

    python fuzz/fuzz_parser.py fuzz/corpus/parser -max_total_time=60
    python fuzz/fuzz_parser.py fuzz/corpus/parser -runs=...   # longer

Any disagreement, crash or unexpected exception type stops the run and
writes the input to ``crash-*`` (a regression test then replays it).
"""

from __future__ import annotations

import sys
import zlib
from typing import Any

import atheris
from common import both_builds, split

from websocket._exceptions import MessageTooBig, ProtocolError

pure, compiled = both_builds("fuzz_parser")

EXPECTED = (ProtocolError, MessageTooBig)


def parse(protocol: Any, reads: list[bytes], max_size: int | None, decode_text: bool,
          deflate: bool, piecewise: bool) -> list[Any]:
    """Everything one build makes of ``reads``: messages (or pieces) in
    order, then the failure as (type name, close code)."""
    parser = protocol.FrameParser(max_size, decode_text=decode_text)
    if deflate:
        parser.set_inflater(protocol.Inflater(15, False))
    events: list[Any] = []
    try:
        for data in reads:
            parser.feed(data)
            if piecewise:
                while (piece := parser.next_piece()) is not None:
                    if isinstance(piece, dict):
                        events.append(piece)
                    else:
                        events.append((parser.last_opcode, parser.piece_fin, piece))
            else:
                while (msg := parser.next_message()) is not None:
                    events.append(msg)
    except EXPECTED as exc:
        events.append((type(exc).__name__, exc.code))
    return events


def joined(events: list[Any]) -> list[Any]:
    """Piecewise events as whole-message events (failures kept as they are)."""
    out: list[Any] = []
    current: list[Any] = []
    for event in events:
        if isinstance(event, tuple) and len(event) == 3:
            opcode, fin, piece = event
            current.append(piece)
            if fin:
                text = opcode == 1
                data = ("" if isinstance(piece, str) else b"").join(current)
                out.append({"type": "text" if text else "binary", "data": data})
                current = []
        else:
            out.append(event)
    return out


def seed_frames(fdp: atheris.FuzzedDataProvider) -> bytes:
    """Sometimes start from well-formed frames, so the fuzzer reaches deep
    states (fragments, compressed messages) without finding them first."""
    if not fdp.ConsumeBool():
        return b""
    out = b""
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        opcode = fdp.PickValueInList([0, 1, 2, 8, 9, 10])
        control = opcode >= 8
        payload = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 125 if control else 300))
        fin = True if control else fdp.ConsumeBool()
        rsv1 = False
        if fdp.ConsumeBool() and opcode in (1, 2):
            z = zlib.compressobj(6, zlib.DEFLATED, -15)
            payload = (z.compress(payload) + z.flush(zlib.Z_SYNC_FLUSH))[:-4]
            rsv1 = True
        out += pure.encode_frame(opcode, payload, False, fin=fin, rsv1=rsv1)
    return out


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    max_size = fdp.PickValueInList([None, 0, 1, 125, 126, 1000, 65536])
    decode_text = fdp.ConsumeBool()
    deflate = fdp.ConsumeBool()
    piecewise = fdp.ConsumeBool()
    cuts = sorted(fdp.ConsumeIntInRange(0, 2048) for _ in range(fdp.ConsumeIntInRange(0, 6)))
    stream = seed_frames(fdp) + fdp.ConsumeBytes(fdp.remaining_bytes())
    reads = split(stream, cuts)
    args = (reads, max_size, decode_text, deflate)
    from_pure = parse(pure, *args, piecewise)
    from_compiled = parse(compiled, *args, piecewise)
    if from_pure != from_compiled:
        raise AssertionError(f"the builds disagree on {stream!r} in {reads!r}:\n"
                             f"  pure:     {from_pure!r}\n  compiled: {from_compiled!r}")
    if piecewise:
        whole = parse(pure, *args, False)
        pieces = joined(from_pure)
        if pieces != whole and not (deflate and same_until_failure(pieces, whole)):
            raise AssertionError(f"pieces joined differ from whole reads on {stream!r}:\n"
                                 f"  pieces: {pieces!r}\n  whole:  {whole!r}")


def failed(events: list[Any]) -> bool:
    return bool(events) and isinstance(events[-1], tuple)


def same_until_failure(pieces: list[Any], whole: list[Any]) -> bool:
    """Compressed messages only: a piecewise read inflates and checks a
    frame's payload as it arrives, a whole read once the frame is whole.
    So on a stream with several faults, the piecewise read may fail sooner
    (while the whole read still waits for the frame's end), or on another
    of them (invalid UTF-8 in the output before zlib sees the bad data:
    1007 against 1002; or 1009).  What came before the failure must match."""
    if not failed(pieces):
        return False
    if failed(whole):
        return pieces[:-1] == whole[:-1] and {pieces[-1][1], whole[-1][1]} <= {1002, 1007, 1009}
    return pieces[:-1] == whole


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
