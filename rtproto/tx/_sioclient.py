"""
L{SocketIOClient}: one engine.io session seen by socket.io, the
L{rtproto.interfaces.IEngineIOHandler} of a socket.io mount.

It decodes packets (a malformed one closes this connection, logged once),
connects sockets to namespaces (protocol 5: when the client asks, within
C{connectTimeout}; protocol 4: C{"/"} at once, others when asked, with their
auth in the namespace's query string), routes events and acks to the
sockets, and writes what they send.  Several namespaces share the one
engine.io session.
"""

from urllib.parse import parse_qsl

from twisted.internet.defer import maybeDeferred
from twisted.logger import Logger
from zope.interface import implementer

from rtproto.errors import ConnectRefused, SocketIOProtocolError
from rtproto.interfaces import IEngineIOHandler
from rtproto.socketio import (
    ACK,
    CONNECT,
    CONNECT_ERROR,
    DISCONNECT,
    EVENT,
    Packet,
    PacketDecoder,
)
from rtproto.socketio._adapter import prepare
from rtproto.tx._metrics import PeerText

_log = Logger()

# engine.io close reasons as socket.io names them
_REASONS = {"client close": "transport close", "server close": "forced close"}


class _InvalidNamespace(ConnectRefused):
    """
    No namespace by that name: protocol 4 clients get the message as an
    object, as from the Node server.
    """

    def __init__(self) -> None:
        super().__init__("Invalid namespace")


@implementer(IEngineIOHandler)
class SocketIOClient:
    """
    The socket.io side of one engine.io session.

    @ivar server: the L{rtproto.tx.socketio.SocketIOServer}.
    @ivar eio: the L{rtproto.interfaces.IEngineIOSocket}.
    @ivar protocol: the socket.io protocol revision, 5 or 4.
    @ivar sockets: namespace name to its connected L{Socket}.
    @ivar counters: the socket.io L{rtproto.tx._metrics.TransportCounters}
        of its server's metrics (from when the session opened).
    """

    def __init__(self, server) -> None:
        self.server = server
        self.eio = None
        self.protocol = 5
        self.sockets: dict = {}
        self.counters = None
        self.closed = False
        self._decoder = None
        self._connecting: set = set()
        self._connectTimer = None

    def __repr__(self) -> str:
        sid = self.eio.sid if self.eio is not None else None
        return f"<SocketIOClient {sid} {sorted(self.sockets)}>"

    # -- engine.io events ----------------------------------------------------

    def connectionOpened(self, socket) -> None:
        """
        The engine.io session opened.
        """
        self.eio = socket
        self.counters = self.server.metrics.socketio
        self.protocol = 5 if socket.protocol == 4 else 4
        options = self.server.options
        self._decoder = PacketDecoder(self.protocol, options.maxAttachments)
        if self.protocol == 4:
            self._connect("/", {})
        else:
            self._connectTimer = self.server.reactor.callLater(options.connectTimeout, self._connectTimedOut)

    def transportUpgraded(self, transport: str) -> None:
        """
        Nothing to do: the sockets do not see transports.
        """

    def messageReceived(self, data) -> None:
        """
        A packet, or part of a binary one.
        """
        try:
            packet = self._decoder.receive(data)
        except SocketIOProtocolError as e:
            _log.info(
                "socket.io client {sid} sent a malformed packet ({reason}); closing its connection",
                sid=self.eio.sid,
                reason=e.reason,
            )
            self.counters.errors += 1
            self.closeAll("parse error", notify=False)
            return
        if packet is None:
            return
        self.counters.received += 1
        ptype = packet.type
        if ptype == EVENT:
            socket = self.sockets.get(packet.namespace)
            if socket is not None:
                socket.eventReceived(packet)
        elif ptype == ACK:
            socket = self.sockets.get(packet.namespace)
            if socket is not None:
                socket.ackReceived(packet)
        elif ptype == CONNECT:
            if self.protocol == 4:
                auth = dict(parse_qsl(packet.query or "", keep_blank_values=True))
            else:
                auth = packet.data if packet.data is not None else {}
            self._connect(packet.namespace, auth)
        elif ptype == DISCONNECT:
            socket = self.sockets.get(packet.namespace)
            if socket is not None:
                self.disconnectSocket(socket, "client namespace disconnect", notify=False)
        elif ptype == CONNECT_ERROR:
            _log.info("socket.io client {sid} sent a CONNECT_ERROR; closing its connection", sid=self.eio.sid)
            self.counters.errors += 1
            self.closeAll("parse error", notify=False)

    def connectionClosed(self, reason: str) -> None:
        """
        The engine.io session closed: every socket on it disconnects.
        """
        self.closed = True
        if self._connectTimer is not None and self._connectTimer.active():
            self._connectTimer.cancel()
        self._connectTimer = None
        reason = _REASONS.get(reason, reason)
        for socket in list(self.sockets.values()):
            self.sockets.pop(socket.namespace.name, None)
            socket.lost(reason)

    def _connectTimedOut(self) -> None:
        self._connectTimer = None
        if not self.sockets and not self.closed:
            _log.info("socket.io client {sid} connected to no namespace in time; closing", sid=self.eio.sid)
            self.eio.close()

    # -- connecting ----------------------------------------------------------

    def _connect(self, name: str, auth) -> None:
        if name in self.sockets or name in self._connecting:
            _log.debug("socket.io client {sid} connects to {nsp} twice", sid=self.eio.sid, nsp=name)
            return
        self._connecting.add(name)
        d = maybeDeferred(self.server.lookupNamespace, name, auth)
        d.addCallback(self._gotNamespace, name, auth)
        d.addErrback(self._refused, name)

    def _gotNamespace(self, namespace, name: str, auth):
        if self.closed:
            return None
        if namespace is None:
            raise _InvalidNamespace()
        return namespace.add(self, auth).addCallback(self._accepted, name)

    def _accepted(self, result, name: str) -> None:
        socket, rooms, missed = result
        self._connecting.discard(name)
        if self.closed:
            socket.namespace.maybeForget()
            return
        if self._connectTimer is not None:
            if self._connectTimer.active():
                self._connectTimer.cancel()
            self._connectTimer = None
        self.sockets[name] = socket
        socket.namespace.register(socket, rooms)
        counters = self.counters
        counters.connections += 1
        counters.opened += 1
        if counters.logConnections:
            _log.debug(
                "socket.io socket {socket} on {nsp} with {peer} connected",
                socket=socket.sid,
                nsp=name,
                peer=PeerText(self.eio.request.peer),
            )
        if self.protocol == 5:
            data = {"sid": socket.sid}
            if socket.pid is not None:
                data["pid"] = socket.pid
        else:
            data = None
        self.write(prepare(Packet(CONNECT, name, data), self.protocol), False)
        for args in missed:
            self.write(prepare(Packet(EVENT, name, args)), False)
        socket._call(socket.handler.connectionMade, socket)

    def _refused(self, failure, name: str) -> None:
        self._connecting.discard(name)
        if self.closed:
            return
        if failure.check(ConnectRefused):
            message, data = failure.value.message, failure.value.data
            _log.info(
                "socket.io client {sid} refused on {nsp}: {message}", sid=self.eio.sid, nsp=name, message=message
            )
        else:
            _log.failure("socket.io connection to {nsp} failed", failure, nsp=name)
            message, data = "Internal server error", None
        if self.protocol == 5 or failure.check(_InvalidNamespace):
            body = {"message": message}
            if data is not None:
                body["data"] = data
        else:
            body = data if data is not None else message
        self.write(prepare(Packet(CONNECT_ERROR, name, body), self.protocol), False)

    # -- writing and disconnecting -------------------------------------------

    def write(self, prepared, volatile: bool) -> None:
        """
        Send an encoded packet (its text, then its attachments); a volatile
        one is dropped when the transport cannot take it at once.
        """
        eio = self.eio
        if self.closed:
            return
        if volatile and not eio.writable:
            return
        self.counters.sent += 1
        if len(prepared.messages) == 1:
            eio.sendShared(prepared.messages[0], prepared.caches[0])
            return
        for message, cache in zip(prepared.messages, prepared.caches):
            eio.sendShared(message, cache)

    def disconnectSocket(self, socket, reason: str, notify: bool) -> None:
        """
        Disconnect one socket, telling the client with a DISCONNECT when
        C{notify}.
        """
        name = socket.namespace.name
        if self.sockets.get(name) is not socket:
            return
        if notify:
            self.write(prepare(Packet(DISCONNECT, name), self.protocol), False)
        del self.sockets[name]
        socket.lost(reason)

    def closeAll(self, reason: str, origin=None, notify: bool = True) -> None:
        """
        Disconnect every socket (telling the client when C{notify}) and
        close the engine.io session.
        """
        for socket in list(self.sockets.values()):
            self.disconnectSocket(socket, reason, notify)
        if not self.closed:
            self.eio.close()
