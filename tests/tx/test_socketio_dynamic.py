"""
Dynamic namespaces (L{SocketIOServer.addDynamicNamespace}): children made
on demand for the names a regular expression or a callable (possibly
through a L{Deferred}) accepts, sharing the handler factory and the
middlewares, and forgotten once empty.
"""

import re

import pytest
from twisted.internet.defer import Deferred

from rtproto.errors import ConnectRefused, UsageError
from rtproto.socketio import CONNECT, CONNECT_ERROR, Packet
from tests.tx.sio_helpers import LogCatcher, Peer, RecordingHandler, makeServer

INVALID = {"message": "Invalid namespace"}


def connectTo(server, name, auth=None, eioProtocol=4):
    peer = Peer(server, eioProtocol)
    peer.received()
    peer.connect(name, auth)
    return peer


class TestMatchers:
    @pytest.mark.parametrize("pattern", [r"/room-\d+", re.compile(r"/room-\d+")])
    def test_regex(self, pattern):
        RecordingHandler.instances = []
        server, _ = makeServer()
        dynamic = server.addDynamicNamespace(pattern, RecordingHandler)
        peer = connectTo(server, "/room-12")
        [packet] = peer.received()
        assert (packet.type, packet.namespace) == (CONNECT, "/room-12")
        child = server.namespaces["/room-12"]
        assert dynamic.children == {"/room-12": child}
        assert child.parent is dynamic
        assert child.sockets == {peer.socket("/room-12").sid: peer.socket("/room-12")}
        assert RecordingHandler.instances[0].socket.namespace is child

    @pytest.mark.parametrize("name", ["/room-", "/room-1x", "/xroom-1", "/ROOM-1"])
    def test_regexMustMatchWholeName(self, name):
        server, _ = makeServer()
        server.addDynamicNamespace(r"/room-\d+", RecordingHandler)
        peer = connectTo(server, name)
        assert peer.received() == [Packet(CONNECT_ERROR, name, INVALID)]
        assert name not in server.namespaces

    def test_callableSeesNameAndAuth(self):
        server, _ = makeServer()
        seen = []

        def matcher(name, auth):
            seen.append((name, auth))
            return auth.get("member") is True

        server.addDynamicNamespace(matcher, RecordingHandler)
        assert connectTo(server, "/club", {"member": True}).received()[0].type == CONNECT
        assert connectTo(server, "/other", {"member": False}).received() == [
            Packet(CONNECT_ERROR, "/other", INVALID)
        ]
        assert seen == [("/club", {"member": True}), ("/other", {"member": False})]

    def test_callableProtocol4SeesQueryAsAuth(self):
        server, _ = makeServer(RecordingHandler)
        seen = []
        server.addDynamicNamespace(lambda name, auth: seen.append(auth) or True, RecordingHandler)
        peer = Peer(server, 3)
        peer.connect("/x", query="k=v")
        assert seen == [{"k": "v"}]
        assert peer.eio.sent[-1] == "0/x,"

    @pytest.mark.parametrize("accepted", [True, False])
    def test_deferredMatcher(self, accepted):
        server, _ = makeServer()
        pending = []

        def matcher(name, auth):
            pending.append(Deferred())
            return pending[-1]

        server.addDynamicNamespace(matcher, RecordingHandler)
        peer = connectTo(server, "/later")
        assert peer.received() == []
        pending[0].callback(accepted)
        [packet] = peer.received()
        assert packet.type == (CONNECT if accepted else CONNECT_ERROR)
        assert ("/later" in server.namespaces) is accepted

    def test_deferredMatcherFailure(self):
        server, _ = makeServer()
        pending = []
        server.addDynamicNamespace(lambda n, a: pending.append(Deferred()) or pending[-1], RecordingHandler)
        peer = connectTo(server, "/later")
        with LogCatcher() as log:
            pending[0].errback(RuntimeError("lookup failed"))
        assert peer.received() == [Packet(CONNECT_ERROR, "/later", {"message": "Internal server error"})]
        assert [f.type for f in log.failures()] == [RuntimeError]

    def test_matcherRaising(self):
        def matcher(name, auth):
            raise ValueError("bug")

        server, _ = makeServer()
        server.addDynamicNamespace(matcher, RecordingHandler)
        with LogCatcher() as log:
            peer = connectTo(server, "/x")
        assert peer.received() == [Packet(CONNECT_ERROR, "/x", {"message": "Internal server error"})]
        assert [f.type for f in log.failures()] == [ValueError]

    def test_badMatcher(self):
        server, _ = makeServer()
        with pytest.raises(UsageError):
            server.addDynamicNamespace(42, RecordingHandler)

    def test_staticFirst(self):
        class Static(RecordingHandler):
            pass

        server, _ = makeServer()
        asked = []
        server.addDynamicNamespace(lambda n, a: asked.append(n) or True, RecordingHandler)
        server.of("/fixed", Static)
        peer = connectTo(server, "/fixed")
        assert peer.received()[0].type == CONNECT
        assert isinstance(peer.socket("/fixed").handler, Static)
        assert asked == []

    def test_firstAcceptingMatcherWins(self):
        class Second(RecordingHandler):
            pass

        server, _ = makeServer()
        first = server.addDynamicNamespace(r"/a-\d+", RecordingHandler)
        second = server.addDynamicNamespace(r"/[ab]-\d+", Second)
        assert type(connectTo(server, "/a-1").socket("/a-1").handler) is RecordingHandler
        assert type(connectTo(server, "/b-1").socket("/b-1").handler) is Second
        assert list(first.children) == ["/a-1"] and list(second.children) == ["/b-1"]


class TestChildren:
    def test_sharedByLaterClients(self):
        server, _ = makeServer()
        dynamic = server.addDynamicNamespace(r"/room-\d+", RecordingHandler)
        one = connectTo(server, "/room-1")
        two = connectTo(server, "/room-1")
        child = dynamic.children["/room-1"]
        assert len(child.sockets) == 2
        one.received()
        two.received()
        child.emit("hello")
        assert one.events() == two.events() == [["hello"]]

    @pytest.mark.parametrize("how", ["client", "server", "transport"])
    def test_forgottenWhenEmpty(self, how):
        server, _ = makeServer()
        dynamic = server.addDynamicNamespace(r"/room-\d+", RecordingHandler)
        one = connectTo(server, "/room-1")
        two = connectTo(server, "/room-1")
        one.disconnect("/room-1")
        assert "/room-1" in server.namespaces
        if how == "client":
            two.disconnect("/room-1")
        elif how == "server":
            two.socket("/room-1").disconnect()
        else:
            two.lose()
        assert "/room-1" not in server.namespaces
        assert dynamic.children == {}
        again = connectTo(server, "/room-1")
        assert again.received()[0].type == CONNECT
        assert dynamic.children["/room-1"] is server.namespaces["/room-1"]

    def test_middlewaresShared(self):
        server, _ = makeServer()
        dynamic = server.addDynamicNamespace(r"/room-\d+", RecordingHandler)
        keep = connectTo(server, "/room-1")
        calls = []

        def middleware(socket):
            calls.append(socket.namespace.name)
            if socket.handshake.auth.get("banned"):
                raise ConnectRefused("banned")

        assert dynamic.use(middleware) is dynamic
        connectTo(server, "/room-1")
        connectTo(server, "/room-2")
        refused = connectTo(server, "/room-3", {"banned": True})
        assert calls == ["/room-1", "/room-2", "/room-3"]
        assert refused.received() == [Packet(CONNECT_ERROR, "/room-3", {"message": "banned"})]
        assert keep.socket("/room-1").connected

    def test_staticNamespaceNotForgotten(self):
        server, _ = makeServer(RecordingHandler)
        server.of("/static", RecordingHandler)
        peer = connectTo(server, "/static")
        peer.disconnect("/static")
        assert "/static" in server.namespaces
