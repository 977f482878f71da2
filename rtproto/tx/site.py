"""
Building the one C{twisted.web} L{Site} that serves every mount of an app.

L{buildSite} puts each WebSocket and engine.io handler at its path; unknown
paths get 404.  Request bodies are read only up to the largest
C{maxHttpBufferSize} of the engine.io mounts (1 MB without any): past
that, the rest is discarded and the resource answers 413.
The site's channels drop a client that has not finished sending a request's
headers within C{openTimeout} seconds of connecting (or of the previous
response), so slow-header ("slowloris") clients cannot hold connections.
Twisted's idle timeout (reset by every byte) stays on at L{IDLE_TIMEOUT}
for request bodies that stall, instead of its 12-hour default.
"""

from twisted.logger import Logger
from twisted.web.http import HTTPChannel
from twisted.web.pages import notFound
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from rtproto.errors import UsageError
from rtproto.engineio import EngineIOOptions
from rtproto.tx._fastpath import FastPathMixin
from rtproto.tx._metrics import Metrics
from rtproto.tx._registry import ConnectionRegistry
from rtproto.tx._static import DemoRoot, Index, staticFolder
from rtproto.tx._takeover import switchToHTTP2
from rtproto.tx.app import App
from rtproto.tx.engineio import EngineIOResource
from rtproto.tx.health import HealthResource, MetricsResource
from rtproto.tx.resource import WebSocketResource
from rtproto.websocket import WebSocketOptions

_log = Logger()

IDLE_TIMEOUT = 60.0
DEFAULT_MAX_BODY = 1_000_000


class BoundedRequest(Request):
    """
    A request that keeps at most the site's C{maxRequestBody} bytes of its
    body; past that it discards the rest and sets C{bodyTooLarge}, for the
    resource to answer 413.
    """

    bodyTooLarge = False
    _bodyReceived = 0

    def _limit(self) -> int:
        return getattr(self.channel.site, "maxRequestBody", DEFAULT_MAX_BODY)

    def gotLength(self, length):
        """
        Refuse to buffer a declared body over the limit.
        """
        if length is not None and length > self._limit():
            self.bodyTooLarge = True
            length = 0
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        """
        Keep body bytes up to the limit.
        """
        if self.bodyTooLarge:
            return
        self._bodyReceived += len(data)
        if self._bodyReceived > self._limit():
            self.bodyTooLarge = True
            self.content.seek(0)
            self.content.truncate()
            return
        super().handleContentChunk(data)


class _DeadlineChannel(HTTPChannel):
    """
    An HTTP channel whose one timer is a fixed deadline while a request's
    headers arrive (bytes dribbled in do not extend it), and Twisted's usual
    idle timeout, reset by every byte, while a body arrives.
    """

    headerTimeout = 10.0
    idleTimeout = IDLE_TIMEOUT
    _awaitingHeaders = True

    def connectionMade(self):
        self.timeOut = self.headerTimeout
        super().connectionMade()

    def resetTimeout(self):
        if not self._awaitingHeaders:
            super().resetTimeout()

    def allHeadersReceived(self):
        self._awaitingHeaders = False
        self.setTimeout(self.idleTimeout)
        super().allHeadersReceived()

    def requestDone(self, request):
        # Twisted re-arms its timer with _savedTimeOut, then may parse the
        # next pipelined request at once: be in header mode before that.
        self._awaitingHeaders = True
        self._savedTimeOut = self.headerTimeout
        super().requestDone(request)

    def timeoutConnection(self):
        if self._awaitingHeaders:
            _log.info("Dropped an HTTP client that did not send its request headers in time")
        super().timeoutConnection()


class _HTTP2Switch:
    """
    A channel that becomes Twisted's HTTP/2 connection when TLS negotiated
    C{h2} (Twisted's own generic channel does this, but the site's channel
    class replaces it).
    """

    _protocolChecked = False

    def dataReceived(self, data):
        if not self._protocolChecked:
            self._protocolChecked = True
            if getattr(self.transport, "negotiatedProtocol", None) == b"h2":
                switchToHTTP2(self, data)
                return
        super().dataReceived(data)


def _segments(path: str) -> "list[bytes]":
    if not path.startswith("/"):
        raise UsageError(f"mount path {path!r} must start with /")
    parts = [p for p in path.strip("/").split("/")]
    if parts == [""] or any(p == "" for p in parts):
        raise UsageError(f"mount path {path!r} must name a resource below /")
    return [p.encode("utf-8") for p in parts]


def buildSite(
    websockets: "list[tuple[str, object]]",
    options: "WebSocketOptions | None" = None,
    reactor=None,
    engineio: "list[tuple[str, object]]" = (),
    engineioOptions: "EngineIOOptions | None" = None,
    accessLog: bool = False,
    socketio: "list[tuple[str, object]]" = (),
    sse: "list[tuple[str, object]]" = (),
    static: "list[tuple[str, str]]" = (),
    demo: bool = False,
    health: bool = True,
    logConnections: bool = False,
) -> Site:
    """
    Build the site of an app.

    @param websockets: C{(path, handlerFactory)} pairs of WebSocket handlers.
    @param options: the L{WebSocketOptions} of every WebSocket mount; its
        C{openTimeout} is also the HTTP header deadline.
    @param engineio: C{(path, handlerFactory)} pairs of engine.io handlers.
    @param engineioOptions: the L{EngineIOOptions} of every engine.io mount.
    @param accessLog: log a line per HTTP request (off by default: a
        polling client makes several a minute).
    @param socketio: C{(path, server)} pairs of
        L{rtproto.tx.socketio.SocketIOServer}s (whose engine.io options
        should be C{engineioOptions}).
    @param sse: C{(path, resource)} pairs of
        L{rtproto.tx.sse.EventSourceResource}s.
    @param static: C{(path, folder)} pairs of folders to serve (C{"/"}
        makes a folder the root, under the other mounts).
    @param demo: serve the demo page at C{/} (unless a folder is the root);
        otherwise C{/} lists the mounts.
    @param health: serve C{/healthz} and C{/metrics}
        (L{rtproto.tx.health}), unless a mount of the app has that path.
    @param logConnections: log a debug line when a connection opens and
        when it closes (transport, peer; and the close reason).
    @return: the site; its C{connections} attribute is the
        L{ConnectionRegistry} of every WebSocket (engine.io's included), and
        C{engineio} lists the L{EngineIOResource}s (socket.io's included)
        C{socketio} the socket.io servers and C{sse} the event-stream
        resources; C{app} is the L{App} its handlers share, C{metrics} the
        L{Metrics} every mount counts in.
    @raise UsageError: a bad or repeated path.
    """
    if reactor is None:
        from twisted.internet import reactor
    options = options or WebSocketOptions()
    engineioOptions = engineioOptions or EngineIOOptions()
    mounts = (
        [("WebSocket", p, f) for p, f in websockets]
        + [("engine.io", p, f) for p, f in engineio]
        + [("socket.io", p, f) for p, f in socketio]
        + [("SSE", p, r) for p, r in sse]
    )
    static = list(static)
    rootFolder = [folder for path, folder in static if path.strip("/") == ""]
    static = [(path, folder) for path, folder in static if path.strip("/") != ""]
    mounts += [("static", p, staticFolder(folder)) for p, folder in static]
    if len(rootFolder) > 1:
        raise UsageError("two folders mounted at '/'")
    if rootFolder:
        root = staticFolder(rootFolder[0])
    elif demo:
        root = DemoRoot()
    else:
        root = Index([(kind, path) for kind, path, _ in mounts])
    metrics = Metrics(reactor, logConnections)
    if health:
        taken = {path.rstrip("/") for _, path, _ in mounts}
        mounts += [
            (kind, path, resource)
            for kind, path, resource in [
                ("health", "/healthz", HealthResource(metrics)),
                ("metrics", "/metrics", MetricsResource(metrics)),
            ]
            if path not in taken
        ]
    app = App()
    app.metrics = metrics
    registry = ConnectionRegistry()
    registry.app = app
    engines = []
    fastRoutes = {}
    seen = set()
    for kind, path, factory in mounts:
        segs = _segments(path)
        if tuple(segs) in seen:
            raise UsageError(f"two handlers mounted at {path!r}")
        seen.add(tuple(segs))
        parent = root
        for seg in segs[:-1]:
            child = parent.children.get(seg)
            if child is None:
                child = Resource()
                parent.putChild(seg, child)
            elif child.isLeaf:
                raise UsageError(f"{path!r} lies below another mount")
            parent = child
        if segs[-1] in parent.children:
            raise UsageError(f"{path!r} overlaps another mount")
        if kind == "WebSocket":
            resource = WebSocketResource(factory, options, reactor, registry)
            app.websocket[path] = resource
        elif kind == "SSE":
            resource = factory
            app.sse[path] = resource
        elif kind in ("static", "health", "metrics"):
            resource = factory
        else:
            if kind == "socket.io":
                factory.metrics = metrics
                resource = factory.resource(registry)
                app.socketio[path] = factory
                factory.app = app
            else:
                resource = EngineIOResource(factory, engineioOptions, reactor, registry)
                app.engineio[path] = resource
            engines.append(resource)
            bare = "/" + "/".join(seg.decode("utf-8") for seg in segs)
            fastRoutes[bare.encode("utf-8")] = resource
            fastRoutes[bare.encode("utf-8") + b"/"] = resource
        resource.app = app
        if kind not in ("static", "health", "metrics"):
            resource.metrics = metrics
        parent.putChild(segs[-1], resource)
    site = Site(root, reactor=reactor)
    site.requestFactory = BoundedRequest
    site.maxRequestBody = max(
        [DEFAULT_MAX_BODY if not engines else 0] + [e.options.maxHttpBufferSize for e in engines]
    )
    site.displayTracebacks = False
    site.fastRoutes = fastRoutes
    site.accessLog = accessLog
    if not accessLog:
        site.log = lambda request: None
    channelClass = type(
        "RtprotoChannel", (_HTTP2Switch, FastPathMixin, _DeadlineChannel), {"headerTimeout": options.openTimeout}
    )
    site.protocol = channelClass
    site.connections = registry
    site.engineio = engines
    site.socketio = [server for _, server in socketio]
    site.sse = [resource for _, resource in sse]
    site.app = app
    site.metrics = metrics
    return site
