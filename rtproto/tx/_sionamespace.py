"""
socket.io namespaces: L{Namespace} has the sockets, the middlewares and the
adapter (rooms and broadcasts); L{DynamicNamespace} makes namespaces on
demand for the names a matcher accepts.
"""

import re
import secrets

from twisted.internet.defer import Deferred, maybeDeferred, succeed

from rtproto.errors import UsageError
from rtproto.socketio._handler import NamespaceHandler
from rtproto.socketio._recovery import RECOVERABLE_REASONS, RecoveryStore
from rtproto.tx._siobroadcast import BroadcastOperator
from rtproto.tx._siosocket import Handshake, Socket


def _newSid() -> str:
    return secrets.token_urlsafe(15)


class Namespace:
    """
    One namespace: its sockets, middlewares and adapter.

    @ivar name: e.g. C{"/"} or C{"/chat"}.
    @ivar sockets: socket id to L{Socket}.
    @ivar adapter: its L{rtproto.interfaces.IAdapter}.
    @ivar middlewares: callables C{(socket)} run in order before a socket
        connects; each may return a L{Deferred}; raising (or failing with)
        L{rtproto.errors.ConnectRefused} refuses it.
    """

    def __init__(self, server, name: str, handlerFactory=NamespaceHandler, middlewares=None, parent=None) -> None:
        self.server = server
        self.name = name
        self.handlerFactory = handlerFactory
        self.sockets: "dict[str, Socket]" = {}
        self.middlewares: list = middlewares if middlewares is not None else []
        self.parent = parent
        self.connecting = 0
        self._ackIds = 0
        options = server.options
        recovery = None
        if options.recovery:
            recovery = RecoveryStore(options.maxDisconnectionDuration, options.recoveryMaxPackets)
        self._recovery = recovery
        self.adapter = server.adapterFactory(self, recovery)

    def __repr__(self) -> str:
        return f"<Namespace {self.name} ({len(self.sockets)} sockets)>"

    def use(self, middleware) -> "Namespace":
        """
        Add a middleware (see L{middlewares}).
        """
        self.middlewares.append(middleware)
        return self

    def nextAckId(self) -> int:
        """
        A fresh acknowledgement id (one counter for the namespace, as
        broadcasts with acks share ids across sockets).
        """
        self._ackIds += 1
        return self._ackIds

    # -- broadcasting ----------------------------------------------------------

    def to(self, *rooms: str) -> BroadcastOperator:
        """
        A broadcast to C{rooms}.
        """
        return BroadcastOperator(self).to(*rooms)

    in_ = to

    def except_(self, *rooms: str) -> BroadcastOperator:
        """
        A broadcast to every socket not in C{rooms}.
        """
        return BroadcastOperator(self).except_(*rooms)

    @property
    def volatile(self) -> BroadcastOperator:
        """
        A volatile broadcast.
        """
        return BroadcastOperator(self).volatile

    @property
    def local(self) -> BroadcastOperator:
        """
        A broadcast to this process's sockets only.
        """
        return BroadcastOperator(self).local

    def timeout(self, seconds: float) -> BroadcastOperator:
        """
        A broadcast whose acknowledgements are awaited C{seconds}.
        """
        return BroadcastOperator(self).timeout(seconds)

    def emit(self, event: str, *args) -> None:
        """
        Send C{event} to every socket of the namespace.
        """
        BroadcastOperator(self).emit(event, *args)

    def emitWithAck(self, event: str, *args) -> Deferred:
        """
        Send C{event} to every socket, collecting their acknowledgements.
        """
        return BroadcastOperator(self).emitWithAck(event, *args)

    def disconnectSockets(self, close: bool = False) -> None:
        """
        Disconnect every socket.
        """
        BroadcastOperator(self).disconnectSockets(close)

    # -- sockets coming and going --------------------------------------------

    def add(self, client, auth) -> Deferred:
        """
        A client asks to connect: recover it, or run the middlewares and
        the handler's C{authorize}.

        @return: a L{Deferred} firing with C{(socket, rooms, missed)}, or
            failing with L{rtproto.errors.ConnectRefused}.
        """
        server = self.server
        options = server.options
        eio = client.eio
        restored = None
        if (
            options.recovery
            and client.protocol == 5
            and isinstance(auth, dict)
            and isinstance(auth.get("pid"), str)
            and isinstance(auth.get("offset"), str)
        ):
            restored = self.adapter.restoreSession(auth["pid"], auth["offset"], server.reactor.seconds())
        handshake = Handshake(auth if isinstance(auth, dict) else {}, eio.request, client.protocol)
        handler = self.handlerFactory()
        if restored is not None:
            socket = Socket(self, client, handler, handshake, restored["sid"], restored["pid"])
            socket.recovered = True
            socket.data = restored["data"]
            rooms, missed = set(restored["rooms"]), restored["missed"]
        else:
            if client.protocol == 4:
                sid = eio.sid if self.name == "/" else f"{self.name}#{eio.sid}"
            else:
                sid = _newSid()
            # The recovery store makes private ids (its randomness is injectable).
            pid = self._recovery.newPid() if self._recovery is not None and client.protocol == 5 else None
            socket = Socket(self, client, handler, handshake, sid, pid)
            rooms, missed = set(), []
        rooms.add(socket.sid)
        if restored is not None and options.skipMiddlewares:
            checks = []
        else:
            checks = list(self.middlewares) + [handler.authorize]
        self.connecting += 1
        d = succeed(None)
        for check in checks:
            d.addCallback(lambda _, check=check: maybeDeferred(check, socket))

        def accepted(_):
            self.connecting -= 1
            return socket, rooms, missed

        def refused(failure):
            self.connecting -= 1
            self.maybeForget()
            return failure

        return d.addCallbacks(accepted, refused)

    def register(self, socket: Socket, rooms) -> None:
        """
        C{socket} is connected: list it and put it in C{rooms}.
        """
        self.sockets[socket.sid] = socket
        socket.connected = True
        self.adapter.addAll(socket.sid, rooms)

    def socketLost(self, socket: Socket, reason: str) -> None:
        """
        C{socket} disconnected: keep its state for recovery when the reason
        allows, take it out of its rooms and forget it.
        """
        sid = socket.sid
        if self.sockets.get(sid) is not socket:
            return
        if socket.pid is not None and reason in RECOVERABLE_REASONS:
            self.adapter.persistSession(
                {"pid": socket.pid, "sid": sid, "rooms": self.adapter.socketRooms(sid), "data": socket.data},
                self.server.reactor.seconds(),
            )
        self.adapter.deleteAll(sid)
        del self.sockets[sid]
        self.maybeForget()

    def maybeForget(self) -> None:
        """
        A dynamic child with no socket, none connecting and nothing kept
        for recovery is forgotten (it is made again when asked for).
        """
        if self.parent is None or self.sockets or self.connecting:
            return
        recovery = getattr(self.adapter, "recovery", None)
        if recovery is not None and recovery.sessions:
            return
        self.parent.childEmpty(self)


class DynamicNamespace:
    """
    Namespaces made on demand for the names a matcher accepts: a regular
    expression, or a callable C{(name, auth)} returning (or firing with)
    whether to accept.  Each child shares the handler factory and the
    middlewares, and is forgotten once its last socket leaves.
    """

    def __init__(self, server, matcher, handlerFactory) -> None:
        self.server = server
        if isinstance(matcher, (str, re.Pattern)):
            pattern = re.compile(matcher)
            self.matcher = lambda name, auth: pattern.fullmatch(name) is not None
        elif callable(matcher):
            self.matcher = matcher
        else:
            raise UsageError("a dynamic namespace matcher is a regular expression or a callable")
        self.handlerFactory = handlerFactory
        self.middlewares: list = []
        self.children: "dict[str, Namespace]" = {}

    def use(self, middleware) -> "DynamicNamespace":
        """
        Add a middleware to every child, present and future.
        """
        self.middlewares.append(middleware)
        return self

    def child(self, name: str) -> Namespace:
        """
        The child namespace C{name}, made if needed.
        """
        namespace = self.children.get(name)
        if namespace is None:
            namespace = Namespace(self.server, name, self.handlerFactory, self.middlewares, parent=self)
            self.children[name] = namespace
            self.server.namespaces[name] = namespace
        return namespace

    def childEmpty(self, namespace: Namespace) -> None:
        """
        A child's last socket left: forget it.
        """
        if self.children.get(namespace.name) is namespace:
            del self.children[namespace.name]
            if self.server.namespaces.get(namespace.name) is namespace:
                del self.server.namespaces[namespace.name]
