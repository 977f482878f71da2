"""
A socket.io server on rtproto's engine.io: L{SocketIOServer} keeps the
namespaces and makes the L{EngineIOResource} to mount (at C{/socket.io/});
L{Namespace} has the sockets, the middlewares and the adapter (rooms and
broadcasts); L{BroadcastOperator} chooses who a broadcast goes to::

    server = SocketIOServer(reactor=reactor)
    server.of("/chat", ChatHandler)
    server.addDynamicNamespace(r"^/room-\\w+$", RoomHandler)
    root.putChild(b"socket.io", server.resource())

    server.of("/chat").to("lobby").except_("muted").emit("news", "hello")
"""

import hashlib
import os

from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import LoopingCall

from rtproto.engineio import EngineIOOptions
from rtproto.errors import UsageError
from rtproto.socketio._adapter import MemoryAdapter
from rtproto.socketio._handler import NamespaceHandler
from rtproto.socketio._options import SocketIOOptions
from rtproto.tx._metrics import Metrics
from rtproto.tx._siobroadcast import BroadcastOperator
from rtproto.tx._sioclient import SocketIOClient
from rtproto.tx._sionamespace import DynamicNamespace, Namespace
from rtproto.tx._siosocket import Handshake, Socket
from rtproto.tx.engineio import EngineIOResource

# The client bundle's files, as the Node server serves them, except the
# msgpack build: its parser is not spoken here, so it could never connect.
CLIENT_FILES = frozenset(
    f"socket.io{kind}.js{suffix}".encode("ascii")
    for kind in ("", ".min", ".esm.min")
    for suffix in ("", ".map")
)


class SocketIOResource(EngineIOResource):
    """
    The engine.io resource of a socket.io mount, which also serves the
    browser client bundle from C{clientDist} when there is one (read once,
    then answered from memory with an C{ETag}).
    """

    clientDist = None

    def render(self, request):
        """
        A client bundle file, or engine.io.
        """
        postpath = request.postpath
        if self.clientDist is not None and len(postpath) == 1 and postpath[0] in CLIENT_FILES:
            if request.method in (b"GET", b"HEAD"):
                found = self._clientFile(postpath[0].decode("ascii"))
                if found is not None:
                    return self._serveFile(request, *found)
        return super().render(request)

    def _clientFile(self, name: str):
        cache = self.__dict__.setdefault("_clientFiles", {})
        if name not in cache:
            try:
                with open(os.path.join(self.clientDist, name), "rb") as f:
                    body = f.read()
            except OSError:
                body = None
            etag = None if body is None else b'"' + hashlib.sha256(body).hexdigest()[:20].encode("ascii") + b'"'
            cache[name] = None if body is None else (body, etag, name.endswith(".map"))
        return cache[name]

    def _serveFile(self, request, body: bytes, etag: bytes, isMap: bool) -> bytes:
        request.setHeader(b"etag", etag)
        request.setHeader(b"cache-control", b"public, max-age=0")
        if request.getHeader(b"if-none-match") == etag:
            request.setResponseCode(304)
            return b""
        contentType = b"application/json" if isMap else b"application/javascript; charset=utf-8"
        request.setHeader(b"content-type", contentType)
        request.setHeader(b"content-length", str(len(body)).encode("ascii"))
        return b"" if request.method == b"HEAD" else body


def checkClientDist(path: str) -> str:
    """
    C{path} if it holds the client bundle, else a L{UsageError} that says
    where to get it.
    """
    if not os.path.isfile(os.path.join(path, "socket.io.min.js")):
        raise UsageError(
            f"{path!r} has no socket.io.min.js: give the dist folder of the npm package socket.io-client "
            "(npm install socket.io-client, then node_modules/socket.io-client/dist)"
        )
    return os.path.abspath(path)


__all__ = [
    "BroadcastOperator",
    "DynamicNamespace",
    "Handshake",
    "Namespace",
    "Socket",
    "SocketIOResource",
    "SocketIOServer",
]


class SocketIOServer:
    """
    The namespaces of one socket.io mount, and the engine.io resource that
    serves them.

    @ivar namespaces: name to L{Namespace} (C{"/"} always exists).
    @ivar app: the site's L{rtproto.tx.app.App}, or L{None}.
    """

    app = None

    def __init__(
        self,
        options: "SocketIOOptions | None" = None,
        engineioOptions: "EngineIOOptions | None" = None,
        reactor=None,
        adapterFactory=MemoryAdapter,
    ) -> None:
        """
        @param adapterFactory: makes each namespace's adapter, called with
            the namespace and its recovery store (or L{None}).
        """
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.options = options or SocketIOOptions()
        self.engineioOptions = engineioOptions or EngineIOOptions()
        self.adapterFactory = adapterFactory
        self.namespaces: "dict[str, Namespace]" = {}
        self.dynamic: "list[DynamicNamespace]" = []
        self._resource = None
        self._cleanup = None
        self._metrics = Metrics()
        self.of("/")

    @property
    def metrics(self) -> Metrics:
        """
        The L{Metrics} its sockets count in (socket.io) and its engine.io
        resource's sessions (engine.io): its own by default.  Setting it
        here passes it on to the resource; once the resource is made, the
        resource's C{metrics} is the one (so setting either works).
        """
        return self._metrics if self._resource is None else self._resource.metrics

    @metrics.setter
    def metrics(self, metrics: Metrics) -> None:
        self._metrics = metrics
        if self._resource is not None:
            self._resource.metrics = metrics

    def of(self, name: str, handlerFactory=None) -> Namespace:
        """
        The namespace C{name}, made if needed; C{handlerFactory} (a
        zero-argument callable returning an
        L{rtproto.interfaces.INamespaceHandler}) replaces its handlers.
        """
        if not name.startswith("/"):
            raise UsageError(f"namespace names start with '/': {name!r}")
        namespace = self.namespaces.get(name)
        if namespace is None:
            namespace = self.namespaces[name] = Namespace(self, name)
        if handlerFactory is not None:
            namespace.handlerFactory = handlerFactory
        return namespace

    def addDynamicNamespace(self, matcher, handlerFactory=NamespaceHandler) -> DynamicNamespace:
        """
        Serve every namespace name C{matcher} accepts (see
        L{DynamicNamespace}); static namespaces are looked up first.
        """
        dynamic = DynamicNamespace(self, matcher, handlerFactory)
        self.dynamic.append(dynamic)
        return dynamic

    def lookupNamespace(self, name: str, auth):
        """
        The namespace a client asks for, or L{None} (possibly through a
        L{Deferred}, when a dynamic matcher decides later).
        """
        namespace = self.namespaces.get(name)
        if namespace is not None or not self.dynamic:
            return namespace
        return self._match(name, auth, 0)

    def _match(self, name: str, auth, index: int):
        if index >= len(self.dynamic):
            return None
        dynamic = self.dynamic[index]

        def decided(accepted):
            if accepted:
                return dynamic.child(name)
            return self._match(name, auth, index + 1)

        result = dynamic.matcher(name, auth)
        if isinstance(result, Deferred):
            return result.addCallback(decided)
        return decided(result)

    def resource(self, registry=None) -> EngineIOResource:
        """
        The engine.io resource to mount at C{/socket.io/} (one per server).

        @param registry: where its WebSockets are listed (see
            L{rtproto.tx.engineio.EngineIOResource}).
        """
        if self._resource is None:
            self._resource = SocketIOResource(
                lambda: SocketIOClient(self), self.engineioOptions, self.reactor, registry
            )
            self._resource.metrics = self._metrics
            if self.options.clientDist is not None:
                self._resource.clientDist = checkClientDist(self.options.clientDist)
            if self.options.recovery:
                self._cleanup = LoopingCall(self._cleanupRecovery)
                self._cleanup.clock = self.reactor
                self._cleanup.start(min(60.0, self.options.maxDisconnectionDuration / 2), now=False)
        return self._resource

    def _cleanupRecovery(self) -> None:
        now = self.reactor.seconds()
        for namespace in list(self.namespaces.values()):
            recovery = getattr(namespace.adapter, "recovery", None)
            if recovery is not None:
                recovery.cleanup(now)
            namespace.maybeForget()

    def closeAll(self, timeout: float = 0.0) -> Deferred:
        """
        A graceful stop: every socket disconnects ("server shutting down")
        and every engine.io session ends (see
        L{rtproto.tx.engineio.EngineIOResource.closeAll}, which waits at
        most C{timeout} seconds for a polling client to fetch what was sent
        to it).

        @return: a L{Deferred} that fires once every session has ended.
        """
        if self._cleanup is not None and self._cleanup.running:
            self._cleanup.stop()
        if self._resource is None:
            return succeed(None)
        for session in list(self._resource.engine.sessions.values()):
            client = session.listener.handler
            if isinstance(client, SocketIOClient):
                for socket in list(client.sockets.values()):
                    client.sockets.pop(socket.namespace.name, None)
                    socket.lost("server shutting down")
        return self._resource.closeAll(timeout)
