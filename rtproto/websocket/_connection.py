"""
The WebSocket connection state machine after the opening handshake
(RFC 6455 sections 5-7, RFC 7692 for compressed messages), without I/O.

Bytes from the peer go into L{WebSocketConnection.receiveData}, which
returns events; every byte to send (our messages and the protocol's own
answers: pongs, close echoes, failures) goes to the C{write} callable given
at construction.  The caller reads L{WebSocketConnection.shouldDisconnect}
after each call to learn when to close the transport, and drives time
through L{WebSocketConnection.tick} and L{WebSocketConnection.nextDeadline}.
"""

from rtproto.errors import InvalidPayload, MessageTooBig, ProtocolViolation, UsageError
from rtproto.websocket import _frames
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
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    encodeFrame,
    encodeHeader,
    mask,
)
from rtproto.websocket._utf8 import Utf8Decoder

_pack2 = _frames._pack2

OPEN = "OPEN"
CLOSING = "CLOSING"
CLOSED = "CLOSED"

_BIG_PAYLOAD = 64 * 1024


class WebSocketConnection:
    """
    One endpoint of an open WebSocket connection.

    @ivar state: L{OPEN}, L{CLOSING} (we sent a close frame and wait for the
        peer's) or L{CLOSED} (close frames crossed, or the connection failed).
    @ivar shouldDisconnect: the caller should close the transport once the
        written bytes are flushed.
    @ivar closeCode: the code the peer closed with, or the code we failed
        the connection with; 1006 until one is known.
    @ivar closeReason: the matching reason.
    @ivar failure: why we failed the connection (L{str}), or L{None}.
    """

    __slots__ = (
        "isClient", "_write", "_codec", "_maxMessage", "_maxFrame", "_streaming",
        "_maskKey", "_pingInterval", "_pingTimeout", "_closeTimeout",
        "state", "shouldDisconnect", "closeSent", "closeReceived", "closeCode",
        "closeReason", "failure", "_reading", "_canSend",
        "_hbuf", "_inFrame", "_remaining", "_fop", "_ffin", "_fmask", "_fmaskOff", "_ctrl",
        "_mop", "_mcompressed", "_mparts", "_msize", "_mdecoder", "_mfirst",
        "_sop", "_scompressed",
        "_nextPing", "_pongDeadline", "_pingCount", "_closeDeadline", "_closeTimerPending",
    )

    def __init__(
        self,
        isClient: bool,
        write,
        codec=None,
        maxMessageSize: int = 1 << 20,
        maxFrameSize: int = 1 << 20,
        streaming: bool = False,
        maskKeys=None,
        pingInterval: float = 0,
        pingTimeout: float = 0,
        closeTimeout: float = 10,
    ) -> None:
        """
        @param isClient: client side (masks what it sends, expects unmasked
            frames) or server side.
        @param write: called with the bytes to send.
        @param codec: the negotiated
            L{rtproto.websocket._deflate.PerMessageDeflate}, or L{None}.
        @param maxMessageSize: the largest message (after inflation), 0 for
            no limit.
        @param maxFrameSize: the largest frame payload, 0 for no limit.
        @param streaming: return L{MessageFragment}s rather than whole
            messages.
        @param maskKeys: a callable returning 4-byte masking keys (client).
        @param pingInterval: seconds between keep-alive pings, 0 for none.
        @param pingTimeout: seconds to wait for a pong before failing with
            1011, 0 for no limit.
        @param closeTimeout: seconds to wait for the closing handshake.
        """
        self.isClient = isClient
        self._write = write
        self._codec = codec
        self._maxMessage = maxMessageSize
        self._maxFrame = maxFrameSize
        self._streaming = streaming
        self._maskKey = (maskKeys or _frames.MaskKeySource()) if isClient else None
        self._pingInterval = pingInterval
        self._pingTimeout = pingTimeout
        self._closeTimeout = closeTimeout

        self.state = OPEN
        self.shouldDisconnect = False
        self.closeSent = False
        self.closeReceived = False
        self.closeCode = _frames.CLOSE_ABNORMAL
        self.closeReason = ""
        self.failure: "str | None" = None
        self._reading = True
        self._canSend = True

        # Frame parser.
        self._hbuf = b""
        self._inFrame = False
        self._remaining = 0
        self._fop = 0
        self._ffin = False
        self._fmask: "bytes | None" = None
        self._fmaskOff = 0
        self._ctrl: "list[bytes]" = []
        # Message being received.
        self._mop: "int | None" = None
        self._mcompressed = False
        self._mparts: list = []
        self._msize = 0
        self._mdecoder: "Utf8Decoder | None" = None
        self._mfirst = False
        # Message being sent fragment by fragment.
        self._sop: "int | None" = None
        self._scompressed = False
        # Timers.
        self._nextPing: "float | None" = None
        self._pongDeadline: "float | None" = None
        self._pingCount = 0
        self._closeDeadline: "float | None" = None
        self._closeTimerPending = False

    # -- receiving ---------------------------------------------------------

    def receiveData(self, data: bytes) -> list:
        """
        Parse bytes from the peer.

        @return: the events they complete, in order.  A protocol violation
            stops reading and ends the list with a L{ProtocolFailure}: the
            caller delivers the events before it, then calls L{fail}.
        """
        events: list = []
        if not self._reading:
            return events
        if self._hbuf:
            data = self._hbuf + data
            self._hbuf = b""
        pos = 0
        end = len(data)
        try:
            while pos < end and self._reading:
                if self._inFrame:
                    take = self._remaining
                    if take > end - pos:
                        take = end - pos
                    chunk = data[pos : pos + take]
                    pos += take
                    self._remaining -= take
                    key = self._fmask
                    if key is not None:
                        off = self._fmaskOff
                        if off:
                            key = key[off:] + key[:off]
                        chunk = mask(chunk, key)
                        self._fmaskOff = (off + take) & 3
                    if not self._remaining:
                        self._inFrame = False
                    self._frameData(chunk, not self._remaining, events)
                    continue

                # A frame header.
                if end - pos < 2:
                    self._hbuf = data[pos:]
                    break
                b0 = data[pos]
                b1 = data[pos + 1]
                length = b1 & 0x7F
                hlen = 2
                if length == 126:
                    hlen = 4
                elif length == 127:
                    hlen = 10
                masked = b1 & 0x80
                if masked:
                    hlen += 4
                if end - pos < hlen:
                    self._hbuf = data[pos:]
                    break
                if length == 126:
                    length = int.from_bytes(data[pos + 2 : pos + 4], "big")
                elif length == 127:
                    length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                    if length >> 63:
                        raise ProtocolViolation("frame length has the high bit set")
                key = data[pos + hlen - 4 : pos + hlen] if masked else None
                pos += hlen
                opcode = b0 & 0x0F
                fin = b0 & 0x80
                rsv1 = b0 & 0x40
                self._checkHeader(opcode, fin, b0 & 0x70, masked, length)

                if (
                    fin
                    and not rsv1
                    and (opcode == OP_TEXT or opcode == OP_BINARY)
                    and end - pos >= length
                    and not self._streaming
                ):
                    # Fast path: a whole unfragmented, uncompressed message.
                    payload = data[pos : pos + length]
                    pos += length
                    if key is not None:
                        payload = mask(payload, key)
                    if opcode == OP_TEXT:
                        try:
                            events.append(TextMessage(payload.decode("utf-8")))
                        except UnicodeDecodeError:
                            raise InvalidPayload("invalid UTF-8 in text message") from None
                    else:
                        events.append(BinaryMessage(payload))
                    continue

                self._fop = opcode
                self._ffin = bool(fin)
                self._fmask = key
                self._fmaskOff = 0
                self._remaining = length
                if opcode == OP_TEXT or opcode == OP_BINARY:
                    self._startMessage(opcode, bool(rsv1))
                if length:
                    self._inFrame = True
                else:
                    self._frameData(b"", True, events)
        except ProtocolViolation as e:
            self._reading = False
            self._hbuf = b""
            events.append(ProtocolFailure(e.closeCode, e.reason))
        return events

    def _checkHeader(self, opcode: int, fin: int, rsv: int, masked: int, length: int) -> None:
        if self.isClient:
            if masked:
                raise ProtocolViolation("server frames must not be masked")
        elif not masked:
            raise ProtocolViolation("client frames must be masked")
        if rsv & 0x30:
            raise ProtocolViolation("reserved bits RSV2/RSV3 set")
        if opcode >= 8:
            if opcode > OP_PONG:
                raise ProtocolViolation(f"reserved opcode {opcode}")
            if rsv:
                raise ProtocolViolation("RSV1 set on a control frame")
            if not fin:
                raise ProtocolViolation("fragmented control frame")
            if length > _frames.MAX_CONTROL_PAYLOAD:
                raise ProtocolViolation("control frame payload over 125 bytes")
            return
        if opcode > OP_BINARY:
            raise ProtocolViolation(f"reserved opcode {opcode}")
        if opcode == OP_CONTINUATION:
            if self._mop is None:
                raise ProtocolViolation("continuation frame without a message to continue")
            if rsv:
                raise ProtocolViolation("RSV1 set on a continuation frame")
        else:
            if self._mop is not None:
                raise ProtocolViolation("new message started before the last one finished")
            if rsv and self._codec is None:
                raise ProtocolViolation("RSV1 set but no extension negotiated")
        if self._maxFrame and length > self._maxFrame:
            raise MessageTooBig(f"frame of {length} bytes exceeds the {self._maxFrame}-byte limit")
        compressed = self._mcompressed if opcode == OP_CONTINUATION else rsv
        if self._maxMessage and not compressed and self._msize + length > self._maxMessage:
            raise MessageTooBig(f"message exceeds the {self._maxMessage}-byte limit")

    def _startMessage(self, opcode: int, compressed: bool) -> None:
        self._mop = opcode
        self._mcompressed = compressed
        self._mparts = []
        self._msize = 0
        self._mdecoder = Utf8Decoder() if opcode == OP_TEXT else None
        self._mfirst = True

    def _frameData(self, chunk: bytes, frameDone: bool, events: list) -> None:
        opcode = self._fop
        if opcode >= 8:
            self._ctrl.append(chunk)
            if frameDone:
                payload = b"".join(self._ctrl)
                self._ctrl = []
                self._control(opcode, payload, events)
            return
        final = frameDone and self._ffin
        if self._mcompressed:
            limit = self._maxMessage - self._msize if self._maxMessage else None
            chunk = self._codec.decompress(chunk, final, limit)
        self._msize += len(chunk)
        isText = self._mop == OP_TEXT
        piece = self._mdecoder.decode(chunk, final) if isText else chunk
        if self._streaming:
            if piece or final or self._mfirst:
                events.append(MessageFragment(piece, not isText, self._mfirst, final))
                self._mfirst = False
        elif piece:
            self._mparts.append(piece)
        if final:
            if not self._streaming:
                parts = self._mparts
                if isText:
                    events.append(TextMessage("".join(parts)))
                else:
                    events.append(BinaryMessage(parts[0] if len(parts) == 1 else b"".join(parts)))
            self._mop = None
            self._mparts = []
            self._msize = 0
            self._mdecoder = None

    def _control(self, opcode: int, payload: bytes, events: list) -> None:
        if opcode == OP_PING:
            if self._canSend:
                self._send(OP_PONG, payload)
            events.append(Ping(payload))
        elif opcode == OP_PONG:
            # Any pong shows the peer is alive, even one for an older ping.
            self._pongDeadline = None
            events.append(Pong(payload))
        else:
            code, reason = _frames.decodeClosePayload(payload)
            self.closeReceived = True
            self.closeCode = code
            self.closeReason = reason
            if not self.closeSent:
                self.closeSent = True
                self._send(OP_CLOSE, _frames.encodeClosePayload(
                    None if code == _frames.CLOSE_NO_STATUS else code))
                self._canSend = False
            self._finish()
            events.append(CloseReceived(code, reason))

    def _finish(self) -> None:
        self.state = CLOSED
        self._reading = False
        self._nextPing = self._pongDeadline = None
        if self.isClient and not self.failure:
            # The server closes TCP first (section 7.1.1); wait for it.
            self._closeTimerPending = True
        else:
            self.shouldDisconnect = True
        if self._codec is not None:
            self._codec.close()

    def fail(self, code: int, reason: str) -> None:
        """
        _Fail the WebSocket Connection_ (section 7.1.7): the one place where a
        protocol violation becomes a close frame and a disconnect.
        """
        if self.failure is not None or self.state == CLOSED:
            return
        self.failure = reason
        if not self.closeSent:
            self.closeSent = True
            self._send(OP_CLOSE, _frames.encodeClosePayload(code, reason))
        self._canSend = False
        self.closeCode = code
        self.closeReason = reason
        self._finish()
        self.shouldDisconnect = True

    # -- sending -----------------------------------------------------------

    def _send(self, opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False) -> None:
        if self._maskKey is not None:
            self._write(encodeFrame(opcode, payload, fin, rsv1, self._maskKey()))
        elif len(payload) < _BIG_PAYLOAD:
            self._write(encodeFrame(opcode, payload, fin, rsv1))
        else:
            self._write(encodeHeader(opcode, len(payload), fin, rsv1))
            self._write(payload)

    def _sendMessage(self, opcode: int, payload: bytes) -> None:
        if len(payload) < 126 and self._maskKey is None and self._codec is None and self._sop is None:
            # Fast path: a small uncompressed server frame.
            if self._canSend:
                self._write(_pack2(0x80 | opcode, len(payload)) + payload)
            return
        if not self._canSend:
            return
        if self._sop is not None:
            raise UsageError("a fragmented message is being sent; finish it first")
        codec = self._codec
        if codec is not None and codec.shouldCompress(len(payload)):
            self._send(opcode, codec.compress(payload), True, True)
        else:
            self._send(opcode, payload)

    def sendText(self, text: str) -> None:
        """
        Send a text message.
        """
        self._sendMessage(OP_TEXT, text.encode("utf-8"))

    def sendBinary(self, data: bytes) -> None:
        """
        Send a binary message.
        """
        self._sendMessage(OP_BINARY, bytes(data))

    def sendFragment(self, data, isBinary: bool = False, final: bool = False) -> None:
        """
        Send one fragment of a streamed message (see
        L{rtproto.interfaces.IWebSocketConnection.sendFragment}).
        """
        if not self._canSend:
            return
        if isinstance(data, str):
            data = data.encode("utf-8")
        first = self._sop is None
        if first:
            self._sop = OP_BINARY if isBinary else OP_TEXT
            self._scompressed = self._codec is not None and self._codec.canCompress
            opcode = self._sop
        else:
            opcode = OP_CONTINUATION
        if self._scompressed:
            data = self._codec.compress(data, final)
        self._send(opcode, data, final, first and self._scompressed)
        if final:
            self._sop = None

    def sendPrepared(self, prepared) -> None:
        """
        Send a L{rtproto.websocket.PreparedMessage}.
        """
        if not self._canSend:
            return
        if self._sop is not None:
            raise UsageError("a fragmented message is being sent; finish it first")
        if self._maskKey is not None:
            self._sendMessage(prepared.opcode, prepared.payload)
            return
        codec = self._codec
        if codec is not None and codec.shouldCompress(len(prepared.payload)):
            self._write(prepared.compressedFrame(codec.sendWindowBits, codec.level, codec.memLevel))
            # Our compressor never saw that message; the peer's window did.
            codec.resetCompressor()
        else:
            self._write(prepared.frame())

    def ping(self, payload: bytes = b"") -> None:
        """
        Send a ping.
        """
        if len(payload) > _frames.MAX_CONTROL_PAYLOAD:
            raise UsageError("ping payload over 125 bytes")
        if self._canSend:
            self._send(OP_PING, payload)

    def close(self, code: "int | None" = 1000, reason: str = "") -> None:
        """
        Start the closing handshake (or do nothing if it has started).

        @param code: a close code valid on the wire, or L{None} for a close
            frame without one.
        """
        if code is not None and not _frames.isValidCloseCode(code):
            raise UsageError(f"close code {code} may not be sent")
        if code is None and reason:
            raise UsageError("a close reason needs a close code")
        if not self._canSend:
            return
        self.closeSent = True
        self._send(OP_CLOSE, _frames.encodeClosePayload(code, reason))
        self._canSend = False
        self.state = CLOSING
        self._nextPing = self._pongDeadline = None
        self._closeTimerPending = True

    def connectionLost(self) -> None:
        """
        The transport is gone: settle the final state and free resources.
        """
        if not self.closeReceived and self.failure is None:
            self.closeCode = _frames.CLOSE_ABNORMAL
            self.closeReason = ""
        self.state = CLOSED
        self._reading = False
        self._canSend = False
        self._nextPing = self._pongDeadline = self._closeDeadline = None
        self._closeTimerPending = False
        if self._codec is not None:
            self._codec.close()

    @property
    def pendingPayload(self) -> int:
        """
        How many payload bytes of the frame being received are still to
        come (0 between frames): a hint for the caller's read size.
        """
        return self._remaining if self._inFrame else 0

    @property
    def wasClean(self) -> bool:
        """
        Whether the closing handshake completed without a failure.
        """
        return self.closeSent and self.closeReceived and self.failure is None

    # -- time ----------------------------------------------------------------

    def start(self, now: float) -> None:
        """
        The connection opened at C{now}: arm the keep-alive.
        """
        if self._pingInterval:
            self._nextPing = now + self._pingInterval

    def nextDeadline(self, now: float) -> "float | None":
        """
        When L{tick} next has something to do, or L{None}.  A close started
        since the last call is timed from C{now}.
        """
        if self._closeTimerPending:
            self._closeTimerPending = False
            if self._closeTimeout:
                self._closeDeadline = now + self._closeTimeout
        deadline = self._nextPing
        for d in (self._pongDeadline, self._closeDeadline):
            if d is not None and (deadline is None or d < deadline):
                deadline = d
        return deadline

    def tick(self, now: float) -> None:
        """
        Do what is due at C{now}: send a keep-alive ping, fail the
        connection for a missing pong (1011), or give up on a closing
        handshake.
        """
        if self._closeDeadline is not None and now >= self._closeDeadline:
            self._closeDeadline = None
            self.shouldDisconnect = True
            return
        if self._pongDeadline is not None and now >= self._pongDeadline:
            self.fail(_frames.CLOSE_INTERNAL_ERROR, "ping timeout")
            return
        if self._nextPing is not None and now >= self._nextPing and self._canSend:
            self._pingCount += 1
            self._send(OP_PING, str(self._pingCount).encode("ascii"))
            self._nextPing = now + self._pingInterval
            if self._pingTimeout and self._pongDeadline is None:
                self._pongDeadline = now + self._pingTimeout
