"""
The opening handshake (RFC 6455 section 4), both sides, without I/O.

Server side: L{checkRequest} validates an upgrade request and
L{buildResponse} writes the C{101} answer.  Client side: L{ClientHandshake}
writes the request and checks the response as its bytes arrive.
"""

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass, field

from rtproto.errors import HandshakeError
from rtproto.websocket import _deflate

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_RESPONSE_HEAD = 64 * 1024


def acceptKey(key: "str | bytes") -> str:
    """
    The C{Sec-WebSocket-Accept} value for a C{Sec-WebSocket-Key}.
    """
    if isinstance(key, str):
        key = key.encode("ascii")
    return base64.b64encode(hashlib.sha1(key + GUID).digest()).decode("ascii")


def _tokens(values: "list[str]") -> "list[str]":
    return [t.strip() for v in values for t in v.split(",") if t.strip()]


def originAllowed(origin: "str | None", allowed: "tuple[str, ...]") -> bool:
    """
    Whether C{origin} passes an allow-list.  An empty list or C{"*"} allows
    everything; entries match the serialized origin exactly
    (C{https://example.com:8443}), case-insensitively; an entry
    C{https://*.example.com} matches any subdomain.
    """
    if not allowed or "*" in allowed:
        return True
    if origin is None:
        return False
    origin = origin.lower()
    for entry in allowed:
        entry = entry.lower()
        if entry == origin:
            return True
        scheme, sep, host = entry.partition("://*.")
        if sep and origin.startswith(scheme + "://") and origin.endswith("." + host):
            return True
    return False


@dataclass
class UpgradeRequest:
    """
    A validated upgrade request.

    @ivar key: the client's C{Sec-WebSocket-Key}.
    @ivar subprotocols: offered subprotocols, in the client's order.
    @ivar extensions: parsed C{Sec-WebSocket-Extensions} offers.
    @ivar origin: the C{Origin} header or L{None}.
    """

    key: str
    subprotocols: "list[str]" = field(default_factory=list)
    extensions: "list[tuple[str, dict]]" = field(default_factory=list)
    origin: "str | None" = None


def isUpgradeRequest(headers: "dict[str, list[str]]") -> bool:
    """
    Whether the request asks for a WebSocket upgrade at all (a plain GET to a
    WebSocket path is answered with 426 instead).
    """
    return "websocket" in (t.lower() for t in _tokens(headers.get("upgrade", [])))


def checkRequest(
    method: str,
    headers: "dict[str, list[str]]",
    allowedOrigins: "tuple[str, ...]" = (),
) -> UpgradeRequest:
    """
    Validate an opening handshake request (section 4.2.1).

    @param headers: lower-case header names to their values.
    @raise HandshakeError: with the status to answer: 426 (not an upgrade,
        or an unsupported version, with the headers that say what we
        speak), 405 (not GET), 403 (origin), 400 (anything malformed).
    """
    if not isUpgradeRequest(headers):
        raise HandshakeError(
            "this resource speaks WebSocket only",
            426,
            [("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")],
        )
    if method != "GET":
        raise HandshakeError("WebSocket upgrades must use GET", 405, [("Allow", "GET")])
    if "upgrade" not in (t.lower() for t in _tokens(headers.get("connection", []))):
        raise HandshakeError("Connection header lacks the upgrade token")
    if not headers.get("host"):
        raise HandshakeError("missing Host header")
    versions = _tokens(headers.get("sec-websocket-version", []))
    if versions != ["13"]:
        raise HandshakeError(
            "unsupported Sec-WebSocket-Version (13 is supported)",
            426,
            [("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")],
        )
    keys = headers.get("sec-websocket-key", [])
    if len(keys) != 1:
        raise HandshakeError("missing or repeated Sec-WebSocket-Key")
    key = keys[0].strip()
    try:
        raw = base64.b64decode(key.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raw = b""
    if len(raw) != 16:
        raise HandshakeError("Sec-WebSocket-Key is not 16 bytes in base64")
    origins = headers.get("origin") or headers.get("sec-websocket-origin") or []
    origin = origins[0] if origins else None
    if not originAllowed(origin, allowedOrigins):
        raise HandshakeError(f"origin {origin!r} is not allowed", 403)
    extensions = []
    for value in headers.get("sec-websocket-extensions", []):
        extensions.extend(_deflate.parseExtensions(value))
    return UpgradeRequest(
        key=key,
        subprotocols=_tokens(headers.get("sec-websocket-protocol", [])),
        extensions=extensions,
        origin=origin,
    )


def buildResponse(
    key: str,
    subprotocol: "str | None" = None,
    extensions: "str | None" = None,
    extraHeaders: "list[tuple[str, str]] | None" = None,
) -> bytes:
    """
    The C{101 Switching Protocols} response accepting a request.
    """
    lines = [
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Accept: {acceptKey(key)}",
    ]
    if subprotocol:
        lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
    if extensions:
        lines.append(f"Sec-WebSocket-Extensions: {extensions}")
    for name, value in extraHeaders or ():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def buildRejection(status: int, reason: str, headers: "list[tuple[str, str]]" = ()) -> bytes:
    """
    A complete HTTP/1.1 error response that closes the connection, for
    refusing a handshake outside C{twisted.web}.
    """
    body = (reason + "\n").encode("utf-8")
    lines = [f"HTTP/1.1 {status} {reason.splitlines()[0] if reason else ''}".rstrip()]
    lines += [f"{n}: {v}" for n, v in headers]
    lines += [
        "Content-Type: text/plain; charset=utf-8",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class ClientHandshake:
    """
    The client's half of the opening handshake.

    Call L{request} for the bytes to send, then L{receiveData} with what the
    server sends until it returns; it returns the bytes that followed the
    response (already frames).
    """

    def __init__(
        self,
        host: str,
        resource: str = "/",
        subprotocols: "list[str] | tuple[str, ...]" = (),
        origin: "str | None" = None,
        deflate: "_deflate.DeflateOptions | None" = None,
        extraHeaders: "list[tuple[str, str]] | None" = None,
        randomBytes=os.urandom,
    ) -> None:
        self.host = host
        self.resource = resource
        self.subprotocols = list(subprotocols)
        self.origin = origin
        self.deflate = deflate
        self.extraHeaders = list(extraHeaders or ())
        self.key = base64.b64encode(randomBytes(16)).decode("ascii")
        self._buffer = b""
        self.done = False
        self.status: "int | None" = None
        self.headers: "dict[str, list[str]]" = {}
        self.subprotocol: "str | None" = None
        self.extensions: "str | None" = None
        self.codec: "_deflate.PerMessageDeflate | None" = None

    def request(self) -> bytes:
        """
        The upgrade request.
        """
        lines = [
            f"GET {self.resource} HTTP/1.1",
            f"Host: {self.host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self.key}",
            "Sec-WebSocket-Version: 13",
        ]
        if self.origin:
            lines.append(f"Origin: {self.origin}")
        if self.subprotocols:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(self.subprotocols))
        if self.deflate is not None:
            lines.append("Sec-WebSocket-Extensions: " + _deflate.clientOffer(self.deflate))
        lines += [f"{n}: {v}" for n, v in self.extraHeaders]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def receiveData(self, data: bytes) -> "bytes | None":
        """
        Feed response bytes.

        @return: L{None} while the response head is incomplete; then the
            bytes after it.
        @raise HandshakeError: the server refused or answered wrongly.
        """
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_RESPONSE_HEAD:
                raise HandshakeError("handshake response head too large", None)
            return None
        head, rest = self._buffer[:end], self._buffer[end + 4 :]
        self._buffer = b""
        self._checkResponse(head.decode("latin-1"))
        self.done = True
        return rest

    def _checkResponse(self, head: str) -> None:
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        if (
            len(parts) < 2
            or not parts[0].startswith("HTTP/1.")
            or len(parts[1]) != 3
            or not (parts[1].isascii() and parts[1].isdigit())
        ):
            raise HandshakeError(f"malformed status line {lines[0]!r}", None)
        self.status = int(parts[1])
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise HandshakeError(f"malformed header line {line!r}", None)
            self.headers.setdefault(name.strip().lower(), []).append(value.strip())
        if self.status != 101:
            raise HandshakeError(f"server answered {lines[0][9:]!r} instead of 101", self.status)
        h = self.headers
        if "websocket" not in (t.lower() for t in _tokens(h.get("upgrade", []))):
            raise HandshakeError("response lacks Upgrade: websocket", None)
        if "upgrade" not in (t.lower() for t in _tokens(h.get("connection", []))):
            raise HandshakeError("response lacks Connection: Upgrade", None)
        if h.get("sec-websocket-accept", [None])[0] != acceptKey(self.key):
            raise HandshakeError("wrong Sec-WebSocket-Accept", None)
        protos = _tokens(h.get("sec-websocket-protocol", []))
        if protos:
            if len(protos) != 1 or protos[0] not in self.subprotocols:
                raise HandshakeError(f"server chose a subprotocol we did not offer: {protos}", None)
            self.subprotocol = protos[0]
        exts = ", ".join(h.get("sec-websocket-extensions", []))
        if exts:
            if self.deflate is None:
                raise HandshakeError(f"server accepted an extension we did not offer: {exts!r}", None)
            self.codec = _deflate.acceptClient(exts, self.deflate)
            self.extensions = exts
