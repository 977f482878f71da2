"""
L{Session}: the state machine of one engine.io session, without I/O.

A session lives on one transport at a time: C{polling} (the glue hands it
each GET as a I{responder}, a callable taking the body and content type,
and each POST body) or C{websocket} (the glue hands it a I{sink} with
C{sendText}, C{sendBinary}, C{flush} and C{close}; C{flush} sends at once
what the sink has batched).  A polling session may probe a
second WebSocket sink and move onto it (the upgrade) without losing,
repeating or reordering a packet.

Time is passed in (C{now}, in seconds); L{Session.nextDeadline} says when
L{Session.tick} must be called next, for heartbeats, held GETs, the
upgrade timeout and the close timeout.

The application side is a I{listener} with C{messageReceived(data)},
C{transportUpgraded(name)}, C{connectionClosed(reason)} and
C{wantFlush()}: the last asks the glue to call L{Session.flush} soon
(after the current reactor turn), so that messages sent together travel in
one polling response.
"""

from rtproto.errors import EngineIOError
from rtproto.engineio import _payload
from rtproto.engineio._options import POLLING, WEBSOCKET
from rtproto.engineio._packets import (
    CLOSE,
    MESSAGE,
    NOOP,
    PING,
    PONG,
    UPGRADE,
    badRequest,
    decodeBinaryFrame,
    decodeString,
    encodeBinaryFrame,
    encodeString,
)

OPEN, CLOSING, CLOSED = "open", "closing", "closed"

TEXT_PLAIN = "text/plain; charset=UTF-8"
OCTET_STREAM = "application/octet-stream"
JAVASCRIPT = "text/javascript; charset=UTF-8"

_NOOP = (NOOP, "")
#: The WebSocket close code of a server going away (RFC 6455, 7.4.1).
GOING_AWAY = 1001
_CLOSE = (CLOSE, "")


class Session:
    """
    One engine.io session.

    @ivar sid: the session id.
    @ivar protocol: 3 or 4.
    @ivar transport: C{'polling'} or C{'websocket'}.
    @ivar state: C{'open'}, C{'closing'} (a close packet waits for the
        client's next GET) or C{'closed'}.
    @ivar upgraded: whether the session moved from polling to WebSocket.
    @ivar closeReason: why the session closed, once it has.
    """

    __slots__ = (
        "sid", "protocol", "transport", "options", "listener", "state", "upgraded",
        "closeReason", "binaryPolling", "_release", "_buffer", "_bufferedBytes",
        "_poll", "_pollJsonp", "_pollSince", "_flushWanted", "_ws", "_probe", "_probed", "_closeAfterDrain",
        "_upgradeDeadline", "_nextPing", "_pongDeadline", "_closeDeadline", "_leaving",
    )

    def __init__(
        self,
        sid: str,
        protocol: int,
        transport: str,
        options,
        listener,
        now: float,
        binaryPolling: bool = False,
        release=None,
    ) -> None:
        """
        @param binaryPolling: a v3 client that takes binary polling payloads.
        @param release: called with no argument once the session closes (the
            server forgets it).
        """
        self.sid = sid
        self.protocol = protocol
        self.transport = transport
        self.options = options
        self.listener = listener
        self.state = OPEN
        self.upgraded = False
        self.closeReason = None
        self.binaryPolling = binaryPolling
        self._release = release
        self._buffer = []
        self._bufferedBytes = 0
        self._poll = None
        self._pollJsonp = None
        self._pollSince = 0.0
        self._flushWanted = False
        self._ws = None
        self._probe = None
        self._probed = False
        self._closeAfterDrain = False
        self._upgradeDeadline = None
        self._pongDeadline = None
        self._closeDeadline = None
        self._leaving = False
        if protocol == 4:
            self._nextPing = now + options.pingInterval
        else:
            # v3: the client pings; this is when we give up waiting.
            self._nextPing = now + options.pingInterval + options.pingTimeout

    def __repr__(self) -> str:
        return f"<Session {self.sid} v{self.protocol} {self.transport} {self.state}>"

    # -- sending ------------------------------------------------------------

    @property
    def writable(self) -> bool:
        """
        Whether a message sent now goes out at once: the WebSocket is not
        held up by a slow reader, or a polling GET is waiting.
        """
        if self.state is not OPEN:
            return False
        ws = self._ws
        if ws is not None:
            return ws.writable
        return self._poll is not None

    def send(self, data) -> None:
        """
        Send a message (L{str} or L{bytes}); ignored unless open.
        """
        if self.state is OPEN:
            self._enqueue(MESSAGE, data)

    def sendShared(self, data, cache: dict) -> None:
        """
        Send a message that goes to many sessions alike (a broadcast): what
        is derived from it (the packet per protocol revision, and the
        WebSocket sink's frame) is kept in C{cache}, one L{dict} per
        message, so that it is encoded once for all.
        """
        if self.state is not OPEN:
            return
        ws = self._ws
        if ws is None:
            self._enqueue(MESSAGE, data)
            return
        protocol = self.protocol
        packet = cache.get(protocol)
        if packet is None:
            if data.__class__ is str:
                packet = encodeString(MESSAGE, data, protocol)
            else:
                packet = encodeBinaryFrame(data, protocol)
            cache[protocol] = packet
        ws.sendShared(packet, cache)

    def sendPacket(self, ptype: int, data="") -> None:
        """
        Send a packet of any type (the open packet, for the handshake).
        """
        self._enqueue(ptype, data)

    def _enqueue(self, ptype: int, data) -> None:
        ws = self._ws
        if ws is not None:
            if data.__class__ is str:
                ws.sendText(encodeString(ptype, data, self.protocol))
            else:
                ws.sendBinary(encodeBinaryFrame(data, self.protocol))
            return
        self._buffer.append((ptype, data))
        # Characters or bytes: a bound, not an exact byte count.
        self._bufferedBytes += len(data)
        if ptype == MESSAGE and self._bufferedBytes > self.options.maxBufferSize:
            self._finish("buffer full")
        elif self._poll is not None and not self._flushWanted:
            self._flushWanted = True
            self.listener.wantFlush()

    def flush(self) -> None:
        """
        Answer the held GET with what is buffered, if both exist.
        """
        self._flushWanted = False
        if self._poll is not None and self._buffer:
            self._respond(self._takeBuffer())

    def _takeBuffer(self) -> list:
        packets, self._buffer, self._bufferedBytes = self._buffer, [], 0
        return packets

    def _respond(self, packets) -> None:
        responder, self._poll = self._poll, None
        responder(*self.encodePoll(packets, self._pollJsonp))
        if self.state is CLOSING and (self._leaving or any(p[0] == CLOSE for p in packets)):
            self._finish(self.closeReason)

    def encodePoll(self, packets, jsonp: "str | None" = None):
        """
        Encode packets as a polling response: C{(body, contentType)}.
        """
        if self.protocol == 4:
            text = _payload.encodeV4(packets)
        elif self.binaryPolling and jsonp is None and _payload.hasBinary(packets):
            return _payload.encodeV3Binary(packets), OCTET_STREAM
        else:
            text = _payload.encodeV3Text(packets)
        if jsonp is not None:
            return _payload.jsonpWrap(jsonp, text), JAVASCRIPT
        return text.encode("utf-8"), TEXT_PLAIN

    # -- polling ------------------------------------------------------------

    def pollGet(self, responder, now: float, jsonp: "str | None" = None) -> None:
        """
        A polling GET arrived: answer it now if there is something to send
        (or an upgrade is under way), else hold it.

        @raise EngineIOError: (code 3) a GET was already held: the session is
            closed, as two pollers would each miss packets.
        """
        if self.state is CLOSED:
            responder(*self.encodePoll([_CLOSE], jsonp))
            return
        if self._poll is not None:
            self._finish("transport error")
            raise badRequest("overlapping polling GET")
        self._poll = responder
        self._pollJsonp = jsonp
        self._pollSince = now
        if self._buffer:
            self._respond(self._takeBuffer())
        elif self._closeAfterDrain:
            self._closeAfterDrain = False
            self._respond([_CLOSE])
        elif self._probed:
            self._respond([_NOOP])

    def pollAborted(self, responder) -> None:
        """
        The client went away while C{responder}'s GET was held.
        """
        if self._poll is responder:
            self._poll = None
            if self.state is not CLOSED:
                self._finish("transport close")

    def pollData(self, body: bytes, now: float, contentType: str = "", jsonp: bool = False) -> None:
        """
        A polling POST's body.

        @raise EngineIOError: (code 3) a malformed payload; the session is
            closed.  (Code 1) the session is going away (L{goAway}): what
            the client sends now would be lost, so it is refused, as it is
            a moment later, when the session is gone.
        """
        if self.state is not OPEN:
            if self._leaving:
                raise EngineIOError(EngineIOError.UNKNOWN_SID, "the session is going away")
            return
        try:
            if jsonp:
                packets = self._decodeText(_payload.jsonpUnwrap(body))
            elif self.protocol == 3 and contentType.startswith(OCTET_STREAM):
                packets = _payload.decodeV3Binary(body)
            else:
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError:
                    raise badRequest("payload is not UTF-8") from None
                packets = self._decodeText(text)
        except EngineIOError:
            self._finish("transport error")
            raise
        for ptype, data in packets:
            if self.state is not OPEN:
                break
            self._packet(ptype, data, now)

    def _decodeText(self, text: str) -> list:
        if self.protocol == 4:
            return _payload.decodeV4(text)
        return _payload.decodeV3Text(text)

    # -- websocket ----------------------------------------------------------

    def attachWebSocket(self, sink) -> None:
        """
        Make C{sink} the session's transport (a session opened directly on
        WebSocket) and send what is buffered (the open packet).
        """
        self._ws = sink
        self.transport = WEBSOCKET
        for ptype, data in self._takeBuffer():
            self._enqueue(ptype, data)

    def canUpgrade(self) -> bool:
        """
        Whether a WebSocket may probe this session now.
        """
        return (
            self.state is OPEN
            and self.transport == POLLING
            and self._probe is None
            and self.options.allowUpgrades
            and WEBSOCKET in self.options.transports
        )

    def startProbe(self, sink, now: float) -> None:
        """
        A WebSocket for this session opened: it must send C{2probe}, then
        C{5}, within C{upgradeTimeout}.
        """
        self._probe = sink
        self._probed = False
        self._upgradeDeadline = now + self.options.upgradeTimeout

    def webSocketMessage(self, sink, data, now: float) -> None:
        """
        A WebSocket message (L{str} or L{bytes}) arrived on C{sink}.

        @raise EngineIOError: (code 3) a malformed packet; the session is
            closed (on the main WebSocket) or the probe dropped.
        """
        if sink is self._probe:
            self._probeMessage(sink, data, now)
            return
        if sink is not self._ws or self.state is not OPEN:
            return
        try:
            if data.__class__ is str:
                ptype, payload = decodeString(data, self.protocol)
            else:
                ptype, payload = decodeBinaryFrame(data, self.protocol)
        except EngineIOError:
            self._finish("transport error")
            raise
        self._packet(ptype, payload, now)

    def webSocketClosed(self, sink) -> None:
        """
        The WebSocket C{sink} closed.
        """
        if sink is self._probe:
            self._dropProbe()
        elif sink is self._ws and self.state is not CLOSED:
            self._ws = None
            self._finish("transport close")

    def _probeMessage(self, sink, data, now: float) -> None:
        packet = None
        if data.__class__ is str:
            try:
                packet = decodeString(data, self.protocol)
            except EngineIOError:
                pass
        if packet == (PING, "probe") and not self._probed:
            sink.sendText(encodeString(PONG, "probe", self.protocol))
            self._probed = True
            # The client stops polling once its current GET returns: return
            # it now, or the upgrade waits for the next heartbeat.  The
            # 3probe leaves first, so that the client has paused polling
            # when the GET returns; the other way round, it polls once more.
            if self._poll is not None:
                sink.flush()
                self._respond(self._takeBuffer() or [_NOOP])
        elif packet == (UPGRADE, "") and self._probed:
            self._probe = None
            self._probed = False
            self._upgradeDeadline = None
            if self._poll is not None:
                self._respond([_NOOP])
            self.upgraded = True
            if self._closeAfterDrain:
                self._closeAfterDrain = False
                self._buffer.append(_CLOSE)
            # Buffered packets (a close packet included) go on the WebSocket.
            self.attachWebSocket(sink)
            if self.state is CLOSING:
                self._finish(self.closeReason)
            else:
                self.listener.transportUpgraded(WEBSOCKET)
        elif packet is not None and packet[0] == NOOP:
            pass
        else:
            self._dropProbe()

    def _dropProbe(self) -> None:
        probe, self._probe = self._probe, None
        self._probed = False
        self._upgradeDeadline = None
        if probe is not None:
            probe.close()

    # -- packets ------------------------------------------------------------

    def _packet(self, ptype: int, data, now: float) -> None:
        if ptype == MESSAGE:
            self.listener.messageReceived(data)
        elif ptype == PONG and self.protocol == 4:
            self._pongDeadline = None
            self._nextPing = now + self.options.pingInterval
        elif ptype == PING and self.protocol == 3:
            self._nextPing = now + self.options.pingInterval + self.options.pingTimeout
            self._enqueue(PONG, data)
        elif ptype == CLOSE:
            self._finish("client close")
        elif ptype != NOOP:
            self._finish("transport error")
            raise badRequest(f"unexpected packet type {ptype} from the client")

    # -- time ---------------------------------------------------------------

    def nextDeadline(self) -> "float | None":
        """
        When L{tick} must next be called, or L{None} once closed.
        """
        if self.state is CLOSED:
            return None
        due = self._pongDeadline if self._pongDeadline is not None else self._nextPing
        if self._poll is not None and self.protocol == 3:
            due = min(due, self._pollSince + self.options.pingInterval)
        if self._upgradeDeadline is not None:
            due = min(due, self._upgradeDeadline)
        if self._closeDeadline is not None:
            due = min(due, self._closeDeadline)
        return due

    def tick(self, now: float) -> None:
        """
        Act on every deadline that has passed.
        """
        if self.state is CLOSED:
            return
        if self._closeDeadline is not None and now >= self._closeDeadline:
            self._finish(self.closeReason)
            return
        if self._upgradeDeadline is not None and now >= self._upgradeDeadline:
            self._dropProbe()
        if self.protocol == 4:
            if self._pongDeadline is not None:
                if now >= self._pongDeadline:
                    self._finish("ping timeout")
                    return
            elif now >= self._nextPing and self.state is OPEN:
                self._pongDeadline = now + self.options.pingTimeout
                self._enqueue(PING, "")
                self.flush()
        else:
            if now >= self._nextPing:
                self._finish("ping timeout")
                return
            if self._poll is not None and now >= self._pollSince + self.options.pingInterval:
                # A held GET must not outlive the heartbeat (proxies time out).
                self._respond(self._takeBuffer() or [_NOOP])

    # -- closing ------------------------------------------------------------

    def close(self, now: float, reason: str = "server close") -> None:
        """
        Close the session from the server side: the client gets a close
        packet (at once on WebSocket; on polling with the held GET, or the
        next one within C{pingTimeout}).
        """
        if self.state is not OPEN:
            return
        if not self._probed:
            self._dropProbe()
        # A client that got 3probe polls no more: its close packet then goes
        # with the held GET if there is one, else on the WebSocket once the
        # client sends 5 (within the upgrade timeout).
        if self._ws is not None:
            self._enqueue(CLOSE, "")
            self._finish(reason)
            return
        self.state = CLOSING
        self.closeReason = reason
        if self._buffer:
            # What is buffered goes first and the close packet with the
            # next GET, as the Node server does: clients handle a close
            # packet at once but messages a tick later (socket.io-client
            # would lose the messages of a payload that ends in a close).
            self._closeAfterDrain = True
        else:
            self._buffer.append(_CLOSE)
        if self._poll is not None:
            self._respond(self._takeBuffer())
        if self.state is CLOSING:
            self._closeDeadline = now + self.options.pingTimeout

    def goAway(self, reason: str = "server shutting down", until: "float | None" = None) -> None:
        """
        The server is going away (a graceful stop): end the session so that
        the client reconnects, to another server or to this one restarted.
        A held GET gets what is buffered (or a noop), a WebSocket is closed
        with 1001; no close packet is sent, since some clients
        (python-engineio) take one for a final goodbye and stop
        reconnecting, while every client reconnects after a lost
        transport.  A polling client's next request finds no session (or
        no server) and it reconnects.

        @param until: when given, a polling session with packets buffered
            and no GET held (the client is between two GETs) keeps them for
            the client's next GET, which gets them and ends the session, or
            until this time (the state is C{'closing'} meanwhile: it takes
            nothing more to send, and the listener hears of the close when
            it ends).  Without it, those packets are lost.
        """
        if self.state is CLOSED or self._leaving:
            return
        if self._poll is not None:
            self._respond(self._takeBuffer() or [_NOOP])
        if self.state is CLOSED:
            return
        self._dropProbe()
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.close(GOING_AWAY)
        elif until is not None and self.state is OPEN and self._buffer:
            self.state = CLOSING
            self.closeReason = reason
            self._leaving = True
            self._closeDeadline = until
            return
        self._finish(reason)

    def abort(self, reason: str = "transport error") -> None:
        """
        Close at once, without waiting to deliver anything more.
        """
        if self.state is not CLOSED:
            self._finish(reason)

    def _finish(self, reason: str) -> None:
        if self.state is CLOSED:
            return
        self.state = CLOSED
        self.closeReason = reason
        self._buffer = []
        self._bufferedBytes = 0
        self._closeDeadline = self._upgradeDeadline = self._pongDeadline = None
        if self._poll is not None:
            # Tell a held GET the session is over (the client knows if it
            # closed the session itself).
            responder, self._poll = self._poll, None
            responder(*self.encodePoll([_NOOP if reason == "client close" else _CLOSE], self._pollJsonp))
        self._dropProbe()
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.close()
        if self._release is not None:
            self._release()
        self.listener.connectionClosed(reason)
