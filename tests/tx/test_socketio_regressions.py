"""
Regression tests for bugs found in the socket.io server while writing its
tests (each docstring says what went wrong and how it was fixed): timers
left by an emitWithAck that raised, dynamic namespaces leaking or losing
their recovery state, an unencodable broadcast kept for recovery, an old
socket changing a recovered one, the chat demo under recovery, and option
errors naming the wrong thing.
"""

import pytest
from twisted.internet.defer import Deferred
from twisted.python import usage

from rtproto import tap
from rtproto.errors import ConnectRefused, UsageError
from rtproto.plugins.chat import ChatHandler
from rtproto.socketio import CONNECT, CONNECT_ERROR
from tests.tx.sio_helpers import LogCatcher, Peer, RecordingHandler, makeServer


def connected(server, namespace="/", auth=None):
    peer = Peer(server)
    peer.connect(namespace, auth)
    return peer


class TestEmitWithAckThatRaises:
    """
    C{emitWithAck} schedules its timeout (and registers the pending ack)
    before it checks and encodes the packet: when that raises, the caller
    gets the exception, but the L{DelayedCall} stays and, when it fires,
    errbacks a L{Deferred} nobody holds ("Unhandled error in Deferred").

    Fix: in L{Socket.emitWithAck}, check the event name (and encode the
    packet, e.g. C{prepare(packet)}) before C{callLater} and before adding
    to C{_acks}, or wrap C{self._emit(...)} in C{try/except: timer.cancel();
    del self._acks[ackId]; raise}.  In L{BroadcastOperator.emitWithAck},
    encode (or call C{broadcastWithAck}) inside a C{try} that cancels the
    timer on failure, or schedule the timer after C{broadcastWithAck}
    returned (it is only needed if C{clientCount} was not 0).
    """

    def test_socketReservedName(self):
        server, reactor = makeServer(RecordingHandler)
        peer = connected(server)
        with pytest.raises(UsageError):
            peer.socket().emitWithAck("disconnect")
        assert reactor.getDelayedCalls() == []

    def test_socketUnencodableArgument(self):
        server, reactor = makeServer(RecordingHandler)
        peer = connected(server)
        with pytest.raises(UsageError):
            peer.socket().emitWithAck("ok", object())
        assert reactor.getDelayedCalls() == []
        assert peer.socket()._acks == {}

    def test_broadcastUnencodableArgument(self):
        server, reactor = makeServer(RecordingHandler)
        connected(server)
        with pytest.raises(UsageError):
            server.of("/").emitWithAck("ok", {1, 2})
        assert reactor.getDelayedCalls() == []


class TestDynamicChildren:
    def test_refusedConnectsLeaveNoChild(self):
        """
        A child namespace is made as soon as the matcher accepts a name,
        before the middlewares and C{authorize} run; when they refuse, no
        socket ever joins it, so C{childEmpty} is never called and the
        child (with its adapter and recovery store) stays in
        C{server.namespaces} and C{dynamic.children} forever.  A client can
        make the server grow without bound: one refused CONNECT per name.

        Fixed: in L{SocketIOClient._refused} (or a C{Namespace.add} errback),
        when the namespace has a C{parent} and no sockets, call
        C{namespace.parent.childEmpty(namespace)}; or make the child only
        once C{add} succeeded (pass the name, create it in C{_accepted}).
        """
        server, _reactor = makeServer()
        dynamic = server.addDynamicNamespace(r"/room-\d+", RecordingHandler)

        def membersOnly(socket):
            raise ConnectRefused("members only")

        dynamic.use(membersOnly)
        for i in range(100):
            peer = connected(server, f"/room-{i}")
            assert peer.received()[0].type == CONNECT_ERROR
            peer.lose()
        assert dynamic.children == {}
        assert set(server.namespaces) == {"/"}

    def test_childForgottenWhileAConnectWaits(self):
        """
        When a child's last socket leaves while another client's connect to
        it waits for a middleware, the child is forgotten; the waiting
        socket is then registered in that orphan namespace.  Whoever
        connects next gets a new child, and broadcasts to the name (through
        C{server.namespaces} or C{dynamic.children}) never reach the
        orphan's socket.

        Fixed: count connects in progress per namespace (increment in
        C{Namespace.add}, decrement when it succeeds or fails) and have
        C{socketLost} forget the child only when it has neither sockets nor
        connects in progress; or in C{register}, put a child that was
        forgotten back into C{parent.children} and C{server.namespaces}
        (and merge with a newer one if there is).
        """
        server, _reactor = makeServer()
        dynamic = server.addDynamicNamespace(r"/room-\d+", RecordingHandler)
        pending = []

        def slowForSome(socket):
            if socket.handshake.auth.get("slow"):
                pending.append(Deferred())
                return pending[-1]
            return None

        dynamic.use(slowForSome)
        first = connected(server, "/room-1")
        waiting = connected(server, "/room-1", {"slow": True})
        first.disconnect("/room-1")
        pending[0].callback(None)
        assert waiting.received()[0].type == CONNECT
        later = connected(server, "/room-1")
        later.received()
        server.namespaces["/room-1"].emit("hello")
        assert waiting.events() == [["hello"]]
        assert later.events() == [["hello"]]


class TestRecovery:
    def test_dynamicChildKeepsRecoveryState(self):
        """
        A dynamic child is forgotten when its last socket leaves, even when
        that socket left for a recoverable reason and was just kept for
        recovery: the store goes with the child, and the client coming back
        in time gets a new child with an empty store, so it is not
        recovered (a new sid, no rooms, no missed packets).  With static
        namespaces the same client is recovered.

        Fixed: in C{Namespace.socketLost}, do not call C{childEmpty} while
        the adapter's recovery store holds sessions; have the cleanup loop
        (C{SocketIOServer._cleanupRecovery}) forget empty children whose
        store has no session left.
        """
        server, _reactor = makeServer(recovery=True)
        server.addDynamicNamespace(r"/room-\d+", RecordingHandler)
        peer = connected(server, "/room-1")
        [connect] = peer.received()
        peer.socket("/room-1").join("red")
        server.namespaces["/room-1"].emit("seen")
        offset = peer.events()[-1][-1]
        peer.lose("transport close")
        again = connected(server, "/room-1", {"pid": connect.data["pid"], "offset": offset})
        [packet] = again.received()
        assert packet.data["sid"] == connect.data["sid"]
        assert again.socket("/room-1").recovered
        assert "red" in again.socket("/room-1").rooms

    def test_unencodableBroadcastNotKept(self):
        """
        With recovery on, L{MemoryAdapter.broadcast} stores the packet
        (C{recovery.store}) before encoding it (C{prepare}); when encoding
        raises (an argument that is not JSON), the caller gets the
        L{UsageError} but the packet stays in the store.  A client that
        missed it and comes back is then sent a CONNECT, after which
        writing the missed packet raises in C{SocketIOClient._accepted}:
        the client gets a CONNECT_ERROR "Internal server error" too, and the
        socket stays registered (in C{client.sockets} and
        C{namespace.sockets}) without its handler's C{connectionMade}.

        Fixed: in C{MemoryAdapter.broadcast}, encode first, then store:
        C{prepared = prepare(Packet(EVENT, ns, packet.data + [offset]))}
        with the offset taken by a C{recovery.nextOffset()} that is only
        committed (C{recovery.keep(...)}) once C{prepare} succeeded; and in
        C{_accepted}, encode the missed packets before registering.
        """
        RecordingHandler.instances = []
        server, _reactor = makeServer(RecordingHandler, recovery=True)
        peer = connected(server)
        [connect] = peer.received()
        server.of("/").emit("seen")
        offset = peer.events()[-1][-1]
        peer.lose("transport close")
        with pytest.raises(UsageError):
            server.of("/").emit("bad", object())
        server.of("/").emit("good")
        with LogCatcher() as log:
            again = connected(server, "/", {"pid": connect.data["pid"], "offset": offset})
        packets = again.received()
        assert [p.type for p in packets] == [CONNECT, 2], packets
        assert packets[1].data[0] == "good"
        assert RecordingHandler.instances[-1].calls[-1][0] == "connected"
        assert log.failures() == []

    def test_oldSocketDoesNotChangeTheRestoredOne(self):
        """
        A recovered socket has the sid of the socket it replaces, and the
        old L{Socket} object reads and writes the adapter by sid:
        C{old.leave(room)} (which, unlike C{join}, does not check
        C{connected}) takes the new socket out of C{room}, and
        C{old.rooms} shows the new socket's rooms.  A handler finishing
        some work after its socket disconnected (a L{Deferred}) does this.

        Fixed: in L{Socket.leave}, do nothing unless C{self.connected} (as
        C{join}); make C{rooms} return C{frozenset()} once disconnected.
        """
        server, _reactor = makeServer(RecordingHandler, recovery=True)
        peer = connected(server)
        [connect] = peer.received()
        old = peer.socket()
        old.join("red")
        server.of("/").emit("seen")
        offset = peer.events()[-1][-1]
        peer.lose("transport close")
        again = connected(server, "/", {"pid": connect.data["pid"], "offset": offset})
        new = again.socket()
        assert new.recovered and "red" in new.rooms
        old.leave("red")
        assert "red" in new.rooms
        assert old.rooms == frozenset()


class TestChatWithRecovery:
    def test_recoveredChatterIsInOneRoom(self):
        """
        The chat keeps its state (nick, room) in the handler, not in
        C{socket.data}: a recovered socket gets a new L{ChatHandler} whose
        C{connectionMade} resets the nick to a guest one and enters the
        lobby, while recovery has put the socket back in its old room.  The
        chatter then receives the messages of two rooms and its handler
        believes it is in the lobby.

        Fixed: in L{ChatHandler.connectionMade}, when C{socket.recovered},
        take C{nick} and C{room} from C{socket.data} (saved there by
        C{on_nick} and C{_enter}) and do not enter the lobby again.
        """
        server, _reactor = makeServer(ChatHandler, recovery=True)
        peer = connected(server)
        connect = peer.received()[0]
        peer.emit("nick", "ann")
        peer.emit("join", "kitchen")
        offset = peer.events()[-1][-1]
        peer.lose("transport close")
        again = connected(server, "/", {"pid": connect.data["pid"], "offset": offset})
        socket = again.socket()
        assert socket.recovered
        assert socket.rooms == {socket.sid, "kitchen"}
        assert (socket.handler.nick, socket.handler.room) == ("ann", "kitchen")


class TestTapMessages:
    @pytest.mark.parametrize("option", ["--sio-connect-timeout", "--sio-ack-timeout", "--sio-recovery-duration"])
    def test_zeroNamesTheOption(self, option):
        """
        C{--sio-connect-timeout 0} fails with "socket.io options:
        connectTimeout must be positive" (the dataclass field, not the
        option), while C{-1} fails with "takes a number of seconds, 0 or
        more", which 0 is not.

        Fixed: check these three with a helper that requires a positive
        number and names the option, e.g. C{"--sio-connect-timeout takes a
        number of seconds above 0, not '0'"}.
        """
        with pytest.raises(usage.UsageError) as e:
            tap.Options().parseOptions([option, "0"])
        assert option in str(e.value)
        with pytest.raises(usage.UsageError) as e:
            tap.Options().parseOptions([option, "-1"])
        assert "0 or more" not in str(e.value)
