"""
The socket.io server's glue, one engine.io session at a time
(L{rtproto.tx._sioclient.SocketIOClient} with L{Socket} and L{Namespace}):
connecting per protocol revision (5 over engine.io 4, 4 over engine.io 3),
refusals, events and acknowledgements both ways, rooms, disconnects and
malformed packets.  The engine.io session is a fake that records what is
sent; client packets are made, and server packets read, by the real codec;
time is a L{MemoryReactorClock}.

Events, acknowledgements, rooms and catch-all listeners are in
C{test_socketio_events.py}; broadcasts, dynamic namespaces, recovery and
leaks have files of their own too.
"""

from typing import ClassVar

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, fail
from twisted.web.http_headers import Headers
from zope.interface.verify import verifyObject

from rtproto.errors import ConnectRefused
from rtproto.interfaces import IEngineIOHandler, ISocket, ISocketIOHandshake
from rtproto.socketio import (
    ACK,
    CONNECT,
    CONNECT_ERROR,
    DISCONNECT,
    NamespaceHandler,
    Packet,
)
from tests.tx.sio_helpers import (
    BOTH,
    FakeRequest,
    LogCatcher,
    Peer,
    RecordingHandler,
    RefusingHandler,
    accept,
    makeServer,
    setup,
)


class TestConnectProtocol5:
    """
    Protocol 5: the client connects to each namespace with a CONNECT
    (carrying its auth), within C{connectTimeout}.
    """

    def test_handlerIsAnEngineIOHandler(self):
        server, _ = makeServer()
        assert verifyObject(IEngineIOHandler, Peer(server, open=False).client)

    def test_connectWithoutAuth(self):
        RecordingHandler.instances = []
        server, reactor = makeServer(RecordingHandler)
        peer = Peer(server)
        assert peer.eio.sent == [], "nothing until the client asks"
        peer.connect("/")
        [packet] = peer.received()
        assert (packet.type, packet.namespace) == (CONNECT, "/")
        assert set(packet.data) == {"sid"}
        sid = packet.data["sid"]
        assert sid != peer.eio.sid
        socket = peer.socket()
        assert verifyObject(ISocket, socket)
        assert (socket.sid, socket.connected, socket.recovered, socket.pid) == (sid, True, False, None)
        assert socket.rooms == {sid}
        assert socket.handshake.auth == {}
        assert server.of("/").sockets == {sid: socket}
        [handler] = RecordingHandler.instances
        assert handler.calls == [("authorize", sid), ("connected", sid)]
        assert handler.socket is socket
        assert reactor.getDelayedCalls() == []

    def test_connectWithAuth(self):
        server, _ = makeServer(RecordingHandler)
        peer = Peer(server)
        peer.connect("/", {"token": "abc", "n": [1]})
        assert peer.received()[0].type == CONNECT
        assert peer.socket().handshake.auth == {"token": "abc", "n": [1]}

    def test_pidWhenRecoveryIsOn(self):
        server, _ = makeServer(RecordingHandler, recovery=True)
        peer = Peer(server)
        peer.connect("/")
        [packet] = peer.received()
        assert set(packet.data) == {"sid", "pid"}
        assert packet.data["pid"] == peer.socket().pid
        assert packet.data["pid"] != packet.data["sid"]

    def test_handshake(self):
        request = FakeRequest(
            args={b"EIO": [b"4"], b"token": [b"q1", b"q2"], b"empty": []},
            headers=Headers({b"x-user": [b"bob"]}),
            peer=IPv4Address("TCP", "10.0.0.1", 1234),
            isSecure=True,
        )
        server, _ = makeServer(RecordingHandler)
        peer = Peer(server, request=request)
        peer.connect("/", {"a": 1})
        handshake = peer.socket().handshake
        assert verifyObject(ISocketIOHandshake, handshake)
        assert handshake.query == {"EIO": "4", "token": "q1"}
        assert handshake.headers.getRawHeaders(b"x-user") == [b"bob"]
        assert handshake.peer.host == "10.0.0.1"
        assert handshake.isSecure is True
        assert handshake.protocol == 5
        assert handshake.auth == {"a": 1}

    def test_severalNamespacesShareTheSession(self):
        _server, _reactor, peer, _root = setup()
        peer.connect("/a")
        [packet] = peer.received()
        assert (packet.type, packet.namespace) == (CONNECT, "/a")
        assert set(peer.client.sockets) == {"/", "/a"}
        assert peer.socket("/a").sid != peer.socket("/").sid
        assert peer.socket("/a").sid == packet.data["sid"]

    def test_connectTwiceIsOnce(self):
        server, _reactor, peer, _root = setup()
        peer.connect("/")
        assert peer.received() == []
        assert len(server.of("/").sockets) == 1

    def test_connectTimeoutCloses(self):
        server, reactor = makeServer(RecordingHandler, connectTimeout=5)
        peer = Peer(server)
        reactor.advance(4.9)
        assert peer.eio.closeCalls == 0
        reactor.advance(0.1)
        assert peer.eio.closeCalls == 1
        assert reactor.getDelayedCalls() == []

    def test_connectCancelsTimeout(self):
        server, reactor = makeServer(RecordingHandler, connectTimeout=5)
        peer = Peer(server)
        assert len(reactor.getDelayedCalls()) == 1
        peer.connect("/")
        assert reactor.getDelayedCalls() == []
        reactor.advance(10)
        assert peer.eio.closeCalls == 0

    def test_closeCancelsTimeout(self):
        server, reactor = makeServer(RecordingHandler, connectTimeout=5)
        peer = Peer(server)
        peer.lose()
        assert reactor.getDelayedCalls() == []

    def test_refusedConnectLeavesTimeoutRunning(self):
        server, reactor = makeServer(RefusingHandler, connectTimeout=5)
        peer = Peer(server)
        peer.connect("/")
        assert peer.received()[0].type == CONNECT_ERROR
        reactor.advance(5)
        assert peer.eio.closeCalls == 1

    def test_connectAfterLeavingDoesNotRestartTimeout(self):
        """
        A client connected to no namespace any more (it left them) is not
        closed: the timeout is about the first connection only.
        """
        _server, reactor, peer, _root = setup(connectTimeout=5)
        peer.disconnect("/")
        reactor.advance(10)
        assert peer.eio.closeCalls == 0


class TestConnectProtocol4:
    """
    Protocol 4: C{"/"} is connected as soon as the session opens, with the
    engine.io sid; other namespaces on request, with C{<nsp>#<eio sid>} and
    their query as auth.
    """

    def test_rootAtOnce(self):
        RecordingHandler.instances = []
        server, reactor = makeServer(RecordingHandler)
        peer = Peer(server, eioProtocol=3, sid="EIOSID")
        assert peer.eio.sent == ["0"]
        socket = peer.socket()
        assert socket.sid == "EIOSID"
        assert socket.rooms == {"EIOSID"}
        assert socket.handshake.auth == {} and socket.handshake.protocol == 4
        assert socket.pid is None
        assert RecordingHandler.instances[0].calls == [("authorize", "EIOSID"), ("connected", "EIOSID")]
        assert reactor.getDelayedCalls() == [], "no connect timeout"

    def test_otherNamespace(self):
        _server, _reactor, peer, _root = setup(3)
        peer.connect("/a", query="token=abc&x=&token=second")
        assert peer.eio.sent[-1] == "0/a,"
        socket = peer.socket("/a")
        assert socket.sid == f"/a#{peer.eio.sid}"
        assert socket.handshake.auth == {"token": "second", "x": ""}

    def test_otherNamespaceWithoutQuery(self):
        _server, _reactor, peer, _root = setup(3)
        peer.connect("/a")
        assert peer.socket("/a").handshake.auth == {}

    def test_noPidEvenWithRecovery(self):
        _server, _reactor, peer, _root = setup(3, recovery=True)
        assert peer.eio.sent == ["0"]
        assert peer.socket().pid is None

    def test_rootRefused(self):
        server, _ = makeServer(RefusingHandler)
        peer = Peer(server, eioProtocol=3)
        assert peer.eio.sent == ['4"Not authorized"']
        assert peer.client.sockets == {}


class TestRefusals:
    """
    Unknown namespaces, middlewares and C{authorize} refusing, and failures.
    """

    @BOTH
    def test_unknownNamespace(self, eioProtocol):
        server, _reactor, peer, _root = setup(eioProtocol)
        peer.connect("/nope")
        [packet] = peer.received()
        assert packet == Packet(CONNECT_ERROR, "/nope", {"message": "Invalid namespace"})
        assert "/nope" not in server.namespaces
        # the session and its other namespaces keep working
        peer.emit("echo", 1, ackId=3)
        assert peer.received() == [Packet(ACK, "/", [1], 3)]
        peer.connect("/a")
        assert peer.received()[0].type == CONNECT
        assert peer.eio.closeCalls == 0

    def test_unknownThenKnown(self):
        server, _ = makeServer(RecordingHandler)
        peer = Peer(server)
        peer.connect("/nope")
        peer.connect("/")
        assert [p.type for p in peer.received()] == [CONNECT_ERROR, CONNECT]

    @pytest.mark.parametrize(
        "eioProtocol, data, expected",
        [
            (4, {"code": 42}, {"message": "go away", "data": {"code": 42}}),
            (4, None, {"message": "go away"}),
            (3, {"code": 42}, {"code": 42}),
            (3, None, "go away"),
        ],
    )
    def test_middlewareRefuses(self, eioProtocol, data, expected):
        RecordingHandler.instances = []
        server, _ = makeServer(RecordingHandler)

        def refuse(socket):
            raise ConnectRefused("go away", data)

        server.of("/a", RecordingHandler).use(refuse)
        peer = Peer(server, eioProtocol)
        peer.received()
        peer.connect("/a")
        assert peer.received() == [Packet(CONNECT_ERROR, "/a", expected)]
        assert "/a" not in peer.client.sockets
        assert server.of("/a").sockets == {}
        refused = RecordingHandler.instances[-1]
        assert refused.calls == [], "authorize and connectionMade are not called"

    @BOTH
    def test_authorizeRefuses(self, eioProtocol):
        class Refusing(RefusingHandler):
            message = "no"
            data: ClassVar[list] = ["why"]

        server, _ = makeServer(RecordingHandler)
        server.of("/a", Refusing)
        peer = Peer(server, eioProtocol)
        peer.received()
        peer.connect("/a")
        expected = {"message": "no", "data": ["why"]} if eioProtocol == 4 else ["why"]
        assert peer.received() == [Packet(CONNECT_ERROR, "/a", expected)]

    def test_middlewaresInOrderFirstRefusalWins(self):
        server, _ = makeServer(RecordingHandler)
        calls = []

        def first(socket):
            calls.append(("first", socket.handshake.auth))

        def second(socket):
            calls.append("second")
            return fail(ConnectRefused("second says no"))

        def third(socket):
            calls.append("third")

        server.of("/").use(first).use(second).use(third)
        peer = Peer(server)
        peer.connect("/", {"k": 1})
        assert calls == [("first", {"k": 1}), "second"]
        assert peer.received() == [Packet(CONNECT_ERROR, "/", {"message": "second says no"})]

    def test_middlewareFiredDeferred(self):
        server, _ = makeServer(RecordingHandler)
        server.of("/").use(accept)
        peer = Peer(server)
        peer.connect("/")
        assert peer.received()[0].type == CONNECT

    def test_middlewareLaterDeferredAccepts(self):
        RecordingHandler.instances = []
        server, _ = makeServer(RecordingHandler)
        pending = []
        server.of("/").use(lambda socket: pending.append(Deferred()) or pending[-1])
        peer = Peer(server)
        peer.connect("/")
        assert peer.received() == [] and peer.client.sockets == {}
        assert RecordingHandler.instances[0].calls == []
        pending[0].callback("anything")
        assert peer.received()[0].type == CONNECT
        assert [c[0] for c in RecordingHandler.instances[0].calls] == ["authorize", "connected"]

    def test_middlewareLaterDeferredRefuses(self):
        server, _ = makeServer(RecordingHandler)
        pending = []
        server.of("/").use(lambda socket: pending.append(Deferred()) or pending[-1])
        peer = Peer(server)
        peer.connect("/")
        pending[0].errback(ConnectRefused("later no", {"retry": 5}))
        assert peer.received() == [Packet(CONNECT_ERROR, "/", {"message": "later no", "data": {"retry": 5}})]

    def test_closedWhileMiddlewareWaits(self):
        RecordingHandler.instances = []
        server, reactor = makeServer(RecordingHandler)
        pending = []
        server.of("/").use(lambda socket: pending.append(Deferred()) or pending[-1])
        peer = Peer(server)
        peer.connect("/")
        peer.lose()
        pending[0].callback(None)
        assert peer.eio.sent == [] and peer.eio.sentAfterClose == []
        assert server.of("/").sockets == {}
        assert "connected" not in [c[0] for c in RecordingHandler.instances[0].calls]
        assert reactor.getDelayedCalls() == []

    @BOTH
    def test_unexpectedExceptionIsInternalError(self, eioProtocol):
        server, _ = makeServer(RecordingHandler)

        def broken(socket):
            raise KeyError("bug")

        server.of("/a", RecordingHandler).use(broken)
        peer = Peer(server, eioProtocol)
        peer.received()
        with LogCatcher() as log:
            peer.connect("/a")
        expected = {"message": "Internal server error"} if eioProtocol == 4 else "Internal server error"
        assert peer.received() == [Packet(CONNECT_ERROR, "/a", expected)]
        assert [f.type for f in log.failures()] == [KeyError]

    def test_handlerFactoryFailureIsInternalError(self):
        def factory():
            raise RuntimeError("cannot make a handler")

        server, _ = makeServer(factory)
        peer = Peer(server)
        with LogCatcher() as log:
            peer.connect("/")
        assert peer.received() == [Packet(CONNECT_ERROR, "/", {"message": "Internal server error"})]
        assert [f.type for f in log.failures()] == [RuntimeError]


class TestDisconnects:
    @BOTH
    def test_clientNamespaceDisconnect(self, eioProtocol):
        server, _reactor, peer, _root = setup(eioProtocol)
        peer.connect("/a")
        other = RecordingHandler.instances[-1]
        peer.received()
        peer.disconnect("/a")
        reason = "client namespace disconnect"
        assert other.calls[-2:] == [("disconnecting", reason), ("lost", reason)]
        assert peer.received() == [], "no DISCONNECT back"
        assert set(peer.client.sockets) == {"/"}
        assert server.of("/a").sockets == {}
        assert peer.eio.closeCalls == 0
        peer.emit("one", ackId=1)
        assert peer.received() == [Packet(ACK, "/", ["one"], 1)]

    @BOTH
    def test_serverDisconnect(self, eioProtocol):
        _server, _reactor, peer, _root = setup(eioProtocol)
        peer.connect("/a")
        other = RecordingHandler.instances[-1]
        peer.received()
        other.socket.disconnect()
        assert peer.received() == [Packet(DISCONNECT, "/a")]
        assert other.lostWith == ["server namespace disconnect"]
        assert other.socket.connected is False
        assert set(peer.client.sockets) == {"/"} and peer.eio.closeCalls == 0
        other.socket.disconnect()
        assert peer.received() == [] and other.lostWith == ["server namespace disconnect"]

    def test_disconnectClose(self):
        _server, _reactor, peer, root = setup()
        peer.connect("/a")
        other = RecordingHandler.instances[-1]
        peer.received()
        other.socket.disconnect(close=True)
        assert sorted(p.namespace for p in peer.received() if p.type == DISCONNECT) == ["/", "/a"]
        assert peer.eio.closeCalls == 1 and peer.eio.sentAfterClose == []
        assert root.lostWith == other.lostWith == ["server namespace disconnect"]
        assert peer.client.sockets == {}
        # then the engine reports the close: nothing more happens
        peer.client.connectionClosed("server close")
        assert root.lostWith == ["server namespace disconnect"]

    @pytest.mark.parametrize(
        "engineReason, reason",
        [
            ("client close", "transport close"),
            ("server close", "forced close"),
            ("transport close", "transport close"),
            ("ping timeout", "ping timeout"),
            ("transport error", "transport error"),
        ],
    )
    @BOTH
    def test_engineCloseReasons(self, eioProtocol, engineReason, reason):
        server, reactor, peer, root = setup(eioProtocol)
        peer.connect("/a")
        other = RecordingHandler.instances[-1]
        peer.lose(engineReason)
        assert root.lostWith == other.lostWith == [reason]
        assert root.calls[-2] == ("disconnecting", reason)
        assert server.of("/").sockets == {} == server.of("/a").sockets
        assert reactor.getDelayedCalls() == []

    def test_disconnectingSeesRooms(self):
        _server, _reactor, peer, handler = setup()
        handler.socket.join("red")
        peer.lose()
        assert handler.roomsWhenDisconnecting == {handler.socket.sid, "red"}

    def test_disconnectingCanStillBroadcast(self):
        """
        In C{disconnecting} the socket is still in its rooms and may tell
        them it is leaving (as the chat does).
        """

        class Leaving(RecordingHandler):
            def disconnecting(self, reason):
                super().disconnecting(reason)
                self.socket.to("red").emit("left", self.socket.sid)

        server, _reactor, peer, handler = setup()
        server.of("/", Leaving)
        leaving = Peer(server)
        leaving.connect("/")
        handler.socket.join("red")
        RecordingHandler.instances[-1].socket.join("red")
        sid = leaving.socket().sid
        leaving.lose()
        assert peer.events() == [["left", sid]]

    def test_handlerHookExceptionsLogged(self):
        class Broken(NamespaceHandler):
            def connectionMade(self, socket):
                super().connectionMade(socket)
                raise RuntimeError("connectionMade")

            def disconnecting(self, reason):
                raise RuntimeError("disconnecting")

            def connectionLost(self, reason):
                return fail(RuntimeError("connectionLost"))

        server, _reactor = makeServer(Broken)
        peer = Peer(server)
        with LogCatcher() as log:
            peer.connect("/")
            assert peer.received()[0].type == CONNECT
            peer.lose()
        assert [str(f.value) for f in log.failures()] == ["connectionMade", "disconnecting", "connectionLost"]
        assert server.of("/").sockets == {}

    @pytest.mark.parametrize(
        "messages",
        [["garbage"], [b"\x00"], ["7"], ['51-["x",{"_placeholder":true,"num":0}]', "2"], ['4{"message":"x"}']],
        ids=["text", "binaryAlone", "type", "textForAttachment", "connectError"],
    )
    @BOTH
    def test_malformedClosesConnection(self, eioProtocol, messages):
        _server, _reactor, peer, root = setup(eioProtocol)
        peer.connect("/a")
        other = RecordingHandler.instances[-1]
        peer.received()
        with LogCatcher() as log:
            peer.sendRaw(*messages)
        assert peer.eio.closeCalls == 1
        assert root.lostWith == other.lostWith == ["parse error"]
        assert peer.received() == [], "no DISCONNECT: the client broke the protocol"
        assert peer.client.sockets == {}
        assert any("malformed" in e.get("log_format", "") or "CONNECT_ERROR" in e.get("log_format", "")
                   for e in log.events)
        peer.client.connectionClosed("server close")
        assert root.lostWith == ["parse error"]

    def test_reservedEventNameClosesProtocol5(self):
        """
        Revision 5 reserves C{connect}, C{disconnect}... as event names;
        revision 4 does not, and such an event is an ordinary one.
        """
        _server, _reactor, peer, root = setup()
        peer.sendRaw('2["disconnect"]')
        assert peer.eio.closeCalls == 1 and root.lostWith == ["parse error"]
        _server, _reactor, peer, root = setup(3)
        peer.sendRaw('2["disconnect"]')
        assert peer.eio.closeCalls == 0 and root.events == [("disconnect", [])]


