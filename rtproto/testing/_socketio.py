"""
Fakes for testing L{rtproto.interfaces.INamespaceHandler}s without a
network: L{FakeNamespace} connects handlers as the server does (its
middlewares, then the handler's C{authorize}), and gives each a
L{FakeSocket} that records what it is sent.

They are the server's own classes with the engine.io connection replaced
by a recorder: rooms, broadcasts (C{to}, C{except_}, C{volatile}), the
dispatch of events to C{on_<event>} methods and the acknowledgements made
from their return values are the real code, and every packet goes through
the real socket.io codec.  Connection state recovery is off.
"""

from collections import namedtuple

from twisted.internet.defer import Deferred, maybeDeferred, succeed
from twisted.internet.task import Clock

from rtproto.errors import UsageError
from rtproto.socketio import (
    ACK,
    BINARY_ACK,
    BINARY_EVENT,
    DISCONNECT,
    EVENT,
    MemoryAdapter,
    NamespaceHandler,
    Packet,
    PacketDecoder,
    SocketIOOptions,
    encodePacket,
    prepare,
)
from rtproto.testing._common import NEW_APP, appOf
from rtproto.testing._engineio import FakeEngineIORequest, FakeEngineIOSocket
from rtproto.tx._metrics import Metrics
from rtproto.tx.socketio import Handshake, Namespace, Socket

#: One broadcast: C{event}, C{args} (a L{tuple}), the C{rooms} it went to
#: (all sockets when empty), the C{exceptRooms} left out, whether it was
#: C{volatile}, and its C{ackId} (L{None} unless it asked for answers).
Broadcast = namedtuple("Broadcast", "event args rooms exceptRooms volatile ackId")


def _broadcast(packet, options) -> Broadcast:
    event, *args = packet.data
    return Broadcast(event, tuple(args), options.rooms, options.exceptRooms, options.volatile, packet.id)


class _RecordingAdapter(MemoryAdapter):
    """
    The in-memory adapter, listing every broadcast in its namespace's
    C{broadcasts} before delivering it.
    """

    def broadcast(self, packet, options) -> None:
        self.namespace.broadcasts.append(_broadcast(packet, options))
        super().broadcast(packet, options)

    def broadcastWithAck(self, packet, options, clientCount, ack) -> None:
        self.namespace.broadcasts.append(_broadcast(packet, options))
        super().broadcastWithAck(packet, options, clientCount, ack)


class _FakeServer:
    """
    What a namespace needs of its server.
    """

    adapterFactory = _RecordingAdapter

    def __init__(self, reactor, app) -> None:
        self.reactor = reactor
        self.app = app
        self.options = SocketIOOptions()
        self.namespaces: dict = {}
        self.metrics = Metrics(reactor)


class _RecordingClient:
    """
    The engine.io connection of one L{FakeSocket}: decodes what is written
    to it and hands the packets to the socket to record.
    """

    protocol = 5

    def __init__(self, request, sid: str, server) -> None:
        self.eio = FakeEngineIOSocket(request, sid, app=server.app)
        self.counters = server.metrics.socketio
        self.closed = False
        self.socket = None
        self._decoder = PacketDecoder(5)

    def write(self, prepared, volatile: bool) -> None:
        if self.closed or (volatile and not self.eio.writable):
            return
        for message in prepared.messages:
            self.eio.send(message)
            packet = self._decoder.receive(message)
            if packet is not None:
                self.socket._record(packet)

    def disconnectSocket(self, socket, reason: str, notify: bool) -> None:
        if socket.connected:
            if notify:
                self.write(prepare(Packet(DISCONNECT, socket.namespace.name)), False)
            socket.lost(reason)

    def closeAll(self, reason: str, origin=None, notify: bool = True) -> None:
        self.disconnectSocket(self.socket, reason, notify)
        self.closed = True
        self.socket.connectionClosed = True


def _roundTrip(packet: Packet) -> Packet:
    """
    C{packet} as the server would decode it from the wire.
    """
    decoder = PacketDecoder(5)
    decoded = None
    for message in encodePacket(packet, 5):
        decoded = decoder.receive(message)
    return decoded


class FakeSocket(Socket):
    """
    The server's socket with a recorder for a client: what the handler (or
    a broadcast) sends this client is listed here.

    @ivar handler: the socket's handler.
    @ivar emitted: the events this client was sent, in order, as
        C{(event, args)} with C{args} a L{tuple} (broadcasts that reached
        it included), decoded as the client would see them.
    @ivar ackRequests: ack id to C{(event, args)} of each event sent with
        C{emitWithAck} (or a broadcast asking for answers): answer with
        L{receiveAck}.
    @ivar acks: ack id to the L{list} of arguments the server answered
        each L{receive} with.
    @ivar joined: the rooms the handler joined, in order (its own room,
        its sid, not included).
    @ivar left: the rooms it left, in order.
    @ivar disconnectReason: why it disconnected, or L{None}.
    @ivar disconnectSent: whether the client was sent a DISCONNECT.
    @ivar connectionClosed: whether the whole connection was closed
        (C{disconnect(close=True)}).
    @ivar failures: the L{Failure}s of the handler's event methods.
    """

    def __init__(self, namespace, client, handler, handshake, sid: str) -> None:
        super().__init__(namespace, client, handler, handshake, sid)
        self.emitted: list = []
        self.ackRequests: dict = {}
        self.acks: dict = {}
        self.joined: list = []
        self.left: list = []
        self.disconnectReason = None
        self.disconnectSent = False
        self.connectionClosed = False
        self.failures: list = []
        self._ackIds = 0
        self._waiting: dict = {}

    def __repr__(self) -> str:
        return f"<FakeSocket {self.sid} {self.namespace.name}>"

    @property
    def broadcasts(self) -> list:
        """
        The namespace's broadcasts that left this socket out by its id:
        those sent with C{socket.to(...)} or C{socket.broadcast}.
        """
        return [b for b in self.namespace.broadcasts if self.sid in b.exceptRooms]

    def eventsNamed(self, event: str) -> list:
        """
        The C{args} of each C{event} this client was sent.
        """
        return [args for name, args in self.emitted if name == event]

    # -- recording -------------------------------------------------------------

    def _record(self, packet: Packet) -> None:
        ptype = packet.type
        if ptype in (EVENT, BINARY_EVENT):
            event, *args = packet.data
            self.emitted.append((event, tuple(args)))
            if packet.id is not None:
                self.ackRequests[packet.id] = (event, tuple(args))
        elif ptype in (ACK, BINARY_ACK):
            self.acks[packet.id] = list(packet.data)
            waiting = self._waiting.pop(packet.id, None)
            if waiting is not None:
                waiting[0].callback(list(packet.data))
        elif ptype == DISCONNECT:
            self.disconnectSent = True

    def join(self, *rooms: str) -> None:
        """
        Enter C{rooms} (recorded in L{joined}).
        """
        super().join(*rooms)
        if self.connected:
            self.joined.extend(rooms)

    def leave(self, room: str) -> None:
        """
        Leave C{room} (recorded in L{left}).
        """
        if self.connected:
            self.left.append(room)
        super().leave(room)

    def lost(self, reason: str) -> None:
        """
        Record why the socket disconnected, then disconnect it as the server
        does (C{disconnecting}, leave the rooms, C{connectionLost}).
        """
        if self.connected and self.disconnectReason is None:
            self.disconnectReason = reason
        super().lost(reason)

    def _handlerFailed(self, failure, event) -> None:
        self.failures.append(failure)
        for ackId, (d, name) in list(self._waiting.items()):
            if name == event:
                del self._waiting[ackId]
                d.errback(failure)
                return

    # -- what the client does ------------------------------------------------

    def receive(self, event: str, *args, ack: bool = True):
        """
        The client emits C{event} with C{args}: they go through the
        socket.io codec and the server's dispatch (the handler's
        C{eventReceived}, so C{on_<event>}).

        @param ack: whether the client asks for an acknowledgement.
        @return: with C{ack}, a L{Deferred} firing with the L{list} of the
            acknowledgement's arguments (C{[]} for a handler returning
            L{None}, C{[True]} for C{True}, a tuple's items), or failing as
            the handler did; without, L{None}.
        @raise Exception: without C{ack}, what the handler raised at once.
        """
        if not self.connected:
            raise UsageError("the socket is disconnected")
        ackId = d = None
        if ack:
            self._ackIds += 1
            ackId = self._ackIds
            d = Deferred()
            self._waiting[ackId] = (d, event)
        before = len(self.failures)
        self.eventReceived(_roundTrip(Packet(EVENT, self.namespace.name, [event, *args], ackId)))
        if not ack and len(self.failures) > before:
            self.failures[before].raiseException()
        return d

    def receiveAck(self, ackId: int, *args) -> None:
        """
        The client answers the server's C{emitWithAck} number C{ackId}
        (see L{ackRequests}) with C{args}.
        """
        self.ackReceived(_roundTrip(Packet(ACK, self.namespace.name, list(args), ackId)))

    def receiveDisconnect(self, reason: str = "client namespace disconnect") -> None:
        """
        The client leaves the namespace (or, with another C{reason} such as
        C{'transport close'}, its connection is gone).
        """
        self.client.disconnectSocket(self, reason, False)


class FakeNamespace(Namespace):
    """
    A namespace (the server's own class) whose sockets are L{FakeSocket}s:
    C{to()}, C{except_()}, C{emit()}, C{sockets}, C{use(middleware)} and
    the rooms are real.

    @ivar broadcasts: every broadcast, as a L{Broadcast}, in order.
    @ivar reactor: the L{Clock} of C{emitWithAck} timeouts.
    """

    def __init__(self, handlerFactory=NamespaceHandler, name: str = "/", app=NEW_APP, reactor=None) -> None:
        """
        @param handlerFactory: makes each socket's handler (the handler
            class).
        @param app: the L{rtproto.tx.app.App} the sockets see; a new one by
            default, L{None} for handlers outside a site.
        @param reactor: a L{Clock} by default.
        """
        self.broadcasts: list = []
        self.reactor = reactor if reactor is not None else Clock()
        server = _FakeServer(self.reactor, appOf(app))
        super().__init__(server, name, handlerFactory)
        server.namespaces[name] = self
        self._sidCount = 0

    def connect(self, auth=None, query=None, headers=None, peer=None, isSecure=False, handler=None) -> Deferred:
        """
        A client connects, as the server connects it: the middlewares, then
        the handler's C{authorize(socket)} (either may return a
        L{Deferred}); then the socket enters its own room and the handler's
        C{connectionMade(socket)} is called.

        @param auth: the client's auth payload, a L{dict}.
        @param query: the engine.io request's query arguments, a L{dict}.
        @param handler: the handler (one from the factory by default).
        @return: a L{Deferred} firing with the L{FakeSocket}, or failing
            with the L{rtproto.errors.ConnectRefused} that refused it (its
            C{message} and C{data} are what the client gets).
        """
        request = FakeEngineIORequest("/socket.io/", query, headers, peer, isSecure)
        handler = handler if handler is not None else self.handlerFactory()
        self._sidCount += 1
        sid = f"{self._sidCount:04d}-fake-sid"
        client = _RecordingClient(request, f"eio-{self._sidCount}", self.server)
        socket = FakeSocket(self, client, handler, Handshake(auth if auth is not None else {}, request, 5), sid)
        client.socket = socket
        d = succeed(None)
        for check in list(self.middlewares) + [handler.authorize]:
            d.addCallback(lambda _, check=check: maybeDeferred(check, socket))

        def accepted(_):
            client.counters.connections += 1
            client.counters.opened += 1
            self.register(socket, {sid})
            handler.connectionMade(socket)
            return socket

        return d.addCallback(accepted)
