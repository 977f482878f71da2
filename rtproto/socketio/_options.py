"""
L{SocketIOOptions}: the settings of one socket.io server.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class SocketIOOptions:
    """
    socket.io settings (the engine.io ones are L{rtproto.engineio.EngineIOOptions}).

    @ivar connectTimeout: seconds a protocol 5 client has to connect to a
        namespace after opening its engine.io session, else it is closed.
    @ivar ackTimeout: the default timeout of C{emitWithAck}, seconds.
    @ivar maxAttachments: binary attachments accepted per packet.
    @ivar recovery: connection state recovery (socket.io 4.6's): a client
        that reconnects within C{maxDisconnectionDuration} seconds gets its
        id, rooms, data and the broadcasts it missed.  Off by default, as in
        Node: protocol 5 clients then get each broadcast event with its
        offset as an extra last argument, which socket.io-client 4.6+ uses
        and other clients (python-socketio) pass to the handler.
    @ivar maxDisconnectionDuration: how long recovery keeps state, seconds.
    @ivar recoveryMaxPackets: at most this many broadcasts kept per
        namespace for recovery.
    @ivar skipMiddlewares: a recovered socket does not go through the
        namespace's middlewares and C{authorize} again.
    @ivar clientDist: a directory holding the browser client bundle (the
        C{dist} folder of the npm package C{socket.io-client}), served as
        C{<mount>/socket.io.js} (and C{.min.js}, C{.esm.min.js}, source
        maps) as the Node server does, but not the msgpack build, whose
        parser is not spoken here; L{None}: not served.
    """

    connectTimeout: float = 45.0
    ackTimeout: float = 30.0
    maxAttachments: int = 10
    recovery: bool = False
    maxDisconnectionDuration: float = 120.0
    recoveryMaxPackets: int = 10_000
    skipMiddlewares: bool = True
    clientDist: "str | None" = None

    def __post_init__(self) -> None:
        for name in ("connectTimeout", "ackTimeout", "maxDisconnectionDuration"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.maxAttachments < 0 or self.recoveryMaxPackets < 1:
            raise ValueError("maxAttachments must be 0 or more, recoveryMaxPackets 1 or more")
