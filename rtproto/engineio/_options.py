"""
L{EngineIOOptions}: the settings of an engine.io server, with the defaults
of the Node server (engine.io v6).
"""

from dataclasses import dataclass, field

POLLING = "polling"
WEBSOCKET = "websocket"
TRANSPORTS = (POLLING, WEBSOCKET)


@dataclass(frozen=True)
class EngineIOOptions:
    """
    @ivar pingInterval: seconds between heartbeats (v4: the server's pings;
        v3: the client's).
    @ivar pingTimeout: seconds to wait for the heartbeat answer; a v3 session
        closes after C{pingInterval + pingTimeout} without a ping.
    @ivar maxHttpBufferSize: the largest POST body or WebSocket message, in
        bytes; also the C{maxPayload} announced to v4 clients.
    @ivar transports: the transports clients may use.
    @ivar allowUpgrades: whether polling sessions may move to WebSocket.
    @ivar allowEIO3: whether v3 clients (socket.io v2) are served.
    @ivar upgradeTimeout: seconds a probing WebSocket has to complete the
        upgrade before it is closed.
    @ivar maxBufferSize: the most bytes of messages waiting for a slow
        client (between polls, or unsent on a WebSocket) before the session
        is dropped.
    @ivar corsOrigins: origins answered with CORS headers; C{("*",)} for
        any; empty (the default) for none.
    @ivar corsCredentials: send C{Access-Control-Allow-Credentials: true}.
    @ivar cookie: the name of a cookie carrying the session id, set on the
        handshake (L{None}, the default: no cookie).
    @ivar cookiePath: the cookie's C{Path}.
    @ivar cookieHttpOnly: whether the cookie is C{HttpOnly}.
    @ivar httpCompression: gzip or deflate polling responses of at least
        C{compressionThreshold} bytes for clients that accept it.
    @ivar perMessageDeflate: negotiate permessage-deflate on the WebSocket
        transport (off by default, as in socket.io v4).
    @ivar allowRequest: L{None}, or a callable taking the
        L{rtproto.interfaces.IEngineIORequest} of a handshake and returning
        (or firing a L{Deferred} with) a true value to accept it; false, or
        raising L{rtproto.errors.ConnectionDeny}, answers 403 with code 4.
    """

    pingInterval: float = 25.0
    pingTimeout: float = 20.0
    maxHttpBufferSize: int = 1_000_000
    transports: tuple = TRANSPORTS
    allowUpgrades: bool = True
    allowEIO3: bool = True
    upgradeTimeout: float = 10.0
    maxBufferSize: int = 16 << 20
    corsOrigins: tuple = ()
    corsCredentials: bool = False
    cookie: "str | None" = None
    cookiePath: str = "/"
    cookieHttpOnly: bool = True
    httpCompression: bool = True
    compressionThreshold: int = 1024
    perMessageDeflate: bool = False
    allowRequest: object = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in self.transports:
            if name not in TRANSPORTS:
                raise ValueError(f"unknown engine.io transport {name!r}; one of {', '.join(TRANSPORTS)}")
        if not self.transports:
            raise ValueError("at least one engine.io transport is needed")
        if self.pingInterval <= 0 or self.pingTimeout <= 0:
            raise ValueError("engine.io pingInterval and pingTimeout must be positive")

    def corsOrigin(self, origin: "str | None") -> "str | None":
        """
        The C{Access-Control-Allow-Origin} value for a request from
        C{origin}, or L{None} to send no CORS headers.
        """
        if not self.corsOrigins or origin is None:
            return None
        if "*" in self.corsOrigins:
            # With credentials the browser refuses "*": reflect the origin.
            return origin if self.corsCredentials else "*"
        return origin if origin in self.corsOrigins else None
