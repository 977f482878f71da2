"""
RFC 6455 section 5: frame constants, frame header encoding, masking, and the
close frame payload (section 5.5.1 and 7.4).

Decoding lives in L{rtproto.websocket._connection}, which parses headers
inline on its hot path; this module holds what both directions share.
"""

import os
import struct

from rtproto.errors import InvalidPayload, ProtocolViolation

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

DATA_OPCODES = frozenset((OP_CONTINUATION, OP_TEXT, OP_BINARY))
CONTROL_OPCODES = frozenset((OP_CLOSE, OP_PING, OP_PONG))

# Close codes (RFC 6455 section 7.4.1).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_NO_STATUS = 1005
CLOSE_ABNORMAL = 1006
CLOSE_INVALID_PAYLOAD = 1007
CLOSE_POLICY_VIOLATION = 1008
CLOSE_TOO_BIG = 1009
CLOSE_MANDATORY_EXTENSION = 1010
CLOSE_INTERNAL_ERROR = 1011

MAX_CONTROL_PAYLOAD = 125

_pack2 = struct.Struct("!BB").pack
_pack4 = struct.Struct("!BBH").pack
_pack10 = struct.Struct("!BBQ").pack
_packCode = struct.Struct("!H").pack
_unpackCode = struct.Struct("!H").unpack_from


def isValidCloseCode(code: int) -> bool:
    """
    Whether C{code} may appear in a close frame on the wire: 1000-1003,
    1007-1011 and the registered/private range 3000-4999.  1004-1006 and
    1015 are reserved for local use and never sent; the rest is unassigned.
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1011 or 3000 <= code <= 4999


def _maskPython(data: bytes, key: bytes) -> bytes:
    """
    XOR C{data} with the 4-byte masking C{key} repeated (section 5.3), using
    one big-integer XOR: linear time, no per-byte Python loop.
    """
    n = len(data)
    if not n:
        return b""
    repeated = key * ((n >> 2) + 1)
    return (
        int.from_bytes(data, "little") ^ int.from_bytes(repeated[:n], "little")
    ).to_bytes(n, "little")


try:  # pragma: no cover - depends on whether the C helper was built
    from rtproto.websocket._speedups import mask as _maskC  # type: ignore

    mask = _maskC
except ImportError:
    mask = _maskPython


class MaskKeySource:
    """
    Cryptographically strong 4-byte masking keys (section 10.3), read from
    C{os.urandom} a page at a time so that a client does not make one system
    call per frame.
    """

    def __init__(self, randomBytes=os.urandom, batch: int = 4096) -> None:
        self._random = randomBytes
        self._batch = batch
        self._pool = b""
        self._pos = 0

    def __call__(self) -> bytes:
        """
        Return a fresh 4-byte key.
        """
        pos = self._pos
        if pos + 4 > len(self._pool):
            self._pool = self._random(self._batch)
            pos = 0
        self._pos = pos + 4
        return self._pool[pos : pos + 4]


def encodeHeader(opcode: int, length: int, fin: bool = True, rsv1: bool = False) -> bytes:
    """
    Encode an unmasked frame header for a payload of C{length} bytes.
    """
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    if length < 126:
        return _pack2(b0, length)
    if length < 65536:
        return _pack4(b0, 126, length)
    return _pack10(b0, 127, length)


def encodeFrame(
    opcode: int,
    payload: bytes,
    fin: bool = True,
    rsv1: bool = False,
    maskKey: "bytes | None" = None,
) -> bytes:
    """
    Encode a whole frame.  With C{maskKey} (client side) the header carries
    the mask bit and key and the payload is masked.
    """
    n = len(payload)
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    if maskKey is None:
        if n < 126:
            return _pack2(b0, n) + payload
        if n < 65536:
            return _pack4(b0, 126, n) + payload
        return _pack10(b0, 127, n) + payload
    if n < 126:
        header = _pack2(b0, n | 0x80)
    elif n < 65536:
        header = _pack4(b0, 254, n)
    else:
        header = _pack10(b0, 255, n)
    return header + maskKey + mask(payload, maskKey)


def encodeClosePayload(code: "int | None", reason: str = "") -> bytes:
    """
    The payload of a close frame: nothing when C{code} is L{None}, else the
    code and the UTF-8 reason, trimmed so that the whole fits in 125 bytes
    without cutting a character in half.
    """
    if code is None:
        return b""
    raw = reason.encode("utf-8")
    if len(raw) > MAX_CONTROL_PAYLOAD - 2:
        raw = raw[: MAX_CONTROL_PAYLOAD - 2].decode("utf-8", "ignore").encode("utf-8")
    return _packCode(code) + raw


def decodeClosePayload(payload: bytes) -> "tuple[int, str]":
    """
    Parse a received close payload into C{(code, reason)}; 1005 when empty.

    @raise ProtocolViolation: a one-byte payload or a code not valid on the
        wire (1002).
    @raise InvalidPayload: a reason that is not UTF-8 (1007).
    """
    if not payload:
        return CLOSE_NO_STATUS, ""
    if len(payload) == 1:
        raise ProtocolViolation("close frame with a one-byte payload")
    (code,) = _unpackCode(payload)
    if not isValidCloseCode(code):
        raise ProtocolViolation(f"invalid close code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidPayload("close reason is not valid UTF-8") from None
    return code, reason
