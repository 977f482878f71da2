"""
Thousands of socket.io clients connecting and going away by every path
(client disconnect, transport close, server disconnect, refusals, unknown
namespaces, malformed packets, connect timeouts, dynamic namespaces) leave
nothing behind: no socket in a namespace, no room, no child namespace, no
timer, and no handler, socket or client object once collected.  The same
over a real engine.io mount with long-polling sessions.
"""

import gc
import weakref
from typing import ClassVar

from twisted.internet.defer import Deferred

from rtproto.errors import ConnectRefused
from rtproto.socketio import NamespaceHandler
from rtproto.tx.site import buildSite
from tests.tx.sio_helpers import MOUNT, Peer, PollingClient, makeServer


class LeakHandler(NamespaceHandler):
    """
    Keeps weak references to every handler and socket.
    """

    refs: ClassVar[list] = []

    def __init__(self):
        LeakHandler.refs.append(weakref.ref(self))

    def connectionMade(self, socket):
        super().connectionMade(socket)
        LeakHandler.refs.append(weakref.ref(socket))
        socket.join("all", f"room-{len(socket.sid) % 7}")

    def on_ping(self, *args):
        return "pong"

    def on_slow(self):
        return Deferred()


def refuse(socket):
    raise ConnectRefused("private", {"why": "test"})


def build(**options):
    LeakHandler.refs = []
    server, reactor = makeServer(LeakHandler, connectTimeout=5, ackTimeout=1000, **options)
    server.of("/a", LeakHandler)
    server.of("/private", LeakHandler).use(refuse)
    dynamic = server.addDynamicNamespace(r"/room-\d+", LeakHandler)
    return server, reactor, dynamic


def consume(d):
    d.addErrback(lambda failure: None)


def run(server, i, refs):
    """
    One client, going away by path C{i % 10}.
    """
    path = i % 10
    peer = Peer(server, eioProtocol=3 if path in (4, 9) else 4)
    refs.append(weakref.ref(peer.client))
    refs.append(weakref.ref(peer.eio))
    if path == 0:  # connects, talks, leaves the namespace, then closes
        peer.connect("/")
        peer.emit("ping", 1, ackId=1)
        peer.disconnect("/")
        peer.lose("client close")
    elif path == 1:  # two namespaces, pending acks both ways, transport closes
        peer.connect("/")
        peer.connect("/a", {"token": "x"})
        consume(peer.socket().emitWithAck("question"))
        peer.emit("slow", namespace="/a", ackId=3)
        server.of("/").to("all").emit("news", b"\x00")
        peer.lose("transport close")
    elif path == 2:  # the server disconnects it and closes the session
        peer.connect("/")
        peer.connect("/a")
        peer.socket("/a").disconnect(close=True)
        peer.lose("server close")
    elif path == 3:  # refused, then the connect timeout closes it
        peer.connect("/private")
        return peer
    elif path == 4:  # protocol 4, another namespace with a query, ping timeout
        peer.connect("/a", query="token=y")
        consume(server.of("/a").timeout(10).emitWithAck("all"))
        peer.lose("ping timeout")
    elif path == 5:  # a dynamic namespace, then transport close
        peer.connect(f"/room-{i % 13}")
        peer.lose("transport close")
    elif path == 6:  # unknown namespace, then a known one, then a malformed packet
        peer.connect("/nope")
        peer.connect("/")
        peer.sendRaw("garbage")
        peer.lose("server close")
    elif path == 7:  # half a binary packet, then the transport closes
        peer.connect("/")
        peer.sendRaw('51-["x",{"_placeholder":true,"num":0}]')
        peer.lose("transport error")
    elif path == 8:  # never connects: the timeout closes it
        return peer
    else:  # protocol 4, refused on /private, then gone
        peer.connect("/private", query="a=b")
        peer.lose("transport close")
    checkClient(peer)
    return None


def checkClient(peer):
    """
    What the session's socket.io side keeps is empty once it closed.
    """
    assert peer.client.closed
    assert peer.client.sockets == {}
    assert not peer.client._connecting
    assert peer.client._connectTimer is None


def checkEmpty(server, dynamic):
    for name, namespace in server.namespaces.items():
        assert namespace.sockets == {}, name
        assert namespace.adapter.rooms == {} and namespace.adapter.sids == {}, name
    assert set(server.namespaces) == {"/", "/a", "/private"}
    assert dynamic.children == {}


def checkCollected(refs):
    gc.collect()
    alive = [r() for r in refs if r() is not None]
    assert alive == []


class TestLeaks:
    N = 10_000

    def test_fakeSessions(self):
        server, reactor, dynamic = build()
        refs: ClassVar[list] = []
        waiting = []
        for i in range(self.N):
            peer = run(server, i, refs)
            if peer is not None:
                waiting.append(peer)
        # connect timeouts at 5 s, broadcast acks at 10 s; a socket's own
        # emitWithAck (1000 s) must have gone with its socket
        reactor.advance(5)
        for peer in waiting:
            assert peer.eio.closeCalls == 1
            peer.lose("server close")
            checkClient(peer)
        del waiting, peer
        checkEmpty(server, dynamic)
        reactor.advance(5)
        assert reactor.getDelayedCalls() == []
        assert len(LeakHandler.refs) > self.N
        checkCollected(LeakHandler.refs + refs)

    def test_fakeSessionsWithRecovery(self):
        server, reactor, dynamic = build(recovery=True, maxDisconnectionDuration=30)
        server.resource()
        refs: ClassVar[list] = []
        waiting = []
        for i in range(self.N // 5):
            peer = run(server, i, refs)
            if peer is not None:
                waiting.append(peer)
        stores = [n.adapter.recovery for n in server.namespaces.values()]
        assert sum(len(s.sessions) for s in stores) > 0
        reactor.advance(5)
        for peer in waiting:
            peer.lose("server close")
        del waiting, peer
        reactor.advance(5)
        assert len(reactor.getDelayedCalls()) == 1, "only the cleanup loop"
        reactor.pump([15] * 4)
        for store in stores:
            assert store.sessions == {}
            assert len(store._packets) == 0
        # Dynamic children are kept while they hold sessions for recovery,
        # and forgotten by the cleanup loop after.
        checkEmpty(server, dynamic)
        assert len(reactor.getDelayedCalls()) == 1, "the cleanup loop goes on"
        checkCollected(LeakHandler.refs + refs)

    def test_realPollingSessions(self):
        server, reactor, dynamic = build()
        site = buildSite([], None, reactor, socketio=[(MOUNT, server)])
        resource = server.resource()
        for i in range(300):
            client = PollingClient(site, reactor, protocol=3 if i % 3 == 0 else 4)
            client.handshake()
            if client.protocol == 4:
                client.post("40" if i % 2 else "40/private,")
                assert client.get().text.startswith("40{" if i % 2 else "44/private,")
            held = client.get()
            if i % 4 == 0:
                client.post("1")  # the client closes the session
            elif i % 4 == 1:
                held.lose()  # the held GET's connection is lost
            client.closeAll()
        # the rest time out
        reactor.advance(25)
        reactor.advance(20)
        assert resource.engine.sessions == {}
        checkEmpty(server, dynamic)
        assert reactor.getDelayedCalls() == []
        assert len(site.connections) == 0
        del client, held
        checkCollected(LeakHandler.refs)
