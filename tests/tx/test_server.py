"""
The server glue through a real C{twisted.web} Site on a fake transport with
fake time: the upgrade and channel takeover, HTTP refusals, the handshake
hook, timers, closing and back-pressure.
"""

import pytest
from twisted.internet.defer import Deferred

from rtproto.errors import ConnectionDeny
from rtproto.tx._protocol import WebSocketProtocol
from rtproto.websocket import CloseReceived, acceptKey
from rtproto.websocket._frames import OP_CLOSE, OP_PING, encodeFrame

from tests.tx.helpers import KEY, FakeClient, RecordingHandler, makeSite, upgradeRequest


@pytest.fixture(autouse=True)
def _reset():
    RecordingHandler.instances = []


def opened(**kw):
    site, reactor = makeSite(**kw)
    client = FakeClient(site, reactor)
    client.send(upgradeRequest())
    head, rest = client.response()
    assert head.startswith(b"HTTP/1.1 101 "), head
    client.transport.clear()
    return client, RecordingHandler.instances[-1]


class TestUpgrade:
    """
    RFC 6455 section 4.2.2: the server's answer, and taking the connection
    from twisted.web.
    """

    def test_switchingProtocols(self):
        site, reactor = makeSite()
        client = FakeClient(site, reactor)
        client.send(upgradeRequest())
        head, rest = client.response()
        lines = head.split(b"\r\n")
        assert lines[0] == b"HTTP/1.1 101 Switching Protocols"
        assert f"Sec-WebSocket-Accept: {acceptKey(KEY)}".encode() in lines
        assert b"Upgrade: websocket" in lines
        assert rest == b""
        assert isinstance(client.transport.protocol, WebSocketProtocol)
        assert RecordingHandler.instances[0].calls == [("opened",)]

    def test_channelTimersCancelled(self):
        """
        After the takeover only the connection's own keep-alive timer is left.
        """
        site, reactor = makeSite(pingInterval=5)
        client = FakeClient(site, reactor)
        client.send(upgradeRequest())
        calls = reactor.getDelayedCalls()
        assert len(calls) == 1
        assert calls[0].getTime() == reactor.seconds() + 5

    def test_framePipelinedWithRequest(self):
        """
        A frame in the same read as the request still reaches the handler.
        """
        site, reactor = makeSite()
        client = FakeClient(site, reactor)
        client.core.sendText("early")
        client.send(upgradeRequest() + b"".join(client.sent))
        assert ("text", "early") in RecordingHandler.instances[0].calls

    def test_echoThroughHandler(self):
        client, handler = opened()
        client.sendText("héllo")
        assert handler.calls[-1] == ("text", "héllo")
        handler.connection.sendText("back")
        assert [e.data for e in client.frames(client.transport.value())] == ["back"]

    def test_compressionNegotiated(self):
        site, reactor = makeSite()
        client = FakeClient(site, reactor)
        client.send(upgradeRequest(extra=["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"]))
        head, _ = client.response()
        assert b"Sec-WebSocket-Extensions: permessage-deflate" in head

    def test_compressionDisabled(self):
        site, reactor = makeSite(compression=False)
        client = FakeClient(site, reactor)
        client.send(upgradeRequest(extra=["Sec-WebSocket-Extensions: permessage-deflate"]))
        head, _ = client.response()
        assert head.startswith(b"HTTP/1.1 101")
        assert b"Sec-WebSocket-Extensions" not in head


class TestRefusals:
    """
    Section 4.2.1/4.2.2: requests the server must not accept, answered with a
    clear HTTP status.
    """

    def status(self, request: bytes, **kw) -> "tuple[bytes, bytes]":
        site, reactor = makeSite(**kw)
        client = FakeClient(site, reactor)
        client.send(request)
        head, body = client.response()
        return head, body

    def test_plainGet426(self):
        head, _ = self.status(b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 426 Upgrade Required")
        assert b"Upgrade: websocket" in head

    def test_wrongVersion426(self):
        head, _ = self.status(upgradeRequest(version="8"))
        assert head.startswith(b"HTTP/1.1 426")
        assert b"Sec-Websocket-Version: 13" in head

    def test_badKey400(self):
        head, body = self.status(upgradeRequest(key="short"))
        assert head.startswith(b"HTTP/1.1 400")
        assert b"Sec-WebSocket-Key" in body

    def test_post405(self):
        head, _ = self.status(upgradeRequest(method="POST"))
        assert head.startswith(b"HTTP/1.1 405")

    def test_originRefused403(self):
        head, _ = self.status(
            upgradeRequest(extra=["Origin: https://evil.example"]),
            allowedOrigins=("https://good.example",),
        )
        assert head.startswith(b"HTTP/1.1 403")

    def test_originAllowed(self):
        head, _ = self.status(
            upgradeRequest(extra=["Origin: https://good.example"]),
            allowedOrigins=("https://good.example",),
        )
        assert head.startswith(b"HTTP/1.1 101")

    def test_unknownPath404(self):
        head, _ = self.status(upgradeRequest(path="/nope"))
        assert head.startswith(b"HTTP/1.1 404")

    def test_belowMount404(self):
        head, _ = self.status(upgradeRequest(path="/ws/deeper"))
        assert head.startswith(b"HTTP/1.1 404")


class DenyingHandler(RecordingHandler):
    def handshake(self, request):
        raise ConnectionDeny(403, "not you")


class BrokenHandshake(RecordingHandler):
    def handshake(self, request):
        raise RuntimeError("bug")


class SubprotocolHandler(RecordingHandler):
    def handshake(self, request):
        assert request.subprotocols == ["a", "b"]
        return "b"


class WrongSubprotocol(RecordingHandler):
    def handshake(self, request):
        return "zzz"


class LaterHandler(RecordingHandler):
    pending: "Deferred | None" = None

    def handshake(self, request):
        LaterHandler.pending = Deferred()
        return LaterHandler.pending


class TestHandshakeHook:
    """
    The handler's C{handshake} hook: refuse, fail, choose a subprotocol,
    answer later.
    """

    def answer(self, factory, extra=()):
        site, reactor = makeSite(factory)
        client = FakeClient(site, reactor)
        client.send(upgradeRequest(extra=extra))
        return client, client.response()[0]

    def test_deny(self):
        _, head = self.answer(DenyingHandler)
        assert head.startswith(b"HTTP/1.1 403")

    def test_exception500(self):
        _, head = self.answer(BrokenHandshake)
        assert head.startswith(b"HTTP/1.1 500")

    def test_subprotocol(self):
        _, head = self.answer(SubprotocolHandler, ["Sec-WebSocket-Protocol: a, b"])
        assert b"Sec-WebSocket-Protocol: b" in head

    def test_subprotocolNotOffered500(self):
        _, head = self.answer(WrongSubprotocol, ["Sec-WebSocket-Protocol: a"])
        assert head.startswith(b"HTTP/1.1 500")

    def test_deferredHandshake(self):
        client, head = self.answer(LaterHandler)
        assert head == b""
        LaterHandler.pending.callback(None)
        assert client.response()[0].startswith(b"HTTP/1.1 101")


class Exploding(RecordingHandler):
    def textReceived(self, text):
        raise ValueError("boom")


class TestHandlerErrors:
    """
    An exception in application code closes that connection with 1011.
    """

    def test_exceptionCloses1011(self):
        site, reactor = makeSite(Exploding)
        client = FakeClient(site, reactor)
        client.send(upgradeRequest())
        client.transport.clear()
        client.sendText("x")
        events = client.frames(client.transport.value())
        assert isinstance(events[0], CloseReceived) and events[0].code == 1011


class TestTimers:
    """
    Keep-alive, ping timeout and closing deadlines in fake time.
    """

    def test_pingThenTimeout(self):
        client, handler = opened(pingInterval=5, pingTimeout=3, closeTimeout=2)
        client.reactor.advance(5)
        value = client.transport.value()
        assert value[0] == 0x80 | OP_PING
        client.transport.clear()
        client.reactor.advance(3)
        events = client.frames(client.transport.value())
        assert isinstance(events[0], CloseReceived) and events[0].code == 1011
        assert client.transport.disconnecting
        client.reactor.advance(2)
        assert client.transport.disconnected or client.transport.disconnecting

    def test_pongKeepsAlive(self):
        client, handler = opened(pingInterval=5, pingTimeout=3)
        client.reactor.advance(5)
        client.frames(client.transport.value())  # the client core queues the pong
        client.send(b"".join(client.sent))
        client.sent.clear()
        client.reactor.advance(3)
        assert not client.transport.disconnecting

    def test_timersGoneAfterClose(self):
        client, handler = opened(pingInterval=5)
        client.transport.protocol.connectionLost(None)
        assert client.reactor.getDelayedCalls() == []
        assert handler.calls[-1] == ("closed", 1006, "", False)

    def test_closeHandshake(self):
        client, handler = opened()
        client.core.close(1000, "bye")
        client.send(b"".join(client.sent))
        assert client.transport.value() == encodeFrame(OP_CLOSE, b"\x03\xe8")
        assert client.transport.disconnecting
        client.transport.protocol.connectionLost(None)
        assert handler.calls[-1] == ("closed", 1000, "bye", True)

    def test_serverCloseTimesOut(self):
        client, handler = opened(closeTimeout=4)
        handler.connection.close(4000, "go")
        assert not client.transport.disconnecting
        client.reactor.advance(4)
        assert client.transport.disconnecting

    def test_headerDeadline(self):
        site, reactor = makeSite(openTimeout=3)
        client = FakeClient(site, reactor)
        client.send(b"GET /ws HTTP/1.1\r\nHost: x\r\n")
        reactor.advance(3)
        assert client.transport.disconnecting

    def test_dribbledHeadersDoNotExtendDeadline(self):
        """
        A slow-header client sending a byte a second is dropped at the
        deadline all the same.
        """
        site, reactor = makeSite(openTimeout=3)
        client = FakeClient(site, reactor)
        for byte in b"GET /ws":
            client.send(bytes([byte]))
            reactor.advance(0.5)
            if client.transport.disconnecting:
                break
        assert client.transport.disconnecting
        assert reactor.seconds() == 3.0

    def test_stalledBodyHitsIdleTimeout(self):
        """
        Once headers are in, the idle timeout (reset by every byte) guards
        the body instead.
        """
        from rtproto.tx.site import IDLE_TIMEOUT

        site, reactor = makeSite(openTimeout=3)
        client = FakeClient(site, reactor)
        client.send(b"POST /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")
        reactor.advance(3)
        assert not client.transport.disconnecting
        reactor.advance(IDLE_TIMEOUT - 3)
        assert client.transport.disconnecting

    def test_keepAliveNextRequestHasHeaderDeadline(self):
        site, reactor = makeSite(openTimeout=3)
        client = FakeClient(site, reactor)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.transport.value().startswith(b"HTTP/1.1 200")
        assert not client.transport.disconnecting
        reactor.advance(3)
        assert client.transport.disconnecting


class Slow(RecordingHandler):
    pending: "list[Deferred]" = []

    def textReceived(self, text):
        self.calls.append(("text", text))
        d = Deferred()
        Slow.pending.append(d)
        return d


class TestBackPressure:
    """
    Reading pauses while the handler works; writing tells the handler to
    pause and drops a connection that writes on regardless.
    """

    def test_deferredPausesReading(self):
        Slow.pending = []
        site, reactor = makeSite(Slow)
        client = FakeClient(site, reactor)
        client.send(upgradeRequest())
        handler = RecordingHandler.instances[-1]
        client.core.sendText("one")
        client.core.sendText("two")
        client.send(b"".join(client.sent))
        assert handler.calls[-1] == ("text", "one")
        assert client.transport.producerState == "paused"
        Slow.pending[0].callback(None)
        assert handler.calls[-1] == ("text", "two")
        Slow.pending[1].callback(None)
        assert client.transport.producerState == "producing"

    def test_writePausedAndLimit(self):
        client, handler = opened(writeBufferLimit=1000)
        proto = client.transport.protocol
        proto.pauseProducing()
        assert handler.calls[-1] == ("writePaused",)
        handler.connection.sendBinary(b"x" * 900)
        assert not client.transport.disconnecting
        handler.connection.sendBinary(b"x" * 900)
        assert client.transport.disconnecting
        proto.resumeProducing()
        assert handler.calls[-1] == ("writeResumed",)

    def test_resumeRestoresDirectWrites(self):
        client, handler = opened(writeBufferLimit=10)
        proto = client.transport.protocol
        proto.pauseProducing()
        proto.resumeProducing()
        handler.connection.sendBinary(b"x" * 100)
        assert not client.transport.disconnecting
        assert [type(e) for e in client.frames(client.transport.value())] != []


def test_textFrameAcrossReads():
    """
    A frame split over many reads (one byte each) is assembled.
    """
    client, handler = opened()
    client.core.sendText("split me")
    for b in b"".join(client.sent):
        client.send(bytes([b]))
    assert handler.calls[-1] == ("text", "split me")


from zope.interface import implementer  # noqa: E402

from rtproto.interfaces import IStreamingWebSocketHandler  # noqa: E402


@implementer(IStreamingWebSocketHandler)
class Streaming(RecordingHandler):
    def messageStarted(self, isBinary):
        self.calls.append(("start", isBinary))

    def fragmentReceived(self, data):
        self.calls.append(("piece", data))

    def messageFinished(self):
        self.calls.append(("end",))


def test_streamingHandlerGetsPieces():
    """
    A handler providing IStreamingWebSocketHandler gets a message piece by
    piece as it arrives, never whole.
    """
    site, reactor = makeSite(Streaming)
    client = FakeClient(site, reactor)
    client.send(upgradeRequest())
    handler = RecordingHandler.instances[-1]
    client.core.sendFragment("ab", final=False)
    client.core.sendFragment("cd", final=True)
    data = b"".join(client.sent)
    client.send(data[:5])
    client.send(data[5:])
    assert handler.calls[0] == ("opened",)
    assert handler.calls[1] == ("start", False)
    assert "".join(c[1] for c in handler.calls if c[0] == "piece") == "abcd"
    assert handler.calls[-1] == ("end",)
    assert not any(c[0] == "text" for c in handler.calls)


class Echo(RecordingHandler):
    def textReceived(self, text):
        self.connection.sendText(text)


def test_writesCoalescedPerRead():
    """
    The echoes of messages that arrived in one read reach the transport in
    one call; a violation after them closes only after they are out.
    """
    site, reactor = makeSite(Echo)
    client = FakeClient(site, reactor)
    client.send(upgradeRequest())
    client.transport.clear()
    calls = []
    transport = client.transport
    original = transport.write, transport.writeSequence
    transport.write = lambda data: (calls.append("write"), original[0](data))
    transport.writeSequence = lambda seq: (calls.append("writeSequence"), original[1](seq))
    for text in ("a", "b", "c"):
        client.core.sendText(text)
    bad = encodeFrame(0x3, b"", maskKey=b"abcd")  # reserved opcode
    client.send(b"".join(client.sent) + bad)
    assert calls[0] == "writeSequence"
    events = client.frames(transport.value())
    assert [getattr(e, "data", None) for e in events[:3]] == ["a", "b", "c"]
    assert isinstance(events[3], CloseReceived) and events[3].code == 1002
    assert transport.disconnecting


def test_gracefulStopClosesWith1001():
    """
    Stopping the service closes every connection with 1001 and waits for
    them; stragglers are aborted after the timeout.
    """
    site, reactor = makeSite()
    clients = []
    for _ in range(2):
        client = FakeClient(site, reactor)
        client.send(upgradeRequest())
        client.transport.clear()
        clients.append(client)
    assert len(site.connections) == 2
    done = []
    site.connections.closeAll(reactor, 5).addCallback(done.append)
    for client in clients:
        events = client.frames(client.transport.value())
        assert isinstance(events[0], CloseReceived) and events[0].code == 1001
    # The first peer answers and goes; the second never answers.
    clients[0].send(b"".join(clients[0].sent))
    clients[0].transport.protocol.connectionLost(None)
    assert done == []
    reactor.advance(5)
    assert clients[1].transport.disconnecting
    clients[1].transport.protocol.connectionLost(None)
    assert done == [None]
    assert len(site.connections) == 0
