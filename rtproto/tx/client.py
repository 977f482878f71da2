"""
The WebSocket client: L{connect} opens C{ws://} or C{wss://} URLs and gives
back a connected L{WebSocketProtocol} driving the same handler interface
as the server.
"""

from urllib.parse import urlsplit

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import HostnameEndpoint, wrapClientTLS
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger

from rtproto.errors import HandshakeError, UsageError
from rtproto.tx._protocol import WebSocketProtocol
from rtproto.tx._takeover import replaceProtocol
from rtproto.websocket import ClientHandshake, WebSocketOptions

_log = Logger()


def parseURL(url: str) -> "tuple[bool, str, int, str]":
    """
    Split a WebSocket URL into C{(secure, host, port, resource)}.

    @raise UsageError: not a C{ws://} or C{wss://} URL.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise UsageError(f"not a ws:// or wss:// URL: {url!r}")
    if parts.fragment:
        raise UsageError(f"WebSocket URLs have no fragment: {url!r}")
    secure = parts.scheme == "wss"
    port = parts.port or (443 if secure else 80)
    resource = parts.path or "/"
    if parts.query:
        resource += "?" + parts.query
    return secure, parts.hostname, port, resource


class _ClientHandshakeProtocol(Protocol):
    """
    Speaks the client's opening handshake, then hands the connection to a
    L{WebSocketProtocol}.
    """

    def __init__(self, handshake: ClientHandshake, handler, options, reactor, opened: Deferred) -> None:
        self._handshake = handshake
        self._handler = handler
        self._options = options
        self._reactor = reactor
        self._opened = opened
        self._timer = None

    def connectionMade(self) -> None:
        self.transport.write(self._handshake.request())
        if self._options.openTimeout:
            self._timer = self._reactor.callLater(self._options.openTimeout, self._timedOut)

    def _timedOut(self) -> None:
        self._timer = None
        self._fail(HandshakeError("opening handshake timed out", None))

    def _fail(self, error: Exception) -> None:
        if not self._opened.called:
            self._opened.errback(error)
        self.transport.abortConnection()

    def dataReceived(self, data: bytes) -> None:
        hs = self._handshake
        try:
            rest = hs.receiveData(data)
        except HandshakeError as e:
            self._cancelTimer()
            self._fail(e)
            return
        if rest is None:
            return
        self._cancelTimer()
        proto = WebSocketProtocol(
            self._handler,
            self._options,
            self._reactor,
            isClient=True,
            codec=hs.codec,
            subprotocol=hs.subprotocol,
            extensions=hs.extensions,
        )
        transport = self.transport
        replaceProtocol(transport, proto)
        proto.makeConnection(transport)
        opened, self._opened = self._opened, None
        opened.callback(proto)
        if rest and not proto._lost:
            proto.dataReceived(rest)

    def _cancelTimer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def connectionLost(self, reason) -> None:
        self._cancelTimer()
        if self._opened is not None and not self._opened.called:
            self._opened.errback(
                HandshakeError(
                    f"connection lost during the opening handshake: {reason.getErrorMessage()}",
                    None,
                )
            )


def connect(
    url: str,
    handlerFactory,
    reactor=None,
    options: "WebSocketOptions | None" = None,
    origin: "str | None" = None,
    headers: "list[tuple[str, str]] | None" = None,
    contextFactory=None,
) -> Deferred:
    """
    Open a WebSocket connection.

    @param url: C{ws://host[:port]/path[?query]} or C{wss://...}.
    @param handlerFactory: a zero-argument callable returning the
        L{rtproto.interfaces.IWebSocketHandler} for the connection.
    @param options: L{WebSocketOptions}; C{options.subprotocols} are offered.
    @param origin: an C{Origin} header to send.
    @param headers: extra request headers.
    @param contextFactory: TLS client options for C{wss://}; by default
        L{twisted.internet.ssl.optionsForClientTLS} for the host.
    @return: a L{Deferred} firing with the open L{WebSocketProtocol} (an
        L{rtproto.interfaces.IWebSocketConnection}), or failing with a
        L{HandshakeError} or the connection error.
    """
    if reactor is None:
        from twisted.internet import reactor
    options = options or WebSocketOptions()
    secure, host, port, resource = parseURL(url)
    hostHeader = host if ":" not in host else f"[{host}]"
    if port != (443 if secure else 80):
        hostHeader += f":{port}"
    handshake = ClientHandshake(
        hostHeader,
        resource,
        subprotocols=options.subprotocols,
        origin=origin,
        deflate=options.deflate if options.compression else None,
        extraHeaders=headers,
    )
    endpoint = HostnameEndpoint(reactor, host, port, timeout=options.openTimeout or 30)
    if secure:
        if contextFactory is None:
            from twisted.internet.ssl import optionsForClientTLS

            contextFactory = optionsForClientTLS(host)
        endpoint = wrapClientTLS(contextFactory, endpoint)
    opened: Deferred = Deferred()
    handler = handlerFactory()

    def build():
        return _ClientHandshakeProtocol(handshake, handler, options, reactor, opened)

    connecting = endpoint.connect(Factory.forProtocol(build))

    def connectFailed(failure):
        if not opened.called:
            opened.errback(failure)

    connecting.addErrback(connectFailed)
    return opened
