"""
A fast path through the site's HTTP channel for the small, plain requests
that long-polling makes by the thousand.

C{twisted.web} spends most of a polling round trip on generality (line
parsing, L{Headers} objects, content-type parsing, resource traversal).
L{FastPathChannel} reads a request head in one piece and, when the request
is an ordinary HTTP/1.1 GET, POST or OPTIONS with a C{Content-Length} (or no
body) for a path registered as a fast route, serves it itself with a
L{FastRequest}: the part of L{twisted.web.server.Request} that
L{rtproto.tx.engineio.EngineIOResource} uses.  Anything else (another path,
HTTP/1.0, chunked bodies, C{Expect}, upgrades, repeated headers, an
oversized head or body) is handed, bytes untouched, to C{twisted.web}, and
the connection stays with C{twisted.web} from then on.  A WebSocket upgrade
to an engine.io path is taken over from the fast path too
(L{FastPathMixin.releaseConnection}).
"""

import re
import time
from email.utils import formatdate
from urllib.parse import unquote_to_bytes

from twisted.internet.defer import Deferred
from twisted.internet.tcp import Server as _tcpServer
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure
from twisted.web.http import RESPONSES
from twisted.web.http_headers import Headers
from twisted.web.server import NOT_DONE_YET

from rtproto.tx._send import SEND_NOW_LIMIT, sendNow

MAX_HEAD = 16384
# The header lines of a head: each a token, a colon and a value.
_HEADER_BLOCK = re.compile(rb"(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n]*\r\n)*")
# Response header names as twisted.web writes them: Content-Type.
_CANONICAL: "dict[bytes, bytes]" = {}
_PIPELINE_LIMIT = 65536
_METHODS = (b"GET", b"POST", b"OPTIONS")
_dateCache = [0, b""]


def _date() -> bytes:
    now = int(time.time())
    if _dateCache[0] != now:
        _dateCache[0] = now
        _dateCache[1] = formatdate(now, usegmt=True).encode("ascii")
    return _dateCache[1]


def parseQuery(query: bytes) -> dict:
    """
    Parse a query string into C{{name: [values]}} of L{bytes}, as
    L{twisted.web.http.parse_qs} does, unquoting only what needs it.
    """
    args: dict = {}
    if not query:
        return args
    for part in query.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        if b"%" in part or b"+" in part:
            name = unquote_to_bytes(name.replace(b"+", b" "))
            value = unquote_to_bytes(value.replace(b"+", b" "))
        args.setdefault(name, []).append(value)
    return args


def parseQueryText(query: bytes) -> dict:
    """
    The first value of each parameter of a query string, names and values
    as L{str}: what L{parseQuery} gives, first values only, decoded.

    @raise UnicodeDecodeError: a name or a value is not UTF-8.
    """
    if b"%" in query or b"+" in query:
        return {k.decode("utf-8"): v[0].decode("utf-8") for k, v in parseQuery(query).items()}
    args: dict = {}
    if not query:
        return args
    for part in query.decode("utf-8").split("&"):
        if part:
            name, _, value = part.partition("=")
            if name not in args:
                args[name] = value
    return args


def headerSource(request):
    """
    What a request snapshot keeps of C{request}'s headers: a fast request's
    own dict (lower-case L{bytes} name to one value), turned into L{Headers}
    only if somebody reads it (see L{LazyHeaders}); or C{twisted.web}'s
    L{Headers}.
    """
    if request.__class__ is FastRequest:
        return request._headers
    return request.requestHeaders


class LazyHeaders:
    """
    A descriptor for a snapshot's C{headers}: the L{Headers} made from the
    L{headerSource} kept in the instance's C{_headers} slot, on first read.
    """

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        headers = instance._headers
        if headers.__class__ is dict:
            headers = instance._headers = Headers({k: [v] for k, v in headers.items()})
        return headers


class _Body:
    """
    The request body, with the C{read} of a file.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        """
        The whole body (once).
        """
        data, self.data = self.data, b""
        return data


class FastRequest:
    """
    One request on the fast path: what C{EngineIOResource} reads and
    writes of a L{twisted.web.server.Request}.
    """

    __slots__ = (
        "channel", "method", "uri", "path", "_query", "_args", "clientproto", "content", "postpath",
        "prepath", "code", "_phrase", "_headers", "_outHeaders", "_out", "finished",
        "_disconnected", "_waiters", "_close", "sentLength", "_requestHeaders", "transport",
    )

    bodyTooLarge = False

    def __init__(self, channel, method, uri, path, query, headers, body, close) -> None:
        self.channel = channel
        self.method = method
        self.uri = uri
        self.path = path
        self._query = query
        self._args = None
        self.clientproto = b"HTTP/1.1"
        self.content = _Body(body)
        self.postpath = []
        self.prepath = []
        self.code = 200
        self._phrase = b"OK"
        self._headers = headers
        self._outHeaders = {}
        self._out = []
        self.finished = False
        self._disconnected = False
        self._waiters = None
        self._close = close
        self.sentLength = 0
        self._requestHeaders = None
        self.transport = channel.transport

    # -- reading ------------------------------------------------------------

    @property
    def args(self) -> dict:
        """
        The query arguments, parsed when first asked for.
        """
        if self._args is None:
            self._args = parseQuery(self._query)
        return self._args

    def textArgs(self) -> dict:
        """
        The first value of each query parameter, as L{str} (see
        L{parseQueryText}).
        """
        return parseQueryText(self._query)

    def getHeader(self, name):
        """
        A request header's value (the type of C{name}), or L{None}.
        """
        if name.__class__ is str:
            value = self._headers.get(name.lower().encode("latin-1"))
            return None if value is None else value.decode("latin-1")
        return self._headers.get(name.lower())

    @property
    def requestHeaders(self) -> Headers:
        """
        The request headers as a L{Headers}, made when first asked for.
        """
        if self._requestHeaders is None:
            self._requestHeaders = Headers({k: [v] for k, v in self._headers.items()})
        return self._requestHeaders

    def getClientAddress(self):
        """
        The peer's address.
        """
        return self.channel.transport.getPeer()

    def isSecure(self) -> bool:
        """
        Whether the connection is over TLS.
        """
        transport = self.transport
        if transport.__class__ is _tcpServer and not transport.TLS:
            # What the channel would find out through an interface lookup.
            return False
        return self.channel.isSecure()

    # -- writing ------------------------------------------------------------

    def setResponseCode(self, code: int, message=None) -> None:
        """
        Set the status.
        """
        self.code = code
        self._phrase = message or RESPONSES.get(code, b"Unknown")

    def setHeader(self, name, value) -> None:
        """
        Set a response header, replacing one of the same name.
        """
        if name.__class__ is str:
            name = name.encode("latin-1")
        if value.__class__ is str:
            value = value.encode("latin-1")
        lower = name.lower()
        canonical = _CANONICAL.get(lower)
        if canonical is None:
            canonical = _CANONICAL[lower] = b"-".join(p.capitalize() for p in lower.split(b"-"))
        self._outHeaders[lower] = (canonical, value)

    def addCookie(self, name, value, path=None, httpOnly=False, sameSite=None, **kw) -> None:
        """
        Add a C{Set-Cookie} header.
        """
        parts = [f"{name}={value}"]
        if path:
            parts.append(f"Path={path}")
        if httpOnly:
            parts.append("HttpOnly")
        if sameSite:
            parts.append(f"SameSite={sameSite.capitalize()}")
        self._outHeaders[b"set-cookie"] = (b"Set-Cookie", "; ".join(parts).encode("latin-1"))

    def write(self, data: bytes) -> None:
        """
        Add to the response body (sent, with its length, on L{finish}).
        """
        self._out.append(data)

    def finish(self) -> None:
        """
        Send the response.
        """
        if self.finished or self._disconnected:
            return
        self.finished = True
        body = b"".join(self._out)
        self._out = None
        self.sentLength = len(body)
        lines = [b"HTTP/1.1 %d %s" % (self.code, self._phrase), b"Date: " + _date()]
        headers = self._outHeaders
        for name, value in headers.values():
            lines.append(name + b": " + value)
        if b"content-length" not in headers:
            lines.append(b"Content-Length: %d" % len(body))
        if self._close:
            lines.append(b"Connection: close")
        lines.append(b"\r\n")
        head = b"\r\n".join(lines)
        if len(body) < SEND_NOW_LIMIT:
            sendNow(self.channel.transport, head + body)
        else:
            self.channel.transport.writeSequence([head, body])
        waiters, self._waiters = self._waiters, None
        for d in waiters or ():
            d.callback(None)
        self.channel.fastRequestDone(self)

    def notifyFinish(self) -> Deferred:
        """
        A L{Deferred} that fires when the response is sent, or fails when
        the connection is lost first.
        """
        d = Deferred()
        if self.finished:
            d.callback(None)
        elif self._disconnected:
            d.errback(Failure(ConnectionError("connection lost")))
        else:
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(d)
        return d

    def connectionLost(self, reason) -> None:
        """
        The connection went away before the response.
        """
        self._disconnected = True
        waiters, self._waiters = self._waiters, None
        for d in waiters or ():
            d.errback(reason)


class FastPathMixin:
    """
    Mixed into the site's L{twisted.web.http.HTTPChannel} subclass: serve
    fast-route requests without C{twisted.web}'s request machinery.  The
    site's C{fastRoutes} maps exact paths (L{bytes}) to resources.
    """

    _fast = True
    _fastBuffer = b""
    _fastRequest = None
    _fastWaiting = None
    _fastPaused = False

    def dataReceived(self, data: bytes) -> None:
        """
        Parse on the fast path while it applies; else hand over.
        """
        if not self._fast:
            return super().dataReceived(data)
        buf = self._fastBuffer + data if self._fastBuffer else data
        self._fastBuffer = b""
        if self._fastRequest is not None:
            # A request is being answered: keep what follows for later.
            self._fastBuffer = buf
            if len(buf) > _PIPELINE_LIMIT and not self._fastPaused:
                self._fastPaused = True
                self.transport.pauseProducing()
            return
        self._fastParse(buf)

    def _fastParse(self, buf: bytes) -> None:
        site = self.site
        routes = site.fastRoutes
        while buf:
            waiting = self._fastWaiting
            if waiting is not None:
                # A head was read; its body is still arriving.
                length = waiting[-1]
                if len(buf) < length:
                    self._fastBuffer = buf
                    self.resetTimeout()
                    return
                self._fastWaiting = None
                # What follows waits in the buffer while the request is
                # served (a WebSocket takeover claims it there).
                body, self._fastBuffer = buf[:length], buf[length:]
                self._fastDispatch(waiting, body)
                if self._fastRequest is not None or not self._fast:
                    return
                buf, self._fastBuffer = self._fastBuffer, b""
                continue
            end = buf.find(b"\r\n\r\n")
            if end < 0 or end > MAX_HEAD:
                if len(buf) > MAX_HEAD:
                    return self._fastFallback(buf)
                self._fastBuffer = buf
                return
            first = buf.find(b"\r\n", 0, end)
            if first < 0:
                first = end
            request = buf[:first].split(b" ")
            if len(request) != 3 or request[2] != b"HTTP/1.1" or request[0] not in _METHODS:
                return self._fastFallback(buf)
            uri = request[1]
            path, _, query = uri.partition(b"?")
            resource = routes.get(path)
            if resource is None:
                return self._fastFallback(buf)
            # Every header line is "token:value" (no folding, no space
            # before the colon, no stray CR or LF) and no name repeats, or
            # twisted.web decides.
            headers = {}
            if first < end:
                if _HEADER_BLOCK.fullmatch(buf, first + 2, end + 2) is None:
                    return self._fastFallback(buf)
                lines = buf[first + 2 : end].split(b"\r\n")
                for line in lines:
                    name, _, value = line.partition(b":")
                    headers[name.lower()] = value.strip()
                if len(headers) != len(lines):
                    return self._fastFallback(buf)
            if b"transfer-encoding" in headers or b"expect" in headers:
                return self._fastFallback(buf)
            if b"upgrade" in headers and (request[0] != b"GET" or b"content-length" in headers):
                return self._fastFallback(buf)
            length = headers.get(b"content-length", b"0")
            if not length.isdigit() or int(length) > site.maxRequestBody:
                return self._fastFallback(buf)
            length = int(length)
            close = b"close" in headers.get(b"connection", b"").lower()
            buf = buf[end + 4 :]
            self._fastWaiting = (request[0], uri, path, query, headers, close, resource, length)
            if len(buf) < length:
                # The body is still arriving: the idle timeout applies, reset
                # as it comes (the header deadline is over).
                self._awaitingHeaders = False
                self.setTimeout(self.idleTimeout)
                if not buf:
                    return
        if self._fastWaiting is not None and self._fastWaiting[-1] == 0:
            waiting, self._fastWaiting = self._fastWaiting, None
            self._fastDispatch(waiting, b"")

    def _fastDispatch(self, waiting, body: bytes) -> None:
        method, uri, path, query, headers, close, resource, _ = waiting
        request = FastRequest(self, method, uri, path, query, headers, body, close)
        self._fastRequest = request
        if not self._awaitingHeaders:
            self._awaitingHeaders = True
            self.setTimeout(self.headerTimeout)
        result = resource.render(request)
        if result is not NOT_DONE_YET and not request.finished:
            request.write(result)
            request.finish()

    def fastRequestDone(self, request: FastRequest) -> None:
        """
        A fast request was answered: log it, then go on with the
        connection.
        """
        if getattr(self.site, "accessLog", False):
            self.site.log(request)
        self._fastRequest = None
        if request._close:
            self._fast = False
            self.transport.loseConnection()
            return
        # The header deadline for the next request starts now.
        TimeoutMixin.resetTimeout(self)
        if self._fastPaused:
            self._fastPaused = False
            self.transport.resumeProducing()
        buf, self._fastBuffer = self._fastBuffer, b""
        if buf:
            self._fastParse(buf)

    def releaseConnection(self) -> bytes:
        """
        The connection is being taken over (a WebSocket upgrade): stop
        parsing, and return the bytes read past the request.
        """
        self._fast = False
        self._fastRequest = None
        buf, self._fastBuffer = self._fastBuffer, b""
        return buf

    def _fastFallback(self, buf: bytes) -> None:
        # Nothing of this request was consumed: twisted.web starts afresh.
        self._fast = False
        self._fastBuffer = b""
        super().dataReceived(buf)

    def timeoutConnection(self) -> None:
        """
        The header deadline passed: drop the connection, unless it is
        answering a request (a held GET may wait as long as the heartbeat
        allows), in which case the deadline starts again.
        """
        if self._fastRequest is not None:
            self.setTimeout(self.headerTimeout)
            return
        super().timeoutConnection()

    def connectionLost(self, reason=None) -> None:
        """
        Tell a fast request in progress, then C{twisted.web}.
        """
        request, self._fastRequest = self._fastRequest, None
        if request is not None:
            request.connectionLost(reason)
        super().connectionLost(reason)
