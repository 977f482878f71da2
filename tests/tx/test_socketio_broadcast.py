"""
Broadcasts through L{BroadcastOperator}: to rooms, leaving rooms out,
from a socket to the others, volatile ones, encoded once for every
recipient, and C{emitWithAck} to many; and the operator's socket
management (C{sockets}, C{socketsJoin}, C{socketsLeave},
C{disconnectSockets}).
"""

import pytest

from rtproto.errors import AckTimeout, UsageError
from rtproto.socketio import DISCONNECT, EVENT
from tests.tx.sio_helpers import Peer, RecordingHandler, makeServer, result


class Room:
    """
    A server with peers on C{"/"}: C{peers[0..2]} over protocol 5 and
    C{peers[3]} over protocol 4; C{0} and C{1} are in C{red}, C{1} and
    C{3} in C{blue}.
    """

    def __init__(self, **options):
        RecordingHandler.instances = []
        self.server, self.reactor = makeServer(RecordingHandler, **options)
        self.namespace = self.server.of("/")
        self.peers = []
        for eioProtocol in (4, 4, 4, 3):
            peer = Peer(self.server, eioProtocol)
            if peer.protocol == 5:
                peer.connect("/")
            peer.received()
            self.peers.append(peer)
        self.sockets = [p.socket() for p in self.peers]
        self.sockets[0].join("red")
        self.sockets[1].join("red", "blue")
        self.sockets[3].join("blue")

    def got(self):
        """
        Which peers got which events since the last call: index to event data.
        """
        found = {}
        for i, peer in enumerate(self.peers):
            events = peer.events()
            if events:
                found[i] = events
        return found


class TestTargets:
    def test_everybody(self):
        room = Room()
        room.namespace.emit("news", 1)
        assert room.got() == {i: [["news", 1]] for i in range(4)}

    def test_toRoom(self):
        room = Room()
        room.namespace.to("red").emit("x")
        assert set(room.got()) == {0, 1}

    def test_toSeveralRoomsOnceEach(self):
        room = Room()
        room.namespace.to("red").to("blue").emit("x")
        assert room.got() == {0: [["x"]], 1: [["x"]], 3: [["x"]]}
        room.namespace.in_("red", "blue").emit("y")
        assert room.got() == {0: [["y"]], 1: [["y"]], 3: [["y"]]}

    def test_toSocketId(self):
        room = Room()
        room.namespace.to(room.sockets[2].sid).emit("private")
        assert room.got() == {2: [["private"]]}

    def test_exceptRoom(self):
        room = Room()
        room.namespace.except_("blue").emit("x")
        assert set(room.got()) == {0, 2}

    def test_toAndExcept(self):
        room = Room()
        room.namespace.to("red").except_("blue").emit("x")
        assert set(room.got()) == {0}
        room.namespace.except_("blue").to("red").emit("x")
        assert set(room.got()) == {0}

    def test_socketToExcludesSender(self):
        room = Room()
        room.sockets[1].to("red").emit("x")
        assert set(room.got()) == {0}
        room.sockets[1].to("red", "blue").emit("x")
        assert set(room.got()) == {0, 3}

    def test_socketToNoRoomIsEveryOther(self):
        room = Room()
        room.sockets[1].to().emit("x")
        assert set(room.got()) == {0, 2, 3}

    def test_socketBroadcast(self):
        room = Room()
        room.sockets[3].broadcast.emit("x")
        assert set(room.got()) == {0, 1, 2}
        room.sockets[3].broadcast.to("blue").emit("y")
        assert room.got() == {1: [["y"]]}

    def test_operatorsAreImmutable(self):
        room = Room()
        red = room.namespace.to("red")
        red.except_("blue")
        red.volatile  # noqa: B018
        red.emit("x")
        assert set(room.got()) == {0, 1}

    def test_otherNamespaceNotReached(self):
        room = Room()
        room.server.of("/a", RecordingHandler)
        room.peers[0].connect("/a")
        room.peers[0].received()
        room.server.of("/a").emit("only-a")
        assert room.peers[0].received()[0].namespace == "/a"
        assert room.got() == {}

    def test_broadcastBinary(self):
        room = Room()
        room.namespace.to("blue").emit("file", {"data": b"\x00\x01", "list": [bytearray(b"\x02")]})
        expected = [["file", {"data": b"\x00\x01", "list": [b"\x02"]}]]
        assert room.got() == {1: expected, 3: expected}

    @pytest.mark.parametrize("event", ["connect", "disconnect", "disconnecting", "removeListener", 7, None])
    def test_reservedNamesRefused(self, event):
        room = Room()
        with pytest.raises(UsageError):
            room.namespace.emit(event)
        with pytest.raises(UsageError):
            room.namespace.emitWithAck(event)
        assert room.got() == {}
        assert room.reactor.getDelayedCalls() == []

    def test_disconnectedSocketNotReached(self):
        room = Room()
        room.peers[0].disconnect("/")
        room.namespace.to("red").emit("x")
        assert set(room.got()) == {1}


class TestEncodedOnce:
    def test_sameCachesForEveryone(self):
        """
        Each recipient's session is handed the same message with the same
        cache, so the transports encode it once.
        """
        room = Room()
        room.namespace.emit("x", b"\x01")
        caches = [p.eio.caches[-2:] for p in room.peers]
        for cache in caches[1:]:
            assert cache[0] is caches[0][0] and cache[1] is caches[0][1]
        assert caches[0][0] is not caches[0][1]

    def test_ownEmitsNotShared(self):
        room = Room()
        room.sockets[0].emit("x")
        room.sockets[1].emit("x")
        assert room.peers[0].eio.caches[-1] is not room.peers[1].eio.caches[-1]


class TestVolatile:
    def test_droppedWhenNotWritable(self):
        room = Room()
        room.peers[1].eio.writable = False
        room.namespace.volatile.emit("typing")
        assert set(room.got()) == {0, 2, 3}
        room.namespace.emit("important")
        assert room.got()[1] == [["important"]], "only volatile ones are dropped"

    def test_socketVolatile(self):
        room = Room()
        room.peers[0].eio.writable = False
        room.sockets[1].to("red").volatile.emit("typing")
        assert room.got() == {}
        room.peers[0].eio.writable = True
        room.sockets[1].to("red").volatile.emit("typing")
        assert room.got() == {0: [["typing"]]}


class TestEmitWithAck:
    def answerAll(self, room, peers, *args):
        for i in peers:
            [packet] = [p for p in room.peers[i].received() if p.type == EVENT]
            room.peers[i].ack(packet.id, *args, i)

    def test_collectsEveryAnswer(self):
        room = Room()
        d = room.namespace.emitWithAck("q", 1)
        assert not d.called
        for i in (2, 0, 3):
            [packet] = room.peers[i].received()
            assert packet.data == ["q", 1]
            room.peers[i].ack(packet.id, f"from {i}")
        assert not d.called
        [packet] = room.peers[1].received()
        room.peers[1].ack(packet.id, "a", "b")
        assert result(d) == ["from 2", "from 0", "from 3", ("a", "b")]
        assert room.reactor.getDelayedCalls() == []

    def test_toRoom(self):
        room = Room()
        d = room.namespace.to("blue").emitWithAck("q")
        assert room.peers[0].received() == [] and room.peers[2].received() == []
        self.answerAll(room, [3, 1])
        assert result(d) == [3, 1]

    def test_timesOutWithPartialResponses(self):
        room = Room(ackTimeout=10)
        d = room.namespace.timeout(3).emitWithAck("q")
        self.answerAll(room, [1, 3])
        room.reactor.advance(2.9)
        assert not d.called
        room.reactor.advance(0.1)
        failure = result(d)
        assert failure.check(AckTimeout)
        assert failure.value.responses == [1, 3]
        assert room.reactor.getDelayedCalls() == []
        # late answers change nothing, and are not waited for any more
        self.answerAll(room, [0])
        assert all(s._acks == {} for s in room.sockets)

    def test_defaultTimeout(self):
        room = Room(ackTimeout=7)
        d = room.namespace.emitWithAck("q")
        room.reactor.advance(7)
        assert result(d).check(AckTimeout)

    def test_noRecipients(self):
        room = Room()
        d = room.namespace.to("nowhere").emitWithAck("q")
        assert result(d) == []
        assert room.reactor.getDelayedCalls() == []

    def test_disconnectedRecipientMeansTimeout(self):
        room = Room()
        d = room.namespace.to("red").timeout(5).emitWithAck("q")
        self.answerAll(room, [0])
        room.peers[1].lose()
        assert not d.called
        room.reactor.advance(5)
        assert result(d).value.responses == [0]

    def test_socketBroadcastWithAck(self):
        room = Room()
        d = room.sockets[1].to("red", "blue").emitWithAck("q")
        self.answerAll(room, [0, 3])
        assert result(d) == [0, 3]

    def test_idsDoNotClashWithSocketEmitWithAck(self):
        room = Room()
        own = room.sockets[0].emitWithAck("mine")
        broadcast = room.namespace.to("red").emitWithAck("all")
        first, second = room.peers[0].received()
        assert first.id != second.id
        room.peers[0].ack(second.id, "to broadcast")
        room.peers[0].ack(first.id, "to own")
        self.answerAll(room, [1])
        assert result(own) == "to own"
        assert result(broadcast) == ["to broadcast", 1]


class TestSocketManagement:
    def test_sockets(self):
        room = Room()
        assert {s.sid for s in room.namespace.to("red").sockets()} == {room.sockets[0].sid, room.sockets[1].sid}
        assert len(room.namespace.to().sockets()) == 4
        assert [s.sid for s in room.namespace.to("red").except_("blue").sockets()] == [room.sockets[0].sid]
        assert room.namespace.to("nowhere").sockets() == []

    def test_socketsJoinAndLeave(self):
        room = Room()
        room.namespace.to("blue").socketsJoin("green", "yellow")
        assert {s.sid for s in room.namespace.to("green").sockets()} == {room.sockets[1].sid, room.sockets[3].sid}
        room.namespace.to("red").socketsLeave("green")
        assert [s.sid for s in room.namespace.to("green").sockets()] == [room.sockets[3].sid]
        assert "yellow" in room.sockets[1].rooms

    def test_disconnectSockets(self):
        room = Room()
        room.namespace.to("red").disconnectSockets()
        for i in (0, 1):
            assert [p.type for p in room.peers[i].received()] == [DISCONNECT]
            assert room.peers[i].eio.closeCalls == 0
        assert len(room.namespace.sockets) == 2
        room.namespace.disconnectSockets(close=True)
        assert room.namespace.sockets == {}
        assert [p.eio.closeCalls for p in room.peers] == [0, 0, 1, 1]
        lost = [h.lostWith for h in RecordingHandler.instances]
        assert lost == [["server namespace disconnect"]] * 4
