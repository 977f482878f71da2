"""
Events and acknowledgements both ways on one engine.io session: events
dispatched to the handler's C{on_<event>} and its result sent as the ack
(none, one or several arguments, through L{Deferred}s, not on failure),
C{socket.emit} and C{emitWithAck} (answers, timeouts on the fake clock,
disconnects), binary data anywhere, rooms, and the catch-all listeners.
"""

import pytest

from rtproto.errors import AckTimeout, UsageError
from rtproto.socketio import ACK, EVENT, Packet
from tests.tx.sio_helpers import BOTH, LogCatcher, RecordingHandler, result, setup


class TestEvents:
    """
    Events from the client call C{on_<event>}; the result answers an ack.
    """

    @BOTH
    def test_dispatched(self, eioProtocol):
        _server, _reactor, peer, handler = setup(eioProtocol)
        peer.emit("echo", 1, {"a": [2]})
        assert handler.events == [("echo", [1, {"a": [2]}])]
        assert peer.received() == [], "no ack asked, none sent"

    @pytest.mark.parametrize(
        "event, expected",
        [("none", []), ("one", ["one"]), ("many", [1, "two", [3]]), ("echo", ["x", 2]), ("unknown", [])],
    )
    def test_ackArguments(self, event, expected):
        _server, _reactor, peer, _handler = setup()
        peer.emit(event, "x", 2, ackId=9)
        assert peer.received() == [Packet(ACK, "/", expected, 9)]

    def test_ackFromDeferred(self):
        _server, _reactor, peer, handler = setup()
        peer.emit("later", ackId=1)
        peer.emit("later", ackId=2)
        assert peer.received() == []
        handler.pending[1].callback(("b", 2))
        handler.pending[0].callback("a")
        assert peer.received() == [Packet(ACK, "/", ["b", 2], 2), Packet(ACK, "/", ["a"], 1)]

    def test_ackFromCoroutine(self):
        """
        An C{async def} handler's return value is the acknowledgement.
        """
        _server, _reactor, peer, handler = setup()
        peer.emit("async", ackId=3)
        assert peer.received() == []
        handler.pending[0].callback(("done", 1))
        assert peer.received() == [Packet(ACK, "/", ["done", 1], 3)]

    def test_handlerExceptionLoggedNoAck(self):
        _server, _reactor, peer, _handler = setup()
        with LogCatcher() as log:
            peer.emit("boom", ackId=4)
            peer.emit("boom")
        assert peer.received() == []
        assert [f.type for f in log.failures()] == [RuntimeError, RuntimeError]
        peer.emit("one", ackId=5)
        assert peer.received() == [Packet(ACK, "/", ["one"], 5)], "the socket keeps working"

    def test_deferredFailureLoggedNoAck(self):
        _server, _reactor, peer, handler = setup()
        peer.emit("later", ackId=4)
        with LogCatcher() as log:
            handler.pending[0].errback(ValueError("late failure"))
        assert peer.received() == []
        assert [f.type for f in log.failures()] == [ValueError]

    def test_noAckOnceDisconnected(self):
        _server, _reactor, peer, handler = setup()
        peer.emit("later", ackId=4)
        peer.disconnect("/")
        handler.pending[0].callback("too late")
        assert peer.received() == []

    def test_otherNamespaceEventsGoToTheirHandler(self):
        _server, _reactor, peer, root = setup()
        peer.connect("/a")
        other = RecordingHandler.instances[-1]
        peer.emit("echo", 1, namespace="/a", ackId=0)
        assert other.events == [("echo", [1])] and root.events == []
        assert peer.received()[-1] == Packet(ACK, "/a", [1], 0)

    def test_eventForNamespaceNotConnectedIgnored(self):
        _server, _reactor, peer, root = setup()
        peer.emit("echo", 1, namespace="/a", ackId=0)
        peer.emit("echo", 1, namespace="/elsewhere")
        peer.ack(3, "x")
        assert root.events == [] and peer.received() == []
        assert peer.eio.closeCalls == 0

    def test_binaryEventAndAck(self):
        _server, _reactor, peer, handler = setup()
        start = len(peer.eio.sent)
        peer.emit("echo", {"file": b"\x00\xff", "parts": [b"a", {"b": b"b"}]}, ackId=1)
        assert handler.events == [("echo", [{"file": b"\x00\xff", "parts": [b"a", {"b": b"b"}]}])]
        assert peer.eio.sent[start].startswith("63-1[")
        assert peer.eio.sent[start + 1 :] == [b"\x00\xff", b"a", b"b"]
        assert peer.received() == [Packet(ACK, "/", [{"file": b"\x00\xff", "parts": [b"a", {"b": b"b"}]}], 1)]


class TestServerEmit:
    """
    C{socket.emit} and C{socket.emitWithAck}.
    """

    def test_emit(self):
        _server, _reactor, peer, handler = setup()
        handler.socket.emit("news", 1, {"b": None})
        assert peer.received() == [Packet(EVENT, "/", ["news", 1, {"b": None}])]

    def test_emitBinary(self):
        _server, _reactor, peer, handler = setup()
        start = len(peer.eio.sent)
        handler.socket.emit("file", [b"\x01", {"x": bytearray(b"\x02")}])
        assert peer.eio.sent[start + 1 :] == [b"\x01", b"\x02"]
        assert peer.received() == [Packet(EVENT, "/", ["file", [b"\x01", {"x": b"\x02"}]])]

    @pytest.mark.parametrize("event", ["connect", "disconnect", "connect_error", "newListener", 5])
    def test_emitRefusesReservedNames(self, event):
        _server, _reactor, peer, handler = setup()
        with pytest.raises(UsageError):
            handler.socket.emit(event)
        assert peer.received() == []

    def test_emitOnceDisconnectedIgnored(self):
        _server, _reactor, peer, handler = setup()
        socket = handler.socket
        peer.disconnect("/")
        socket.emit("late")
        assert peer.received() == []

    @pytest.mark.parametrize("args, expected", [((), None), (("yes",), "yes"), ((1, [2]), (1, [2]))])
    @BOTH
    def test_emitWithAck(self, eioProtocol, args, expected):
        _server, reactor, peer, handler = setup(eioProtocol)
        d = handler.socket.emitWithAck("question", 42)
        [packet] = peer.received()
        assert (packet.type, packet.data) == (EVENT, ["question", 42])
        assert packet.id is not None
        results = []
        d.addCallback(results.append)
        peer.ack(packet.id, *args)
        assert results == [expected]
        assert reactor.getDelayedCalls() == []

    def test_emitWithAckBinaryAnswer(self):
        _server, _reactor, peer, handler = setup()
        d = handler.socket.emitWithAck("question")
        [packet] = peer.received()
        peer.ack(packet.id, {"data": b"\x07"})
        assert result(d) == {"data": b"\x07"}

    def test_idsDiffer(self):
        _server, _reactor, peer, handler = setup()
        first = handler.socket.emitWithAck("q")
        second = handler.socket.emitWithAck("q")
        one, two = peer.received()
        assert one.id != two.id
        peer.ack(two.id, 2)
        peer.ack(one.id, 1)
        assert (result(first), result(second)) == (1, 2)

    def test_timeout(self):
        _server, reactor, peer, handler = setup(ackTimeout=10)
        d = handler.socket.emitWithAck("q")
        reactor.advance(9.9)
        assert not d.called
        reactor.advance(0.1)
        failure = result(d)
        assert failure.check(AckTimeout)
        assert reactor.getDelayedCalls() == []
        [packet] = peer.received()
        peer.ack(packet.id, "late")  # ignored
        assert peer.eio.closeCalls == 0

    def test_timeoutArgument(self):
        _server, reactor, _peer, handler = setup(ackTimeout=10)
        d = handler.socket.emitWithAck("q", timeout=2)
        reactor.advance(2)
        assert result(d).check(AckTimeout)

    @pytest.mark.parametrize("how", ["client", "server", "transport"])
    def test_disconnectFailsPendingAcks(self, how):
        _server, reactor, peer, handler = setup()
        d = handler.socket.emitWithAck("q")
        if how == "client":
            peer.disconnect("/")
        elif how == "server":
            handler.socket.disconnect()
        else:
            peer.lose()
        failure = result(d)
        assert failure.check(ConnectionError)
        assert reactor.getDelayedCalls() == []

    def test_emitWithAckNotConnected(self):
        _server, reactor, peer, handler = setup()
        socket = handler.socket
        peer.disconnect("/")
        with pytest.raises(UsageError):
            socket.emitWithAck("q")
        assert reactor.getDelayedCalls() == []

    def test_unexpectedAckIgnored(self):
        _server, _reactor, peer, handler = setup()
        peer.ack(12345, "what")
        assert peer.eio.closeCalls == 0 and handler.socket.connected


class TestRooms:
    def test_joinLeave(self):
        server, _reactor, _peer, handler = setup()
        socket = handler.socket
        socket.join("red", "blue")
        socket.join("red")
        assert socket.rooms == {socket.sid, "red", "blue"}
        socket.leave("red")
        socket.leave("never")
        assert socket.rooms == {socket.sid, "blue"}
        assert server.of("/").adapter.rooms == {socket.sid: {socket.sid}, "blue": {socket.sid}}

    def test_roomNamesAreStrings(self):
        _server, _reactor, _peer, handler = setup()
        with pytest.raises(UsageError):
            handler.socket.join("ok", 5)
        assert handler.socket.rooms == {handler.socket.sid}

    def test_roomsGoneAfterDisconnect(self):
        server, _reactor, peer, handler = setup()
        socket = handler.socket
        socket.join("red")
        peer.disconnect("/")
        assert socket.rooms == frozenset()
        assert server.of("/").adapter.rooms == {} and server.of("/").adapter.sids == {}
        socket.join("blue")
        assert server.of("/").adapter.rooms == {}, "joining once disconnected does nothing"


class TestCatchAll:
    def test_onAnyBeforeHandler(self):
        _server, _reactor, peer, handler = setup()
        seen = []
        listener = lambda event, args: seen.append((event, args, len(handler.events)))
        handler.socket.onAny(listener)
        peer.emit("echo", 1)
        assert seen == [("echo", [1], 0)]
        handler.socket.offAny(listener)
        peer.emit("echo", 2)
        assert len(seen) == 1 and len(handler.events) == 2

    def test_onAnyFailureLogged(self):
        _server, _reactor, peer, handler = setup()

        def broken(event, args):
            raise ValueError("listener")

        handler.socket.onAny(broken)
        with LogCatcher() as log:
            peer.emit("one", ackId=1)
        assert [f.type for f in log.failures()] == [ValueError]
        assert peer.received() == [Packet(ACK, "/", ["one"], 1)]

    def test_onAnyOutgoing(self):
        server, _reactor, _peer, handler = setup()
        seen = []
        listener = lambda event, args: seen.append((event, args))
        socket = handler.socket
        socket.onAnyOutgoing(listener)
        socket.emit("a", 1)
        socket.emitWithAck("b", 2)
        server.of("/").emit("broadcast")
        assert seen == [("a", (1,)), ("b", (2,))]
        socket.offAnyOutgoing(listener)
        socket.emit("c")
        assert len(seen) == 2
