"""
Helpers for the Twisted glue tests: a recording handler and a fake client
that drives a real L{twisted.web.server.Site} over a L{StringTransport}
with fake time.
"""

from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport

from rtproto.tx.site import buildSite
from rtproto.websocket import WebSocketConnection, WebSocketHandler, WebSocketOptions

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


class RecordingHandler(WebSocketHandler):
    """
    Records every call as a tuple in C{self.calls}; C{instances} collects
    every handler made.
    """

    instances: list = []

    def __init__(self):
        self.calls = []
        RecordingHandler.instances.append(self)

    def connectionOpened(self, connection):
        super().connectionOpened(connection)
        self.calls.append(("opened",))

    def textReceived(self, text):
        self.calls.append(("text", text))

    def binaryReceived(self, data):
        self.calls.append(("binary", data))

    def pongReceived(self, payload):
        self.calls.append(("pong", payload))

    def writePaused(self):
        self.calls.append(("writePaused",))

    def writeResumed(self):
        self.calls.append(("writeResumed",))

    def connectionClosed(self, code, reason, wasClean):
        self.calls.append(("closed", code, reason, wasClean))


def upgradeRequest(path="/ws", extra=(), version="13", key=KEY, method="GET") -> bytes:
    """
    The bytes of an upgrade request.
    """
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        f"Sec-WebSocket-Version: {version}",
    ]
    lines += list(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class FakeClient:
    """
    One connection to a site, with a client-side core to make and read
    frames.
    """

    def __init__(self, site, reactor):
        self.reactor = reactor
        self.transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 40000))
        self.http = site.buildProtocol(self.transport.getPeer())
        self.http.makeConnection(self.transport)
        self.sent = []
        self.core = WebSocketConnection(True, self.sent.append, maxMessageSize=0, maxFrameSize=0)

    def send(self, data: bytes) -> None:
        """
        Deliver bytes to whatever protocol now owns the transport.
        """
        proto = getattr(self.transport, "protocol", None) or self.http
        proto.dataReceived(data)

    def response(self) -> "tuple[bytes, bytes]":
        """
        The HTTP head written so far and the bytes after it.
        """
        value = self.transport.value()
        head, _, rest = value.partition(b"\r\n\r\n")
        return head, rest

    def frames(self, data: bytes) -> list:
        """
        Parse server bytes into events.
        """
        return self.core.receiveData(data)

    def sendText(self, text: str) -> None:
        """
        Send a masked text frame.
        """
        self.core.sendText(text)
        self.send(b"".join(self.sent))
        self.sent.clear()


def makeSite(handlerFactory=RecordingHandler, **optionKw):
    """
    A site with one WebSocket mount at /ws and a fake clock.
    """
    reactor = MemoryReactorClock()
    options = WebSocketOptions(**optionKw)
    site = buildSite([("/ws", handlerFactory)], options, reactor)
    return site, reactor
