"""Fuzz target for the helpers every received byte or given string passes
through (atheris).  The first input byte picks the helper; each has an
oracle, not just "does not crash":

- ``decode_frame``: both builds return the same frame or raise the same
  exception type; a decoded frame re-encodes to the same bytes.
- ``validate_utf8`` and ``Utf8Validator`` (both twins, whole and fed in
  two pieces): agree with Python's own strict UTF-8 decoder.
- ``parse_close_frame``: a dict whose code may be sent and whose reason is
  the payload's UTF-8, or ProtocolError with close code 1002 or 1007.
- ``parse_response_head`` / ``parse_extensions`` /
  ``validate_handshake_response``: HandshakeError or a result, and
  ``validate_handshake_response`` only True or False (its contract).
- ``parse_url``: a dict with a port in range and a path starting with "/",
  or InvalidURI (also a ValueError).

Any other exception stops the run.

    python fuzz/fuzz_helpers.py fuzz/corpus/helpers -max_total_time=60
"""

from __future__ import annotations

import importlib
import sys

import atheris

with atheris.instrument_imports(include=["websocket"]):
    from websocket import _frames, _handshake, _speedups_py, _url
    from websocket._exceptions import HandshakeError, IncompleteFrame, InvalidURI, ProtocolError

from common import both_builds

pure, compiled = both_builds("fuzz_helpers")
speedups = importlib.import_module("websocket._speedups")


def outcome(call, *args):
    try:
        return ("ok", call(*args))
    except (ProtocolError, IncompleteFrame, ValueError) as exc:
        return (type(exc).__name__, getattr(exc, "code", None))


def check_decode_frame(data: bytes) -> None:
    a, b = outcome(pure.decode_frame, data), outcome(compiled.decode_frame, data)
    assert a == b, (data, a, b)
    if a[0] == "ok":
        frame = a[1]
        # What decode_frame accepts, encode_frame writes back byte for byte.
        again = pure.encode_frame(
            frame["opcode"], frame["payload"], frame["masked"], fin=frame["fin"],
            rsv1=frame["rsv1"], rsv2=frame["rsv2"], rsv3=frame["rsv3"],
            mask_key=frame["mask_key"],
        )
        assert again == data[: frame["size"]], (data, frame, again)


def check_utf8(data: bytes, cut: int) -> None:
    try:
        data.decode("utf-8")
        expected = True
    except UnicodeDecodeError:
        expected = False
    for module in (speedups, _speedups_py):
        assert module.validate_utf8(data) is expected, (module.__name__, data)
        validator = module.Utf8Validator()
        ok = validator.feed(data[:cut]) and validator.feed(data[cut:])
        assert (ok and validator.complete) == expected, (module.__name__, data, cut)


def check_close(data: bytes) -> None:
    try:
        info = _frames.parse_close_frame(data)
    except ProtocolError as exc:
        assert exc.code in (1002, 1007), exc.code
        return
    if data:
        assert _frames.is_valid_close_code(info["code"]), info
        assert info["reason"] == data[2:].decode("utf-8")
    else:
        assert info == {"code": 1005, "reason": ""}


def check_handshake(data: bytes) -> None:
    try:
        status, _, headers, version = _handshake.parse_response_head(data)
        assert 100 <= status <= 999 and version in ("1.0", "1.1"), (status, version)
        if "sec-websocket-extensions" in headers:
            _handshake.parse_extensions(headers["sec-websocket-extensions"])
    except HandshakeError:
        pass
    result = _handshake.validate_handshake_response(data, "dGhlIHNhbXBsZSBub25jZQ==")
    assert result is True or result is False


def check_url(text: str) -> None:
    try:
        parts = _url.parse_url(text)
    except InvalidURI as exc:
        assert isinstance(exc, ValueError)
        return
    assert 0 < parts["port"] < 65536, parts
    assert parts["path"].startswith("/"), parts
    assert parts["scheme"] in ("ws", "wss") and parts["secure"] == (parts["scheme"] == "wss")


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    which = fdp.ConsumeIntInRange(0, 4)
    if which == 0:
        check_decode_frame(fdp.ConsumeBytes(fdp.remaining_bytes()))
    elif which == 1:
        cut = fdp.ConsumeIntInRange(0, 64)
        payload = fdp.ConsumeBytes(fdp.remaining_bytes())
        check_utf8(payload, min(cut, len(payload)))
    elif which == 2:
        check_close(fdp.ConsumeBytes(fdp.remaining_bytes()))
    elif which == 3:
        check_handshake(fdp.ConsumeBytes(fdp.remaining_bytes()))
    else:
        check_url(fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes()))


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
