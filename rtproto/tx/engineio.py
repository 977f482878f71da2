"""
L{EngineIOResource}: engine.io (protocol revisions 3 and 4) at one path of
a C{twisted.web} site: long-polling GETs and POSTs (XHR, binary, base64 and
JSONP), WebSocket connections, and the upgrade from one to the other.

Every request is checked by the sans-I/O L{rtproto.engineio.EngineIOServer};
its refusals become HTTP answers here, in one place (L{_refuse}): the status
and the JSON body C{{"code": N, "message": "..."}}, logged once.  CORS
headers, the session cookie and the compression of polling responses are
HTTP matters and live here too.
"""

import json
import zlib

from twisted.internet.defer import Deferred, DeferredList, maybeDeferred, succeed
from twisted.logger import Logger
from twisted.web.pages import notFound
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from rtproto.engineio import POLLING, WEBSOCKET, EngineIOOptions, EngineIOServer
from rtproto.errors import ConnectionDeny, EngineIOError
from rtproto.tx._fastpath import FastRequest, parseQueryText
from rtproto.tx._eiosocket import EngineIORequest, EngineIOSocket, WebSocketSink
from rtproto.tx._metrics import Metrics
from rtproto.tx.resource import WebSocketResource
from rtproto.websocket import WebSocketOptions

_log = Logger()


class EngineIOResource(Resource):
    """
    Serve engine.io sessions at one path, one handler per session.

    @ivar engine: the L{EngineIOServer} holding the sessions.
    @ivar metrics: the L{Metrics} its sessions count in (its own by default;
        the site's once the site builder sets it).
    @ivar app: the site's L{rtproto.tx.app.App}, or L{None}.
    """

    isLeaf = True
    app = None

    def __init__(self, handlerFactory, options: "EngineIOOptions | None" = None, reactor=None, registry=None) -> None:
        """
        @param handlerFactory: a zero-argument callable returning a new
            L{rtproto.interfaces.IEngineIOHandler} per session.
        @param options: the L{EngineIOOptions}.
        @param reactor: the reactor for timers; the global one by default.
        @param registry: where WebSocket connections are listed (for a
            graceful stop).
        """
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor
        self.handlerFactory = handlerFactory
        self.engine = EngineIOServer(options)
        self.options = options = self.engine.options
        self.reactor = reactor
        wsOptions = WebSocketOptions(
            maxMessageSize=options.maxHttpBufferSize,
            maxFrameSize=options.maxHttpBufferSize,
            pingInterval=0,
            pingTimeout=0,
            compression=options.perMessageDeflate,
            writeBufferLimit=options.maxBufferSize,
        )
        self._webSockets = _Carriers(self, wsOptions, reactor, registry)
        self.connections = self._webSockets.connections
        self.metrics = Metrics()

    def closeAll(self, timeout: float = 0.0) -> Deferred:
        """
        A graceful stop: end every session so that its client reconnects
        (L{rtproto.engineio.Session.goAway}: a held GET gets what is
        buffered, a WebSocket is closed with 1001, and no close packet is
        sent).  A polling session with packets buffered and no GET held
        keeps them for the client's next GET, for at most C{timeout}
        seconds (and no longer than C{pingTimeout}).

        @return: a L{Deferred} that fires once every session has ended.
        """
        now = self.reactor.seconds()
        until = now + min(timeout, self.options.pingTimeout) if timeout > 0 else None
        waiting = []
        for session in list(self.engine.sessions.values()):
            session.goAway(until=until)
            if session.state != "closed":
                session.listener.schedule()
                waiting.append(session.listener.notifyClosed())
        return DeferredList(waiting) if waiting else succeed(None)

    # -- routing ------------------------------------------------------------

    def render(self, request):
        """
        Answer any request at this path.
        """
        if request.postpath not in ([], [b""]):
            return notFound().render(request)
        method = request.method.decode("latin-1")
        cors = self._cors(request)
        if method == "OPTIONS":
            return self._preflight(request, cors)
        # From the URI only: twisted.web mixes form-encoded bodies into args
        # (a fast request's args are its query's).
        try:
            if request.__class__ is FastRequest:
                query = request.textArgs()
            else:
                query = parseQueryText(request.uri.partition(b"?")[2])
        except UnicodeDecodeError:
            return _refuse(request, EngineIOError(EngineIOError.BAD_REQUEST, "query is not UTF-8"))
        upgrade = request.getHeader(b"upgrade")
        isUpgrade = upgrade is not None and b"websocket" in upgrade.lower()
        try:
            protocol, transport, session = self.engine.checkRequest(method, query, isUpgrade)
        except EngineIOError as e:
            return _refuse(request, e)
        if transport != POLLING:
            return self._webSocket(request, protocol, session)
        if session is None:
            return self._handshake(request, protocol, query)
        if method == "GET":
            return self._poll(request, session, query)
        return self._post(request, session, query)

    def _cors(self, request) -> bool:
        if not self.options.corsOrigins:
            return False
        allowed = self.options.corsOrigin(request.getHeader("origin"))
        if allowed is None:
            return False
        request.setHeader("access-control-allow-origin", allowed)
        if allowed != "*":
            request.setHeader("vary", "Origin")
        if self.options.corsCredentials:
            request.setHeader("access-control-allow-credentials", "true")
        return True

    def _preflight(self, request, cors: bool) -> bytes:
        if not cors:
            return _refuse(request, EngineIOError(EngineIOError.FORBIDDEN, "preflight from an origin not allowed"))
        request.setResponseCode(204)
        request.setHeader("access-control-allow-methods", "GET, POST, OPTIONS")
        wanted = request.getHeader("access-control-request-headers")
        if wanted:
            request.setHeader("access-control-allow-headers", wanted)
        request.setHeader("access-control-max-age", "86400")
        request.setHeader("content-length", "0")
        return b""

    # -- handshakes ---------------------------------------------------------

    def _allow(self, request, accepted, *args):
        """
        Run the C{allowRequest} hook, then C{accepted(*args)}; a refusal is
        answered with 403 and code 4.
        """
        hook = self.options.allowRequest
        if hook is None:
            return accepted(*args)
        gone: list = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))

        def decided(ok):
            if gone:
                return
            if not ok:
                raise ConnectionDeny(403, "refused by allowRequest")
            result = accepted(*args)
            if result is not NOT_DONE_YET:
                request.write(result)
                request.finish()

        def refused(failure):
            if gone:
                return
            if failure.check(ConnectionDeny):
                reason = failure.value.reason
            else:
                _log.failure("engine.io allowRequest hook failed", failure)
                reason = "allowRequest failed"
            request.write(_refuse(request, EngineIOError(EngineIOError.FORBIDDEN, reason)))
            request.finish()

        maybeDeferred(hook, EngineIORequest(request)).addCallback(decided).addErrback(refused)
        return NOT_DONE_YET

    def _handshake(self, request, protocol: int, query):
        return self._allow(request, self._open, request, protocol, query)

    def _open(self, request, protocol: int, query):
        sock = EngineIOSocket(self.handlerFactory(), EngineIORequest(request), self.reactor, self.metrics.engineio)
        sock.app = self.app
        binary = protocol == 3 and "b64" not in query and "j" not in query
        session = self.engine.openSession(protocol, POLLING, sock, self.reactor.seconds(), binary)
        sock.session = session
        if self.options.cookie:
            request.addCookie(
                self.options.cookie,
                session.sid,
                path=self.options.cookiePath,
                httpOnly=self.options.cookieHttpOnly,
                sameSite="lax",
            )
        sock.opened()
        return self._poll(request, session, query)

    def _webSocket(self, request, protocol: int, session):
        if session is None:
            return self._allow(request, self._webSockets.upgrade, request, lambda: WebSocketSink(self, protocol))
        return self._webSockets.upgrade(request, lambda: WebSocketSink(self, protocol, session))

    def webSocketOpened(self, sink) -> None:
        """
        A WebSocket opened: a new session on it, or a probe of an existing
        one (which may have closed since the request was checked).
        """
        now = self.reactor.seconds()
        session = sink.session
        if session is None:
            sock = EngineIOSocket(self.handlerFactory(), sink.connection.request, self.reactor, self.metrics.engineio)
            sock.app = self.app
            session = self.engine.openSession(sink.protocol, WEBSOCKET, sock, now)
            sock.session = session
            sink.session = session
            session.attachWebSocket(sink)
            sock.opened()
        elif session.canUpgrade():
            session.startProbe(sink, now)
            session.listener.schedule()
        else:
            sink.session = None
            sink.connection.close(1000)

    # -- polling ------------------------------------------------------------

    def _poll(self, request, session, query):
        jsonp = query.get("j")
        if jsonp is not None:
            jsonp = "".join(c for c in jsonp if c.isdigit()) or "0"
        responder = _Responder(request, self.options)
        try:
            session.pollGet(responder, self.reactor.seconds(), jsonp)
        except EngineIOError as e:
            return _refuse(request, e)
        if not responder.done:
            request.notifyFinish().addErrback(lambda _: session.pollAborted(responder))
            session.listener.schedule()
        return NOT_DONE_YET

    def _post(self, request, session, query):
        body = request.content.read()
        if getattr(request, "bodyTooLarge", False) or len(body) > self.options.maxHttpBufferSize:
            session.abort("transport error")
            return _refuse(
                request,
                EngineIOError(EngineIOError.BAD_REQUEST, "POST body over maxHttpBufferSize", status=413),
            )
        contentType = request.getHeader("content-type") or ""
        try:
            session.pollData(body, self.reactor.seconds(), contentType, "j" in query)
        except EngineIOError as e:
            return _refuse(request, e)
        request.setHeader("content-type", "text/html; charset=UTF-8")
        request.setHeader("content-length", "2")
        return b"ok"


class _Carriers(WebSocketResource):
    """
    The WebSocket side of an engine.io mount: its connections count in the
    mount's engine.io counters (as carriers: see
    L{rtproto.tx._metrics.CarrierCounters}).
    """

    def __init__(self, owner: EngineIOResource, options, reactor, registry) -> None:
        super().__init__(None, options, reactor, registry)
        self.owner = owner

    def connectionCounters(self):
        """
        The carrier counters of the owner's current L{Metrics}.
        """
        return self.owner.metrics.engineioCarrier


class _Responder:
    """
    Answers one held polling GET, once.
    """

    __slots__ = ("request", "options", "done")

    def __init__(self, request, options) -> None:
        self.request = request
        self.options = options
        self.done = False

    def __call__(self, body: bytes, contentType: str) -> None:
        self.done = True
        request = self.request
        self.request = None
        if request._disconnected or request.finished:
            return
        options = self.options
        request.setHeader("content-type", contentType)
        if options.httpCompression and len(body) >= options.compressionThreshold:
            body = _compress(request, body)
        request.setHeader("content-length", str(len(body)))
        request.write(body)
        request.finish()


def _compress(request, body: bytes) -> bytes:
    """
    gzip or deflate C{body} if the client accepts it.
    """
    accepted = _acceptedEncodings(request.getHeader("accept-encoding") or "")
    if "gzip" in accepted:
        encoding, wbits = "gzip", 31
    elif "deflate" in accepted:
        encoding, wbits = "deflate", 15
    else:
        return body
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    request.setHeader("content-encoding", encoding)
    request.setHeader("vary", "Origin, Accept-Encoding" if request.getHeader("origin") else "Accept-Encoding")
    return compressor.compress(body) + compressor.flush()


def _acceptedEncodings(header: str) -> set:
    """
    The codings an C{Accept-Encoding} value accepts (a C{q} of 0 refuses).
    """
    accepted = set()
    for item in header.lower().split(","):
        coding, _, params = item.partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            accepted.add(coding.strip())
    return accepted


def _refuse(request, error: EngineIOError) -> bytes:
    """
    The one place engine.io refusals become HTTP answers.
    """
    addr = request.getClientAddress()
    _log.info(
        "engine.io request from {peer} refused ({status}, code {code}): {reason}",
        peer=f"{getattr(addr, 'host', addr)}:{getattr(addr, 'port', '')}",
        status=error.status,
        code=error.code,
        reason=error.reason,
    )
    body = json.dumps({"code": error.code, "message": error.message}).encode("utf-8")
    request.setResponseCode(error.status)
    request.setHeader("content-type", "application/json")
    request.setHeader("content-length", str(len(body)))
    return body
