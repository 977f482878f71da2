"""
Shared machinery of the interop tests: bounded waits, peer processes,
an rtproto server under test with recording handlers, and rtproto client
helpers.

Every wait here is bounded (L{WAIT} seconds by default) and fails with an
L{AssertionError} naming what was awaited; nothing sleeps or polls.
"""

import json
import os
import sys
from pathlib import Path

from twisted.internet import defer
from twisted.internet.defer import Deferred, DeferredQueue
from twisted.internet.protocol import ProcessProtocol
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory

from rtproto.errors import ConnectionDeny
from rtproto.plugins.echo import EchoHandler
from rtproto.tx import buildSite, connect
from rtproto.websocket import WebSocketHandler, WebSocketOptions

from .peers.payloads import makePayload

HOST = "127.0.0.1"
PEERS = Path(__file__).resolve().parent / "peers"
WAIT = 30.0
"""Seconds any single wait may take before the test fails."""

PREFERENCE = ("superchat", "chat")
"""The subprotocols every server in these tests picks, in this order."""

BIG_LIMITS = dict(maxMessageSize=8 << 20, maxFrameSize=8 << 20)
"""Options letting 2 MB messages through, whatever their framing."""


def within(reactor, d: Deferred, what: str, seconds: float = WAIT) -> Deferred:
    """
    Bound C{d}: fail it with an L{AssertionError} saying C{what} did not
    happen if it has not fired after C{seconds}.  C{d} is consumed: pass a
    Deferred nobody else waits on.
    """

    def timedOut(failure):
        """
        Turn the timeout into a readable assertion.
        """
        failure.trap(defer.TimeoutError)
        raise AssertionError(f"timed out after {seconds:g}s waiting for {what}")

    return d.addTimeout(seconds, reactor).addErrback(timedOut)


class OneShot:
    """
    A value that is set once and can be waited for any number of times,
    each wait with a Deferred of its own (so each can have a timeout).
    """

    def __init__(self) -> None:
        self._waiters: "list[Deferred]" = []
        self.fired = False
        self.value = None

    def fire(self, value=None) -> None:
        """
        Set the value (the first time only) and wake every waiter.
        """
        if self.fired:
            return
        self.fired, self.value = True, value
        waiters, self._waiters = self._waiters, []
        for d in waiters:
            d.callback(value)

    def wait(self) -> Deferred:
        """
        A new Deferred firing with the value.
        """
        if self.fired:
            return defer.succeed(self.value)
        d = Deferred(lambda d: self._waiters.remove(d))
        self._waiters.append(d)
        return d


# ---------------------------------------------------------------------------
# peer processes


class PeerProcess(ProcessProtocol):
    """
    A peer program under C{peers/}, run with this interpreter, whose
    stdout is a stream of JSON lines.

    @ivar events: every JSON object printed so far.
    """

    def __init__(self, reactor, script: str, args: "list[str]") -> None:
        self.reactor = reactor
        self.script = script
        self.args = list(args)
        self.events: "list[dict]" = []
        self._queue: DeferredQueue = DeferredQueue()
        self._buffer = b""
        self._stderr = b""
        self._ended = OneShot()
        self.exitCode: "int | None" = None

    def start(self) -> "PeerProcess":
        """
        Spawn the program (stdin a pipe we may close, stdout/stderr read).
        """
        argv = [sys.executable, "-u", str(PEERS / self.script), *self.args]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.reactor.spawnProcess(self, sys.executable, argv, env=env, path=str(PEERS))
        return self

    def outReceived(self, data: bytes) -> None:
        """
        Split stdout into lines; queue each JSON object.
        """
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            if line.strip():
                event = json.loads(line)
                self.events.append(event)
                self._queue.put(event)

    def errReceived(self, data: bytes) -> None:
        """
        Keep the tail of stderr for failure messages.
        """
        self._stderr = (self._stderr + data)[-20000:]

    def processEnded(self, reason) -> None:
        """
        Remember the exit code and wake whoever waits for the end.
        """
        self.exitCode = getattr(reason.value, "exitCode", None)
        self._ended.fire(self.exitCode)

    @property
    def running(self) -> bool:
        """
        Whether the process has not ended yet.
        """
        return not self._ended.fired

    def describe(self) -> str:
        """
        The program, its events so far and its stderr, for failure messages.
        """
        stderr = self._stderr.decode("utf-8", "replace")
        return f"{self.script} {self.args!r}\nevents: {self.events!r}\nstderr:\n{stderr}"

    async def nextEvent(self, what: str = "the next event") -> dict:
        """
        The next JSON object the peer prints (bounded wait).
        """
        try:
            return await within(self.reactor, self._queue.get(), f"{what} from {self.script}")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.describe()}") from None

    async def finished(self) -> "list[dict]":
        """
        Wait for the program to exit by itself; return all its events.
        """
        try:
            await within(self.reactor, self._ended.wait(), f"{self.script} to exit")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.describe()}") from None
        assert self.exitCode == 0, f"peer failed with exit code {self.exitCode}\n{self.describe()}"
        return self.events

    async def stop(self) -> None:
        """
        Close its stdin (the peers' signal to stop) and wait; kill it by its
        own process handle if it does not exit in time.
        """
        if not self.running:
            return
        self.transport.closeStdin()
        try:
            await within(self.reactor, self._ended.wait(), f"{self.script} to stop", 10.0)
        except AssertionError:
            if self.running:
                self.transport.signalProcess("KILL")
                await within(self.reactor, self._ended.wait(), f"{self.script} to die", 10.0)


def eventsOf(events: "list[dict]", key: str, value: str) -> "list[dict]":
    """
    The events whose C{key} is C{value} (e.g. C{"op", "echo"}).
    """
    return [e for e in events if e.get(key) == value]


# ---------------------------------------------------------------------------
# the rtproto server under test


class _CountingProtocol(ProtocolWrapper):
    """
    Counts the bytes of one connection, both ways, into its factory.
    """

    def dataReceived(self, data: bytes) -> None:
        """
        Count incoming bytes.
        """
        self.factory.bytesIn += len(data)
        super().dataReceived(data)

    def write(self, data: bytes) -> None:
        """
        Count outgoing bytes.
        """
        self.factory.bytesOut += len(data)
        super().write(data)

    def writeSequence(self, data) -> None:
        """
        Count outgoing bytes.
        """
        data = list(data)
        self.factory.bytesOut += sum(len(d) for d in data)
        super().writeSequence(data)


class CountingFactory(WrappingFactory):
    """
    Wraps a site to count the bytes on the wire, so a test can tell whether
    messages were really compressed.  rtproto must (and does, through
    C{replaceProtocol}) take over connections under such wrappers.
    """

    protocol = _CountingProtocol
    bytesIn = 0
    bytesOut = 0


class _RecordsClose:
    """
    Mixin for handlers: announce the open connection to C{onOpen} and
    record how it closed.

    @ivar closedWith: the C{(code, reason, wasClean)} of
        C{connectionClosed}, once it was called.
    """

    def _initRecording(self, onOpen) -> None:
        """
        Set up the recording state (called from each C{__init__}).
        """
        self._onOpen = onOpen
        self.closedWith = None
        self._closed = OneShot()

    def connectionOpened(self, connection) -> None:
        """
        Remember the connection and announce it.
        """
        self.connection = connection
        if self._onOpen is not None:
            self._onOpen(self)

    def connectionClosed(self, code, reason, wasClean) -> None:
        """
        Record the close.
        """
        self.closedWith = (code, reason, wasClean)
        self._closed.fire(self.closedWith)

    def whenClosed(self) -> Deferred:
        """
        A new Deferred firing with C{(code, reason, wasClean)}.
        """
        return self._closed.wait()

    @property
    def isClosed(self) -> bool:
        """
        Whether C{connectionClosed} was called.
        """
        return self._closed.fired


class RecordingHandler(_RecordsClose, WebSocketHandler):
    """
    A handler that records what happens to its connection.

    @ivar messages: received messages (str or bytes), in order.
    @ivar pongs: received pong payloads.
    """

    def __init__(self, onOpen=None) -> None:
        self._initRecording(onOpen)
        self.messages: DeferredQueue = DeferredQueue()
        self.pongs: DeferredQueue = DeferredQueue()

    def textReceived(self, text: str) -> None:
        """
        Record a text message.
        """
        self.messages.put(text)

    def binaryReceived(self, data: bytes) -> None:
        """
        Record a binary message.
        """
        self.messages.put(data)

    def pongReceived(self, payload: bytes) -> None:
        """
        Record a pong.
        """
        self.pongs.put(payload)


class RecordingEcho(_RecordsClose, EchoHandler):
    """
    The built-in echo handler, also recording how its connection closed.
    """

    def __init__(self, onOpen=None) -> None:
        self._initRecording(onOpen)


class CommandHandler(RecordingHandler):
    """
    Mounted at C{/cmd}: picks a subprotocol from L{PREFERENCE}, records
    messages, and obeys JSON text commands prefixed with C{"cmd "}:
    C{{"close": [code, reason]}}, C{{"send": <payload description>}},
    C{{"ping": "payload"}}.
    """

    def handshake(self, request):
        """
        Choose our preferred subprotocol among those offered.
        """
        for name in PREFERENCE:
            if name in request.subprotocols:
                return name
        return None

    def textReceived(self, text: str) -> None:
        """
        Obey commands; record everything else.
        """
        if not text.startswith("cmd "):
            return super().textReceived(text)
        command = json.loads(text[4:])
        if "close" in command:
            code, reason = command["close"]
            self.connection.close(code, reason)
        elif "send" in command:
            message = makePayload(command["send"])
            if isinstance(message, str):
                self.connection.sendText(message)
            else:
                self.connection.sendBinary(message)
        elif "ping" in command:
            self.connection.ping(command["ping"].encode("utf-8"))


def command(**cmd) -> str:
    """
    The text message that makes a L{CommandHandler} (or the C{/cmd} path of
    the peer servers, without the prefix) do C{cmd}.
    """
    return "cmd " + json.dumps(cmd)


class DenyHandler(WebSocketHandler):
    """
    Mounted at C{/deny}: refuses every handshake with 403 "nope".
    """

    def handshake(self, request):
        """
        Refuse.
        """
        raise ConnectionDeny(403, "nope")


class LateDenyHandler(WebSocketHandler):
    """
    Mounted at C{/deny-later}: refuses with 403 "nope" from a Deferred that
    fires on a later reactor turn.
    """

    def __init__(self, reactor) -> None:
        self.reactor = reactor

    def handshake(self, request):
        """
        Refuse, asynchronously.
        """
        d = Deferred()
        self.reactor.callLater(0, d.errback, ConnectionDeny(403, "nope"))
        return d


class ServerUnderTest:
    """
    An rtproto site on an ephemeral port of 127.0.0.1 (plain TCP, wrapped
    in a L{CountingFactory}; or TLS through an endpoint string), serving:

      - C{/echo}: the built-in echo handler (L{RecordingEcho});
      - C{/cmd}: L{CommandHandler};
      - C{/deny}, C{/deny-later}: L{DenyHandler}, L{LateDenyHandler}.

    @ivar opened: a queue of the handlers whose connections opened.
    @ivar handlers: every handler made.
    """

    def __init__(self, reactor, options: "WebSocketOptions | None" = None, tlsEndpoint: "str | None" = None):
        self.reactor = reactor
        self.options = options or WebSocketOptions()
        self.tlsEndpoint = tlsEndpoint
        self.opened: DeferredQueue = DeferredQueue()
        self.handlers: list = []
        self.counter: "CountingFactory | None" = None
        self.port = None
        self.portNumber = None

    def _make(self, build):
        """
        Wrap a handler constructor so every handler made is remembered.
        """
        def factory():
            """
            Make, remember and return a handler.
            """
            handler = build()
            self.handlers.append(handler)
            return handler

        return factory

    async def start(self) -> "ServerUnderTest":
        """
        Build the site and listen.
        """
        site = buildSite(
            [
                ("/echo", self._make(lambda: RecordingEcho(self.opened.put))),
                ("/cmd", self._make(lambda: CommandHandler(self.opened.put))),
                ("/deny", self._make(DenyHandler)),
                ("/deny-later", self._make(lambda: LateDenyHandler(self.reactor))),
            ],
            self.options,
            self.reactor,
        )
        if self.tlsEndpoint is None:
            self.counter = CountingFactory(site)
            self.port = self.reactor.listenTCP(0, self.counter, interface=HOST)
        else:
            from twisted.internet.endpoints import serverFromString

            endpoint = serverFromString(self.reactor, self.tlsEndpoint)
            self.port = await within(self.reactor, endpoint.listen(site), "the TLS server to listen")
        self.portNumber = self.port.getHost().port
        return self

    def url(self, path: str, scheme: str = "ws", host: str = HOST) -> str:
        """
        The URL of C{path} on this server.
        """
        return f"{scheme}://{host}:{self.portNumber}{path}"

    async def nextOpened(self):
        """
        The handler of the next connection to open (bounded wait).
        """
        return await within(self.reactor, self.opened.get(), "a connection to open on the rtproto server")

    async def stop(self) -> None:
        """
        Drop every connection still open and stop listening.
        """
        for handler in self.handlers:
            connection = getattr(handler, "connection", None)
            if connection is not None and not handler.isClosed:
                connection.abort()
                await within(self.reactor, handler.whenClosed(), "an aborted server connection to close", 10.0)
        if self.port is not None:
            await within(self.reactor, defer.maybeDeferred(self.port.stopListening), "the server to stop listening", 10.0)


# ---------------------------------------------------------------------------
# the rtproto client


async def openClient(reactor, url: str, options: "WebSocketOptions | None" = None, **kwargs):
    """
    Connect rtproto's client with a fresh L{RecordingHandler}.

    @return: C{(connection, handler)}.
    """
    handler = RecordingHandler()
    connection = await within(
        reactor,
        connect(url, lambda: handler, reactor=reactor, options=options or WebSocketOptions(), **kwargs),
        f"rtproto's client to connect to {url}",
    )
    return connection, handler


async def expectMessage(reactor, handler: RecordingHandler, what: str = "a message"):
    """
    The next message a L{RecordingHandler} receives (bounded wait).
    """
    return await within(reactor, handler.messages.get(), what)


async def expectClosed(reactor, handler, what: str = "the connection to close"):
    """
    The C{(code, reason, wasClean)} of a handler's close (bounded wait).
    """
    return await within(reactor, handler.whenClosed(), what)


def send(connection, message) -> None:
    """
    Send C{message} as text or binary according to its type.
    """
    if isinstance(message, str):
        connection.sendText(message)
    else:
        connection.sendBinary(message)


async def echoAll(reactor, connection, handler, cases) -> "list[str]":
    """
    Send each C{(name, description)} case and compare the echo.

    @return: a description of every mismatch (empty when all matched).
    """
    problems = []
    for name, spec in cases:
        message = makePayload(spec)
        send(connection, message)
        got = await expectMessage(reactor, handler, f"the echo of {name}")
        if type(got) is not type(message):
            problems.append(f"{name}: sent {type(message).__name__}, got {type(got).__name__}")
        elif got != message:
            problems.append(f"{name}: echo differs (sent {len(message)}, got {len(got)})")
    return problems
