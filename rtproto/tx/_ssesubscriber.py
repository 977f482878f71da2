"""
L{Subscriber}: one open Server-Sent Events stream, the producer registered
on its C{twisted.web} request so that a client that stops reading is seen:
while the transport is paused, what is written is counted, and past
C{bufferSize} the subscriber is dropped (it reconnects and resumes from the
history) instead of holding memory or slowing the others.
"""

from twisted.logger import Logger
from zope.interface import implementer

from rtproto.interfaces import ISSERequest, ISSESubscriber
from rtproto.sse import encodeEvent

#: The reason a subscriber that stopped reading is dropped with.
SLOW_CLIENT = "slow client"

_log = Logger()


@implementer(ISSERequest)
class SSERequest:
    """
    A snapshot of a subscription request.
    """

    __slots__ = ("path", "args", "headers", "peer", "isSecure")

    def __init__(self, request) -> None:
        self.path = request.path
        self.args = request.args
        self.headers = request.requestHeaders
        self.peer = request.getClientAddress()
        self.isSecure = request.isSecure()

    def getCookie(self, name):
        """
        The value of cookie C{name} (L{bytes} or L{str}, as C{name}), or
        L{None}.  Parsed leniently, as Twisted's C{Request} does: a pair
        that is not well-formed does not hide the ones after it.
        """
        asBytes = isinstance(name, bytes)
        key = name if asBytes else name.encode("latin-1")
        for header in self.headers.getRawHeaders(b"cookie", []):
            for pair in header.split(b";"):
                cookieName, sep, value = pair.partition(b"=")
                if sep and cookieName.strip() == key:
                    value = value.strip()
                    if len(value) >= 2 and value[:1] == value[-1:] == b'"':
                        value = value[1:-1]
                    return value if asBytes else value.decode("latin-1")
        return None

    def __repr__(self) -> str:
        return f"<SSERequest {self.path!r} from {self.peer}>"


@implementer(ISSESubscriber)
class Subscriber:
    """
    One event stream.

    @ivar channels: the channels it receives.
    @ivar handler: its L{rtproto.interfaces.ISSEHandler}.
    @ivar lastWrite: when something was last written (for keep-alives).
    """

    __slots__ = (
        "resource", "handler", "channels", "request", "lastEventId", "lastWrite", "closed",
        "_http", "_paused", "_pending",
    )

    def __init__(self, resource, request, handler, channels, snapshot, lastEventId, now: float) -> None:
        self.resource = resource
        self.handler = handler
        self.channels = tuple(channels)
        self.request = snapshot
        self.lastEventId = lastEventId
        self.lastWrite = now
        self.closed = False
        self._http = request
        self._paused = False
        self._pending = 0

    def __repr__(self) -> str:
        return f"<Subscriber {self.channels} {self.request!r}>"

    @property
    def app(self):
        """
        The site's L{rtproto.tx.app.App}, or L{None} outside a site.
        """
        return self.resource.app

    # -- writing ---------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """
        Write encoded bytes; a paused subscriber that piles up more than
        C{bufferSize} is dropped.
        """
        if self.closed:
            return
        if self._paused:
            self._pending += len(data)
            limit = self.resource.options.bufferSize
            if self._pending > limit:
                _log.info(
                    "SSE subscriber {peer} dropped: more than {limit} bytes queued while it was not reading",
                    peer=self.request.peer,
                    limit=limit,
                )
                self._end(SLOW_CLIENT, abort=True)
                return
        self._http.write(data)

    def writeReplay(self, events) -> None:
        """
        Write the events of a replay: bounded by the history's size, they
        do not count against C{bufferSize} (what comes after them does).
        """
        if self.closed:
            return
        write = self._http.write
        count = 0
        for encoded in events:
            write(encoded)
            count += 1
        self.resource.metrics.sse.sent += count
        self._pending = 0

    def send(self, data: str, event=None, id=None) -> None:
        """
        Send an event to this subscriber only (not kept in the history).
        """
        self.resource.metrics.sse.sent += 1
        self.write(encodeEvent(data, event, id))

    def close(self) -> None:
        """
        End the stream cleanly; the client reconnects after its retry delay.
        """
        self._end("closed")

    def _end(self, reason: str, abort: bool = False) -> None:
        if self.closed:
            return
        self.resource.unsubscribe(self, reason)
        request = self._http
        if abort:
            channel = request.channel
            transport = getattr(channel, "transport", None)
            if transport is not None:
                transport.abortConnection()
            elif channel is not None and hasattr(channel, "abortConnection"):
                # An HTTP/2 stream: reset this stream only.
                channel.abortConnection()
        elif not request.finished and not request._disconnected:
            request.unregisterProducer()
            request.finish()

    def lost(self, _=None) -> None:
        """
        The request finished or its client went away (its C{notifyFinish}
        fired): unsubscribed as C{'client gone'} unless it already is.
        """
        if not self.closed:
            self.resource.unsubscribe(self, "client gone")

    # -- IPushProducer ---------------------------------------------------------

    def pauseProducing(self) -> None:
        """
        The transport's buffer is full: count from now on.
        """
        if not self._paused:
            self._paused = True
            self._pending = 0

    def resumeProducing(self) -> None:
        """
        The client caught up.
        """
        self._paused = False
        self._pending = 0

    def stopProducing(self) -> None:
        """
        The connection is going away; C{notifyFinish} tells us.
        """
