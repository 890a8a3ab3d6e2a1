"""Differential tests: both implementations agree on random frames and garbage.

The protocol is one source, so this checks that its Cython build behaves as
the same file run as Python (C integer types, the ``cython.compiled``
branches, the primitives under them): same result, or the same exception
type, for any input; the UTF-8 validators agree with CPython's decoder at
every split point.
"""

from __future__ import annotations

import codecs

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from websocket import encode_frame

from .conftest import TWINS as TWIN_NAMES
from .conftest import load_twin

TWINS = [load_twin(name) for name in TWIN_NAMES]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def outcome(func, *args, **kwargs):
    """The result, or the exception type, of a call."""
    try:
        return ("ok", func(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - comparing what each twin raises
        return ("raised", type(exc))


def parse_stream(codec, data: bytes, chunk: int, **options):
    parser = codec.FrameParser(**options)
    events = []
    try:
        for pos in range(0, len(data), chunk):
            parser.feed(data[pos : pos + chunk])
            while (msg := parser.next_message()) is not None:
                events.append(msg)
    except Exception as exc:  # noqa: BLE001
        # After an error the parser is dead: what it still buffers is moot.
        return events + [type(exc)], None
    return events, parser.buffered


opcodes = st.sampled_from([0, 1, 2, 8, 9, 10])
frame_args = st.fixed_dictionaries(
    {
        "opcode": opcodes,
        "payload": st.one_of(st.binary(max_size=300), st.text(max_size=100)),
        "masked": st.booleans(),
        "fin": st.booleans(),
        "rsv1": st.booleans(),
        "rsv2": st.booleans(),
        "rsv3": st.booleans(),
        "mask_key": st.one_of(st.none(), st.binary(min_size=4, max_size=4)),
    }
)


@SETTINGS
@given(frame_args)
def test_encode_same_result_or_same_error(args):
    if not args["masked"]:
        args = dict(args, mask_key=None)
    if args["masked"] and args["mask_key"] is None:
        args = dict(args, mask_key=b"\x00\x01\x02\x03")
    results = {outcome(twin.encode_frame, **args) for twin in TWINS}
    assert len(results) == 1


@SETTINGS
@given(frame_args)
def test_encode_with_one_twin_decode_with_other(args):
    opcode, payload = args["opcode"], args["payload"]
    data = payload.encode() if isinstance(payload, str) else payload
    assume(opcode < 8 or (len(data) <= 125 and args["fin"]))
    masked = args["masked"]
    key = args["mask_key"] if masked else None
    for encoder in TWINS:
        wire = encoder.encode_frame(
            opcode, payload, masked, fin=args["fin"], rsv1=args["rsv1"], mask_key=key
        )
        for decoder in TWINS:
            frame = decoder.decode_frame(wire + b"tail")
            assert frame["payload"] == data
            assert (frame["opcode"], frame["fin"], frame["rsv1"], frame["masked"]) == (
                opcode,
                args["fin"],
                args["rsv1"],
                masked,
            )
            assert frame["size"] == len(wire)
            if key is not None:
                assert frame["mask_key"] == key


@SETTINGS
@given(st.binary(max_size=200))
def test_decode_garbage_same_outcome(data):
    results = {repr(outcome(twin.decode_frame, data)) for twin in TWINS}
    assert len(results) == 1


@SETTINGS
@given(
    st.lists(frame_args, max_size=8),
    st.binary(max_size=20),
    st.integers(min_value=1, max_value=64),
    st.booleans(),
    st.sampled_from([None, 0, 50, 1000]),
)
def test_parser_streams_same_events(frames, garbage, chunk, mask_allowed, max_size):
    # Mostly valid frame sequences (so the parser gets deep), then garbage.
    wire = b""
    for args in frames:
        payload = args["payload"]
        size = len(payload.encode() if isinstance(payload, str) else payload)
        if args["opcode"] >= 8 and (size > 125 or not args["fin"]):
            continue
        wire += encode_frame(
            args["opcode"],
            payload,
            args["masked"],
            fin=args["fin"],
            rsv1=args["rsv1"],
            mask_key=args["mask_key"] if args["masked"] else None,
        )
    wire += garbage
    options = {"mask_allowed": mask_allowed, "max_size": max_size}
    results = [parse_stream(twin, wire, chunk, **options) for twin in TWINS]
    assert all(r == results[0] for r in results)


# -- UTF-8 ----------------------------------------------------------------------


def _valid_prefixes() -> frozenset[bytes]:
    """Every proper prefix of the UTF-8 encoding of every code point."""
    out = {b""}
    for cp in range(0x80, 0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        enc = chr(cp).encode()
        for i in range(1, len(enc)):
            out.add(enc[:i])
    return frozenset(out)


PREFIXES = _valid_prefixes()


def can_still_be_valid(data: bytes) -> bool:
    """Reference: is ``data`` a prefix of some valid UTF-8 (by CPython)?"""
    for k in range(min(3, len(data)) + 1):
        head, tail = data[: len(data) - k], data[len(data) - k :]
        if tail in PREFIXES:
            try:
                head.decode("utf-8")
                return True
            except UnicodeDecodeError:
                pass
    return False


utf8ish = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=20).map(str.encode),
    st.lists(
        st.sampled_from(
            [b"a", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"\xed\xa0\x80",
             b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf4\x90\x80\x80", b"\xf5", b"\x80", b"\xed\x9f\xbf",
             b"\xef\xbf\xbf", b"\xf4\x8f\xbf\xbf", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98"]
        ),
        max_size=12,
    ).map(b"".join),
)


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: t.name)
@SETTINGS
@given(data=utf8ish)
def test_utf8_validator_against_cpython_at_every_split(twin, data):
    try:
        data.decode("utf-8")
        valid = True
    except UnicodeDecodeError:
        valid = False
    assert twin.validate_utf8(data) is valid
    # The failing chunk is the one holding the first byte after which the
    # input can no longer be valid.
    first_bad = next((i for i in range(1, len(data) + 1) if not can_still_be_valid(data[:i])), None)
    for split in range(len(data) + 1):
        v = twin.Utf8Validator()
        first = v.feed(data[:split])
        assert first is (first_bad is None or first_bad > split)
        second = v.feed(data[split:])
        assert second is (first_bad is None)
        assert (v.valid and v.complete) is valid
    # Byte by byte, too.
    v = twin.Utf8Validator()
    for i in range(len(data)):
        assert v.feed(data[i : i + 1]) is (first_bad is None or first_bad > i + 1)


def test_reference_agrees_with_incremental_decoder_on_complete_input():
    # A sanity check of the reference itself on a few known cases.
    for data, ok in [(b"\xed\xa0", False), (b"\xe0", True), (b"\xf4\x8f", True), (b"\xf4\x90", False)]:
        assert can_still_be_valid(data) is ok
    decoder = codecs.getincrementaldecoder("utf-8")()
    decoder.decode(b"\xe2\x82")
    assert can_still_be_valid(b"\xe2\x82")
