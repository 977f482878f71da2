"""
Helpers for the socket.io glue tests: a fake engine.io session
(L{FakeEngineIOSocket}) that records what the server sends, a fake client
(L{Peer}) that drives one L{SocketIOClient} with packets made by the real
codec and decodes what the server wrote, a recording namespace handler,
and a log catcher.

No Site, no HTTP: the socket.io layer only sees an
L{rtproto.interfaces.IEngineIOSocket}, so that is what is faked; time is a
L{MemoryReactorClock}.
"""

import json
from itertools import count
from typing import ClassVar, Self

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, succeed
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import globalLogPublisher
from twisted.web.http_headers import Headers
from zope.interface import implementer

from rtproto.errors import ConnectRefused
from rtproto.interfaces import IEngineIORequest, IEngineIOSocket
from rtproto.socketio import (
    ACK,
    CONNECT,
    DISCONNECT,
    EVENT,
    NamespaceHandler,
    Packet,
    PacketDecoder,
    SocketIOOptions,
    encodePacket,
)
from rtproto.tx._sioclient import SocketIOClient
from rtproto.tx.socketio import SocketIOServer
from tests.tx.eio_helpers import EngineIOClient

_sids = count(1)

# both protocol revisions: engine.io 4 (socket.io 5) and 3 (socket.io 4)
BOTH = pytest.mark.parametrize("eioProtocol", [4, 3], ids=["sio5", "sio4"])

MOUNT = "/socket.io/"


@implementer(IEngineIORequest)
class FakeRequest:
    """
    The request that opened a fake session.
    """

    def __init__(self, args=None, headers=None, peer=None, isSecure=False) -> None:
        self.path = b"/socket.io/"
        self.args = args if args is not None else {}
        self.headers = headers if headers is not None else Headers()
        self.peer = peer if peer is not None else IPv4Address("TCP", "127.0.0.1", 50000)
        self.isSecure = isSecure


@implementer(IEngineIOSocket)
class FakeEngineIOSocket:
    """
    An engine.io session that records what is sent on it.

    @ivar sent: every message sent while open, in order (L{str} or L{bytes}).
    @ivar caches: the cache given with each L{sendShared} (L{None} for
        L{send}), parallel to C{sent}.
    @ivar closeCalls: how many times L{close} was called.
    @ivar sentAfterClose: messages sent once closed (dropped, as the real
        session does).
    """

    def __init__(self, sid=None, protocol: int = 4, request=None) -> None:
        self.sid = sid if sid is not None else f"eio{next(_sids)}"
        self.protocol = protocol
        self.request = request if request is not None else FakeRequest()
        self.transport = "websocket"
        self.writable = True
        self.closed = False
        self.sent: list = []
        self.caches: list = []
        self.sentAfterClose: list = []
        self.closeCalls = 0

    def send(self, data) -> None:
        if self.closed:
            self.sentAfterClose.append(data)
            return
        self.sent.append(data)
        self.caches.append(None)

    def sendShared(self, data, cache) -> None:
        if self.closed:
            self.sentAfterClose.append(data)
            return
        self.sent.append(data)
        self.caches.append(cache)

    def close(self) -> None:
        self.closeCalls += 1
        self.closed = True


class Peer:
    """
    One fake socket.io client on its own fake engine.io session.

    @ivar eio: its L{FakeEngineIOSocket}.
    @ivar client: the server's L{SocketIOClient} for it.
    @ivar protocol: the socket.io revision (5 over engine.io 4, 4 over 3).
    """

    def __init__(self, server, eioProtocol: int = 4, sid=None, request=None, open: bool = True) -> None:
        self.server = server
        self.eio = FakeEngineIOSocket(sid, eioProtocol, request)
        self.client = SocketIOClient(server)
        self.protocol = 5 if eioProtocol == 4 else 4
        self._read = 0
        self._decoder = PacketDecoder(self.protocol, maxAttachments=100)
        if open:
            self.open()

    def open(self) -> None:
        self.client.connectionOpened(self.eio)

    # -- sending ---------------------------------------------------------------

    def sendRaw(self, *messages) -> None:
        for message in messages:
            self.client.messageReceived(message)

    def send(self, packet: Packet) -> None:
        self.sendRaw(*encodePacket(packet, self.protocol))

    def connect(self, namespace: str = "/", auth=None, query=None) -> None:
        self.send(Packet(CONNECT, namespace, auth, query=query))

    def emit(self, event, *args, namespace: str = "/", ackId=None) -> None:
        self.send(Packet(EVENT, namespace, [event, *args], ackId))

    def ack(self, ackId: int, *args, namespace: str = "/") -> None:
        self.send(Packet(ACK, namespace, list(args), ackId))

    def disconnect(self, namespace: str = "/") -> None:
        self.send(Packet(DISCONNECT, namespace))

    def lose(self, reason: str = "transport close") -> None:
        """
        The engine.io session ends (the engine tells the handler).
        """
        self.eio.closed = True
        self.client.connectionClosed(reason)

    # -- reading ---------------------------------------------------------------

    def received(self) -> list:
        """
        The packets the server sent since the last call, decoded.
        """
        new = self.eio.sent[self._read :]
        self._read = len(self.eio.sent)
        packets = []
        for message in new:
            packet = self._decoder.receive(message)
            if packet is not None:
                packets.append(packet)
        assert not self._decoder.waitingForAttachments, "a binary packet lacks attachments"
        return packets

    def events(self, namespace=None) -> list:
        """
        The data of the EVENT packets received since the last read.
        """
        return [p.data for p in self.received() if p.type == EVENT and namespace in (None, p.namespace)]

    def connected(self, namespace: str = "/"):
        """
        Read what came and return the namespace's socket id from its CONNECT.
        """
        packets = [p for p in self.received() if p.namespace == namespace]
        assert packets and packets[0].type == CONNECT, packets
        return packets[0].data["sid"] if self.protocol == 5 else None

    def socket(self, namespace: str = "/"):
        """
        The server's socket for C{namespace} on this client.
        """
        return self.client.sockets[namespace]


class PollingClient(EngineIOClient):
    """
    A long-polling engine.io client of a real site's socket.io mount.
    """

    def request(self, method, params, body=b"", headers=(), path=MOUNT):
        return super().request(method, params, body, headers, path)

    def handshake(self, **extra) -> dict:
        """
        Open a session; over engine.io 3 the open packet comes with the
        socket.io CONNECT of C{"/"} in the same payload.
        """
        if self.protocol == 4:
            return super().handshake(**extra)
        exchange = self.request("GET", self.params(sid=None, **extra))
        assert exchange.status == 200, exchange.body
        text = exchange.text
        length, _, rest = text.partition(":")
        packet = json.loads(rest[1 : int(length)])
        assert rest[0] == "0" and rest[int(length) :] == "2:40", text
        self.sid = packet["sid"]
        exchange.lose()
        return packet


def makeServer(handler=None, reactor=None, **options):
    """
    A server with a fake clock; C{handler} (a factory) serves C{"/"}.

    @return: C{(server, reactor)}.
    """
    reactor = reactor if reactor is not None else MemoryReactorClock()
    server = SocketIOServer(SocketIOOptions(**options), reactor=reactor)
    if handler is not None:
        server.of("/", handler)
    return server, reactor


def setup(eioProtocol=4, **options):
    """
    A server with a L{RecordingHandler} on C{"/"} and C{"/a"}, and one peer
    connected to C{"/"} (what it received so far read).

    @return: C{(server, reactor, peer, the peer's handler on "/")}.
    """
    RecordingHandler.instances = []
    server, reactor = makeServer(RecordingHandler, **options)
    server.of("/a", RecordingHandler)
    peer = Peer(server, eioProtocol)
    if peer.protocol == 5:
        peer.connect("/")
    peer.received()
    return server, reactor, peer, RecordingHandler.instances[-1]


class RecordingHandler(NamespaceHandler):
    """
    Records every call in C{calls}; C{instances} lists every handler made
    (reset it per test).  Events: C{echo} answers its arguments,
    C{none}/C{many}/C{one} answer nothing/a tuple/a value, C{later} answers
    through a L{Deferred} kept in C{pending}, C{boom} raises.
    """

    instances: ClassVar[list] = []

    def __init__(self) -> None:
        self.calls: list = []
        self.pending: list = []
        self.roomsWhenDisconnecting = None
        RecordingHandler.instances.append(self)

    def authorize(self, socket):
        self.calls.append(("authorize", socket.sid))

    def connectionMade(self, socket):
        super().connectionMade(socket)
        self.calls.append(("connected", socket.sid))

    def eventReceived(self, event, args):
        self.calls.append(("event", event, args))
        return super().eventReceived(event, args)

    def on_echo(self, *args):
        return tuple(args)

    def on_none(self, *args):
        return None

    def on_one(self, *args):
        return "one"

    def on_many(self, *args):
        return (1, "two", [3])

    def on_later(self, *args):
        d = Deferred()
        self.pending.append(d)
        return d

    def on_boom(self, *args):
        raise RuntimeError("boom")

    async def on_async(self, *args):
        # A coroutine handler: its result is the acknowledgement.
        d = Deferred()
        self.pending.append(d)
        return await d

    def disconnecting(self, reason):
        self.roomsWhenDisconnecting = set(self.socket.rooms)
        self.calls.append(("disconnecting", reason))

    def connectionLost(self, reason):
        self.calls.append(("lost", reason))

    @property
    def lostWith(self) -> list:
        return [c[1] for c in self.calls if c[0] == "lost"]

    @property
    def events(self) -> list:
        return [(c[1], c[2]) for c in self.calls if c[0] == "event"]


class RefusingHandler(NamespaceHandler):
    """
    Refuses every socket in C{authorize} with C{message} and C{data}.
    """

    message = "Not authorized"
    data = None

    def authorize(self, socket):
        raise ConnectRefused(self.message, self.data)


def accept(socket):
    """
    A middleware that accepts at once, through a fired L{Deferred}.
    """
    return succeed(None)


def result(d):
    """
    What the fired L{Deferred} C{d} has: its result, or a L{Failure}.
    """
    results = []
    d.addBoth(results.append)
    assert len(results) == 1, "the Deferred has not fired"
    return results[0]


class LogCatcher:
    """
    Collects the log events published while it is on (a context manager).
    """

    def __init__(self) -> None:
        self.events: list = []

    def __enter__(self) -> Self:
        globalLogPublisher.addObserver(self.events.append)
        return self

    def __exit__(self, *exc) -> None:
        globalLogPublisher.removeObserver(self.events.append)

    def failures(self) -> list:
        return [e["log_failure"] for e in self.events if "log_failure" in e]
