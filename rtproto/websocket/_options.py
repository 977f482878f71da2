"""
The settings of WebSocket endpoints, shared by servers and clients.
"""

from dataclasses import dataclass, field

from rtproto.websocket._deflate import DeflateOptions


@dataclass
class WebSocketOptions:
    """
    Limits, timeouts and negotiation preferences of WebSocket connections.

    @ivar maxMessageSize: the largest message accepted, after inflation;
        larger ones fail the connection with 1009.  0: no limit.
    @ivar maxFrameSize: the largest frame payload accepted (1009).  0: no
        limit.
    @ivar pingInterval: seconds between keep-alive pings; 0: none.
    @ivar pingTimeout: seconds to wait for a pong before closing with 1011
        and dropping the connection; 0: wait forever.
    @ivar openTimeout: seconds the opening handshake may take.
    @ivar closeTimeout: seconds the closing handshake may take before the
        TCP connection is dropped.
    @ivar allowedOrigins: origins allowed to connect (server); empty: any.
    @ivar compression: negotiate permessage-deflate.
    @ivar deflate: the permessage-deflate parameters.
    @ivar writeBufferLimit: bytes a handler may queue while told to pause
        writing (L{rtproto.interfaces.IWebSocketHandler.writePaused}) before
        the connection is dropped.
    @ivar subprotocols: subprotocols a client offers.
    """

    maxMessageSize: int = 1 << 20
    maxFrameSize: int = 1 << 20
    pingInterval: float = 20.0
    pingTimeout: float = 20.0
    openTimeout: float = 10.0
    closeTimeout: float = 10.0
    allowedOrigins: "tuple[str, ...]" = ()
    compression: bool = True
    deflate: DeflateOptions = field(default_factory=DeflateOptions)
    writeBufferLimit: int = 16 << 20
    subprotocols: "tuple[str, ...]" = ()
