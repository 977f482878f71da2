"""
Frame builders, an independent frame parser and connection factories for
the tests of the sans-I/O WebSocket core.

The parser here is written separately from the one in
L{rtproto.websocket._connection} on purpose: what a connection writes is
checked against it, so a bug in the code under test cannot hide behind
itself.
"""

import itertools
import random
import zlib
from typing import NamedTuple

from rtproto.websocket import (
    BinaryMessage,
    CloseReceived,
    MessageFragment,
    Ping,
    Pong,
    ProtocolFailure,
    TextMessage,
    WebSocketConnection,
)
from rtproto.websocket._deflate import (
    DeflateOptions,
    acceptClient,
    clientOffer,
    negotiateServer,
    parseExtensions,
)
from rtproto.websocket._frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    encodeFrame,
)

__all__ = [
    "OP_BINARY", "OP_CLOSE", "OP_CONTINUATION", "OP_PING", "OP_PONG", "OP_TEXT",
    "MASK", "clientFrame", "serverFrame", "closePayload", "Frame", "parseFrames",
    "summarize", "makeServer", "makeClient", "deflatePair", "transfer", "feedEach",
    "xor", "hexText", "rawDeflate", "TAIL",
]

# The masking key a test client uses unless told otherwise: every byte
# differs, so a key applied at the wrong offset garbles the payload.
MASK = b"\x37\xfa\x21\x3d"


def xor(data: bytes, key: bytes) -> bytes:
    """
    Mask or unmask C{data} byte by byte (RFC 6455 section 5.3), the slow and
    obvious way.
    """
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


def _setRsv(frame: bytes, rsv2: bool, rsv3: bool) -> bytes:
    if not (rsv2 or rsv3):
        return frame
    first = frame[0] | (0x20 if rsv2 else 0) | (0x10 if rsv3 else 0)
    return bytes([first]) + frame[1:]


def clientFrame(
    opcode: int,
    payload: bytes = b"",
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    maskKey: bytes = MASK,
) -> bytes:
    """
    A frame as a client sends it: masked with C{maskKey}.
    """
    return _setRsv(encodeFrame(opcode, payload, fin, rsv1, maskKey), rsv2, rsv3)


def serverFrame(
    opcode: int,
    payload: bytes = b"",
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
) -> bytes:
    """
    A frame as a server sends it: unmasked.
    """
    return _setRsv(encodeFrame(opcode, payload, fin, rsv1), rsv2, rsv3)


def closePayload(code: int, reason: bytes = b"") -> bytes:
    """
    The payload of a close frame with C{code} and the raw C{reason}.
    """
    return code.to_bytes(2, "big") + reason


class Frame(NamedTuple):
    fin: bool
    rsv1: bool
    rsv2: bool
    rsv3: bool
    opcode: int
    masked: bool
    payload: bytes
    maskKey: "bytes | None" = None


def parseFrames(data: bytes) -> "list[Frame]":
    """
    Split C{data} into whole frames, unmasking payloads.  Fails the test if
    bytes are left over.
    """
    frames = []
    pos = 0
    while pos < len(data):
        assert len(data) - pos >= 2, f"truncated frame header at {pos}: {data[pos:]!r}"
        b0, b1 = data[pos], data[pos + 1]
        pos += 2
        length = b1 & 0x7F
        if length == 126:
            length = int.from_bytes(data[pos : pos + 2], "big")
            pos += 2
        elif length == 127:
            length = int.from_bytes(data[pos : pos + 8], "big")
            pos += 8
        key = None
        if b1 & 0x80:
            key = data[pos : pos + 4]
            pos += 4
        payload = data[pos : pos + length]
        assert len(payload) == length, f"truncated payload: {len(payload)} of {length}"
        pos += length
        if key is not None:
            payload = xor(payload, key)
        frames.append(
            Frame(
                fin=bool(b0 & 0x80),
                rsv1=bool(b0 & 0x40),
                rsv2=bool(b0 & 0x20),
                rsv3=bool(b0 & 0x10),
                opcode=b0 & 0x0F,
                masked=key is not None,
                payload=payload,
                maskKey=key,
            )
        )
    return frames


def summarize(events) -> list:
    """
    Events as plain comparable tuples.
    """
    out = []
    for e in events:
        if isinstance(e, TextMessage):
            out.append(("text", e.data))
        elif isinstance(e, BinaryMessage):
            out.append(("binary", e.data))
        elif isinstance(e, MessageFragment):
            out.append(("fragment", e.data, e.isBinary, e.first, e.last))
        elif isinstance(e, Ping):
            out.append(("ping", e.payload))
        elif isinstance(e, Pong):
            out.append(("pong", e.payload))
        elif isinstance(e, CloseReceived):
            out.append(("close", e.code, e.reason))
        elif isinstance(e, ProtocolFailure):
            out.append(("failure", e.code))
        else:  # pragma: no cover
            raise AssertionError(f"unknown event {e!r}")
    return out


def _keys():
    cycle = itertools.cycle([b"\x01\x02\x03\x04", b"\xa5\x5a\xc3\x3c", b"\xff\x00\x80\x7f"])
    return lambda: next(cycle)


def makeServer(**kwargs):
    """
    A server-side connection and the list its writes go to.
    """
    out: list = []
    return WebSocketConnection(False, out.append, **kwargs), out


def makeClient(**kwargs):
    """
    A client-side connection with deterministic masking keys, and the list
    its writes go to.
    """
    out: list = []
    kwargs.setdefault("maskKeys", _keys())
    return WebSocketConnection(True, out.append, **kwargs), out


def transfer(out: list, peer) -> list:
    """
    Move everything written to C{out} into C{peer}; return the summarized
    events.
    """
    data = b"".join(out)
    out.clear()
    return summarize(peer.receiveData(data))


def feedEach(conn, pieces) -> list:
    """
    Feed C{pieces} one call at a time; return all summarized events.
    """
    events = []
    for piece in pieces:
        events.extend(summarize(conn.receiveData(piece)))
    return events


def deflatePair(
    clientOptions: "DeflateOptions | None" = None,
    serverOptions: "DeflateOptions | None" = None,
    serverKw: "dict | None" = None,
    clientKw: "dict | None" = None,
):
    """
    Negotiate permessage-deflate as a real handshake would (client offer,
    server answer, client check) and build both connections.

    @return: C{(server, serverOut, client, clientOut, response)}.
    """
    clientOptions = clientOptions or DeflateOptions(threshold=0)
    serverOptions = serverOptions or DeflateOptions(threshold=0)
    offer = clientOffer(clientOptions)
    negotiated = negotiateServer(parseExtensions(offer), serverOptions)
    assert negotiated is not None, f"server declined {offer!r}"
    response, serverCodec = negotiated
    clientCodec = acceptClient(response, clientOptions)
    assert clientCodec is not None
    server, serverOut = makeServer(codec=serverCodec, **(serverKw or {}))
    client, clientOut = makeClient(codec=clientCodec, **(clientKw or {}))
    return server, serverOut, client, clientOut, response


TAIL = b"\x00\x00\xff\xff"


def hexText(n: int, seed: int = 7) -> str:
    """
    C{n} random hex digits: compressible to about half, and very
    compressible against a copy of itself.
    """
    rng = random.Random(seed)
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def rawDeflate(data: bytes, wbits: int = 15) -> bytes:
    """
    A permessage-deflate payload for C{data} made with a fresh compressor.
    """
    c = zlib.compressobj(6, zlib.DEFLATED, -wbits)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(TAIL)
    return out[:-4]
