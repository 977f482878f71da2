"""
Prepared messages: a message encoded once and written to many connections.

A server frame needs no masking, so the same bytes serve every connection
that does not compress it.  For connections that do, the message is
deflated once per window size with an empty history; each such connection
resets its own compressor after sending it (its peer's window now holds the
message, its compressor's does not), which keeps every later message valid.
"""

import zlib

from rtproto.websocket._frames import OP_BINARY, OP_TEXT, encodeFrame


class PreparedMessage:
    """
    A message ready to be sent, unchanged, on many connections with
    L{rtproto.interfaces.IWebSocketConnection.sendPrepared}.

    @ivar opcode: text or binary.
    @ivar payload: the message as L{bytes}.
    """

    __slots__ = ("opcode", "payload", "_frame", "_compressed")

    def __init__(self, data, isBinary: "bool | None" = None) -> None:
        """
        @param data: L{str} for a text message, L{bytes} for binary.
        @param isBinary: override the type taken from C{data}.
        """
        if isBinary is None:
            isBinary = not isinstance(data, str)
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.opcode = OP_BINARY if isBinary else OP_TEXT
        self.payload = bytes(data)
        self._frame: "bytes | None" = None
        self._compressed: "dict[tuple[int, int, int], bytes]" = {}

    def frame(self) -> bytes:
        """
        The uncompressed server frame.
        """
        if self._frame is None:
            self._frame = encodeFrame(self.opcode, self.payload)
        return self._frame

    def compressedFrame(self, windowBits: int, level: int = 6, memLevel: int = 8) -> bytes:
        """
        The server frame compressed with permessage-deflate for a peer that
        accepts a window of C{windowBits}.
        """
        key = (windowBits, level, memLevel)
        frame = self._compressed.get(key)
        if frame is None:
            c = zlib.compressobj(level, zlib.DEFLATED, -windowBits, memLevel)
            body = (c.compress(self.payload) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]
            frame = self._compressed[key] = encodeFrame(self.opcode, body, rsv1=True)
        return frame
