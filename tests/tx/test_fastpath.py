"""
Tests for L{rtproto.tx._fastpath}: plain HTTP/1.1 requests to an engine.io
mount are served by the channel's fast path, everything else by
C{twisted.web}, with the same answers either way.
"""

import json

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from twisted.web.http_headers import Headers

from rtproto.tx._fastpath import parseQuery, parseQueryText
from tests.tx.eio_helpers import EchoHandler, RecordingEIOHandler, makeEngineIOSite


class Connection:
    """
    One client connection to the site, speaking raw HTTP.
    """

    def __init__(self, site):
        self.transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 41000))
        self.channel = site.buildProtocol(self.transport.getPeer())
        self.channel.makeConnection(self.transport)

    def send(self, data: bytes) -> None:
        self.channel.dataReceived(data)

    def responses(self) -> list:
        """
        Every complete response so far: C{(status, headers, body)}.
        """
        out, data = [], self.transport.value()
        while data:
            head, sep, rest = data.partition(b"\r\n\r\n")
            if not sep:
                break
            lines = head.split(b"\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            status = int(lines[0].split(b" ")[1])
            if status < 200:
                data = rest
                continue
            if b"content-length" in headers:
                n = int(headers[b"content-length"])
                body, data = rest[:n], rest[n:]
            elif headers.get(b"transfer-encoding") == b"chunked":
                body, data = self._dechunk(rest)
            else:
                body, data = rest, b""
            out.append((status, headers, body))
        return out

    @staticmethod
    def _dechunk(data: bytes):
        body = b""
        while True:
            size, _, data = data.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                return body, data[2:]
            body, data = body + data[:n], data[n + 2 :]

    def lose(self) -> None:
        self.channel.connectionLost(Failure(ConnectionDone()))


def get(target: bytes, extra: bytes = b"", version: bytes = b"HTTP/1.1") -> bytes:
    return b"GET " + target + b" " + version + b"\r\nHost: 127.0.0.1\r\n" + extra + b"\r\n"


def post(target: bytes, body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"POST " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n" % len(body)
        + extra + b"\r\n" + body
    )


HANDSHAKE = b"/engine.io/?EIO=4&transport=polling"


def openSession(site) -> str:
    conn = Connection(site)
    conn.send(get(HANDSHAKE))
    [(status, _, body)] = conn.responses()
    assert status == 200
    return json.loads(body[1:])["sid"]


class TestFastPathTaken:
    """
    Plain HTTP/1.1 requests for an engine.io mount stay on the fast path.
    """

    def test_handshakeOnFastPath(self):
        site, reactor, resource = makeEngineIOSite()
        conn = Connection(site)
        conn.send(get(HANDSHAKE))
        [(status, headers, body)] = conn.responses()
        assert conn.channel._fast
        assert status == 200
        assert headers[b"content-type"] == b"text/plain; charset=UTF-8"
        assert b"date" in headers
        assert body.startswith(b"0{")
        assert b"\r\nContent-Type: text/plain" in conn.transport.value()

    def test_emptyHeaderValueAndNoHeaders(self):
        site, reactor, resource = makeEngineIOSite()
        for raw in (get(HANDSHAKE, b"X-Empty:\r\n"), b"GET " + HANDSHAKE + b" HTTP/1.1\r\n\r\n"):
            conn = Connection(site)
            conn.send(raw)
            [(status, _, body)] = conn.responses()
            assert conn.channel._fast and status == 200 and body.startswith(b"0{")

    def test_mountWithoutTrailingSlash(self):
        site, reactor, resource = makeEngineIOSite()
        conn = Connection(site)
        conn.send(get(b"/engine.io?EIO=4&transport=polling"))
        [(status, _, body)] = conn.responses()
        assert conn.channel._fast and status == 200

    def test_keepAliveSeveralRequests(self):
        """
        One connection carries a handshake, a POST and a GET in turn.
        """
        site, reactor, resource = makeEngineIOSite(handlerFactory=EchoHandler)
        conn = Connection(site)
        conn.send(get(HANDSHAKE))
        sid = json.loads(conn.responses()[0][2][1:])["sid"].encode()
        target = HANDSHAKE + b"&sid=" + sid
        conn.send(post(target, b"4hello"))
        reactor.advance(0)
        conn.send(get(target))
        reactor.advance(0)
        responses = conn.responses()
        assert [r[2] for r in responses[1:]] == [b"ok", b"4hello"]
        assert conn.channel._fast

    def test_headAndBodyInPieces(self):
        site, reactor, resource = makeEngineIOSite()
        sid = openSession(site).encode()
        conn = Connection(site)
        raw = post(HANDSHAKE + b"&sid=" + sid, b"4abc\x1e4def")
        for i in range(len(raw)):
            conn.send(raw[i : i + 1])
        [(status, _, body)] = conn.responses()
        assert (status, body) == (200, b"ok")
        [handler] = RecordingEIOHandler.instances[-1:]
        assert handler.messages == ["abc", "def"]

    def test_pipelinedRequestsAnsweredInOrder(self):
        """
        A request sent before the previous answer waits for it.
        """
        site, reactor, resource = makeEngineIOSite(handlerFactory=EchoHandler)
        sid = openSession(site).encode()
        target = HANDSHAKE + b"&sid=" + sid
        conn = Connection(site)
        conn.send(get(target) + post(target, b"4x"))
        # The GET is held; the POST waits behind it on this connection.
        assert conn.responses() == []
        other = Connection(site)
        other.send(post(target, b"4y"))
        reactor.advance(0)
        bodies = [r[2] for r in conn.responses()]
        assert bodies == [b"4y", b"ok"]

    def test_connectionClose(self):
        site, reactor, resource = makeEngineIOSite()
        conn = Connection(site)
        conn.send(get(HANDSHAKE, b"Connection: close\r\n"))
        [(status, headers, _)] = conn.responses()
        assert headers[b"connection"] == b"close"
        assert conn.transport.disconnecting

    def test_lostHeldGetClosesSession(self):
        site, reactor, resource = makeEngineIOSite()
        sid = openSession(site)
        conn = Connection(site)
        conn.send(get(HANDSHAKE + b"&sid=" + sid.encode()))
        assert conn.responses() == []
        conn.lose()
        assert sid not in resource.engine.sessions
        assert RecordingEIOHandler.instances[-1].closedWith == ["transport close"]

    def test_headerDeadline(self):
        """
        A head that does not complete within the header timeout loses the
        connection.
        """
        site, reactor, resource = makeEngineIOSite()
        conn = Connection(site)
        conn.send(b"GET /engine.io/?EIO=4 HTTP/1.1\r\n")
        reactor.advance(60)
        assert conn.transport.disconnecting

    def test_noTimeoutWhileHeld(self):
        site, reactor, resource = makeEngineIOSite(pingInterval=1000, pingTimeout=1000)
        sid = openSession(site)
        conn = Connection(site)
        conn.send(get(HANDSHAKE + b"&sid=" + sid.encode()))
        reactor.advance(500)
        assert not conn.transport.disconnecting


class TestFallback:
    """
    Anything unusual goes to C{twisted.web}, which answers it the same way.
    """

    def check(self, raw: bytes, status: int = 200):
        site, reactor, resource = makeEngineIOSite()
        conn = Connection(site)
        conn.send(raw)
        responses = conn.responses()
        assert not conn.channel._fast
        assert responses[0][0] == status
        return responses[0]

    def test_http10(self):
        status, headers, body = self.check(get(HANDSHAKE, version=b"HTTP/1.0"))
        assert body.startswith(b"0{")

    def test_otherPath(self):
        self.check(get(b"/elsewhere"), 404)

    def test_chunkedBody(self):
        raw = b"POST " + HANDSHAKE + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        status, _, body = self.check(raw, 400)
        assert json.loads(body)["code"] == 2

    def test_expectContinue(self):
        self.check(get(HANDSHAKE, b"Expect: 100-continue\r\n"))

    def test_repeatedHeader(self):
        self.check(get(HANDSHAKE, b"Origin: a\r\nOrigin: b\r\n"))

    def test_foldedHeader(self):
        self.check(get(HANDSHAKE, b"X-A: 1\r\n  continued\r\n"))

    def test_spaceBeforeColonIsRefusedByTwisted(self):
        self.check(get(HANDSHAKE, b"X-A : 1\r\n"), 400)

    @pytest.mark.parametrize("line", [b"X@A: 1\r\n", b": no name\r\n", b"X-A: 1\nX-B: 2\r\n"])
    def test_malformedHeaderLinesAreTwisted(self, line):
        """
        A header name that is not a token, an empty one, or a bare LF: the
        fast path leaves the request to C{twisted.web}, which refuses it.
        """
        self.check(get(HANDSHAKE, line), 400)

    def test_oversizedHead(self):
        """
        A head over 16 KiB goes to C{twisted.web}, which drops the
        connection.
        """
        site, reactor, resource = makeEngineIOSite()
        conn = Connection(site)
        conn.send(get(HANDSHAKE, b"X-Big: " + b"a" * 20000 + b"\r\n"))
        assert not conn.channel._fast
        assert conn.transport.disconnecting
        assert resource.engine.sessions == {}

    def test_bodyOverLimit(self):
        """
        A declared body over the limit goes to C{twisted.web}, which keeps
        none of it; the resource answers 413 and closes the session.
        """
        site, reactor, resource = makeEngineIOSite(maxHttpBufferSize=100)
        sid = openSession(site)
        conn = Connection(site)
        conn.send(post(HANDSHAKE + b"&sid=" + sid.encode(), b"4" + b"a" * 200))
        [(status, _, _)] = conn.responses()
        assert status == 413
        assert sid not in resource.engine.sessions


class TestParseQuery:
    """
    L{parseQuery} reads query strings like L{twisted.web.http.parse_qs}.
    """

    def test_plain(self):
        assert parseQuery(b"EIO=4&transport=polling") == {b"EIO": [b"4"], b"transport": [b"polling"]}

    def test_escapes(self):
        assert parseQuery(b"a=%20b+c&%41=1") == {b"a": [b" b c"], b"A": [b"1"]}

    def test_repeatedAndEmpty(self):
        assert parseQuery(b"a=1&&a=2&b") == {b"a": [b"1", b"2"], b"b": [b""]}


class TestParseQueryText:
    """
    L{parseQueryText}: the first value of each parameter, as L{str}.
    """

    @pytest.mark.parametrize(
        "query",
        [b"", b"EIO=4&transport=polling", b"a=%20b+c&%41=1", b"a=1&&a=2&b", b"sid=%C3%A9&x=\xc3\xa9", b"=v&k="],
    )
    def test_sameAsParseQueryDecoded(self, query):
        expected = {k.decode("utf-8"): v[0].decode("utf-8") for k, v in parseQuery(query).items()}
        assert parseQueryText(query) == expected

    def test_firstValueWins(self):
        assert parseQueryText(b"a=1&a=2") == {"a": "1"}

    @pytest.mark.parametrize("query", [b"a=\xff", b"a=%FF", b"\xfe=1"])
    def test_notUtf8(self, query):
        with pytest.raises(UnicodeDecodeError):
            parseQueryText(query)

    def test_none(self):
        assert parseQuery(b"") == {}


class TestGracefulStop:
    """
    Stopping the service closes every engine.io session.
    """

    def test_heldGetReleased(self):
        """
        A held GET is answered with a noop, not a close packet (after which
        python-engineio would not reconnect); the session is gone, so the
        client's next GET is refused and it reconnects.
        """
        from rtproto.tap import GracefulStop

        site, reactor, resource = makeEngineIOSite()
        sid = openSession(site)
        conn = Connection(site)
        conn.send(get(HANDSHAKE + b"&sid=" + sid.encode()))
        GracefulStop(site, reactor, 1.0).stopService()
        [(status, _, body)] = conn.responses()
        assert (status, body) == (200, b"6")
        assert resource.engine.sessions == {}
        conn.send(get(HANDSHAKE + b"&sid=" + sid.encode()))
        [_, (status, _, body)] = conn.responses()
        assert status == 400 and b'"code": 1' in body.replace(b'"code":1', b'"code": 1')


    def test_bufferedWaitsForTheNextGet(self):
        """
        A polling client between two GETs gets what was sent to it with
        its next GET, and the stop waits for that; the GET after it finds no
        session.
        """
        from rtproto.tap import GracefulStop

        site, reactor, resource = makeEngineIOSite()
        sid = openSession(site)
        handler = RecordingEIOHandler.instances[-1]
        handler.socket.send("last words")
        stopped = []
        GracefulStop(site, reactor, 5.0).stopService().addCallback(stopped.append)
        assert stopped == [] and handler.closedWith == []
        conn = Connection(site)
        conn.send(post(HANDSHAKE + b"&sid=" + sid.encode(), b"4too late"))
        conn.send(get(HANDSHAKE + b"&sid=" + sid.encode()))
        [(postStatus, _, _), (status, _, body)] = conn.responses()
        assert postStatus == 400 and handler.messages == []
        assert (status, body) == (200, b"4last words")
        assert len(stopped) == 1
        assert handler.closedWith == ["server shutting down"]
        assert resource.engine.sessions == {}
        conn.send(get(HANDSHAKE + b"&sid=" + sid.encode()))
        assert conn.responses()[-1][0] == 400
        assert sessionTimers(reactor) == []

    def test_bufferedDroppedAtTheTimeout(self):
        from rtproto.tap import GracefulStop

        site, reactor, resource = makeEngineIOSite()
        openSession(site)
        handler = RecordingEIOHandler.instances[-1]
        handler.socket.send("unfetched")
        stopped = []
        GracefulStop(site, reactor, 2.0).stopService().addCallback(stopped.append)
        reactor.advance(1.9)
        assert stopped == []
        reactor.advance(0.1)
        assert len(stopped) == 1
        assert handler.closedWith == ["server shutting down"]
        assert resource.engine.sessions == {}
        assert sessionTimers(reactor) == []


def sessionTimers(reactor) -> list:
    """
    The pending timers but the HTTP connections' idle timeouts.
    """
    return [c for c in reactor.getDelayedCalls() if "TimeoutMixin" not in repr(c)]


class TestWebSocketTakeover:
    """
    A WebSocket upgrade to an engine.io path is taken over from the fast
    path, with the bytes that came with it.
    """

    def test_framesInTheSameRead(self):
        from rtproto.websocket import TextMessage, WebSocketConnection
        from tests.tx.helpers import upgradeRequest

        site, reactor, resource = makeEngineIOSite(handlerFactory=EchoHandler)
        conn = Connection(site)
        out = []
        client = WebSocketConnection(True, out.append, maxMessageSize=0, maxFrameSize=0)
        client.sendText("4hello")
        conn.send(upgradeRequest("/engine.io/?EIO=4&transport=websocket") + b"".join(out))
        assert not conn.channel._fast and conn.channel._fastRequest is None
        head, _, rest = conn.transport.value().partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 ")
        texts = [e.data for e in client.receiveData(rest) if isinstance(e, TextMessage)]
        assert texts[0].startswith("0{") and texts[1:] == ["4hello"]
        assert RecordingEIOHandler.instances[-1].messages == ["hello"]

    def test_upgradeWithABodyFallsBack(self):
        from tests.tx.helpers import upgradeRequest

        site, reactor, resource = makeEngineIOSite()
        conn = Connection(site)
        raw = upgradeRequest("/engine.io/?EIO=4&transport=websocket", extra=["Content-Length: 0"])
        conn.send(raw)
        assert not conn.channel._fast
        assert conn.transport.value().startswith(b"HTTP/1.1 101 ")


class TestRequestSnapshots:
    """
    The request a handler sees (L{EngineIORequest} for a polling session,
    L{HandshakeRequest} for a WebSocket one) reads the fast request's own
    headers: L{Headers} made on first read, with the same values.
    """

    def test_pollingSession(self):
        site, reactor, resource = makeEngineIOSite()
        conn = Connection(site)
        conn.send(get(HANDSHAKE, b"X-Token: abc\r\nCookie: a=1\r\n"))
        request = RecordingEIOHandler.instances[-1].socket.request
        assert request._headers.__class__ is dict
        headers = request.headers
        assert isinstance(headers, Headers)
        assert headers.getRawHeaders(b"x-token") == [b"abc"]
        assert headers.getRawHeaders("cookie") == ["a=1"]
        assert request.headers is headers
        assert request.args[b"transport"] == [b"polling"]
        assert request.isSecure is False
        assert request.peer == conn.transport.getPeer()

    def test_webSocketSession(self):
        from tests.tx.helpers import upgradeRequest

        site, reactor, resource = makeEngineIOSite()
        conn = Connection(site)
        conn.send(upgradeRequest("/engine.io/?EIO=4&transport=websocket", extra=["X-Token: abc"]))
        assert conn.transport.value().startswith(b"HTTP/1.1 101 ")
        request = RecordingEIOHandler.instances[-1].socket.request
        assert request.headers.getRawHeaders(b"x-token") == [b"abc"]
        assert request.headers.getRawHeaders(b"upgrade") == [b"websocket"]
        assert request.isSecure is False
