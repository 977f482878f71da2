"""
L{WebSocketProtocol}: the Twisted protocol around the sans-I/O
L{rtproto.websocket.WebSocketConnection}, for servers and clients alike.

It feeds bytes to the core and events to the handler, keeps one
L{IDelayedCall} per connection rescheduled from the core's next deadline,
and carries back-pressure both ways: a handler returning an unfired
L{Deferred} (or a coroutine) pauses reading until it fires; the transport's
C{pauseProducing} tells the handler to stop writing, and a handler that
writes on regardless past C{writeBufferLimit} loses the connection.
"""

from inspect import iscoroutine

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import ILoggingContext, IProtocol, IPushProducer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from rtproto.interfaces import IStreamingWebSocketHandler, IWebSocketConnection
from rtproto.tx._metrics import PeerText, TransportCounters
from rtproto.tx._send import sendNow
from rtproto.websocket import _frames
from rtproto.websocket._connection import OPEN, WebSocketConnection
from rtproto.websocket._events import (
    BinaryMessage,
    MessageFragment,
    Pong,
    ProtocolFailure,
    TextMessage,
)

# Twisted reads 64 KiB per recv and sends at most 128 KiB per writable
# event: large messages want fewer, larger system calls.  Reads grow only
# while a large frame is arriving, so small messages keep small buffers.
_READ_SIZE = 64 * 1024
_LARGE_READ_SIZE = 1024 * 1024
_SEND_LIMIT = 1024 * 1024
# A missing pong is a dead peer, not a protocol error.
_PING_TIMEOUT = "ping timeout"


@implementer(IProtocol, ILoggingContext, IWebSocketConnection, IPushProducer)
class WebSocketProtocol:
    """
    One WebSocket connection on a Twisted transport, after the opening
    handshake.

    @ivar handler: the application's L{rtproto.interfaces.IWebSocketHandler}.
    @ivar request: the L{rtproto.interfaces.IHandshakeRequest} (server), or
        L{None} (client).
    @ivar counters: the L{TransportCounters} this connection counts in.
    """

    _log = Logger()

    __slots__ = (
        "handler", "options", "request", "subprotocol", "extensions", "isClient",
        "_reactor", "_core", "_codec", "_streaming", "_timer", "_abortTimer",
        "_readPauses", "_backlog", "_writePaused", "_pausedBytes", "_lost",
        "_disconnecting", "_logged", "_batch", "_registry", "_bigReads", "transport", "connected",
        "counters",
    )

    def __init__(
        self,
        handler,
        options,
        reactor,
        isClient: bool,
        codec=None,
        request=None,
        subprotocol: "str | None" = None,
        extensions: "str | None" = None,
        registry=None,
        counters=None,
    ) -> None:
        """
        @param counters: the L{TransportCounters} to count in (a fresh one by
            default).
        """
        self.handler = handler
        self.options = options
        self.request = request
        self.subprotocol = subprotocol
        self.extensions = extensions or ""
        self.isClient = isClient
        self.transport = None
        self.connected = 0
        self._reactor = reactor
        self._codec = codec
        self._streaming = IStreamingWebSocketHandler.providedBy(handler)
        self._core: "WebSocketConnection | None" = None
        self._timer = None
        self._abortTimer = None
        self._readPauses = 0
        self._backlog: "list | None" = None
        self._writePaused = False
        self._pausedBytes = 0
        self._lost = False
        self._disconnecting = False
        self._logged = False
        self._batch: "list | None" = None
        self._registry = registry
        self._bigReads = False
        self.counters = counters if counters is not None else TransportCounters("websocket")

    # -- IProtocol -----------------------------------------------------------

    @property
    def app(self):
        """
        The site's L{rtproto.tx.app.App}, or L{None} (a client, or a
        resource outside a site).
        """
        registry = self._registry
        return registry.app if registry is not None else None

    def logPrefix(self) -> str:
        """
        How Twisted names this connection in its logs.
        """
        return "WebSocket"

    def makeConnection(self, transport) -> None:
        """
        Attach to C{transport} (no factory is involved).
        """
        self.connected = 1
        self.transport = transport
        self.connectionMade()

    def connectionMade(self) -> None:
        """
        Start the connection: TCP_NODELAY, producer registration, the core,
        the keep-alive timer, and the handler's C{connectionOpened}.
        """
        transport = self.transport
        setNoDelay = getattr(transport, "setTcpNoDelay", None)
        if setNoDelay is not None:
            try:
                setNoDelay(True)
            except OSError:  # pragma: no cover - not a TCP socket
                pass
        transport.registerProducer(self, True)
        if hasattr(type(transport), "SEND_LIMIT"):
            transport.SEND_LIMIT = _SEND_LIMIT
        o = self.options
        self._core = WebSocketConnection(
            self.isClient,
            transport.write,
            codec=self._codec,
            maxMessageSize=o.maxMessageSize,
            maxFrameSize=o.maxFrameSize,
            streaming=self._streaming,
            pingInterval=o.pingInterval,
            pingTimeout=o.pingTimeout,
            closeTimeout=o.closeTimeout,
        )
        self._core.start(self._reactor.seconds())
        counters = self.counters
        counters.connections += 1
        counters.opened += 1
        if counters.logConnections:
            self._log.debug(
                "{transport} connection with {peer} opened", transport=counters.name, peer=PeerText(transport)
            )
        if self._registry is not None:
            self._registry.add(self)
        self._schedule()
        self._call(self.handler.connectionOpened, self)
        core = self._core
        if core.state is not OPEN or core.shouldDisconnect:
            self._afterCore()

    def dataReceived(self, data: bytes) -> None:
        """
        Feed the core and deliver what it parsed.  What the handlers send
        meanwhile on this connection goes to the transport in one piece.
        """
        core = self._core
        # The core's own replies (pong, the close echo) join the batch.
        batch = self._batch = []
        core._write = batch.append
        try:
            events = core.receiveData(data)
            pending = core.pendingPayload
            if pending > _READ_SIZE or self._bigReads:
                self._sizeReads(pending)
            if events:
                self._dispatch(events)
        finally:
            self._flush()
        if core.state is not OPEN or core.shouldDisconnect:
            self._afterCore()

    def _sizeReads(self, pending: int) -> None:
        """
        Read in large pieces while a large frame arrives, then go back.
        """
        transport = self.transport
        if not hasattr(type(transport), "bufferSize"):
            return
        if pending > _READ_SIZE:
            transport.bufferSize = min(pending, _LARGE_READ_SIZE)
            self._bigReads = True
        else:
            transport.bufferSize = _READ_SIZE
            self._bigReads = False

    def _flush(self) -> None:
        """
        End a batch: restore the write sink and hand the batch over.
        """
        batch = self._batch
        if batch is None:
            return
        self._batch = None
        self._core._write = self._countedWrite if self._writePaused else self.transport.write
        if batch and not self._lost:
            if self._writePaused:
                for data in batch:
                    self._countedWrite(data)
            elif len(batch) == 1:
                # On idle TCP, a small piece goes without a reactor turn.
                sendNow(self.transport, batch[0])
            else:
                self.transport.writeSequence(batch)

    def flush(self) -> None:
        """
        Send now what handlers have sent during the current read (it would
        otherwise go out in one piece when the read is done), and go on
        batching; outside a read, there is nothing to do.
        """
        batch = self._batch
        if not batch or self._lost or self._writePaused:
            return
        data = batch[0] if len(batch) == 1 else b"".join(batch)
        batch.clear()
        sendNow(self.transport, data)

    def connectionLost(self, reason=None) -> None:
        """
        Settle the close code and tell the handler, once.
        """
        if self._lost:
            return
        self._lost = True
        self.connected = 0
        for timer in (self._timer, self._abortTimer):
            if timer is not None and timer.active():
                timer.cancel()
        self._timer = self._abortTimer = None
        core = self._core
        if core is None:
            return
        core.connectionLost()
        self._backlog = None
        counters = self.counters
        counters.connections -= 1
        if counters.logConnections:
            self._log.debug(
                "{transport} connection with {peer} closed: code {code} {reason!r}",
                transport=counters.name,
                peer=PeerText(self.transport),
                code=core.closeCode,
                reason=core.closeReason,
            )
        self._call(self.handler.connectionClosed, core.closeCode, core.closeReason, core.wasClean)
        if self._registry is not None:
            self._registry.remove(self)

    # -- delivering events ---------------------------------------------------

    def _dispatch(self, events: list) -> None:
        if self._backlog is not None:
            self._backlog.extend(events)
            return
        handler = self.handler
        counters = self.counters
        for i, ev in enumerate(events):
            kind = type(ev)
            try:
                if kind is TextMessage:
                    counters.received += 1
                    result = handler.textReceived(ev.data)
                elif kind is BinaryMessage:
                    counters.received += 1
                    result = handler.binaryReceived(ev.data)
                elif kind is MessageFragment:
                    if ev.first:
                        handler.messageStarted(ev.isBinary)
                    if ev.data:
                        handler.fragmentReceived(ev.data)
                    if ev.last:
                        counters.received += 1
                        result = handler.messageFinished()
                    else:
                        result = None
                elif kind is Pong:
                    result = handler.pongReceived(ev.payload)
                elif kind is ProtocolFailure:
                    self._core.fail(ev.code, ev.reason)
                    self._afterCore()
                    return
                else:
                    result = None
            except Exception:
                self._handlerRaised(kind.__name__)
                return
            if result is not None and self._waitFor(result):
                self._backlog = events[i + 1 :]
                return
            if self._lost:
                return

    def _handlerRaised(self, where: str) -> None:
        self._log.failure(
            "WebSocket handler {handler!r} raised handling {where}",
            handler=self.handler,
            where=where,
        )
        if not self._lost and self._core is not None:
            self.close(_frames.CLOSE_INTERNAL_ERROR, "internal error")

    def _call(self, method, *args):
        try:
            return method(*args)
        except Exception:
            self._handlerRaised(getattr(method, "__name__", repr(method)))
            return None

    def _waitFor(self, result) -> bool:
        """
        Pause reading until C{result} (a Deferred or coroutine) fires.
        """
        if iscoroutine(result):
            result = Deferred.fromCoroutine(result)
        if not isinstance(result, Deferred) or result.called:
            if isinstance(result, Deferred):
                result.addErrback(self._handlerFailed)
            return False
        self.pauseReading()
        result.addErrback(self._handlerFailed)
        result.addBoth(self._handlerDone)
        return True

    def _handlerFailed(self, failure: Failure) -> None:
        self._log.failure("WebSocket handler {handler!r} failed", failure, handler=self.handler)
        if not self._lost:
            self.close(_frames.CLOSE_INTERNAL_ERROR, "internal error")

    def _handlerDone(self, _ignored) -> None:
        backlog, self._backlog = self._backlog, None
        if self._lost:
            return
        self.resumeReading()
        if backlog:
            self._dispatch(backlog)

    # -- the core's verdicts and time ---------------------------------------

    def _afterCore(self) -> None:
        core = self._core
        if core.failure is not None and not self._logged:
            self._logged = True
            if core.failure != _PING_TIMEOUT:
                self.counters.errors += 1
            self._log.info(
                "WebSocket connection from {peer} failed: {reason} (close code {code})",
                peer=self._peer(),
                reason=core.failure,
                code=core.closeCode,
            )
        if core.shouldDisconnect:
            self._disconnect()
        else:
            self._schedule()

    def _peer(self) -> str:
        try:
            peer = self.transport.getPeer()
            return f"{peer.host}:{peer.port}"
        except Exception:
            return "?"

    def _schedule(self) -> None:
        if self._lost:
            return
        now = self._reactor.seconds()
        deadline = self._core.nextDeadline(now)
        timer = self._timer
        if deadline is None:
            if timer is not None and timer.active():
                timer.cancel()
            self._timer = None
        elif timer is not None and timer.active():
            if timer.getTime() != deadline:
                timer.reset(max(0.0, deadline - now))
        else:
            self._timer = self._reactor.callLater(max(0.0, deadline - now), self._onTimer)

    def _onTimer(self) -> None:
        self._timer = None
        self._core.tick(self._reactor.seconds())
        self._afterCore()

    def _disconnect(self) -> None:
        if self._disconnecting or self._lost:
            return
        self._flush()
        self._disconnecting = True
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        # A transport does not close while a producer is registered (TLS is
        # strict about it; TCP only when the producer is paused).
        self.transport.unregisterProducer()
        self.transport.loseConnection()
        # A peer that does not read could hold the flush forever.
        self._abortTimer = self._reactor.callLater(
            self.options.closeTimeout or 10.0, self.transport.abortConnection
        )

    # -- IWebSocketConnection ------------------------------------------------

    @property
    def writePaused(self) -> bool:
        """
        Whether the transport's buffer is full (the peer is not reading).
        """
        return self._writePaused

    @property
    def closed(self) -> bool:
        """
        Whether a close frame has been sent or received.
        """
        core = self._core
        return core is None or core.closeSent or core.closeReceived

    def sendText(self, text: str) -> None:
        """
        Send a text message.
        """
        self.counters.sent += 1
        self._core.sendText(text)

    def sendBinary(self, data: bytes) -> None:
        """
        Send a binary message.
        """
        self.counters.sent += 1
        self._core.sendBinary(data)

    def sendFragment(self, data, isBinary: bool = False, final: bool = False) -> None:
        """
        Send one fragment of a streamed message.
        """
        if final:
            self.counters.sent += 1
        self._core.sendFragment(data, isBinary, final)

    def sendPrepared(self, prepared) -> None:
        """
        Send a L{rtproto.websocket.PreparedMessage}.
        """
        self.counters.sent += 1
        self._core.sendPrepared(prepared)

    def ping(self, payload: bytes = b"") -> None:
        """
        Send a ping.
        """
        self._core.ping(payload)

    def close(self, code: "int | None" = 1000, reason: str = "") -> None:
        """
        Start the closing handshake.
        """
        self._core.close(code, reason)
        self._afterCore()

    def abort(self) -> None:
        """
        Drop the connection now.
        """
        if not self._lost:
            self.transport.abortConnection()

    def pauseReading(self) -> None:
        """
        Stop reading from the peer (counted: each call needs a
        L{resumeReading}).
        """
        self._readPauses += 1
        if self._readPauses == 1 and not self._lost:
            self.transport.pauseProducing()

    def resumeReading(self) -> None:
        """
        Undo one L{pauseReading}.
        """
        if self._readPauses:
            self._readPauses -= 1
            if not self._readPauses and not self._lost:
                self.transport.resumeProducing()

    # -- IPushProducer: the transport's write buffer -------------------------

    def pauseProducing(self) -> None:
        """
        The transport's buffer is full: count what is written from now on
        and tell the handler.
        """
        if self._writePaused or self._core is None:
            return
        self._writePaused = True
        self._pausedBytes = 0
        if self._batch is None:
            self._core._write = self._countedWrite
        self._call(self.handler.writePaused)

    def resumeProducing(self) -> None:
        """
        The transport's buffer drained.
        """
        if not self._writePaused:
            return
        self._writePaused = False
        if self._batch is None:
            self._core._write = self.transport.write
        self._call(self.handler.writeResumed)

    def stopProducing(self) -> None:
        """
        The transport is going away; L{connectionLost} follows.
        """

    def _countedWrite(self, data: bytes) -> None:
        self._pausedBytes += len(data)
        limit = self.options.writeBufferLimit
        if limit and self._pausedBytes > limit:
            if not self._lost and not self._disconnecting:
                self._log.warn(
                    "WebSocket connection from {peer} dropped: more than {limit} bytes "
                    "queued while the peer was not reading",
                    peer=self._peer(),
                    limit=limit,
                )
                self._disconnecting = True
                self.counters.dropped += 1
                self.transport.abortConnection()
            return
        self.transport.write(data)
