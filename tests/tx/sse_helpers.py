"""
Helpers for the Server-Sent Events glue tests: a fake client speaking raw
HTTP/1.1 to a real L{twisted.web} site over a L{StringTransport} (it
de-chunks responses and reads event streams the way a browser's
C{EventSource} does), recording handlers, and a site with one
L{EventSourceResource} at C{/events} on a L{MemoryReactorClock}.
"""

import re
from typing import NamedTuple

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure

from rtproto.errors import ConnectionDeny
from rtproto.sse import EventIds
from rtproto.sse._handler import SSEHandler
from rtproto.sse._options import SSEOptions
from rtproto.tx.site import buildSite
from rtproto.tx.sse import EventSourceResource

EPOCH = "E"
_EOL = re.compile(r"\r\n|\r|\n")


class Event(NamedTuple):
    """
    A dispatched event, as a browser's C{MessageEvent} shows it.
    """

    type: str
    data: str
    lastEventId: str


class Stream(NamedTuple):
    """
    What a browser reads from an event-stream body: its events, its
    comment lines (less the colon and one space), and the last C{retry}.
    """

    events: "list[Event]"
    comments: "list[str]"
    retry: "int | None"


def readStream(body: bytes) -> Stream:
    """
    Read an event-stream body after the WHATWG HTML standard (9.2.5 and
    9.2.6): UTF-8 with one optional BOM, lines cut on CRLF, CR or LF, a
    blank line dispatches (nothing when the data buffer is empty, one final
    LF dropped), C{id} with NUL ignored, C{retry} only when all digits, an
    unfinished last line or event dropped.
    """
    text = body.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = _EOL.split(text)
    lines.pop()  # the part after the last line ending: not a line yet
    events, comments = [], []
    retry = None
    data, kind, idBuffer, lastEventId = "", "", "", ""
    for line in lines:
        if line == "":
            lastEventId = idBuffer
            if data:
                events.append(Event(kind or "message", data[:-1] if data.endswith("\n") else data, lastEventId))
            data, kind = "", ""
            continue
        if line.startswith(":"):
            comments.append(line[2:] if line.startswith(": ") else line[1:])
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data += value + "\n"
        elif name == "event":
            kind = value
        elif name == "id":
            if "\0" not in value:
                idBuffer = value
        elif name == "retry":
            if value and value.isascii() and value.isdigit():
                retry = int(value)
    return Stream(events, comments, retry)


class Response(NamedTuple):
    """
    One HTTP response read off the wire.

    @ivar headers: lowercased header name to the L{list} of its values.
    @ivar complete: its end was seen (the chunked terminator, all of a
        C{Content-Length}, or a status without a body).
    """

    status: int
    headers: "dict[bytes, list[bytes]]"
    body: bytes
    complete: bool

    def header(self, name: bytes) -> "bytes | None":
        """
        The one value of header C{name}, or L{None}.
        """
        values = self.headers.get(name.lower())
        if values is None:
            return None
        assert len(values) == 1, (name, values)
        return values[0]

    @property
    def stream(self) -> Stream:
        """
        The body read as an event stream.
        """
        return readStream(self.body)

    @property
    def events(self) -> "list[Event]":
        """
        The events of the body read as an event stream.
        """
        return self.stream.events


def _dechunk(data: bytes) -> "tuple[bytes, bool, bytes]":
    """
    The body of a chunked message so far, whether its terminator was seen,
    and the bytes after it.
    """
    body = b""
    while True:
        size, sep, rest = data.partition(b"\r\n")
        if not sep:
            return body, False, b""
        n = int(size.split(b";")[0], 16)
        if n == 0:
            if rest.startswith(b"\r\n"):
                return body, True, rest[2:]
            return body, False, b""
        if len(rest) < n + 2:
            return body + rest[:n], False, b""
        assert rest[n : n + 2] == b"\r\n", rest[n : n + 2]
        body, data = body + rest[:n], rest[n + 2 :]


def parseResponses(data: bytes) -> "list[Response]":
    """
    Every response (complete or not) in C{data}, in order.
    """
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.split(b"\r\n")
        headers: "dict[bytes, list[bytes]]" = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        status = int(lines[0].split(b" ")[1])
        if status < 200:
            data = rest
            continue
        if status in (204, 304):
            body, complete, data = b"", True, rest
        elif headers.get(b"transfer-encoding") == [b"chunked"]:
            body, complete, data = _dechunk(rest)
        elif b"content-length" in headers:
            n = int(headers[b"content-length"][0])
            body, complete, data = rest[:n], len(rest) >= n, rest[n:]
        else:
            body, complete, data = rest, False, b""
        out.append(Response(status, headers, body, complete))
    return out


class RecordingTransport(StringTransport):
    """
    A L{StringTransport} that tells an abort from a clean close.

    @ivar aborted: L{abortConnection} was called.
    """

    aborted = False

    def abortConnection(self) -> None:
        """
        Remember the abort.
        """
        self.aborted = True
        super().abortConnection()


class FlowControlledTransport(RecordingTransport):
    """
    A transport that, like a real one (C{FileDescriptor.write}), pauses its
    streaming producer once more than C{limit} bytes wait to be sent, and
    resumes it when they have been (L{drain}).
    """

    limit = 65536
    unsent = 0
    paused = False

    def write(self, data: bytes) -> None:
        super().write(data)
        self.unsent += len(data)
        if self.producer is not None and self.streaming and not self.paused and self.unsent > self.limit:
            self.paused = True
            self.producer.pauseProducing()

    def writeSequence(self, data) -> None:
        self.write(b"".join(data))

    def drain(self) -> None:
        """
        The peer read everything.
        """
        self.unsent = 0
        if self.paused:
            self.paused = False
            self.producer.resumeProducing()


class SSEClient:
    """
    One client connection to the site, speaking raw HTTP/1.1.
    """

    def __init__(self, site, port: int = 41000, transportFactory=None) -> None:
        """
        @param transportFactory: a L{StringTransport} subclass to use
            instead of L{RecordingTransport}.
        """
        self.transport = (transportFactory or RecordingTransport)(peerAddress=IPv4Address("TCP", "127.0.0.1", port))
        self.channel = site.buildProtocol(self.transport.getPeer())
        self.channel.makeConnection(self.transport)

    def send(self, data: bytes) -> None:
        """
        Bytes from the client.
        """
        self.channel.dataReceived(data)

    def request(self, method: bytes, target: bytes, headers=(), body: "bytes | None" = None) -> None:
        """
        Send one request; C{headers} are C{(name, value)} L{bytes} pairs.
        """
        lines = [method + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1"]
        lines += [name + b": " + value for name, value in headers]
        if body is not None:
            lines.append(b"Content-Length: %d" % (len(body),))
        self.send(b"\r\n".join(lines) + b"\r\n\r\n" + (body or b""))

    def get(self, target: bytes = b"/events", headers=()) -> None:
        """
        Send a GET.
        """
        self.request(b"GET", target, headers)

    def responses(self) -> "list[Response]":
        """
        Every response so far.
        """
        return parseResponses(self.transport.value())

    def response(self) -> Response:
        """
        The one response so far.
        """
        [response] = self.responses()
        return response

    def events(self) -> "list[Event]":
        """
        The events of the one response so far.
        """
        return self.response().events

    def lose(self) -> None:
        """
        The connection is gone.
        """
        self.channel.connectionLost(Failure(ConnectionDone()))


class RecordingHandler(SSEHandler):
    """
    An L{SSEHandler} that records its calls in C{calls} (and the shared
    C{log} of its factory), and behaves as its factory says.
    """

    def __init__(self, factory) -> None:
        self.factory = factory
        self.calls: list = []

    def _record(self, *call) -> None:
        self.calls.append(call)
        self.factory.log.append((self.factory.made.index(self),) + call)

    def authorize(self, request):
        self.request = request
        self._record("authorize")
        deny = self.factory.deny
        if deny is not None:
            if callable(deny):
                return deny(request)
            raise ConnectionDeny(*deny)
        if self.factory.pending:
            d = Deferred()
            self.factory.waiting.append(d)
            return d
        return None

    def channelsFor(self, request, requested):
        self._record("channelsFor", list(requested))
        if self.factory.channels is not None:
            return self.factory.channels(requested)
        return super().channelsFor(request, requested)

    def subscribed(self, subscriber):
        super().subscribed(subscriber)
        self._record("subscribed", subscriber.channels)

    def missedEvents(self, subscriber, lastEventId):
        self._record("missed", lastEventId)
        super().missedEvents(subscriber, lastEventId)

    def unsubscribed(self, reason):
        self._record("unsubscribed", reason)


class Handlers:
    """
    A handler factory that records what it makes.

    @ivar made: every handler made, in order.
    @ivar log: C{(handler index, call...)} of every handler, in order.
    @ivar deny: C{(status, reason)} to refuse with, or a callable taking
        the request (its result is what C{authorize} returns).
    @ivar pending: C{authorize} returns a L{Deferred}, kept in C{waiting}.
    @ivar channels: a callable from the requested channels to the
        channels, or L{None} for the default.
    """

    def __init__(self, deny=None, pending: bool = False, channels=None) -> None:
        self.made: list = []
        self.log: list = []
        self.deny = deny
        self.pending = pending
        self.waiting: "list[Deferred]" = []
        self.channels = channels

    def __call__(self) -> RecordingHandler:
        handler = RecordingHandler(self)
        self.made.append(handler)
        return handler


def makeSSESite(handlerFactory=SSEHandler, **options):
    """
    A site with one L{EventSourceResource} at C{/events}, its event ids of
    epoch C{E}, on a fresh L{MemoryReactorClock}.

    @return: C{(site, reactor, resource)}.
    """
    reactor = MemoryReactorClock()
    resource = EventSourceResource(handlerFactory, SSEOptions(**options), reactor, ids=EventIds(EPOCH))
    site = buildSite([], None, reactor, sse=[("/events", resource)])
    return site, reactor, resource


def subscribe(site, target: bytes = b"/events", headers=(), port: int = 41000) -> SSEClient:
    """
    A client that has sent a GET for C{target}.
    """
    client = SSEClient(site, port)
    client.get(target, headers)
    return client


class LogCapture:
    """
    Collect the events logged while it is installed (use as a context
    manager, or L{install}/L{remove}).

    @ivar failures: the events that carry a C{log_failure}.
    """

    def __init__(self) -> None:
        self.events: list = []

    @property
    def failures(self) -> list:
        return [e for e in self.events if "log_failure" in e]

    def install(self) -> "LogCapture":
        globalLogPublisher.addObserver(self.events.append)
        return self

    def remove(self) -> None:
        globalLogPublisher.removeObserver(self.events.append)

    def __enter__(self) -> "LogCapture":
        return self.install()

    def __exit__(self, *exc) -> None:
        self.remove()


def runDue(reactor, rounds: int = 100) -> None:
    """
    Run the delayed calls that are due, round after round, at most
    C{rounds} times (Twisted's HTTP/2 sender reschedules itself at once
    while a stream is blocked, which would spin L{MemoryReactorClock.advance}
    forever).
    """
    for _ in range(rounds):
        now = reactor.seconds()
        due = [c for c in reactor.getDelayedCalls() if c.getTime() <= now]
        if not due:
            return
        for call in due:
            if call.active():
                reactor.calls.remove(call)
                call.called = 1
                call.func(*call.args, **call.kw)



class H2Client:
    """
    A client speaking HTTP/2 (with the C{h2} library) over a transport that
    says TLS negotiated C{h2}; it never grants more flow-control window than
    the initial one unless told to (L{acknowledge}).

    @ivar received: every C{h2} event received so far.
    """

    def __init__(self, site, reactor) -> None:
        import h2.config
        import h2.connection

        self.reactor = reactor
        self.client = SSEClient(site)
        self.transport = self.client.transport
        self.transport.negotiatedProtocol = b"h2"
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding=None))
        self.conn.initiate_connection()
        self.received: list = []
        self._flush()

    def send(self, data: bytes) -> None:
        """
        Bytes to the server (to the HTTP/2 connection once the channel has
        handed over to it).
        """
        protocol = getattr(self.transport, "protocol", None) or self.client.channel
        protocol.dataReceived(data)

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.send(data)

    def pump(self) -> list:
        """
        Run the server's due sends and read what it wrote; return the new
        events.
        """
        runDue(self.reactor)
        data = self.transport.value()
        self.transport.clear()
        events = self.conn.receive_data(data) if data else []
        self.received += events
        self._flush()
        return events

    def get(self, path: bytes = b"/events", streamId: int = 1) -> None:
        """
        Open a GET stream.
        """
        headers = [(b":method", b"GET"), (b":path", path), (b":scheme", b"https"), (b":authority", b"x")]
        self.conn.send_headers(streamId, headers, end_stream=True)
        self._flush()
        self.pump()

    def body(self, streamId: int = 1) -> bytes:
        """
        The body received on a stream so far.
        """
        return b"".join(e.data for e in self.received if getattr(e, "stream_id", None) == streamId and hasattr(e, "data"))

    def kinds(self, streamId: int = 1) -> "list[str]":
        """
        The names of the events of a stream so far.
        """
        return [type(e).__name__ for e in self.received if getattr(e, "stream_id", None) == streamId]
