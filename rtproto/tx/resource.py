"""
L{WebSocketResource}: a C{twisted.web} resource that upgrades requests to
WebSocket connections served by a handler.

The opening handshake is checked by the sans-I/O
L{rtproto.websocket.checkRequest}; failures become HTTP answers here (426,
400, 403, 405 or the handler's own refusal), logged once.  The handler's
C{handshake} hook may answer at once or with a L{Deferred}.
"""

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.pages import notFound
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from zope.interface import implementer

from rtproto.errors import ConnectionDeny, HandshakeError
from rtproto.interfaces import IHandshakeRequest
from rtproto.tx._metrics import Metrics
from rtproto.tx._protocol import WebSocketProtocol
from rtproto.tx._registry import ConnectionRegistry
from rtproto.tx._fastpath import LazyHeaders, headerSource
from rtproto.tx._takeover import takeOverChannel
from rtproto.websocket import WebSocketOptions, buildResponse, checkRequest
from rtproto.websocket._deflate import negotiateServer

_log = Logger()


@implementer(IHandshakeRequest)
class HandshakeRequest:
    """
    What a handler sees of the opening handshake: a snapshot of the HTTP
    request that does not keep the C{twisted.web} request alive.
    """

    __slots__ = ("path", "uri", "args", "_headers", "origin", "subprotocols", "peer", "isSecure")

    headers = LazyHeaders()

    def __init__(self, request, upgrade) -> None:
        self.path = request.path
        self.uri = request.uri
        self.args = request.args
        self._headers = headerSource(request)
        self.origin = upgrade.origin
        self.subprotocols = upgrade.subprotocols
        self.peer = request.getClientAddress()
        self.isSecure = request.isSecure()

    def __repr__(self) -> str:
        return f"<HandshakeRequest {self.uri!r} from {self.peer}>"


class _HeaderView:
    """
    The mapping L{checkRequest} reads (lower-case name to a list of L{str}),
    decoding only the headers it asks for.
    """

    __slots__ = ("_headers",)

    def __init__(self, headers) -> None:
        self._headers = headers

    def get(self, name: str, default=None):
        values = self._headers.getRawHeaders(name)
        if not values:
            return default
        return [v.decode("latin-1") if isinstance(v, bytes) else v for v in values]

    def __contains__(self, name: str) -> bool:
        return self._headers.hasHeader(name)


class _RawHeaderView:
    """
    The same mapping over a fast request's own headers (lower-case L{bytes}
    name to one value; see L{headerSource}).
    """

    __slots__ = ("_headers",)

    def __init__(self, headers: dict) -> None:
        self._headers = headers

    def get(self, name: str, default=None):
        value = self._headers.get(name.encode("latin-1"))
        if value is None:
            return default
        return [value.decode("latin-1")]

    def __contains__(self, name: str) -> bool:
        return name.encode("latin-1") in self._headers


class WebSocketResource(Resource):
    """
    Serve WebSocket connections at one path, one handler per connection.

    @ivar metrics: the L{Metrics} its connections count in (its own by
        default; the site's once the site builder sets it).
    """

    isLeaf = True

    def __init__(
        self,
        handlerFactory,
        options: "WebSocketOptions | None" = None,
        reactor=None,
        registry: "ConnectionRegistry | None" = None,
    ) -> None:
        """
        @param handlerFactory: a zero-argument callable returning a new
            L{rtproto.interfaces.IWebSocketHandler} per connection.
        @param options: the L{WebSocketOptions}.
        @param reactor: the reactor for timers; the global one by default.
        @param registry: where open connections are listed (for a graceful
            stop); a new one by default.
        """
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor
        self.handlerFactory = handlerFactory
        self.options = options or WebSocketOptions()
        self.reactor = reactor
        self.connections = registry if registry is not None else ConnectionRegistry()
        self.metrics = Metrics()

    def connectionCounters(self):
        """
        The L{rtproto.tx._metrics.TransportCounters} a new connection counts
        in (read as it opens: the site may have replaced C{metrics}).
        """
        return self.metrics.websocket

    def render(self, request):
        """
        Answer any request at this path: upgrade it, or explain why not.
        """
        if request.postpath not in ([], [b""]):
            return notFound().render(request)
        return self.upgrade(request, self.handlerFactory)

    def upgrade(self, request, handlerFactory):
        """
        Upgrade C{request} to a WebSocket connection served by a handler
        from C{handlerFactory}, or answer why not.

        @return: a body to answer with, or C{NOT_DONE_YET}.
        """
        source = headerSource(request)
        headers = _RawHeaderView(source) if source.__class__ is dict else _HeaderView(source)
        try:
            if request.clientproto != b"HTTP/1.1" and "upgrade" in headers:
                raise HandshakeError("WebSocket needs HTTP/1.1")
            upgrade = checkRequest(
                request.method.decode("latin-1"), headers, self.options.allowedOrigins
            )
        except HandshakeError as e:
            if e.status != 426 or "upgrade" in headers:
                _log.info(
                    "Refused WebSocket handshake from {peer}: {reason}",
                    peer=_peer(request),
                    reason=e.reason,
                )
            return _refuse(request, e.status, e.reason, e.headers)
        handler = handlerFactory()
        hreq = HandshakeRequest(request, upgrade)
        try:
            result = handler.handshake(hreq)
        except Exception:
            self._deny(Failure(), request, handler, ())
            return NOT_DONE_YET
        if not isinstance(result, Deferred):
            self._accept(result, request, handler, hreq, upgrade, ())
            return NOT_DONE_YET
        # The handler answers later; the client may be gone by then.
        gone: list = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))
        result.addCallbacks(
            self._accept,
            self._deny,
            callbackArgs=(request, handler, hreq, upgrade, gone),
            errbackArgs=(request, handler, gone),
        )
        return NOT_DONE_YET

    def _accept(self, subprotocol, request, handler, hreq, upgrade, gone) -> None:
        if gone:
            return
        if subprotocol is not None and subprotocol not in upgrade.subprotocols:
            _log.error(
                "Handler {handler!r} chose subprotocol {sub!r}, which the client did not offer",
                handler=handler,
                sub=subprotocol,
            )
            _finish(request, 500, "Internal Server Error")
            return
        codec = extensions = None
        if self.options.compression and upgrade.extensions:
            negotiated = negotiateServer(upgrade.extensions, self.options.deflate)
            if negotiated is not None:
                extensions, codec = negotiated
        protocol = WebSocketProtocol(
            handler,
            self.options,
            self.reactor,
            isClient=False,
            codec=codec,
            request=hreq,
            subprotocol=subprotocol,
            extensions=extensions,
            registry=self.connections,
            counters=self.connectionCounters(),
        )
        response = buildResponse(upgrade.key, subprotocol, extensions)
        takeOverChannel(request, protocol, response)

    def _deny(self, failure, request, handler, gone) -> None:
        if gone:
            return
        if failure.check(ConnectionDeny):
            deny = failure.value
            _log.info(
                "Handler refused WebSocket handshake from {peer}: {status} {reason}",
                peer=_peer(request),
                status=deny.status,
                reason=deny.reason,
            )
            _finish(request, deny.status, deny.reason)
        else:
            _log.failure("Handler {handler!r} failed in handshake", failure, handler=handler)
            _finish(request, 500, "Internal Server Error")


def _peer(request) -> str:
    addr = request.getClientAddress()
    return f"{getattr(addr, 'host', addr)}:{getattr(addr, 'port', '')}"


_PHRASES = {426: b"Upgrade Required"}


def _refuse(request, status: int, reason: str, headers=()) -> bytes:
    request.setResponseCode(status, _PHRASES.get(status))
    for name, value in headers:
        request.setHeader(name, value)
    request.setHeader("content-type", "text/plain; charset=utf-8")
    return (reason + "\n").encode("utf-8")


def _finish(request, status: int, reason: str) -> None:
    request.write(_refuse(request, status, reason))
    request.finish()
