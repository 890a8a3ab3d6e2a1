"""permessage-deflate's negotiation (RFC 7692 §5, §7.1; ``_deflate.py``):
the offer, the server's answer, the settings' checks."""

from __future__ import annotations

import pytest

from websocket import HandshakeError
from websocket._deflate import Agreement, DeflateSettings
from websocket._handshake import parse_extensions

# -- negotiation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "settings, offer",
    [
        ({}, "permessage-deflate; client_max_window_bits"),
        ({"client_max_window_bits": 9}, "permessage-deflate; client_max_window_bits=9"),
        (
            {"server_max_window_bits": 10, "server_no_context_takeover": True},
            "permessage-deflate; server_no_context_takeover; client_max_window_bits;"
            " server_max_window_bits=10",
        ),
        (
            {"client_no_context_takeover": True},
            "permessage-deflate; client_no_context_takeover; client_max_window_bits",
        ),
    ],
)
def test_offer(settings, offer):
    assert DeflateSettings(**settings).offer() == offer


@pytest.mark.parametrize(
    "settings, answer, agreement",
    [
        ({}, "permessage-deflate", Agreement()),
        ({}, "Permessage-Deflate; Client_Max_Window_Bits=10", Agreement(client_max_window_bits=10)),
        ({}, "permessage-deflate; client_max_window_bits=8", Agreement(client_max_window_bits=8)),
        ({}, 'permessage-deflate; server_max_window_bits="12"', Agreement(server_max_window_bits=12)),
        ({"client_max_window_bits": 11}, "permessage-deflate", Agreement(client_max_window_bits=11)),
        ({"server_max_window_bits": 10}, "permessage-deflate; server_max_window_bits=9",
         Agreement(server_max_window_bits=9)),
        ({}, "permessage-deflate; client_no_context_takeover",
         Agreement(client_no_context_takeover=True)),
        ({"client_no_context_takeover": True}, "permessage-deflate",
         Agreement(client_no_context_takeover=True)),
        ({"server_no_context_takeover": True}, "permessage-deflate; server_no_context_takeover",
         Agreement(server_no_context_takeover=True)),
        # §7.1.1.1: a server may add it without being asked.
        ({}, "permessage-deflate;server_no_context_takeover , ",
         Agreement(server_no_context_takeover=True)),
    ],
)
def test_accepted_answers(settings, answer, agreement):
    assert DeflateSettings(**settings).accept(answer) == agreement


@pytest.mark.parametrize(
    "settings, answer, message",
    [
        ({}, "x-webkit-deflate-frame", "extension 'x-webkit-deflate-frame'"),
        ({}, "permessage-deflate, permessage-deflate", "permessage-deflate 2 times"),
        ({}, "permessage-deflate; foo=1", "unknown parameter 'foo'"),
        ({}, "permessage-deflate; client_max_window_bits=9; client_max_window_bits=9",
         "parameter 'client_max_window_bits' twice"),
        ({}, "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
         "'server_no_context_takeover' twice"),
        ({}, "permessage-deflate; server_no_context_takeover=1", "takes no value"),
        ({}, "permessage-deflate; client_no_context_takeover=true", "takes no value"),
        ({}, "permessage-deflate; server_max_window_bits=16", "server_max_window_bits must be 8-15"),
        ({}, "permessage-deflate; server_max_window_bits=7", "server_max_window_bits must be 8-15"),
        ({}, "permessage-deflate; server_max_window_bits=010", "must be 8-15, the server sent '010'"),
        ({}, "permessage-deflate; server_max_window_bits", "must be 8-15, the server sent None"),
        ({}, "permessage-deflate; client_max_window_bits", "client_max_window_bits must be 8-15"),
        ({"server_max_window_bits": 10}, "permessage-deflate; server_max_window_bits=11",
         "server_max_window_bits=11 exceeds the 10 offered"),
        ({"server_max_window_bits": 10}, "permessage-deflate",
         "server_max_window_bits=10 was offered but the server did not accept it"),
        ({"client_max_window_bits": 9}, "permessage-deflate; client_max_window_bits=10",
         "client_max_window_bits=10 exceeds the 9 offered"),
        ({"server_no_context_takeover": True}, "permessage-deflate",
         "server_no_context_takeover was offered"),
        ({}, "permessage-deflate; =1", "expected a parameter name"),
        ({}, 'permessage-deflate; server_max_window_bits="1 2"', "not a token"),
    ],
)
def test_refused_answers_name_the_parameter(settings, answer, message):
    with pytest.raises(HandshakeError, match=message):
        DeflateSettings(**settings).accept(answer)


@pytest.mark.parametrize(
    "settings, error, message",
    [
        ({"client_max_window_bits": 8}, ValueError, "client_max_window_bits must be 9-15, got 8"),
        ({"client_max_window_bits": 16}, ValueError, "9-15, got 16"),
        ({"server_max_window_bits": 7}, ValueError, "server_max_window_bits must be 8-15, got 7"),
        ({"server_max_window_bits": "9"}, TypeError, "must be an int or None, not str"),
        ({"client_no_context_takeover": 1}, TypeError, "must be a bool, not int"),
        ({"compression_level": 10}, ValueError, "compression_level must be -1-9, got 10"),
        ({"memory_level": 0}, ValueError, "memory_level must be 1-9, got 0"),
        ({"memory_level": True}, TypeError, "memory_level must be an int, not bool"),
    ],
)
def test_settings_are_checked(settings, error, message):
    with pytest.raises(error, match=message):
        DeflateSettings(**settings)


def test_extension_header_grammar():
    assert parse_extensions('a; b=1 ;c="d\\e", f') == [("a", [("b", "1"), ("c", "de")]), ("f", [])]
    for bad in ["", "a;", "a b", "a; b=", ";a", "a,;b"]:
        with pytest.raises(HandshakeError):
            parse_extensions(bad)
