"""
permessage-deflate (RFC 7692): negotiation on both sides and the codec.

zlib cannot make a raw deflate stream with a 256-byte window, so when the
peer limits us to C{max_window_bits=8} we accept and simply send messages
uncompressed (RSV1 clear), which section 6 allows; inflating always works
with a 32 KiB window, which covers every smaller one.
"""

import zlib
from dataclasses import dataclass

from rtproto.errors import HandshakeError, InvalidPayload, MessageTooBig

EXTENSION_NAME = "permessage-deflate"
_TAIL = b"\x00\x00\xff\xff"
_PARAMS = (
    "server_no_context_takeover",
    "client_no_context_takeover",
    "server_max_window_bits",
    "client_max_window_bits",
)


@dataclass(frozen=True)
class DeflateOptions:
    """
    What we ask of permessage-deflate, on either side.

    @ivar serverNoContextTakeover: server side: always reset our compressor
        after each message (saves memory per connection); client side: ask
        the server to do so.
    @ivar clientNoContextTakeover: server side: ask the client to reset its
        compressor; client side: we reset ours.
    @ivar serverMaxWindowBits: the largest window the server compresses
        with (8-15).
    @ivar clientMaxWindowBits: the largest window the client compresses
        with (8-15).
    @ivar threshold: messages shorter than this are sent uncompressed.
    @ivar memLevel: zlib memory level for our compressor (1-9).
    @ivar level: zlib compression level.
    """

    serverNoContextTakeover: bool = False
    clientNoContextTakeover: bool = False
    serverMaxWindowBits: int = 15
    clientMaxWindowBits: int = 15
    threshold: int = 1024
    memLevel: int = 8
    level: int = 6


def parseExtensions(value: str) -> "list[tuple[str, dict[str, str | None]]]":
    """
    Parse a C{Sec-WebSocket-Extensions} value into C{[(name, params)]}.

    @raise HandshakeError: the header is malformed (400).
    """
    result: "list[tuple[str, dict[str, str | None]]]" = []
    for item in _splitOutsideQuotes(value, ","):
        parts = _splitOutsideQuotes(item, ";")
        name = parts[0].strip().lower()
        if not name:
            if len(parts) == 1:
                continue
            raise HandshakeError("malformed Sec-WebSocket-Extensions")
        params: "dict[str, str | None]" = {}
        duplicate = False
        for raw in parts[1:]:
            key, eq, val = raw.partition("=")
            key = key.strip().lower()
            if not key:
                raise HandshakeError("malformed Sec-WebSocket-Extensions")
            v: "str | None" = None
            if eq:
                v = val.strip()
                if len(v) >= 2 and v[0] == v[-1] == '"':
                    v = v[1:-1]
            if key in params:
                duplicate = True
            params[key] = v
        if duplicate:
            params["\x00duplicate"] = None
        result.append((name, params))
    return result


def _splitOutsideQuotes(value: str, sep: str) -> "list[str]":
    out, cur, quoted = [], [], False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _bits(value: "str | None") -> "int | None":
    if value is None or not (value.isascii() and value.isdigit()) or (len(value) > 1 and value[0] == "0"):
        return None
    n = int(value)
    return n if 8 <= n <= 15 else None


def negotiateServer(
    offers: "list[tuple[str, dict[str, str | None]]]", options: DeflateOptions
) -> "tuple[str, PerMessageDeflate] | None":
    """
    Accept the first acceptable permessage-deflate offer (section 7.1).

    @return: C{(responseHeaderValue, codec)} or L{None} to decline all.
    """
    for name, params in offers:
        if name != EXTENSION_NAME:
            continue
        if any(k not in _PARAMS for k in params):
            continue
        serverBits = options.serverMaxWindowBits
        if "server_max_window_bits" in params:
            asked = _bits(params["server_max_window_bits"])
            if asked is None:
                continue
            serverBits = min(serverBits, asked)
        clientBits = 15
        answerClientBits = False
        if "client_max_window_bits" in params:
            raw = params["client_max_window_bits"]
            if raw is None:
                offered = 15
            else:
                offered = _bits(raw)
                if offered is None:
                    continue
            clientBits = min(offered, options.clientMaxWindowBits)
            answerClientBits = clientBits < 15 or raw is not None
        if any(
            params.get(flag) is not None
            for flag in ("server_no_context_takeover", "client_no_context_takeover")
        ):
            continue
        serverNoCtx = options.serverNoContextTakeover or "server_no_context_takeover" in params
        clientNoCtx = options.clientNoContextTakeover or "client_no_context_takeover" in params
        answer = [EXTENSION_NAME]
        if serverNoCtx:
            answer.append("server_no_context_takeover")
        if clientNoCtx:
            answer.append("client_no_context_takeover")
        if serverBits < 15 or "server_max_window_bits" in params:
            answer.append(f"server_max_window_bits={serverBits}")
        if answerClientBits:
            answer.append(f"client_max_window_bits={clientBits}")
        codec = PerMessageDeflate(
            sendNoContextTakeover=serverNoCtx,
            receiveNoContextTakeover=clientNoCtx,
            sendWindowBits=serverBits,
            threshold=options.threshold,
            memLevel=options.memLevel,
            level=options.level,
        )
        return "; ".join(answer), codec
    return None


def clientOffer(options: DeflateOptions) -> str:
    """
    The C{Sec-WebSocket-Extensions} value a client sends.
    """
    offer = [EXTENSION_NAME]
    if options.serverNoContextTakeover:
        offer.append("server_no_context_takeover")
    if options.clientNoContextTakeover:
        offer.append("client_no_context_takeover")
    if options.serverMaxWindowBits < 15:
        offer.append(f"server_max_window_bits={options.serverMaxWindowBits}")
    if options.clientMaxWindowBits < 15:
        offer.append(f"client_max_window_bits={options.clientMaxWindowBits}")
    else:
        offer.append("client_max_window_bits")
    return "; ".join(offer)


def acceptClient(value: str, options: DeflateOptions) -> "PerMessageDeflate | None":
    """
    Check the server's C{Sec-WebSocket-Extensions} answer to L{clientOffer}.

    @return: the codec, or L{None} when the server declined.
    @raise HandshakeError: the answer is not one the offer allows.
    """
    try:
        exts = parseExtensions(value)
    except HandshakeError as e:
        raise HandshakeError(e.reason, None) from None
    if not exts:
        return None
    if len(exts) != 1 or exts[0][0] != EXTENSION_NAME:
        raise HandshakeError(f"server accepted an extension we did not offer: {value!r}", None)
    params = exts[0][1]
    if any(k not in _PARAMS for k in params):
        raise HandshakeError(f"bad permessage-deflate response: {value!r}", None)
    for flag in ("server_no_context_takeover", "client_no_context_takeover"):
        if flag in params and params[flag] is not None:
            raise HandshakeError(f"bad permessage-deflate response: {value!r}", None)
    if options.serverNoContextTakeover and "server_no_context_takeover" not in params:
        raise HandshakeError("server ignored server_no_context_takeover", None)
    sendBits = options.clientMaxWindowBits
    if "client_max_window_bits" in params:
        bits = _bits(params["client_max_window_bits"])
        if bits is None or bits > options.clientMaxWindowBits:
            raise HandshakeError(f"bad client_max_window_bits in {value!r}", None)
        sendBits = bits
    if "server_max_window_bits" in params:
        bits = _bits(params["server_max_window_bits"])
        if bits is None or bits > options.serverMaxWindowBits:
            raise HandshakeError(f"bad server_max_window_bits in {value!r}", None)
    return PerMessageDeflate(
        sendNoContextTakeover=options.clientNoContextTakeover
        or "client_no_context_takeover" in params,
        receiveNoContextTakeover="server_no_context_takeover" in params,
        sendWindowBits=sendBits,
        threshold=options.threshold,
        memLevel=options.memLevel,
        level=options.level,
    )


class PerMessageDeflate:
    """
    The negotiated codec of one connection.  zlib objects are made on first
    use and dropped after each message when the context is not taken over,
    and by L{close}, so idle connections hold none.
    """

    __slots__ = (
        "sendNoContextTakeover", "receiveNoContextTakeover", "sendWindowBits",
        "threshold", "memLevel", "level", "canCompress", "_compressor", "_decompressor",
    )

    def __init__(
        self,
        sendNoContextTakeover: bool,
        receiveNoContextTakeover: bool,
        sendWindowBits: int,
        threshold: int = 1024,
        memLevel: int = 8,
        level: int = 6,
    ) -> None:
        self.sendNoContextTakeover = sendNoContextTakeover
        self.receiveNoContextTakeover = receiveNoContextTakeover
        self.sendWindowBits = sendWindowBits
        self.threshold = threshold
        self.memLevel = memLevel
        self.level = level
        # zlib cannot deflate raw streams with a 256-byte window.
        self.canCompress = sendWindowBits >= 9
        self._compressor = None
        self._decompressor = None

    def shouldCompress(self, length: int) -> bool:
        """
        Whether a message of C{length} bytes is worth compressing.
        """
        return self.canCompress and length >= self.threshold

    def compress(self, data: bytes, final: bool = True) -> bytes:
        """
        Compress (a fragment of) a message; the final piece loses the
        C{00 00 ff ff} tail (section 7.2.1).
        """
        c = self._compressor
        if c is None:
            c = self._compressor = zlib.compressobj(
                self.level, zlib.DEFLATED, -self.sendWindowBits, self.memLevel
            )
        out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
        if final:
            out = out[:-4]
            if self.sendNoContextTakeover:
                self._compressor = None
        return out

    def resetCompressor(self) -> None:
        """
        Start the next message with an empty history (after sending a
        message compressed elsewhere, e.g. a prepared message).
        """
        self._compressor = None

    def decompress(self, data: bytes, final: bool, limit: "int | None") -> bytes:
        """
        Inflate (a piece of) a compressed message.

        @param final: this piece ends the message.
        @param limit: the most bytes this piece may inflate to; L{None}
            for no limit.
        @raise MessageTooBig: inflating would exceed C{limit} (1009).
        @raise InvalidPayload: the data is not a valid deflate stream (1007).
        """
        d = self._decompressor
        if d is None:
            d = self._decompressor = zlib.decompressobj(-15)
        try:
            if limit is not None:
                out = d.decompress(data, limit + 1)
                if d.unconsumed_tail or len(out) > limit:
                    raise MessageTooBig("message too big after inflation")
                if final:
                    more = d.decompress(_TAIL, limit + 1 - len(out))
                    if d.unconsumed_tail or len(out) + len(more) > limit:
                        raise MessageTooBig("message too big after inflation")
                    out += more
            else:
                out = d.decompress(data)
                if final:
                    out += d.decompress(_TAIL)
        except zlib.error:
            raise InvalidPayload("invalid compressed data") from None
        if final and self.receiveNoContextTakeover:
            self._decompressor = None
        return out

    def close(self) -> None:
        """
        Free the zlib objects.
        """
        self._compressor = None
        self._decompressor = None
