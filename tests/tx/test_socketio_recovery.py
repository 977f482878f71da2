"""
Connection state recovery end to end at the glue's level: offsets on
what is sent, sessions kept on recoverable disconnect reasons only,
restored (same sid, rooms, data, and the missed packets in order) when the
client comes back in time with its C{pid} and last offset, forgotten by
the cleanup L{LoopingCall} after C{maxDisconnectionDuration}; and
L{SocketIOServer.closeAll}'s C{"server shutting down"}.
"""

import pytest

from rtproto.errors import ConnectRefused
from rtproto.socketio import CONNECT, EVENT, Packet
from rtproto.tx.site import buildSite
from tests.tx.sio_helpers import (
    MOUNT,
    Peer,
    PollingClient,
    RecordingHandler,
    makeServer,
)

DURATION = 100.0


def recoveringServer(**options):
    """
    A recovering server (its resource made, so that its cleanup runs).
    """
    RecordingHandler.instances = []
    options.setdefault("maxDisconnectionDuration", DURATION)
    server, reactor = makeServer(RecordingHandler, recovery=True, **options)
    server.resource()
    return server, reactor


def connected(server, auth=None, eioProtocol=4):
    peer = Peer(server, eioProtocol)
    if peer.protocol == 5:
        peer.connect("/", auth)
    return peer


def lastOffset(events):
    return events[-1][-1]


class TestOffsets:
    def test_broadcastsCarryAnOffset(self):
        server, _reactor = recoveringServer()
        v5, v4 = connected(server), connected(server, eioProtocol=3)
        v5.received(), v4.received()
        server.of("/").emit("a", 1)
        server.of("/").emit("b")
        events = v5.events()
        assert [e[:-1] for e in events] == [["a", 1], ["b"]]
        first, second = events[0][-1], events[1][-1]
        assert isinstance(first, str) and first != second
        # As the Node server does: every client gets the offset.
        assert v4.events() == events

    def test_ownEmitsCarryAnOffset(self):
        server, _reactor = recoveringServer()
        peer = connected(server)
        peer.received()
        peer.socket().emit("mine", {"x": 1})
        [event] = peer.events()
        assert event[:2] == ["mine", {"x": 1}] and isinstance(event[2], str)

    def test_noOffsetWithAckOrVolatile(self):
        server, _reactor = recoveringServer()
        peer = connected(server)
        peer.received()
        peer.socket().emitWithAck("q", 1)
        server.of("/").emitWithAck("all", 2)
        server.of("/").volatile.emit("typing")
        assert [p.data for p in peer.received()] == [["q", 1], ["all", 2], ["typing"]]

    def test_noOffsetWithoutRecovery(self):
        server, _reactor = makeServer(RecordingHandler)
        peer = connected(server)
        peer.received()
        server.of("/").emit("a")
        peer.socket().emit("b")
        assert peer.events() == [["a"], ["b"]]

    def test_cleanupLoopIsTheOnlyTimer(self):
        _server, reactor = recoveringServer(maxDisconnectionDuration=30)
        [call] = reactor.getDelayedCalls()
        assert call.getTime() == 15.0, "every min(60, duration / 2) seconds"
        _server, reactor = recoveringServer(maxDisconnectionDuration=600)
        assert [c.getTime() for c in reactor.getDelayedCalls()] == [60.0]


class Scenario:
    """
    A client in room C{red} with C{data}, that saw one broadcast, then lost
    its connection for C{reason} while more were sent.
    """

    def __init__(self, reason="transport close", eioReason=None, **options):
        self.server, self.reactor = recoveringServer(**options)
        self.namespace = self.server.of("/")
        self.other = connected(self.server)
        self.peer = connected(self.server)
        [connect] = [p for p in self.peer.received() if p.type == CONNECT]
        self.sid, self.pid = connect.data["sid"], connect.data["pid"]
        self.socket = self.peer.socket()
        self.socket.join("red")
        self.socket.data["user"] = "ann"
        self.namespace.emit("seen")
        self.offset = lastOffset(self.peer.events())
        self.handler = self.socket.handler
        if eioReason is not None:
            self.peer.lose(eioReason)
        elif reason == "client namespace disconnect":
            self.peer.disconnect("/")
        elif reason == "server namespace disconnect":
            self.socket.disconnect()
        elif reason == "parse error":
            self.peer.sendRaw("garbage")
        else:
            self.peer.lose(reason)

    def missSome(self):
        self.namespace.emit("m1", 1)
        self.namespace.to("blue").emit("notForMe")
        self.namespace.to("red").emit("m2", b"\x01")
        self.namespace.except_("red").emit("notForMeEither")
        self.namespace.to(self.sid).emit("m3")

    def reconnect(self, auth=None):
        peer = Peer(self.server)
        peer.connect("/", {"pid": self.pid, "offset": self.offset} if auth is None else auth)
        return peer


class TestRecovered:
    @pytest.mark.parametrize(
        "eioReason", ["transport close", "client close", "server close", "ping timeout", "transport error"]
    )
    def test_restored(self, eioReason):
        scenario = Scenario(eioReason=eioReason)
        scenario.missSome()
        peer = scenario.reconnect()
        packets = peer.received()
        assert packets[0] == Packet(CONNECT, "/", {"sid": scenario.sid, "pid": scenario.pid})
        missed = [p.data[:-1] for p in packets[1:]]
        assert missed == [["m1", 1], ["m2", b"\x01"], ["m3"]]
        assert all(p.type == EVENT for p in packets[1:])
        socket = peer.socket()
        assert socket.recovered is True
        assert (socket.sid, socket.pid) == (scenario.sid, scenario.pid)
        assert socket.rooms == {scenario.sid, "red"}
        assert socket.data == {"user": "ann"}
        assert scenario.namespace.sockets[scenario.sid] is socket
        handler = socket.handler
        assert handler is not scenario.handler
        assert handler.calls[-1] == ("connected", scenario.sid)
        # and it goes on getting what its rooms get
        scenario.namespace.to("red").emit("after")
        assert [e[:-1] for e in peer.events()] == [["after"]]

    def test_restoredWithNothingMissed(self):
        scenario = Scenario()
        peer = scenario.reconnect()
        assert [p.type for p in peer.received()] == [CONNECT]
        assert peer.socket().recovered

    def test_restoredOnce(self):
        scenario = Scenario()
        scenario.reconnect()
        second = scenario.reconnect()
        [packet] = second.received()
        assert packet.data["sid"] != scenario.sid
        assert not second.socket().recovered

    def test_middlewaresSkipped(self):
        scenario = Scenario()

        def refuse(socket):
            raise ConnectRefused("no")

        scenario.namespace.use(refuse)
        peer = scenario.reconnect()
        assert peer.received()[0].type == CONNECT
        assert ("authorize", scenario.sid) not in peer.socket().handler.calls

    def test_middlewaresRunWhenNotSkipped(self):
        scenario = Scenario(skipMiddlewares=False)
        seen = []
        scenario.namespace.use(lambda socket: seen.append((socket.sid, socket.recovered)))
        peer = scenario.reconnect()
        assert peer.received()[0].type == CONNECT
        assert seen == [(scenario.sid, True)]
        assert peer.socket().handler.calls[0] == ("authorize", scenario.sid)

    def test_serverShuttingDownIsRecoverable(self):
        """
        L{SocketIOServer.closeAll} (a graceful stop) disconnects every socket
        with C{"server shutting down"}, which keeps it for recovery, and
        ends every engine.io session without a close packet (so that every
        client reconnects).
        """
        server, reactor = recoveringServer()
        site = buildSite([], None, reactor, socketio=[(MOUNT, server)])
        client = PollingClient(site, reactor)
        client.handshake()
        assert client.post("40").body == b"ok"
        assert client.get().text.startswith("40{")
        held = client.get()
        [handler] = RecordingHandler.instances
        socket = handler.socket
        server.closeAll()
        assert handler.lostWith == ["server shutting down"]
        assert server.of("/").adapter.recovery.sessions.keys() == {socket.pid}
        assert held.text == "6", "a noop: the client reconnects once its next poll fails"
        assert server.resource().engine.sessions == {}
        client.closeAll()
        assert reactor.getDelayedCalls() == [], "the cleanup loop stopped too"


class TestNotRecovered:
    @pytest.mark.parametrize(
        "reason", ["client namespace disconnect", "server namespace disconnect", "parse error"]
    )
    def test_unrecoverableReason(self, reason):
        scenario = Scenario(reason)
        assert scenario.handler.lostWith == [reason]
        assert scenario.namespace.adapter.recovery.sessions == {}
        scenario.missSome()
        peer = scenario.reconnect()
        [packet] = peer.received()
        assert packet.type == CONNECT and packet.data["sid"] != scenario.sid
        assert not peer.socket().recovered
        assert peer.socket().rooms == {packet.data["sid"]}
        assert peer.socket().data == {}

    def test_expiredByTheCleanup(self):
        scenario = Scenario()
        store = scenario.namespace.adapter.recovery
        assert set(store.sessions) == {scenario.pid}
        scenario.reactor.advance(DURATION)
        assert set(store.sessions) == {scenario.pid}
        scenario.reactor.advance(DURATION / 2)
        assert store.sessions == {}
        peer = scenario.reconnect()
        assert not peer.socket().recovered
        assert len(scenario.reactor.getDelayedCalls()) == 1, "the cleanup loop goes on"

    def test_expiredBeforeTheCleanup(self):
        """
        Between two cleanups, an expired session is not restored either.
        """
        scenario = Scenario(maxDisconnectionDuration=100)
        scenario.reactor.pump([50, 50, 0.5])
        assert scenario.namespace.adapter.recovery.sessions != {}, "the cleanups at 50 and 100 kept it"
        peer = scenario.reconnect()
        assert not peer.socket().recovered

    @pytest.mark.parametrize(
        "kind", ["unknownPid", "noOffset", "noPid", "badOffset", "notStrings", "notAnObject"]
    )
    def test_badAuth(self, kind):
        scenario = Scenario()
        auth = {
            "unknownPid": {"pid": "wrong", "offset": scenario.offset},
            "noOffset": {"pid": scenario.pid},
            "noPid": {"offset": scenario.offset},
            "badOffset": {"pid": scenario.pid, "offset": "x-1"},
            "notStrings": {"pid": 1, "offset": 2},
            "notAnObject": {},
        }[kind]
        peer = scenario.reconnect(auth)
        [packet] = peer.received()
        assert packet.type == CONNECT and packet.data["sid"] != scenario.sid
        assert not peer.socket().recovered
        assert peer.socket().handshake.auth == auth

    def test_protocol4NeverRecovered(self):
        server, _reactor = recoveringServer()
        peer = connected(server, eioProtocol=3)
        socket = peer.socket()
        assert socket.pid is None
        peer.lose()
        assert server.of("/").adapter.recovery.sessions == {}

    def test_cleanupStopsOnCloseAll(self):
        server, reactor = recoveringServer()
        server.closeAll()
        assert reactor.getDelayedCalls() == []
