"""
WebSocket (RFC 6455) with permessage-deflate (RFC 7692): the sans-I/O core.

Nothing here imports Twisted, reads the clock or touches a socket; the
Twisted glue is L{rtproto.tx}.  This module is the public face: the private
modules behind it may move.
"""

from rtproto.websocket._connection import CLOSED, CLOSING, OPEN, WebSocketConnection
from rtproto.websocket._deflate import DeflateOptions, PerMessageDeflate
from rtproto.websocket._events import (
    BinaryMessage,
    CloseReceived,
    MessageFragment,
    Ping,
    Pong,
    ProtocolFailure,
    TextMessage,
)
from rtproto.websocket._frames import (
    CLOSE_ABNORMAL,
    CLOSE_GOING_AWAY,
    CLOSE_INTERNAL_ERROR,
    CLOSE_INVALID_PAYLOAD,
    CLOSE_NO_STATUS,
    CLOSE_NORMAL,
    CLOSE_POLICY_VIOLATION,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_TOO_BIG,
    isValidCloseCode,
)
from rtproto.websocket._handler import WebSocketHandler
from rtproto.websocket._handshake import (
    ClientHandshake,
    UpgradeRequest,
    acceptKey,
    buildResponse,
    checkRequest,
)
from rtproto.websocket._options import WebSocketOptions
from rtproto.websocket._prepared import PreparedMessage

__all__ = [
    "WebSocketConnection", "OPEN", "CLOSING", "CLOSED",
    "DeflateOptions", "PerMessageDeflate",
    "TextMessage", "BinaryMessage", "MessageFragment", "Ping", "Pong", "CloseReceived", "ProtocolFailure",
    "CLOSE_NORMAL", "CLOSE_GOING_AWAY", "CLOSE_PROTOCOL_ERROR", "CLOSE_NO_STATUS",
    "CLOSE_ABNORMAL", "CLOSE_INVALID_PAYLOAD", "CLOSE_POLICY_VIOLATION", "CLOSE_TOO_BIG",
    "CLOSE_INTERNAL_ERROR", "isValidCloseCode",
    "WebSocketHandler", "ClientHandshake", "UpgradeRequest", "acceptKey",
    "buildResponse", "checkRequest", "WebSocketOptions", "PreparedMessage",
]
