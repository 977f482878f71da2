"""
engine.io polling payloads: several packets in one HTTP body.

  - v4: packets as strings, separated by the record separator C{\\x1e}.
  - v3 text: C{<length>:<packet>} where the length counts UTF-16 code units
    (JavaScript's string length), binary packets as C{b4<base64>}.
  - v3 binary (XHR2 clients that did not ask for base64): per packet a kind
    byte (0 string, 1 binary), the length's decimal digits as byte values,
    C{\\xff}, then the packet (UTF-8 string, or the type byte and the data).
  - JSONP: a payload string inside C{___eio[N]("...");}, and client payloads
    posted form-encoded as C{d=...}.
"""

import json
from urllib.parse import parse_qs

from rtproto.engineio._packets import (
    MESSAGE,
    NOOP,
    badRequest,
    decodeString,
    encodeString,
)

_SEPARATOR = "\x1e"
# Node's parser refuses length prefixes longer than this.
_MAX_LENGTH_DIGITS = 310


def encodeV4(packets) -> str:
    """
    Encode C{(type, data)} packets as a v4 payload.
    """
    return _SEPARATOR.join([encodeString(t, d, 4) for t, d in packets])


def decodeV4(text: str) -> list:
    """
    Decode a v4 payload into packets.

    @raise EngineIOError: (code 3) an empty payload or a bad packet.
    """
    return [decodeString(part, 4) for part in text.split(_SEPARATOR)]


def utf16Length(text: str) -> int:
    """
    The length of C{text} in UTF-16 code units, as JavaScript counts it.
    """
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for c in text if c > "\uffff")


def encodeV3Text(packets) -> str:
    """
    Encode packets as a v3 text payload (binary as base64).
    """
    out = []
    for t, d in packets:
        s = encodeString(t, d, 3)
        out.append(f"{utf16Length(s)}:{s}")
    return "".join(out)


def decodeV3Text(text: str) -> list:
    """
    Decode a v3 text payload.

    @raise EngineIOError: (code 3) a bad length prefix or packet.
    """
    if text.isascii():
        return _splitV3(text, 1, str)
    units = text.encode("utf-16-le")
    return _splitV3(units, 2, lambda chunk: chunk.decode("utf-16-le"))


def _splitV3(buf, width: int, decode) -> list:
    # buf is the payload as str (width 1) or as UTF-16-LE bytes (width 2).
    colon = ":" if width == 1 else ":\x00".encode("ascii")
    packets = []
    pos, end = 0, len(buf)
    if not end:
        raise badRequest("empty payload")
    while pos < end:
        sep = buf.find(colon, pos)
        while width == 2 and sep >= 0 and sep % 2:
            # A match across two code units is not a colon.
            sep = buf.find(colon, sep + 1)
        if sep < 0:
            raise badRequest("payload without a length prefix")
        try:
            digits = buf[pos:sep] if width == 1 else buf[pos:sep].decode("utf-16-le")
        except UnicodeDecodeError:
            raise badRequest("bad length prefix in a payload") from None
        if not digits.isdigit() or not digits.isascii() or len(digits) > _MAX_LENGTH_DIGITS:
            raise badRequest("bad length prefix in a payload")
        start = sep + width
        stop = start + int(digits) * width
        if stop > end or stop == start:
            raise badRequest("payload length out of range")
        try:
            packets.append(decodeString(decode(buf[start:stop]), 3))
        except UnicodeDecodeError:
            raise badRequest("payload length splits a character") from None
        pos = stop
    return packets


def encodeV3Binary(packets) -> bytes:
    """
    Encode packets as a v3 binary payload (for XHR2 clients).
    """
    out = []
    for t, d in packets:
        if d.__class__ is str:
            body = encodeString(t, d, 3).encode("utf-8")
            kind = b"\x00"
        else:
            body = bytes((t,)) + d
            kind = b"\x01"
        out.append(kind + bytes(int(c) for c in str(len(body))) + b"\xff" + body)
    return b"".join(out)


def decodeV3Binary(data: bytes) -> list:
    """
    Decode a v3 binary payload.

    @raise EngineIOError: (code 3) a bad header, length or packet.
    """
    packets = []
    pos, end = 0, len(data)
    if not end:
        raise badRequest("empty payload")
    while pos < end:
        kind = data[pos]
        stop = data.find(b"\xff", pos + 1)
        if kind > 1 or stop < 0 or stop - pos - 1 > _MAX_LENGTH_DIGITS or stop == pos + 1:
            raise badRequest("bad binary payload header")
        length = 0
        for digit in data[pos + 1 : stop]:
            if digit > 9:
                raise badRequest("bad binary payload length")
            length = length * 10 + digit
        start, pos = stop + 1, stop + 1 + length
        if pos > end or length == 0:
            raise badRequest("binary payload length out of range")
        chunk = data[start:pos]
        if kind == 0:
            try:
                packets.append(decodeString(chunk.decode("utf-8"), 3))
            except UnicodeDecodeError:
                raise badRequest("invalid UTF-8 in a payload") from None
        else:
            if chunk[0] > NOOP:
                raise badRequest("bad packet type in a binary payload")
            packets.append((chunk[0], chunk[1:]))
    return packets


def hasBinary(packets) -> bool:
    """
    Whether any packet carries binary data.
    """
    return any(d.__class__ is not str for t, d in packets if t == MESSAGE)


def jsonpWrap(index: str, payload: str) -> bytes:
    """
    The JSONP response body: the payload as a JavaScript string literal
    passed to C{___eio[index]}.  C{json.dumps} escapes every non-ASCII
    character, U+2028 and U+2029 included, so the result is valid script.
    """
    return f"___eio[{index}]({json.dumps(payload)});".encode("ascii")


def jsonpUnwrap(body: bytes) -> str:
    """
    The payload of a JSONP POST: the form field C{d}, with the newline
    escaping of the client undone (C{\\\\n} is a newline, C{\\\\\\\\n} an
    escaped one).

    @raise EngineIOError: (code 3) no C{d} field or undecodable.
    """
    try:
        fields = parse_qs(body.decode("ascii"), keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise badRequest("undecodable JSONP form") from None
    values = fields.get("d")
    if not values:
        raise badRequest("JSONP form without d")
    return _unescapeNewlines(values[0])


def _unescapeNewlines(data: str) -> str:
    # "\\n" (backslash n) is a newline; "\\\\n" (backslash backslash n) was a
    # literal backslash-n in the payload.
    out, i, n = [], 0, len(data)
    while i < n:
        j = data.find("\\n", i)
        if j < 0:
            out.append(data[i:])
            break
        if j > i and data[j - 1] == "\\":
            out.append(data[i : j - 1] + "\\n")
        else:
            out.append(data[i:j] + "\n")
        i = j + 2
    return "".join(out)
