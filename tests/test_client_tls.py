"""wss:// against the websockets server with a locally generated CA (trustme)."""

from __future__ import annotations

import ssl

import pytest
import trustme

from websocket import WsClient

from .servers import T, as_received, client_context, mixed_batch, server_context, ws_server


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


def test_verified_connection_sends_sni(ca):
    seen = []
    with ws_server(ssl_context=server_context(ca, "localhost", "127.0.0.1", seen=seen)) as url:
        port = url.rsplit(":", 1)[1]
        with WsClient(f"wss://localhost:{port}/echo", timeout=T, ssl_context=client_context(ca)) as ws:
            ws.send(b"x" * 1_000_000)
            assert ws.receive(timeout=T)["data"] == b"x" * 1_000_000
            ws.send("tls")
            assert ws.receive(timeout=T)["data"] == "tls"
            messages = mixed_batch()  # send_many() over TLS: the non-blocking write path
            ws.send_many(messages)
            assert [ws.receive(timeout=T)["data"] for _ in messages] == as_received(messages)
        # An IP address works when the certificate names it.
        with WsClient(f"{url}/echo", timeout=T, ssl_context=client_context(ca)) as ws:
            ws.ping(b"p")
            assert ws.receive(timeout=T) == {"type": "pong", "data": b"p"}
    assert "localhost" in seen  # SNI carried the host name


def test_text_that_cannot_be_encoded_is_refused_over_tls_too(ca):
    """send()'s TLS fast path encodes before it encrypts: a lone surrogate
    raises UnicodeEncodeError and the session goes on."""
    with ws_server(ssl_context=server_context(ca, "127.0.0.1")) as url:
        with WsClient(f"{url}/echo", timeout=T, ssl_context=client_context(ca)) as ws:
            with pytest.raises(UnicodeEncodeError, match="surrogates not allowed"):
                ws.send("a\ud800b")
            ws.send("next")
            assert ws.receive(timeout=T)["data"] == "next"


def test_untrusted_certificate_is_rejected_by_default(ca):
    with ws_server(ssl_context=server_context(ca, "localhost")) as url:
        port = url.rsplit(":", 1)[1]
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
            WsClient(f"wss://localhost:{port}/echo", timeout=T)  # system CAs only


def test_wrong_host_name_is_rejected(ca):
    with ws_server(ssl_context=server_context(ca, "other.example")) as url:
        port = url.rsplit(":", 1)[1]
        with pytest.raises(ssl.SSLCertVerificationError, match="match|mismatch"):
            WsClient(f"wss://localhost:{port}/echo", timeout=T, ssl_context=client_context(ca))


def test_receive_timeout_and_close_over_tls(ca):
    with ws_server(ssl_context=server_context(ca, "localhost")) as url:
        port = url.rsplit(":", 1)[1]
        ws = WsClient(f"wss://localhost:{port}/echo", timeout=T, ssl_context=client_context(ca))
        with pytest.raises(TimeoutError):
            ws.receive(timeout=0.05)
        ws.send("after timeout")
        assert ws.receive(timeout=T)["data"] == "after timeout"
        ws.close()
        assert ws.ready_state() == "closed"


def test_compression_over_tls(ca):
    """Compressed frames take the TLS write path (no fd fast path)."""
    with ws_server(ssl_context=server_context(ca, "127.0.0.1")) as url:
        with WsClient(f"{url}/echo", timeout=T, ssl_context=client_context(ca),
                      compression="deflate") as ws:
            assert ws.compression == "deflate"
            text = '{"k": 1, "v": "abc"}' * 50_000
            ws.send(text)
            assert ws.receive(timeout=T)["data"] == text
            messages = mixed_batch()[::50]
            ws.send_many(messages)
            assert [ws.receive(timeout=T)["data"] for _ in messages] == as_received(messages)
            ws.send(b"raw", compress=False)
            assert ws.receive(timeout=T)["data"] == b"raw"
