"""
Fakes for the tests of the sans-I/O engine.io core: a recording session
listener, polling responders, WebSocket sinks, and a server with
predictable session ids.

Packets written by the code under test are read back here with small
decoders of our own (L{splitV4}), so a bug in the codecs of
L{rtproto.engineio._payload} cannot hide behind itself.
"""

import json

from rtproto.engineio import EngineIOOptions, EngineIOServer


class RecordingListener:
    """
    A session listener that records every call, in order, in C{calls}.
    """

    def __init__(self):
        self.calls = []

    def messageReceived(self, data):
        self.calls.append(("message", data))

    def transportUpgraded(self, transport):
        self.calls.append(("upgraded", transport))

    def connectionClosed(self, reason):
        self.calls.append(("closed", reason))

    def wantFlush(self):
        self.calls.append(("wantFlush",))

    def of(self, kind):
        """
        The recorded calls of one kind, without their kind.
        """
        return [c[1:] for c in self.calls if c[0] == kind]

    @property
    def closedWith(self):
        """
        The reasons passed to C{connectionClosed}, in order.
        """
        return [c[1] for c in self.calls if c[0] == "closed"]

    @property
    def messages(self):
        """
        The messages received, in order.
        """
        return [c[1] for c in self.calls if c[0] == "message"]


class Responder:
    """
    Stands for one polling GET: records the C{(body, contentType)} it is
    answered with.  Answering it twice is a bug in the session.
    """

    onAnswer = None

    def __init__(self):
        self.answers = []

    def __call__(self, body, contentType):
        assert not self.answers, "a polling GET answered twice"
        assert isinstance(body, bytes)
        self.answers.append((body, contentType))
        if self.onAnswer is not None:
            self.onAnswer()

    @property
    def answered(self) -> bool:
        return bool(self.answers)

    @property
    def body(self) -> bytes:
        assert self.answers, "the GET was not answered"
        return self.answers[0][0]

    @property
    def contentType(self) -> str:
        return self.answers[0][1]

    def packets(self) -> list:
        """
        The v4 payload split into its packet strings.
        """
        return splitV4(self.body)


class Sink:
    """
    A fake WebSocket transport: records frames sent and whether it was
    closed.
    """

    def __init__(self):
        self.sent = []
        self.flushes = []
        self.closed = 0
        self.closeCodes = []

    def sendText(self, text):
        assert isinstance(text, str)
        self.sent.append(text)

    def sendBinary(self, data):
        assert isinstance(data, bytes)
        self.sent.append(data)

    def flush(self):
        # How many frames had been sent at each flush.
        self.flushes.append(len(self.sent))

    def close(self, code=1000):
        self.closed += 1
        self.closeCodes.append(code)


def splitV4(body: bytes) -> list:
    """
    A v4 polling body as the list of its packet strings.
    """
    return body.decode("utf-8").split("\x1e")


def countingIds(prefix="sid"):
    """
    A C{newId} for L{EngineIOServer} returning C{sid0}, C{sid1}, ...
    """
    counter = iter(range(10**9))
    return lambda: f"{prefix}{next(counter)}"


def makeServer(**optionKw) -> EngineIOServer:
    """
    A server with the given options and ids C{sid0}, C{sid1}, ...
    """
    return EngineIOServer(EngineIOOptions(**optionKw), newId=countingIds())


def openPolling(server=None, protocol=4, now=0.0, binaryPolling=False, **optionKw):
    """
    Open a polling session and read its handshake with a first GET.

    @return: C{(server, session, listener, openPacket)}; the open packet is
        the decoded JSON.
    """
    if server is None:
        server = makeServer(**optionKw)
    listener = RecordingListener()
    session = server.openSession(protocol, "polling", listener, now, binaryPolling)
    first = Responder()
    session.pollGet(first, now)
    body = first.body.decode("utf-8")
    if protocol == 3:
        length, _, body = body.partition(":")
        assert int(length) == len(body)
    assert body[0] == "0"
    return server, session, listener, json.loads(body[1:])


def openWebSocket(server=None, protocol=4, now=0.0, **optionKw):
    """
    Open a session directly on a WebSocket sink.

    @return: C{(server, session, listener, sink, openPacket)}.
    """
    if server is None:
        server = makeServer(**optionKw)
    listener = RecordingListener()
    session = server.openSession(protocol, "websocket", listener, now)
    sink = Sink()
    session.attachWebSocket(sink)
    assert len(sink.sent) == 1 and sink.sent[0][0] == "0"
    packet = json.loads(sink.sent[0][1:])
    sink.sent.clear()
    return server, session, listener, sink, packet


def runUntil(session, until: float, start: float = 0.0) -> float:
    """
    Act like the glue's timer: call C{tick} at every deadline the session
    reports, up to C{until}.

    @return: the time of the last tick.
    """
    now = start
    while True:
        due = session.nextDeadline()
        if due is None or due > until:
            return now
        now = max(now, due)
        session.tick(now)

