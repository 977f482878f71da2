"""
The one exception tree of rtproto, split by whose fault a failure is.

  - L{UsageError}: the application (or the operator) misused rtproto; a bug or a
    bad option on our side of the wire.
  - L{PeerError}: the remote peer broke a protocol rule. Every peer error carries
    the reply the protocol calls for, so the code that maps failures to the wire
    (one place per protocol) never has to guess:
    a WebSocket close code (L{ProtocolViolation.closeCode}), or an HTTP status
    and headers for a failed opening handshake (L{HandshakeError.status}), or an
    engine.io error code and HTTP status (L{EngineIOError.code}), or, for a
    malformed socket.io packet (L{SocketIOProtocolError}), the end of that
    client's connection.
  - L{ConnectionDeny}: not an error of anybody's; a handler's deliberate refusal
    of an opening handshake, with the HTTP status to answer.  L{ConnectRefused}
    is its socket.io twin (a CONNECT_ERROR with a message and data).
  - L{AckTimeout}: a socket.io acknowledgement that did not come in time.
"""


class RtprotoError(Exception):
    """
    Base of every exception rtproto raises on purpose.
    """


class UsageError(RtprotoError):
    """
    rtproto was used wrongly by the application or the operator (a bad option,
    sending on a connection in the wrong state, a bad handler name).
    """


class PeerError(RtprotoError):
    """
    The remote peer violated the protocol.

    @ivar reason: a short human-readable explanation, safe to send to the peer.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProtocolViolation(PeerError):
    """
    The peer broke a WebSocket framing rule after the opening handshake.

    @ivar closeCode: the close code to fail the connection with (RFC 6455
        section 7.4.1): 1002 by default.
    """

    closeCode = 1002

    def __init__(self, reason: str, closeCode: "int | None" = None) -> None:
        super().__init__(reason)
        if closeCode is not None:
            self.closeCode = closeCode


class InvalidPayload(ProtocolViolation):
    """
    A text message or close reason was not valid UTF-8, or a compressed
    message did not inflate (close code 1007).
    """

    closeCode = 1007


class MessageTooBig(ProtocolViolation):
    """
    A frame or a message (after inflation) exceeded the configured limit
    (close code 1009).
    """

    closeCode = 1009


class HandshakeError(PeerError):
    """
    The opening handshake was malformed or cannot be accepted.

    @ivar status: the HTTP status to answer a server-side failure with; on
        the client side, the status the server answered with, or L{None}
        when it answered none (wrong accept key, TLS failure, timeout).
    @ivar headers: extra response headers, as a list of C{(name, value)}
        pairs of L{str}.
    """

    def __init__(
        self,
        reason: str,
        status: "int | None" = 400,
        headers: "list[tuple[str, str]] | None" = None,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.headers = list(headers or ())


class EngineIOError(PeerError):
    """
    An engine.io request cannot be served: answered with HTTP C{status} and
    the JSON body C{{"code": code, "message": message}}.

    @ivar code: the engine.io error code, one of the class constants.
    @ivar message: the standard message for C{code}, sent to the client.
    @ivar reason: what exactly was wrong, for the log.
    @ivar status: the HTTP status: 400, 403 (code 4) or 413 (body too large).
    """

    UNKNOWN_TRANSPORT = 0
    UNKNOWN_SID = 1
    BAD_HANDSHAKE_METHOD = 2
    BAD_REQUEST = 3
    FORBIDDEN = 4
    UNSUPPORTED_PROTOCOL_VERSION = 5

    MESSAGES = {
        0: "Transport unknown",
        1: "Session ID unknown",
        2: "Bad handshake method",
        3: "Bad request",
        4: "Forbidden",
        5: "Unsupported protocol version",
    }

    def __init__(self, code: int, reason: "str | None" = None, status: "int | None" = None) -> None:
        self.code = code
        self.message = self.MESSAGES[code]
        super().__init__(reason or self.message)
        if status is None:
            status = 403 if code == self.FORBIDDEN else 400
        self.status = status


class SocketIOProtocolError(PeerError):
    """
    A socket.io packet from the peer was malformed (bad header, bad JSON,
    data of the wrong shape for its type, bad binary attachments); the glue
    closes that client's connection.

    @ivar reason: what exactly was wrong, for the log.
    """


class ConnectionDeny(RtprotoError):
    """
    Raised by a handler's C{handshake} hook to refuse a WebSocket connection.

    @ivar status: the HTTP status code to answer with (e.g. 403).
    @ivar reason: the reason phrase and body of the refusal.
    """

    BAD_REQUEST = 400
    FORBIDDEN = 403
    NOT_FOUND = 404
    NOT_ACCEPTABLE = 406

    def __init__(self, status: int = 403, reason: str = "Forbidden") -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason


class ConnectRefused(RtprotoError):
    """
    Raised (or failed with) by a namespace middleware or a handler's
    C{authorize} to refuse a socket.io connection: the client gets a
    CONNECT_ERROR with C{message} (and C{data}, which socket.io v3+ clients
    see as C{err.data}).
    """

    def __init__(self, message: str = "Not authorized", data=None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class AckTimeout(RtprotoError):
    """
    A socket.io acknowledgement did not come in time.

    @ivar responses: for a broadcast with acknowledgements, the answers that
        did come, in arrival order.
    """

    def __init__(self, message: str = "operation has timed out", responses=None) -> None:
        super().__init__(message)
        self.responses = list(responses or ())
