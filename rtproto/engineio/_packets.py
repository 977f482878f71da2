"""
engine.io packets: the seven packet types and how one packet is written as
a string or a WebSocket message, in protocol revisions 3 and 4.

A packet is a C{(type, data)} pair: C{type} is one of the constants below,
C{data} a L{str}, L{bytes} (binary messages only) or C{""}.
"""

from base64 import b64decode, b64encode
from binascii import Error as _Base64Error

from rtproto.errors import EngineIOError

OPEN, CLOSE, PING, PONG, MESSAGE, UPGRADE, NOOP = range(7)

_TYPES = "0123456"


def badRequest(reason: str) -> EngineIOError:
    """
    The error for a malformed packet or payload: code 3, "Bad request".
    """
    return EngineIOError(EngineIOError.BAD_REQUEST, reason)


def encodeString(ptype: int, data, protocol: int) -> str:
    """
    Write one packet as a string (polling payloads and WebSocket text
    frames); binary data is base64: C{b<base64>} in v4, C{b4<base64>} in v3.
    """
    if data.__class__ is str:
        return _TYPES[ptype] + data
    encoded = b64encode(data).decode("ascii")
    return ("b" + encoded) if protocol == 4 else ("b" + _TYPES[ptype] + encoded)


def decodeString(text: str, protocol: int):
    """
    Read one packet from its string form.

    @raise EngineIOError: (code 3) unknown type or bad base64.
    """
    if not text:
        raise badRequest("empty packet")
    first = text[0]
    if first == "b":
        if protocol == 4:
            ptype, encoded = MESSAGE, text[1:]
        else:
            ptype = _TYPES.find(text[1:2]) if len(text) > 1 else -1
            if ptype < 0:
                raise badRequest("bad type in a base64 packet")
            encoded = text[2:]
        try:
            return ptype, b64decode(encoded, validate=True)
        except (_Base64Error, ValueError):
            raise badRequest("bad base64 in a binary packet") from None
    ptype = _TYPES.find(first)
    if ptype < 0 or len(first) != 1:
        raise badRequest(f"unknown packet type {first!r}")
    return ptype, text[1:]


def encodeBinaryFrame(data: bytes, protocol: int) -> bytes:
    """
    Write a binary message as a WebSocket binary frame's payload: the raw
    bytes in v4, prefixed with the type byte C{\\x04} in v3.
    """
    return data if protocol == 4 else b"\x04" + data


def decodeBinaryFrame(data: bytes, protocol: int):
    """
    Read a packet from a WebSocket binary frame's payload.

    @raise EngineIOError: (code 3) a v3 frame without a valid type byte.
    """
    if protocol == 4:
        return MESSAGE, data
    if not data or data[0] > NOOP:
        raise badRequest("binary frame without a packet type")
    return data[0], data[1:]
