"""
The client glue through a fake transport and fake time: the handshake
protocol hands the connection over to a WebSocketProtocol, fails cleanly,
and times out.
"""

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.testing import MemoryReactorClock, StringTransport

from rtproto.errors import HandshakeError, UsageError
from rtproto.tx._protocol import WebSocketProtocol
from rtproto.tx.client import _ClientHandshakeProtocol, parseURL
from rtproto.websocket import ClientHandshake, WebSocketConnection, WebSocketOptions, acceptKey

from tests.tx.helpers import RecordingHandler


def start(**optionKw):
    reactor = MemoryReactorClock()
    handshake = ClientHandshake("example.com", "/chat?x=1", deflate=None)
    handler = RecordingHandler()
    opened = Deferred()
    proto = _ClientHandshakeProtocol(handshake, handler, WebSocketOptions(**optionKw), reactor, opened)
    transport = StringTransport()
    proto.makeConnection(transport)
    return reactor, handshake, handler, opened, proto, transport


def response(handshake, status="101 Switching Protocols", extra=()):
    lines = [
        f"HTTP/1.1 {status}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {acceptKey(handshake.key)}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def serverFrames(text):
    out = []
    WebSocketConnection(False, out.append).sendText(text)
    return b"".join(out)


class TestClientGlue:
    def test_requestWritten(self):
        _, handshake, _, _, _, transport = start()
        request = transport.value()
        assert request.startswith(b"GET /chat?x=1 HTTP/1.1\r\n")
        assert f"Sec-WebSocket-Key: {handshake.key}".encode() in request

    def test_openedAndFramesAfterHead(self):
        """
        The Deferred fires with the connection; frames in the same read as
        the response head reach the handler.
        """
        reactor, handshake, handler, opened, proto, transport = start()
        results = []
        opened.addCallback(results.append)
        proto.dataReceived(response(handshake) + serverFrames("hi"))
        assert isinstance(results[0], WebSocketProtocol)
        assert transport.protocol is results[0]
        assert handler.calls == [("opened",), ("text", "hi")]
        transport.clear()
        results[0].sendText("yo")
        frame = transport.value()
        assert frame[1] & 0x80, "client frames are masked"

    def test_refusedCarriesStatus(self):
        reactor, handshake, handler, opened, proto, transport = start()
        failures = []
        opened.addErrback(failures.append)
        proto.dataReceived(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        assert failures[0].check(HandshakeError)
        assert failures[0].value.status == 403
        assert transport.disconnecting
        assert handler.calls == []

    def test_handshakeTimeout(self):
        reactor, handshake, handler, opened, proto, transport = start(openTimeout=5)
        failures = []
        opened.addErrback(failures.append)
        reactor.advance(5)
        assert failures[0].check(HandshakeError)
        assert "timed out" in str(failures[0].value)
        assert transport.disconnecting

    def test_lostDuringHandshake(self):
        reactor, handshake, handler, opened, proto, transport = start()
        failures = []
        opened.addErrback(failures.append)
        from twisted.python.failure import Failure

        proto.connectionLost(Failure(ConnectionError("gone")))
        assert failures[0].check(HandshakeError)
        assert reactor.getDelayedCalls() == []


@pytest.mark.parametrize(
    "url, expected",
    [
        ("ws://h/", (False, "h", 80, "/")),
        ("wss://h", (True, "h", 443, "/")),
        ("ws://h:9/a/b?c=d", (False, "h", 9, "/a/b?c=d")),
        ("ws://[::1]:9/", (False, "::1", 9, "/")),
    ],
)
def test_parseURL(url, expected):
    assert parseURL(url) == expected


@pytest.mark.parametrize("url", ["http://h/", "ws:///x", "ws://h/#frag"])
def test_parseURLRefuses(url):
    with pytest.raises(UsageError):
        parseURL(url)
