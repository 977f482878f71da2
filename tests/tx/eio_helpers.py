"""
Helpers for the engine.io glue tests: a recording engine.io handler, and
fake clients that drive a real L{twisted.web.server.Site} (built by
L{buildSite} with an engine.io mount at C{/engine.io/}) over
L{StringTransport}s with a L{MemoryReactorClock}.

Every HTTP request goes on a connection of its own (L{Exchange}), like a
browser's concurrent long-polling requests; L{WebSocketClient} is one
WebSocket connection with a client-side core to make and read frames.
"""

import json
from itertools import count
from urllib.parse import urlencode

from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure

from rtproto.engineio import EngineIOHandler, EngineIOOptions
from rtproto.tx.site import buildSite
from rtproto.websocket import BinaryMessage, CloseReceived, TextMessage, WebSocketConnection

from tests.tx.helpers import upgradeRequest

MOUNT = "/engine.io/"

_ports = count(40000)


class RecordingEIOHandler(EngineIOHandler):
    """
    Records every call as a tuple in C{self.calls}; C{instances} collects
    every handler made (reset it per test).
    """

    instances: list = []

    def __init__(self):
        self.calls = []
        RecordingEIOHandler.instances.append(self)

    def connectionOpened(self, socket):
        super().connectionOpened(socket)
        self.calls.append(("opened", socket.transport))

    def messageReceived(self, data):
        self.calls.append(("message", data))

    def transportUpgraded(self, transport):
        self.calls.append(("upgraded", transport))

    def connectionClosed(self, reason):
        self.calls.append(("closed", reason))

    @property
    def messages(self):
        return [c[1] for c in self.calls if c[0] == "message"]

    @property
    def closedWith(self):
        return [c[1] for c in self.calls if c[0] == "closed"]


class EchoHandler(RecordingEIOHandler):
    """
    Sends every message back, like the handler of the protocol's test
    suite.
    """

    def messageReceived(self, data):
        super().messageReceived(data)
        self.socket.send(data)


class QuietHandler(EngineIOHandler):
    """
    A handler that records nothing and is not listed anywhere (for leak
    tests).
    """


def makeEngineIOSite(handlerFactory=RecordingEIOHandler, **optionKw):
    """
    A site with an engine.io mount at C{/engine.io/} and a fake clock.

    @return: C{(site, reactor, resource)}.
    """
    reactor = MemoryReactorClock()
    site = buildSite([], None, reactor, engineio=[(MOUNT, handlerFactory)], engineioOptions=EngineIOOptions(**optionKw))
    resource = site.resource.children[b"engine.io"]
    return site, reactor, resource


def query(**params) -> str:
    """
    A query string; C{None} values are left out.
    """
    return urlencode({k: v for k, v in params.items() if v is not None})


class Exchange:
    """
    One HTTP request on a connection of its own, and its response.
    """

    def __init__(self, site, raw: bytes):
        self.transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", next(_ports)))
        self.http = site.buildProtocol(self.transport.getPeer())
        self.http.makeConnection(self.transport)
        self.lost = False
        self.http.dataReceived(raw)

    def _parse(self):
        value = self.transport.value()
        head, sep, rest = value.partition(b"\r\n\r\n")
        if not sep:
            return None
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, val = line.partition(b":")
            headers.setdefault(name.strip().lower().decode("latin-1"), []).append(val.strip().decode("latin-1"))
        if status == 101:
            return status, headers, b""
        if "content-length" in headers:
            n = int(headers["content-length"][0])
            if len(rest) < n:
                return None
            return status, headers, rest[:n]
        if headers.get("transfer-encoding") == ["chunked"]:
            body, pos = b"", 0
            while True:
                eol = rest.find(b"\r\n", pos)
                if eol < 0:
                    return None
                size = int(rest[pos:eol].split(b";")[0], 16)
                if size == 0:
                    return status, headers, body
                if len(rest) < eol + 2 + size + 2:
                    return None
                body += rest[eol + 2 : eol + 2 + size]
                pos = eol + 2 + size + 2
        return None

    @property
    def done(self) -> bool:
        """
        Whether the whole response has arrived.
        """
        return self._parse() is not None

    def _response(self):
        parsed = self._parse()
        assert parsed is not None, f"no complete response yet: {self.transport.value()!r}"
        return parsed

    @property
    def status(self) -> int:
        return self._response()[0]

    @property
    def headers(self) -> dict:
        """
        Response headers: lower-case name to a list of values.
        """
        return self._response()[1]

    def header(self, name: str):
        """
        The one value of a response header, or L{None}.
        """
        values = self.headers.get(name.lower())
        if values is None:
            return None
        assert len(values) == 1, values
        return values[0]

    @property
    def body(self) -> bytes:
        return self._response()[2]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self):
        assert self.header("content-type") == "application/json"
        return json.loads(self.body)

    def packets(self) -> list:
        """
        The packets of a v4 polling response, as strings.
        """
        return self.text.split("\x1e")

    def lose(self) -> None:
        """
        The client drops the connection.
        """
        if not self.lost:
            self.lost = True
            self.http.connectionLost(Failure(ConnectionDone()))


class EngineIOClient:
    """
    Makes engine.io HTTP requests to a site, each on its own connection.
    """

    def __init__(self, site, reactor, protocol: int = 4):
        self.site = site
        self.reactor = reactor
        self.protocol = protocol
        self.sid = None
        self.exchanges = []

    def request(self, method: str, params: dict, body: bytes = b"", headers=(), path=MOUNT) -> Exchange:
        """
        Send one request with the query C{params}.
        """
        target = path + ("?" + query(**params) if params else "")
        lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
        lines += list(headers)
        if body or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        exchange = Exchange(self.site, raw)
        self.exchanges.append(exchange)
        return exchange

    def params(self, **extra) -> dict:
        params = {"EIO": str(self.protocol), "transport": "polling", "sid": self.sid}
        params.update(extra)
        return params

    def handshake(self, **extra) -> dict:
        """
        Open a polling session; remember its sid; return the open packet.
        """
        exchange = self.request("GET", self.params(sid=None, **extra))
        assert exchange.status == 200, exchange.body
        text = exchange.text
        if "j" in extra:
            prefix = f'___eio[{extra["j"]}]('
            assert text.startswith(prefix) and text.endswith(");"), text
            text = json.loads(text[len(prefix) : -2])
        if self.protocol == 3:
            length, _, text = text.partition(":")
            assert int(length) == len(text)
        assert text[0] == "0", text
        packet = json.loads(text[1:])
        self.sid = packet["sid"]
        exchange.lose()
        return packet

    def get(self, headers=(), **extra) -> Exchange:
        """
        A polling GET of the session.
        """
        return self.request("GET", self.params(**extra), headers=headers)

    def post(self, body, headers=(), **extra) -> Exchange:
        """
        A polling POST of the session.
        """
        if isinstance(body, str):
            body = body.encode("utf-8")
        return self.request("POST", self.params(**extra), body, headers)

    def closeAll(self) -> None:
        """
        Drop every connection this client made.
        """
        for exchange in self.exchanges:
            exchange.lose()
        self.exchanges.clear()


class WebSocketClient:
    """
    One WebSocket connection to the engine.io mount.
    """

    def __init__(self, site, reactor, params: dict, extra=()):
        self.reactor = reactor
        self.transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", next(_ports)))
        self.http = site.buildProtocol(self.transport.getPeer())
        self.http.makeConnection(self.transport)
        self.out = []
        self.core = WebSocketConnection(True, self.out.append, maxMessageSize=0, maxFrameSize=0)
        self.closes = []
        self.lost = False
        self.http.dataReceived(upgradeRequest(MOUNT + "?" + query(**params), extra=extra))
        head, _, rest = self.transport.value().partition(b"\r\n\r\n")
        self.head = head
        self._pending = rest
        self.transport.clear()

    @property
    def status(self) -> int:
        return int(self.head.split(b" ")[1])

    def _deliver(self, data: bytes) -> None:
        proto = getattr(self.transport, "protocol", None) or self.http
        proto.dataReceived(data)

    def messages(self) -> list:
        """
        The messages the server sent since the last call: L{str} for text
        frames, L{bytes} for binary ones; close frames go to C{closes}.
        """
        data = self._pending + self.transport.value()
        self._pending = b""
        self.transport.clear()
        result = []
        for event in self.core.receiveData(data):
            if isinstance(event, (TextMessage, BinaryMessage)):
                result.append(event.data)
            elif isinstance(event, CloseReceived):
                self.closes.append((event.code, event.reason))
        # The core may have queued an answer (a close echo).
        self._flushOut()
        return result

    def _flushOut(self) -> None:
        if self.out and not self.lost:
            data = b"".join(self.out)
            self.out.clear()
            self._deliver(data)

    def sendText(self, text: str) -> None:
        self.core.sendText(text)
        self._flushOut()

    def sendBinary(self, data: bytes) -> None:
        self.core.sendBinary(data)
        self._flushOut()

    def close(self, code=1000) -> None:
        """
        Start the WebSocket closing handshake.
        """
        self.core.close(code)
        self._flushOut()

    @property
    def disconnecting(self) -> bool:
        return self.transport.disconnecting

    def lose(self) -> None:
        """
        The connection drops.
        """
        if not self.lost:
            self.lost = True
            proto = getattr(self.transport, "protocol", None) or self.http
            proto.connectionLost(Failure(ConnectionDone()))
