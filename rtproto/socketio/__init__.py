"""
The socket.io core (protocol revisions 5 and 4): the packet codec with its
binary attachments, rooms and broadcasts (the in-memory adapter),
connection state recovery, the options, and the base class of namespace
handlers.  No Twisted I/O here: the server is L{rtproto.tx.socketio}.
"""

from rtproto.socketio._adapter import BroadcastOptions, MemoryAdapter, Prepared, prepare
from rtproto.socketio._handler import NamespaceHandler
from rtproto.socketio._options import SocketIOOptions
from rtproto.socketio._packets import (
    ACK,
    BINARY_ACK,
    BINARY_EVENT,
    CONNECT,
    CONNECT_ERROR,
    DISCONNECT,
    EVENT,
    Packet,
    PacketDecoder,
    encodePacket,
    hasBinary,
)

__all__ = [
    "ACK",
    "BINARY_ACK",
    "BINARY_EVENT",
    "CONNECT",
    "CONNECT_ERROR",
    "DISCONNECT",
    "EVENT",
    "BroadcastOptions",
    "MemoryAdapter",
    "NamespaceHandler",
    "Packet",
    "PacketDecoder",
    "Prepared",
    "SocketIOOptions",
    "encodePacket",
    "hasBinary",
    "prepare",
]
