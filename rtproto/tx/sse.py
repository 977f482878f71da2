"""
L{EventSourceResource}: Server-Sent Events on C{twisted.web}.

C{GET <mount>?channel=a&channel=b} opens a stream of the events published
to those channels (none named: the handler's default channels).  The
response is C{200 text/event-stream}, uncompressed and uncached, and its
first bytes (the C{retry} line) are written at once so that the headers
reach the client before any event.  Every event gets an id
(C{<epoch>-<n>}, or the publisher's own); a client reconnecting with
C{Last-Event-ID} (or C{?lastEventId=}) gets exactly the events after it
from the mount's bounded history, then live ones.  Idle streams get a
comment every C{keepAlive} seconds.

Publishing: L{EventSourceResource.publish} from Python (handlers, other
transports), or C{POST <mount>/publish} with a bearer token when
C{publishToken} is set; with the same token, C{GET <mount>/stats} counts
subscribers and C{POST <mount>/disconnect} ends streams (clients come back
with C{Last-Event-ID}).
"""

import hmac
import json

from twisted.internet.defer import maybeDeferred
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.web.pages import notFound
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from rtproto.errors import ConnectionDeny, UsageError
from rtproto.sse import EventIds, History, SSEHandler, SSEOptions, encodeComment, encodeEvent, encodeRetry
from rtproto.tx._calls import callHandler
from rtproto.tx._metrics import Metrics, PeerText
from rtproto.tx._ssesubscriber import SLOW_CLIENT, SSERequest, Subscriber

_log = Logger()

MAX_CHANNEL = 128
_KEEPALIVE = encodeComment("keep-alive")


class EventSourceResource(Resource):
    """
    Serve event streams at one path.

    @ivar channels: channel name to the L{set} of its L{Subscriber}s.
    @ivar history: the mount's L{History}.
    @ivar onClose: callables run by L{closeAll} (a demo publisher's stop).
    """

    isLeaf = True
    app = None

    def __init__(self, handlerFactory=SSEHandler, options: "SSEOptions | None" = None, reactor=None, ids=None) -> None:
        """
        @param handlerFactory: a zero-argument callable returning an
            L{rtproto.interfaces.ISSEHandler} per subscriber.
        @param ids: the L{EventIds} (a fresh epoch by default).
        """
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor
        self.handlerFactory = handlerFactory
        self.options = options or SSEOptions()
        self.reactor = reactor
        self.ids = ids or EventIds()
        self.history = History(self.options.historyEvents, self.options.historyBytes)
        self.channels: "dict[str, set]" = {}
        self.subscribers: set = set()
        self._seq = 0
        self._keepAlive = None
        self._closing = False
        self.onClose: list = []
        self._waiters: list = []
        self.metrics = Metrics()

    # -- publishing ------------------------------------------------------------

    def publish(self, channel: str, data: str, event: "str | None" = None, id: "str | None" = None) -> str:
        """
        Send an event to every subscriber of C{channel}, and keep it for
        replay.

        @return: the event's id (C{id} if given).
        @raise UsageError: C{event} or C{id} with CR, LF or NUL, or data
            that is not a L{str}.
        """
        if channel.__class__ is not str:
            raise UsageError("channel names are str")
        seq = self._seq + 1
        eventId = id if id is not None else self.ids.format(seq)
        encoded = encodeEvent(data, event, eventId)
        self._seq = seq
        self.history.append(seq, channel, eventId, encoded)
        subscribers = self.channels.get(channel)
        if subscribers:
            self.metrics.sse.sent += len(subscribers)
            now = self.reactor.seconds()
            for subscriber in list(subscribers):
                subscriber.lastWrite = now
                subscriber.write(encoded)
        return eventId

    # -- requests --------------------------------------------------------------

    def render_GET(self, request):
        """
        Open a stream (or, at C{<mount>/stats}, the mount's statistics).
        """
        if request.postpath == [b"stats"] and self.options.publishToken is not None:
            return self._stats(request)
        if request.postpath not in ([], [b""]):
            return notFound().render(request)
        self._cors(request)
        if self._closing:
            # A stopping server still answers 200 (a browser gives up for
            # good on any other status): an empty stream, retried later.
            self._streamHeaders(request)
            request.write(self._retryLine())
            return b""
        handler = self.handlerFactory()
        snapshot = SSERequest(request)
        d = maybeDeferred(handler.authorize, snapshot)
        d.addCallback(self._authorized, request, handler, snapshot)
        d.addErrback(self._refused, request)
        return NOT_DONE_YET

    def _authorized(self, _, request, handler, snapshot) -> None:
        if request._disconnected:
            # Gone while its authorization was pending.
            return
        if self._closing:
            # Authorized after a graceful stop began: no stream any more.
            self._streamHeaders(request)
            request.write(self._retryLine())
            request.finish()
            return
        requested = [v.decode("utf-8", "replace") for v in request.args.get(b"channel", [])]
        channels = list(dict.fromkeys(handler.channelsFor(snapshot, requested)))
        bad = [c for c in channels if not isinstance(c, str) or not 0 < len(c) <= MAX_CHANNEL]
        if bad or not channels or len(channels) > self.options.maxChannels:
            request.setResponseCode(400)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            request.write(b"bad channel list\n")
            request.finish()
            return
        lastEventId = self._lastEventId(request)
        self._streamHeaders(request)
        # The first bytes go at once: twisted.web sends the headers with them.
        request.write(self._retryLine())
        now = self.reactor.seconds()
        subscriber = Subscriber(self, request, handler, channels, snapshot, lastEventId, now)
        channel = request.channel
        request.registerProducer(subscriber, True)
        if getattr(channel, "_waitingForTransport", False):
            # The connection is already waiting on its client (a pipelined
            # request): start paused, so the buffer bound holds.
            subscriber.pauseProducing()
        if lastEventId is not None:
            self._replay(subscriber, lastEventId)
        if subscriber.closed:
            return
        for name in channels:
            self.channels.setdefault(name, set()).add(subscriber)
        self.subscribers.add(subscriber)
        counters = self.metrics.sse
        counters.connections += 1
        counters.opened += 1
        if counters.logConnections:
            _log.debug(
                "SSE stream of {channels} with {peer} opened",
                channels=subscriber.channels,
                peer=PeerText(snapshot.peer),
            )
        if self._waiters:
            self._countChanged()
        request.notifyFinish().addBoth(subscriber.lost)
        self._startKeepAlive()
        callHandler("SSE", handler, handler.subscribed, subscriber)

    def _refused(self, failure, request) -> None:
        if request._disconnected:
            return
        if failure.check(ConnectionDeny):
            status, reason = failure.value.status, failure.value.reason
            _log.info("SSE subscription refused: {status} {reason}", status=status, reason=reason)
        else:
            _log.failure("SSE handler failed to authorize a subscription", failure)
            status, reason = 403, "Forbidden"
        request.setResponseCode(status)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        request.write(reason.encode("utf-8") + b"\n")
        request.finish()

    def _lastEventId(self, request) -> "str | None":
        value = request.getHeader(b"last-event-id")
        if value is None:
            values = request.args.get(b"lastEventId")
            value = values[0] if values else None
        if value is None:
            return None
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        return text or None

    def _replay(self, subscriber: Subscriber, lastEventId: str) -> None:
        seq = self.ids.parse(lastEventId)
        if seq is None:
            seq = self.history.lookup(lastEventId)
        events = None if seq is None or seq > self._seq else self.history.after(seq, set(subscriber.channels))
        if events is None:
            callHandler("SSE", subscriber.handler, subscriber.handler.missedEvents, subscriber, lastEventId)
            return
        # The replay is bounded by the history, not by the live buffer:
        # a client reading at full speed must not be dropped for it.
        subscriber.writeReplay(events)

    def render_HEAD(self, request):
        """
        The stream's headers, and no stream.
        """
        if request.postpath not in ([], [b""]):
            return notFound().render(request)
        self._cors(request)
        self._streamHeaders(request)
        return b""

    def _streamHeaders(self, request) -> None:
        request.setResponseCode(200)
        request.setHeader(b"content-type", b"text/event-stream; charset=utf-8")
        request.setHeader(b"cache-control", b"no-cache")
        request.setHeader(b"x-accel-buffering", b"no")

    def _retryLine(self) -> bytes:
        retry = self.options.retry
        return encodeRetry(retry) if retry is not None else _KEEPALIVE

    def _cors(self, request) -> None:
        origin = request.getHeader(b"origin")
        allowed = self.options.corsOrigin(origin.decode("latin-1") if origin is not None else None)
        if allowed is None:
            return
        request.setHeader(b"access-control-allow-origin", allowed.encode("latin-1"))
        if allowed != "*":
            request.setHeader(b"vary", b"Origin")
        if self.options.corsCredentials:
            request.setHeader(b"access-control-allow-credentials", b"true")

    def render_OPTIONS(self, request):
        """
        A CORS preflight (custom headers such as C{Last-Event-ID} or
        C{Authorization} make one).
        """
        self._cors(request)
        request.setResponseCode(204)
        request.setHeader(b"access-control-allow-methods", b"GET, POST, OPTIONS")
        wanted = request.getHeader(b"access-control-request-headers")
        if wanted:
            request.setHeader(b"access-control-allow-headers", wanted)
        request.setHeader(b"access-control-max-age", b"86400")
        return b""

    def _checkToken(self, request) -> "bytes | None":
        """
        L{None} if the request carries the publish token, else the answer.
        """
        auth = request.getHeader(b"authorization")
        if auth is None:
            return _answer(request, 401, {"error": "missing Authorization: Bearer token"})
        scheme, _, given = auth.partition(b" ")
        token = self.options.publishToken.encode("utf-8")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), token):
            return _answer(request, 403, {"error": "bad token"})
        return None

    def _stats(self, request):
        """
        C{GET <mount>/stats} (with the publish token): the number of
        subscribers, per channel, and the history's size, as JSON.  With
        C{?subscribers=N} the answer waits (at most C{?timeout=} seconds,
        default 10) until there are exactly N subscribers.
        """
        refused = self._checkToken(request)
        if refused is not None:
            return refused
        wanted = request.args.get(b"subscribers")
        if wanted and wanted[0].isdigit() and int(wanted[0]) != len(self.subscribers):
            try:
                timeout = float(request.args.get(b"timeout", [b"10"])[0])
            except ValueError:
                timeout = 10.0
            if not timeout >= 0:
                timeout = 10.0
            timeout = min(timeout, 60.0)
            waiter = [int(wanted[0]), request, None]
            waiter[2] = self.reactor.callLater(timeout, self._answerWaiter, waiter)
            self._waiters.append(waiter)
            request.notifyFinish().addErrback(lambda _: self._dropWaiter(waiter))
            return NOT_DONE_YET
        return _answer(request, 200, self.stats())

    def stats(self) -> dict:
        """
        Subscribers (in all, and per channel) and the history's size.
        """
        return {
            "subscribers": len(self.subscribers),
            "channels": {name: len(members) for name, members in self.channels.items()},
            "history": {"events": len(self.history), "bytes": self.history.size, "lastSeq": self._seq},
        }

    def _answerWaiter(self, waiter) -> None:
        self._dropWaiter(waiter)
        request = waiter[1]
        request.write(_answer(request, 200, self.stats()))
        request.finish()

    def _dropWaiter(self, waiter) -> None:
        if waiter in self._waiters:
            self._waiters.remove(waiter)
        if waiter[2].active():
            waiter[2].cancel()

    def _countChanged(self) -> None:
        count = len(self.subscribers)
        for waiter in [w for w in self._waiters if w[0] == count]:
            self._answerWaiter(waiter)

    def render_POST(self, request):
        """
        C{POST <mount>/publish}: publish over HTTP (when a token is set).
        """
        if request.postpath not in ([b"publish"], [b"disconnect"]) or self.options.publishToken is None:
            return notFound().render(request)
        self._cors(request)
        refused = self._checkToken(request)
        if refused is not None:
            return refused
        if request.postpath == [b"disconnect"]:
            channels = [c.decode("utf-8", "replace") for c in request.args.get(b"channel", [])]
            return _answer(request, 200, {"disconnected": self.disconnect(channels or None)})
        if getattr(request, "bodyTooLarge", False):
            return _answer(request, 413, {"error": "body too large"})
        try:
            body = json.loads(request.content.read())
            channel, data = body["channel"], body["data"]
            event, eventId = body.get("event"), body.get("id")
            if not isinstance(channel, str) or not 0 < len(channel) <= MAX_CHANNEL or not isinstance(data, str):
                raise ValueError("channel and data must be strings")
            if (event is not None and not isinstance(event, str)) or (eventId is not None and not isinstance(eventId, str)):
                raise ValueError("event and id must be strings")
            eventId = self.publish(channel, data, event, eventId)
        except (ValueError, KeyError, TypeError, AttributeError, UsageError) as e:
            return _answer(request, 400, {"error": f"bad publish request: {e}"})
        return _answer(request, 200, {"id": eventId})

    # -- subscribers coming and going -----------------------------------------

    def unsubscribe(self, subscriber: Subscriber, reason: str) -> None:
        """
        Forget C{subscriber} and tell its handler why.
        """
        if subscriber.closed:
            return
        subscriber.closed = True
        for name in subscriber.channels:
            members = self.channels.get(name)
            if members is not None:
                members.discard(subscriber)
                if not members:
                    del self.channels[name]
        if subscriber in self.subscribers:
            self.subscribers.discard(subscriber)
            counters = self.metrics.sse
            counters.connections -= 1
            if reason == SLOW_CLIENT:
                counters.dropped += 1
            if counters.logConnections:
                _log.debug(
                    "SSE stream of {channels} with {peer} closed: {reason}",
                    channels=subscriber.channels,
                    peer=PeerText(subscriber.request.peer),
                    reason=reason,
                )
        if not self.subscribers:
            self._stopKeepAlive()
        if self._waiters:
            self._countChanged()
        callHandler("SSE", subscriber.handler, subscriber.handler.unsubscribed, reason)

    def disconnect(self, channels=None) -> int:
        """
        End the streams of C{channels} (every stream when L{None}) as if the
        connection dropped: their clients reconnect with C{Last-Event-ID}
        and get what they missed (C{POST <mount>/disconnect}, with the
        publish token, does this over HTTP; a deploy can use it to move
        clients to other servers).

        @return: how many streams were ended.
        """
        if channels is None:
            chosen = list(self.subscribers)
        else:
            chosen = {s for name in channels for s in self.channels.get(name, ())}
        for subscriber in chosen:
            subscriber._end("disconnected by the server")
        return len(chosen)

    def closeAll(self) -> None:
        """
        A graceful stop: end every stream now (clients reconnect to the
        next server); new requests get an empty 200 stream meanwhile.
        """
        self._closing = True
        for stop in self.onClose:
            if stop is not None:
                stop()
        self.onClose = []
        for subscriber in list(self.subscribers):
            subscriber._end("server shutting down")
        self._stopKeepAlive()
        for waiter in list(self._waiters):
            self._answerWaiter(waiter)

    # -- keep-alives -------------------------------------------------------------

    def _startKeepAlive(self) -> None:
        if self._keepAlive is None:
            self._keepAlive = LoopingCall(self._keepIdleAlive)
            self._keepAlive.clock = self.reactor
            self._keepAlive.start(self.options.keepAlive / 4, now=False)

    def _stopKeepAlive(self) -> None:
        if self._keepAlive is not None:
            if self._keepAlive.running:
                self._keepAlive.stop()
            self._keepAlive = None

    def _keepIdleAlive(self) -> None:
        now = self.reactor.seconds()
        due = now - self.options.keepAlive
        for subscriber in list(self.subscribers):
            if subscriber.lastWrite <= due:
                subscriber.lastWrite = now
                subscriber.write(_KEEPALIVE)


def _answer(request, status: int, body: dict) -> bytes:
    request.setResponseCode(status)
    request.setHeader(b"content-type", b"application/json")
    return json.dumps(body).encode("utf-8")
