"""
The Twisted side of one engine.io session: L{EngineIOSocket} is what the
handler sends on and what the sans-I/O L{rtproto.engineio.Session} reports
to (it keeps the session's one timer), and L{WebSocketSink} carries a
session over a WebSocket connection (directly, or as the upgrade probe).
"""

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger
from zope.interface import implementer

from rtproto.errors import EngineIOError, UsageError
from rtproto.interfaces import IEngineIORequest, IEngineIOSocket, IWebSocketHandler
from rtproto.tx._calls import callHandler
from rtproto.tx._fastpath import LazyHeaders, headerSource
from rtproto.tx._metrics import PeerText, TransportCounters
from rtproto.websocket import PreparedMessage

_log = Logger()

# Session close reasons that the counters tell apart.
_BUFFER_FULL = "buffer full"
_TRANSPORT_ERROR = "transport error"


@implementer(IEngineIORequest)
class EngineIORequest:
    """
    A snapshot of the HTTP request that opened a session; it does not keep
    the C{twisted.web} request alive.
    """

    __slots__ = ("path", "args", "_headers", "peer", "isSecure")

    headers = LazyHeaders()

    def __init__(self, request) -> None:
        self.path = request.path
        self.args = request.args
        self._headers = headerSource(request)
        self.peer = request.getClientAddress()
        self.isSecure = request.isSecure()

    def __repr__(self) -> str:
        return f"<EngineIORequest {self.path!r} from {self.peer}>"


@implementer(IEngineIOSocket)
class EngineIOSocket:
    """
    One session as its handler sees it, and the session's listener.

    @ivar counters: the L{TransportCounters} the session counts in.
    """

    __slots__ = (
        "session", "handler", "request", "app", "counters", "_reactor", "_timer", "_flushCall", "_closedWaiters",
        "__weakref__",
    )

    def __init__(self, handler, request, reactor, counters=None) -> None:
        """
        @param counters: the L{TransportCounters} to count in (a fresh one
            by default).
        """
        self.session = None
        self.handler = handler
        self.request = request
        self.app = None
        self.counters = counters if counters is not None else TransportCounters("engineio")
        self._reactor = reactor
        self._timer = None
        self._flushCall = None
        self._closedWaiters = None

    def __repr__(self) -> str:
        return f"<EngineIOSocket {self.session!r}>"

    @property
    def sid(self) -> str:
        """
        The session id.
        """
        return self.session.sid

    @property
    def protocol(self) -> int:
        """
        The engine.io protocol revision, 3 or 4.
        """
        return self.session.protocol

    @property
    def transport(self) -> str:
        """
        C{'polling'} or C{'websocket'}.
        """
        return self.session.transport

    @property
    def closed(self) -> bool:
        """
        Whether the session has closed (or is closing).
        """
        return self.session.state != "open"

    @property
    def writable(self) -> bool:
        """
        Whether a message sent now goes out at once (for volatile messages,
        which are dropped rather than buffered).
        """
        return self.session.writable

    def send(self, data) -> None:
        """
        Send a message: L{str} as a string, L{bytes} as binary.
        """
        if data.__class__ is not str and not isinstance(data, (bytes, bytearray, memoryview)):
            raise UsageError(f"engine.io messages are str or bytes, not {type(data).__name__}")
        if data.__class__ is not str and data.__class__ is not bytes:
            data = bytes(data)
        self.counters.sent += 1
        self.session.send(data)

    def sendShared(self, data, cache: dict) -> None:
        """
        Send a message that goes to many sessions alike, encoded once for
        all of them: C{cache} is one L{dict} per message, shared by the
        sends (see L{rtproto.engineio.Session.sendShared}).
        """
        self.counters.sent += 1
        self.session.sendShared(data, cache)

    def close(self) -> None:
        """
        Close the session from the server side.
        """
        self.session.close(self._reactor.seconds())
        self.schedule()

    # -- the session's listener ---------------------------------------------

    def opened(self) -> None:
        """
        The session exists: tell the handler, and start the timer.
        """
        counters = self.counters
        counters.connections += 1
        counters.opened += 1
        if counters.logConnections:
            _log.debug(
                "engine.io session {sid} with {peer} opened on {transport}",
                sid=self.session.sid,
                peer=PeerText(self.request.peer),
                transport=self.session.transport,
            )
        self._call(self.handler.connectionOpened, self)
        self.schedule()

    def messageReceived(self, data) -> None:
        """
        Pass a message to the handler.
        """
        self.counters.received += 1
        self._call(self.handler.messageReceived, data)

    def transportUpgraded(self, transport: str) -> None:
        """
        Tell the handler the session moved to C{transport}.
        """
        self._call(self.handler.transportUpgraded, transport)

    def connectionClosed(self, reason: str) -> None:
        """
        The session closed: stop its timers, tell the handler.
        """
        if self._timer is not None:
            if self._timer.active():
                self._timer.cancel()
            self._timer = None
        if self._flushCall is not None:
            if self._flushCall.active():
                self._flushCall.cancel()
            self._flushCall = None
        counters = self.counters
        counters.connections -= 1
        if reason == _BUFFER_FULL:
            counters.dropped += 1
            _log.warn(
                "engine.io session {sid} with {peer} dropped: more than {limit} bytes queued for a client not polling",
                sid=self.session.sid,
                peer=PeerText(self.request.peer),
                limit=self.session.options.maxBufferSize,
            )
        elif reason == _TRANSPORT_ERROR:
            # Logged where the error was found (the refusal or the sink).
            counters.errors += 1
        if counters.logConnections:
            _log.debug(
                "engine.io session {sid} with {peer} closed: {reason}",
                sid=self.session.sid,
                peer=PeerText(self.request.peer),
                reason=reason,
            )
        self._call(self.handler.connectionClosed, reason)
        waiters, self._closedWaiters = self._closedWaiters, None
        for d in waiters or ():
            d.callback(reason)

    def notifyClosed(self) -> Deferred:
        """
        A L{Deferred} that fires with the close reason once the session has
        closed (at once if it has).
        """
        if self.session.state == "closed":
            return succeed(self.session.closeReason)
        d = Deferred()
        if self._closedWaiters is None:
            self._closedWaiters = []
        self._closedWaiters.append(d)
        return d

    def wantFlush(self) -> None:
        """
        Answer the held GET after this reactor turn, with everything sent
        during it.
        """
        if self._flushCall is None:
            self._flushCall = self._reactor.callLater(0, self._flush)

    def _flush(self) -> None:
        self._flushCall = None
        self.session.flush()

    def _call(self, method, *args) -> None:
        callHandler("engine.io", self.handler, method, *args)

    # -- the timer ----------------------------------------------------------

    def schedule(self) -> None:
        """
        Make the timer fire no later than the session's next deadline.
        """
        due = self.session.nextDeadline()
        timer = self._timer
        if due is None:
            if timer is not None and timer.active():
                timer.cancel()
            self._timer = None
            return
        if timer is not None and timer.active():
            if timer.getTime() <= due:
                return
            timer.cancel()
        self._timer = self._reactor.callLater(max(0.0, due - self._reactor.seconds()), self._onTimer)

    def _onTimer(self) -> None:
        self._timer = None
        self.session.tick(self._reactor.seconds())
        if self.session.state != "closed":
            self.schedule()


@implementer(IWebSocketHandler)
class WebSocketSink:
    """
    The WebSocket handler that carries an engine.io session: the session's
    transport from the start (C{session} L{None} until it opens), or a probe
    that may become its transport.
    """

    __slots__ = ("resource", "protocol", "session", "connection")

    def __init__(self, resource, protocol: int, session=None) -> None:
        self.resource = resource
        self.protocol = protocol
        self.session = session
        self.connection = None

    def handshake(self, request):
        """
        Accept (the engine.io checks were made before the upgrade).
        """
        return None

    def connectionOpened(self, connection) -> None:
        """
        Open a new session on this WebSocket, or start probing an existing
        one.
        """
        self.connection = connection
        self.resource.webSocketOpened(self)

    def textReceived(self, text: str) -> None:
        """
        A packet as a string.
        """
        self._received(text)

    def binaryReceived(self, data: bytes) -> None:
        """
        A binary packet.
        """
        self._received(data)

    def _received(self, data) -> None:
        session = self.session
        if session is None:
            return
        # No deadline comes earlier for a message: the timer stays.
        try:
            session.webSocketMessage(self, data, session.listener._reactor.seconds())
        except EngineIOError as e:
            _log.info("engine.io session {sid} broke the protocol: {reason}", sid=session.sid, reason=e.reason)

    def pongReceived(self, payload: bytes) -> None:
        """
        engine.io has its own heartbeat.
        """

    def writePaused(self) -> None:
        """
        The client is slow: the WebSocket layer drops it past the session's
        C{maxBufferSize}.
        """

    def writeResumed(self) -> None:
        """
        Nothing to do.
        """

    def connectionClosed(self, code, reason, wasClean) -> None:
        """
        The WebSocket closed.
        """
        if self.session is not None:
            self.session.webSocketClosed(self)

    # -- the session's sink -------------------------------------------------

    @property
    def writable(self) -> bool:
        """
        Whether the WebSocket takes data now (its peer is keeping up).
        """
        connection = self.connection
        return connection is not None and not connection.writePaused

    def sendText(self, text: str) -> None:
        """
        Send a packet as a text frame.
        """
        self.connection.sendText(text)

    def sendBinary(self, data: bytes) -> None:
        """
        Send a packet as a binary frame.
        """
        self.connection.sendBinary(data)

    def sendShared(self, packet, cache: dict) -> None:
        """
        Send a packet that goes to many WebSockets alike, as one
        L{PreparedMessage} kept in C{cache}.
        """
        key = ("ws", packet.__class__ is str, self.protocol)
        prepared = cache.get(key)
        if prepared is None:
            prepared = cache[key] = PreparedMessage(packet)
        self.connection.sendPrepared(prepared)

    def flush(self) -> None:
        """
        Send what this WebSocket has batched, at once.
        """
        self.connection.flush()

    def close(self, code: int = 1000) -> None:
        """
        Close the WebSocket (normal closure, or C{code}).
        """
        self.connection.close(code)
