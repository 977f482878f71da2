"""
The Twisted side of one socket.io socket: L{Socket} is one client connected
to one namespace, what its L{rtproto.interfaces.INamespaceHandler} sends on;
L{Handshake} is what the handler sees of how it connected.  The engine.io
connection they share is L{rtproto.tx._sioclient.SocketIOClient}.
"""

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.logger import Logger
from zope.interface import implementer

from rtproto.errors import AckTimeout, UsageError
from rtproto.interfaces import ISocket, ISocketIOHandshake
from rtproto.socketio import ACK, EVENT, Packet
from rtproto.socketio._adapter import BroadcastOptions, prepare
from rtproto.tx._calls import callHandler
from rtproto.tx._metrics import PeerText
from rtproto.socketio._packets import RESERVED_EVENTS

_log = Logger()


@implementer(ISocketIOHandshake)
class Handshake:
    """
    How a socket connected: its auth payload and the engine.io request.
    """

    __slots__ = ("auth", "query", "request", "protocol")

    def __init__(self, auth: dict, request, protocol: int) -> None:
        self.auth = auth
        self.request = request
        self.protocol = protocol
        self.query = {
            k.decode("utf-8", "replace"): v[0].decode("utf-8", "replace") for k, v in request.args.items() if v
        }

    @property
    def headers(self):
        """
        The engine.io request's headers.
        """
        return self.request.headers

    @property
    def peer(self):
        """
        The peer's address.
        """
        return self.request.peer

    @property
    def isSecure(self) -> bool:
        """
        Whether the connection is over TLS.
        """
        return self.request.isSecure

    def __repr__(self) -> str:
        return f"<Handshake auth={self.auth!r} from {self.peer}>"


def checkEvent(event) -> None:
    """
    Refuse an event name socket.io clients cannot take.

    @raise UsageError: not a L{str}, or reserved (C{connect}, ...).
    """
    if event.__class__ is not str:
        raise UsageError(f"event names are str, not {type(event).__name__}")
    if event in RESERVED_EVENTS:
        raise UsageError(f"{event!r} is a reserved event name")


def ackArgs(result) -> list:
    """
    The arguments of an acknowledgement from a handler's return value:
    none for L{None}, a L{tuple}'s items, else the value itself.
    """
    if result is None:
        return []
    if result.__class__ is tuple:
        return list(result)
    return [result]


def ackResult(args: list):
    """
    What C{emitWithAck}'s L{Deferred} fires with: L{None} for no argument,
    the argument for one, a L{tuple} for several.
    """
    if not args:
        return None
    if len(args) == 1:
        return args[0]
    return tuple(args)


@implementer(ISocket)
class Socket:
    """
    One client connected to one namespace.

    @ivar sid: the socket id.
    @ivar pid: the private id under which connection state recovery keeps
        it, or L{None}.
    @ivar client: the engine.io connection (shared by its namespaces).
    @ivar handler: its L{rtproto.interfaces.INamespaceHandler}.
    """

    def __init__(self, namespace, client, handler, handshake: Handshake, sid: str, pid=None) -> None:
        self.namespace = namespace
        self.client = client
        self.handler = handler
        self.handshake = handshake
        self.sid = sid
        self.pid = pid
        self.protocol = client.protocol
        self.connected = False
        self.recovered = False
        self.data: dict = {}
        self._acks: dict = {}
        self._anyIncoming: list = []
        self._anyOutgoing: list = []

    def __repr__(self) -> str:
        return f"<Socket {self.sid} {self.namespace.name}>"

    @property
    def rooms(self) -> frozenset:
        """
        The rooms this socket is in (none once it disconnected: a recovered
        socket with the same sid is another object).
        """
        if not self.connected:
            return frozenset()
        return self.namespace.adapter.socketRooms(self.sid)

    @property
    def app(self):
        """
        The site's L{rtproto.tx.app.App}, or L{None} outside a site.
        """
        return self.namespace.server.app

    # -- sending -------------------------------------------------------------

    def emit(self, event, *args) -> None:
        """
        Send C{event} with C{args} (JSON values, L{bytes} anywhere).

        @raise UsageError: a reserved or non-string event name, or an
            argument that JSON cannot carry.
        """
        self._emit(event, args, None)

    def emitWithAck(self, event, *args, timeout: "float | None" = None) -> Deferred:
        """
        Send C{event} asking for an acknowledgement.

        @return: a L{Deferred} firing with the client's answer (L{None}, the
            one argument, or a L{tuple} of several), or failing with
            L{AckTimeout} after C{timeout} seconds (the server's
            C{ackTimeout} by default) or L{ConnectionError} if the socket
            disconnects first.
        """
        if not self.connected:
            raise UsageError("socket is not connected")
        checkEvent(event)
        namespace = self.namespace
        ackId = namespace.nextAckId()
        # Encoded first: a bad argument raises before anything waits.
        prepared = prepare(Packet(EVENT, namespace.name, [event, *args], ackId))
        d = Deferred()
        delay = namespace.server.options.ackTimeout if timeout is None else timeout
        timer = namespace.server.reactor.callLater(delay, self._ackTimedOut, ackId)

        def answered(args):
            if timer.active():
                timer.cancel()
            d.callback(ackResult(args))

        self._acks[ackId] = (answered, d, timer)
        for listener in self._anyOutgoing:
            listener(event, args)
        self.client.write(prepared, False)
        return d

    def _ackTimedOut(self, ackId: int) -> None:
        pending = self._acks.pop(ackId, None)
        if pending is not None:
            pending[1].errback(AckTimeout())

    def _emit(self, event, args, ackId) -> None:
        checkEvent(event)
        if not self.connected:
            return
        packet = Packet(EVENT, self.namespace.name, [event, *args], ackId)
        if ackId is None and self.namespace.server.options.recovery:
            # Kept for recovery (with its offset), as a broadcast to itself.
            for listener in self._anyOutgoing:
                listener(event, args)
            self.namespace.adapter.broadcast(packet, BroadcastOptions(rooms=frozenset((self.sid,))))
            return
        prepared = prepare(packet)
        for listener in self._anyOutgoing:
            listener(event, args)
        self.client.write(prepared, False)

    def deliver(self, prepared, volatile: bool) -> None:
        """
        Write a packet encoded for many (a broadcast's).
        """
        if self.connected:
            self.client.write(prepared, volatile)

    def expectAck(self, ackId: int, callback) -> None:
        """
        Call C{callback(args)} when the client answers C{ackId}.
        """
        self._acks[ackId] = (callback, None, None)

    def cancelAck(self, ackId: int) -> None:
        """
        Stop waiting for C{ackId}.
        """
        self._acks.pop(ackId, None)

    # -- rooms ---------------------------------------------------------------

    def join(self, *rooms: str) -> None:
        """
        Enter C{rooms}.
        """
        for room in rooms:
            if room.__class__ is not str:
                raise UsageError(f"room names are str, not {type(room).__name__}")
        if self.connected:
            self.namespace.adapter.addAll(self.sid, rooms)

    def leave(self, room: str) -> None:
        """
        Leave C{room}.
        """
        if self.connected:
            self.namespace.adapter.delete(self.sid, room)

    def to(self, *rooms: str):
        """
        A broadcast to C{rooms} (to every socket when none) that leaves this
        socket out: C{socket.to("room").emit("event", ...)}.
        """
        return self.namespace.to(*rooms).except_(self.sid)

    @property
    def broadcast(self):
        """
        A broadcast to every other socket of the namespace.
        """
        return self.namespace.except_(self.sid)

    # -- catch-all listeners ---------------------------------------------------

    def onAny(self, listener) -> None:
        """
        Call C{listener(event, args)} for every event received, before its
        handler.
        """
        self._anyIncoming.append(listener)

    def offAny(self, listener) -> None:
        """
        Stop calling C{listener} for incoming events.
        """
        self._anyIncoming.remove(listener)

    def onAnyOutgoing(self, listener) -> None:
        """
        Call C{listener(event, args)} for every event this socket emits
        (not for broadcasts, which are encoded once for everybody).
        """
        self._anyOutgoing.append(listener)

    def offAnyOutgoing(self, listener) -> None:
        """
        Stop calling C{listener} for outgoing events.
        """
        self._anyOutgoing.remove(listener)

    # -- disconnecting -------------------------------------------------------

    def disconnect(self, close: bool = False) -> None:
        """
        Disconnect from this namespace (the client is told); with C{close},
        close the whole engine.io connection too.
        """
        if not self.connected:
            return
        if close:
            self.client.closeAll("server namespace disconnect", self)
            return
        self.client.disconnectSocket(self, "server namespace disconnect", notify=True)

    # -- from the client -----------------------------------------------------

    def eventReceived(self, packet: Packet) -> None:
        """
        An EVENT: the catch-all listeners, then the handler; its result is
        the acknowledgement when the client asked for one.
        """
        data = packet.data
        event, args = data[0], data[1:]
        for listener in self._anyIncoming:
            try:
                listener(event, args)
            except Exception:
                _log.failure("socket.io onAny listener failed")
        ackId = packet.id
        d = maybeDeferred(self.handler.eventReceived, event, args)
        if ackId is None:
            d.addErrback(self._handlerFailed, event)
        else:
            d.addCallbacks(self._sendAck, self._handlerFailed, callbackArgs=(ackId,), errbackArgs=(event,))

    def _sendAck(self, result, ackId: int) -> None:
        if self.connected:
            self.client.write(prepare(Packet(ACK, self.namespace.name, ackArgs(result), ackId)), False)

    def _handlerFailed(self, failure, event) -> None:
        _log.failure(
            "socket.io handler {handler!r} failed on event {event!r}", failure, handler=self.handler, event=event
        )

    def ackReceived(self, packet: Packet) -> None:
        """
        The client answered one of our C{emitWithAck}s (or a broadcast's).
        """
        pending = self._acks.pop(packet.id, None)
        if pending is None:
            _log.debug("socket.io: unexpected ack {id} from {sid}", id=packet.id, sid=self.sid)
            return
        pending[0](packet.data)

    def lost(self, reason: str) -> None:
        """
        The socket disconnected (the client already knows, or cannot be
        told): tell the handler C{disconnecting} while the rooms are still
        there, leave them, fail what waits for an ack, tell the handler.
        """
        if not self.connected:
            return
        handler = self.handler
        self._call(handler.disconnecting, reason)
        self.connected = False
        self.client.counters.connections -= 1
        if self.client.counters.logConnections:
            _log.debug(
                "socket.io socket {socket} on {nsp} with {peer} disconnected: {reason}",
                socket=self.sid,
                nsp=self.namespace.name,
                peer=PeerText(self.handshake.request.peer),
                reason=reason,
            )
        namespace = self.namespace
        namespace.socketLost(self, reason)
        acks, self._acks = self._acks, {}
        for callback, d, timer in acks.values():
            if d is not None:
                if timer.active():
                    timer.cancel()
                d.errback(ConnectionError(f"socket disconnected: {reason}"))
        self._call(handler.connectionLost, reason)

    def _call(self, method, *args) -> None:
        callHandler("socket.io", self.handler, method, *args)
