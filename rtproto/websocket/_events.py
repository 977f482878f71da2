"""
Events that L{rtproto.websocket.WebSocketConnection.receiveData} returns.

Plain slotted classes: one is made per message on the hot path.
"""


class TextMessage:
    """
    A whole text message; C{data} is L{str}.
    """

    __slots__ = ("data",)

    def __init__(self, data: str) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"TextMessage({self.data!r})"


class BinaryMessage:
    """
    A whole binary message; C{data} is L{bytes}.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"BinaryMessage({self.data!r})"


class MessageFragment:
    """
    A piece of a message, in streaming mode.

    @ivar data: L{str} (decoded, validated) for text, L{bytes} for binary.
    @ivar isBinary: the message type.
    @ivar first: this piece starts a message.
    @ivar last: this piece ends it.
    """

    __slots__ = ("data", "isBinary", "first", "last")

    def __init__(self, data, isBinary: bool, first: bool, last: bool) -> None:
        self.data = data
        self.isBinary = isBinary
        self.first = first
        self.last = last

    def __repr__(self) -> str:
        return f"MessageFragment({self.data!r}, isBinary={self.isBinary}, first={self.first}, last={self.last})"


class Ping:
    """
    A ping arrived (the pong is already queued).
    """

    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def __repr__(self) -> str:
        return f"Ping({self.payload!r})"


class Pong:
    """
    A pong arrived.
    """

    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def __repr__(self) -> str:
        return f"Pong({self.payload!r})"


class CloseReceived:
    """
    The peer sent a close frame (the answer, if due, is already queued).
    """

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason

    def __repr__(self) -> str:
        return f"CloseReceived({self.code}, {self.reason!r})"


class ProtocolFailure:
    """
    The peer broke the protocol after the events before this one.  The
    caller delivers those first (their handlers may still answer), then calls
    L{rtproto.websocket.WebSocketConnection.fail} with C{code} and
    C{reason}, which sends the close frame and sets C{shouldDisconnect}.
    """

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason

    def __repr__(self) -> str:
        return f"ProtocolFailure({self.code}, {self.reason!r})"
