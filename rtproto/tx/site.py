"""
Building the one C{twisted.web} L{Site} that serves every mount of an app.

L{buildSite} puts each WebSocket handler at its path; unknown paths get 404.
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
from twisted.web.server import Site

from rtproto.errors import UsageError
from rtproto.tx._registry import ConnectionRegistry
from rtproto.tx.resource import WebSocketResource
from rtproto.websocket import WebSocketOptions

_log = Logger()

IDLE_TIMEOUT = 60.0


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


class _Index(Resource):
    """
    The root: a short plain-text list of what is mounted.
    """

    def __init__(self, mounts: "list[str]") -> None:
        super().__init__()
        self._mounts = mounts

    def getChild(self, path, request):
        return notFound() if path else self

    def render_GET(self, request):
        request.setHeader("content-type", "text/plain; charset=utf-8")
        lines = ["rtproto", ""] + [f"WebSocket: {m}" for m in self._mounts]
        return ("\n".join(lines) + "\n").encode("utf-8")


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
) -> Site:
    """
    Build the site of an app.

    @param websockets: C{(path, handlerFactory)} pairs.
    @param options: the L{WebSocketOptions} of every WebSocket mount; its
        C{openTimeout} is also the HTTP header deadline.
    @return: the site; its C{connections} attribute is the
        L{ConnectionRegistry} of every WebSocket mount.
    @raise UsageError: a bad or repeated path.
    """
    if reactor is None:
        from twisted.internet import reactor
    options = options or WebSocketOptions()
    root = _Index([path for path, _ in websockets])
    registry = ConnectionRegistry()
    seen = set()
    for path, factory in websockets:
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
            elif isinstance(child, WebSocketResource):
                raise UsageError(f"{path!r} lies below another WebSocket mount")
            parent = child
        if segs[-1] in parent.children:
            raise UsageError(f"{path!r} overlaps another mount")
        parent.putChild(segs[-1], WebSocketResource(factory, options, reactor, registry))
    site = Site(root, reactor=reactor)
    site.displayTracebacks = False
    channelClass = type("RtprotoChannel", (_DeadlineChannel,), {"headerTimeout": options.openTimeout})
    site.protocol = channelClass
    site.connections = registry
    return site
