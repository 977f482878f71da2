"""
The engine.io glue, L{rtproto.tx.engineio.EngineIOResource}, through a real
C{twisted.web} Site (L{buildSite} with an engine.io mount at
C{/engine.io/}) on fake transports with fake time: the handshake, polling
GETs and POSTs, refusals as HTTP answers, the C{allowRequest} hook, CORS,
the session cookie, compression, body limits, WebSocket sessions and the
upgrade, heartbeats, JSONP, and that closed sessions leave nothing behind.
"""

import gc
import gzip
import json
import weakref
import zlib
from urllib.parse import quote_plus

import pytest
from twisted.internet.defer import Deferred, fail, succeed

from rtproto.errors import ConnectionDeny, UsageError
from rtproto.interfaces import IEngineIORequest, IEngineIOSocket

from tests.tx.eio_helpers import (
    EchoHandler,
    EngineIOClient,
    Exchange,
    QuietHandler,
    RecordingEIOHandler,
    WebSocketClient,
    makeEngineIOSite,
    query,
)

TEXT = "text/plain; charset=UTF-8"
OPTIONS = dict(pingInterval=10.0, pingTimeout=5.0, upgradeTimeout=3.0)


@pytest.fixture(autouse=True)
def _reset():
    RecordingEIOHandler.instances = []


def setup(handler=RecordingEIOHandler, protocol=4, **kw):
    """
    A site, its reactor and resource, and a client.
    """
    site, reactor, resource = makeEngineIOSite(handler, **{**OPTIONS, **kw})
    return site, reactor, resource, EngineIOClient(site, reactor, protocol)


def session(handler=RecordingEIOHandler, protocol=4, **kw):
    """
    As L{setup}, after a polling handshake; also returns the handler.
    """
    site, reactor, resource, client = setup(handler, protocol, **kw)
    client.handshake()
    return site, reactor, resource, client, RecordingEIOHandler.instances[-1]


def assertRefused(exchange, code, status=400):
    """
    An engine.io refusal: the status, and the JSON body with the code and
    its standard message.
    """
    messages = {
        0: "Transport unknown",
        1: "Session ID unknown",
        2: "Bad handshake method",
        3: "Bad request",
        4: "Forbidden",
        5: "Unsupported protocol version",
    }
    assert exchange.status == status, exchange.body
    assert exchange.header("content-type") == "application/json"
    assert exchange.json() == {"code": code, "message": messages[code]}


def assertNothingLeft(reactor, resource, *clients):
    """
    Once every connection is dropped: no session and no timer remain.
    """
    for client in clients:
        client.closeAll() if hasattr(client, "closeAll") else client.lose()
    assert resource.engine.sessions == {}
    assert reactor.getDelayedCalls() == []


class TestHandshake:
    """
    "Handshake" over long-polling: a GET without C{sid} opens a session and
    is answered with the open packet.
    """

    def test_openPacket(self):
        site, reactor, resource, client = setup()
        exchange = client.request("GET", {"EIO": "4", "transport": "polling"})
        assert exchange.status == 200
        assert exchange.header("content-type") == TEXT
        assert int(exchange.header("content-length")) == len(exchange.body)
        assert exchange.text[0] == "0"
        packet = json.loads(exchange.text[1:])
        assert set(packet) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
        assert packet["upgrades"] == ["websocket"]
        assert (packet["pingInterval"], packet["pingTimeout"], packet["maxPayload"]) == (10000, 5000, 1000000)
        assert list(resource.engine.sessions) == [packet["sid"]]

    def test_handlerOpened(self):
        site, reactor, resource, client, handler = session()
        assert handler.calls == [("opened", "polling")]
        socket = handler.socket
        assert IEngineIOSocket.providedBy(socket)
        assert (socket.sid, socket.protocol, socket.transport, socket.closed) == (client.sid, 4, "polling", False)
        assert IEngineIORequest.providedBy(socket.request)
        assert socket.request.path == b"/engine.io/"
        assert socket.request.args[b"transport"] == [b"polling"]

    def test_v3(self):
        site, reactor, resource, client = setup(protocol=3)
        packet = client.handshake(b64="1")
        assert "maxPayload" not in packet
        assert RecordingEIOHandler.instances[-1].socket.protocol == 3

    def test_withoutTrailingSlash(self):
        site, reactor, resource, client = setup()
        exchange = client.request("GET", {"EIO": "4", "transport": "polling"}, path="/engine.io")
        assert exchange.status == 200 and exchange.text[0] == "0"

    def test_belowMount404(self):
        site, reactor, resource, client = setup()
        exchange = client.request("GET", {"EIO": "4", "transport": "polling"}, path="/engine.io/x")
        assert exchange.status == 404
        assert resource.engine.sessions == {}

    def test_openThenMessagesInOneResponse(self):
        """
        What the handler sends in C{connectionOpened} follows the open
        packet in the handshake response.
        """

        class Greeter(RecordingEIOHandler):
            """
            Sends a message as soon as the session opens.
            """

            def connectionOpened(self, socket):
                super().connectionOpened(socket)
                socket.send("welcome")

        site, reactor, resource, client = setup(Greeter)
        exchange = client.request("GET", {"EIO": "4", "transport": "polling"})
        packets = exchange.packets()
        assert packets[0][0] == "0" and packets[1:] == ["4welcome"]


class TestPolling:
    """
    Long-polling "Sending data" and "Receiving data" through HTTP.
    """

    def test_postAnsweredOk(self):
        site, reactor, resource, client, handler = session()
        exchange = client.post("4hello")
        assert exchange.status == 200
        assert exchange.body == b"ok"
        assert exchange.header("content-type") == "text/html; charset=UTF-8"
        assert handler.messages == ["hello"]

    def test_getHeldUntilSend(self):
        site, reactor, resource, client, handler = session()
        exchange = client.get()
        assert not exchange.done
        handler.socket.send("a")
        handler.socket.send(b"\x01\x02\x03\x04")
        # Answered after this reactor turn, with both messages.
        assert not exchange.done
        reactor.advance(0)
        assert exchange.status == 200
        assert exchange.header("content-type") == TEXT
        assert exchange.body == b"4a\x1ebAQIDBA=="

    def test_getAnsweredAtOnceWhenBuffered(self):
        site, reactor, resource, client, handler = session()
        handler.socket.send("a")
        handler.socket.send("b")
        assert client.get().body == b"4a\x1e4b"

    @pytest.mark.parametrize(
        "body", ["4hello", "4test1\x1e4test2\x1e4test3", "4hello\x1ebAQIDBA==", "4€😀"]
    )
    def test_echoSuite(self, body):
        """
        The protocol test suite's "sends and receives a payload".
        """
        site, reactor, resource, client, handler = session(EchoHandler)
        assert client.post(body).body == b"ok"
        assert client.get().text == body

    def test_sendAcceptsBytesLike(self):
        site, reactor, resource, client, handler = session()
        handler.socket.send(bytearray(b"\x01"))
        handler.socket.send(memoryview(b"\x02"))
        assert client.get().body == b"bAQ==\x1ebAg=="

    def test_sendRefusesOtherTypes(self):
        site, reactor, resource, client, handler = session()
        with pytest.raises(UsageError):
            handler.socket.send(42)

    def test_sendAfterCloseIgnored(self):
        site, reactor, resource, client, handler = session()
        client.post("1")
        assert handler.socket.closed
        handler.socket.send("late")

    def test_overlappingGet(self):
        """
        Test suite: "closes the session upon duplicate poll requests".
        """
        site, reactor, resource, client, handler = session()
        first = client.get()
        second = client.get(t="burst")
        assert first.status == 200 and first.body == b"1"
        assertRefused(second, 3)
        assertRefused(client.get(), 1)
        assert handler.closedWith == ["transport error"]

    def test_invalidPacketClosesSession(self):
        """
        Test suite: "closes the session upon invalid packet format".
        """
        site, reactor, resource, client, handler = session()
        assertRefused(client.post("abc"), 3)
        assertRefused(client.get(), 1)
        assert handler.closedWith == ["transport error"]

    def test_invalidV3CjkPayloadClosesSession(self):
        """
        BUG: a malformed non-ASCII v3 payload makes the payload decoder
        raise L{UnicodeDecodeError} (see L{tests.engineio.test_payload}):
        the POST is answered 500 instead of 400 with code 3, and the
        session stays open.
        """
        site, reactor, resource, client, handler = session(protocol=3)
        assertRefused(client.post("\u3a01\u4e00"), 3)
        assertRefused(client.get(), 1)

    def test_clientClose(self):
        site, reactor, resource, client, handler = session()
        assert client.post("1").body == b"ok"
        assert handler.closedWith == ["client close"]
        assertRefused(client.get(), 1)

    def test_v3BinaryPost(self):
        site, reactor, resource, client, handler = session(protocol=3)
        body = bytes([0, 4, 0xFF, 0x34, 0xE2, 0x82, 0xAC, 1, 5, 0xFF, 4, 1, 2, 3, 4])
        exchange = client.post(body, headers=["Content-Type: application/octet-stream"])
        assert exchange.body == b"ok"
        assert handler.messages == ["€", b"\x01\x02\x03\x04"]

    def test_v3BinaryGet(self):
        """
        A v3 XHR2 client (no C{b64}) gets binary payloads.
        """
        site, reactor, resource, client = setup(protocol=3)
        client.handshake()
        handler = RecordingEIOHandler.instances[-1]
        handler.socket.send(b"\x01\x02\x03\x04")
        exchange = client.get()
        assert exchange.header("content-type") == "application/octet-stream"
        assert exchange.body == b"\x01\x05\xff\x04\x01\x02\x03\x04"

    def test_v3Base64Get(self):
        site, reactor, resource, client = setup(protocol=3)
        client.handshake(b64="1")
        RecordingEIOHandler.instances[-1].socket.send(b"\x01\x02\x03\x04")
        exchange = client.get(b64="1")
        assert exchange.header("content-type") == TEXT
        assert exchange.body == b"10:b4AQIDBA=="

    def test_serverCloseWithHeldGet(self):
        site, reactor, resource, client, handler = session()
        exchange = client.get()
        handler.socket.close()
        assert exchange.body == b"1"
        assert handler.closedWith == ["server close"]
        assertNothingLeft(reactor, resource, client)

    def test_serverCloseDeliveredWithNextGet(self):
        site, reactor, resource, client, handler = session()
        handler.socket.send("last")
        handler.socket.close()
        assert handler.socket.closed
        assert handler.closedWith == []
        assert client.get().body == b"4last"
        assert handler.closedWith == []
        assert client.get().body == b"1"
        assert handler.closedWith == ["server close"]
        assertNothingLeft(reactor, resource, client)

    def test_serverCloseFinishesAfterPingTimeout(self):
        site, reactor, resource, client, handler = session()
        handler.socket.close()
        reactor.advance(4.9)
        assert handler.closedWith == []
        reactor.advance(0.1)
        assert handler.closedWith == ["server close"]
        assertNothingLeft(reactor, resource, client)


class TestRefusals:
    """
    Requests the protocol refuses: HTTP 400 with C{{"code": N, "message":
    "..."}} as JSON.
    """

    @pytest.mark.parametrize(
        "method,params,code",
        [
            ("GET", {"transport": "polling"}, 5),
            ("GET", {"EIO": "5", "transport": "polling"}, 5),
            ("GET", {"EIO": "abc", "transport": "polling"}, 5),
            ("GET", {"EIO": "4"}, 0),
            ("GET", {"EIO": "4", "transport": "abc"}, 0),
            ("GET", {"EIO": "4", "transport": "polling", "sid": "nope"}, 1),
            ("POST", {"EIO": "4", "transport": "polling", "sid": "nope"}, 1),
            ("POST", {"EIO": "4", "transport": "polling"}, 2),
            ("PUT", {"EIO": "4", "transport": "polling"}, 2),
            ("GET", {"EIO": "4", "transport": "websocket"}, 3),
        ],
        ids=[
            "noEIO", "EIO5", "EIOabc", "noTransport", "badTransport", "unknownSid", "unknownSidPost",
            "postHandshake", "putHandshake", "websocketWithoutUpgrade",
        ],
    )
    def test_refused(self, method, params, code):
        site, reactor, resource, client = setup()
        assertRefused(client.request(method, params), code)
        assert resource.engine.sessions == {}
        assert RecordingEIOHandler.instances == []

    def test_eio3NotAllowed(self):
        site, reactor, resource, client = setup(allowEIO3=False)
        assertRefused(client.request("GET", {"EIO": "3", "transport": "polling"}), 5)

    def test_queryNotUtf8(self):
        site, reactor, resource, client = setup()
        exchange = Exchange(site, b"GET /engine.io/?EIO=4&transport=%FF HTTP/1.1\r\nHost: x\r\n\r\n")
        assertRefused(exchange, 3)

    def test_pollingAnotherMethod(self):
        site, reactor, resource, client, handler = session()
        assertRefused(client.request("PUT", client.params()), 3)


class TestAllowRequest:
    """
    The C{allowRequest} hook decides on handshakes: a false value, a
    L{ConnectionDeny} or a failure is answered 403 with code 4.
    """

    def test_syncRefusal(self):
        seen = []

        def hook(request):
            seen.append(request)
            return False

        site, reactor, resource, client = setup(allowRequest=hook)
        assertRefused(client.request("GET", {"EIO": "4", "transport": "polling"}), 4, 403)
        assert resource.engine.sessions == {}
        assert RecordingEIOHandler.instances == []
        assert IEngineIORequest.providedBy(seen[0])
        assert seen[0].args[b"EIO"] == [b"4"]

    def test_syncAcceptance(self):
        site, reactor, resource, client = setup(allowRequest=lambda request: True)
        assert client.handshake()["sid"] in resource.engine.sessions

    def test_deferredAcceptance(self):
        pending = []
        site, reactor, resource, client = setup(allowRequest=lambda r: pending.append(Deferred()) or pending[-1])
        exchange = client.request("GET", {"EIO": "4", "transport": "polling"})
        assert not exchange.done
        assert RecordingEIOHandler.instances == []
        pending[0].callback(True)
        assert exchange.status == 200 and exchange.text[0] == "0"

    def test_deferredRefusal(self):
        pending = []
        site, reactor, resource, client = setup(allowRequest=lambda r: pending.append(Deferred()) or pending[-1])
        exchange = client.request("GET", {"EIO": "4", "transport": "polling"})
        pending[0].callback(False)
        assertRefused(exchange, 4, 403)
        assert resource.engine.sessions == {}

    @pytest.mark.parametrize(
        "result",
        [
            lambda: fail(ConnectionDeny(403, "no")),
            lambda: fail(RuntimeError("bug")),
            lambda: succeed(0),
            lambda: None,
        ],
        ids=["denyDeferred", "failure", "falseDeferred", "none"],
    )
    def test_otherRefusals(self, result):
        site, reactor, resource, client = setup(allowRequest=lambda r: result())
        assertRefused(client.request("GET", {"EIO": "4", "transport": "polling"}), 4, 403)

    def test_raisingDeny(self):
        def hook(request):
            raise ConnectionDeny(403, "not you")

        site, reactor, resource, client = setup(allowRequest=hook)
        assertRefused(client.request("GET", {"EIO": "4", "transport": "polling"}), 4, 403)

    def test_clientGoneBeforeDecision(self):
        pending = []
        site, reactor, resource, client = setup(allowRequest=lambda r: pending.append(Deferred()) or pending[-1])
        exchange = client.request("GET", {"EIO": "4", "transport": "polling"})
        exchange.lose()
        pending[0].callback(True)
        assert resource.engine.sessions == {}
        assert RecordingEIOHandler.instances == []

    def test_onlyHandshakes(self):
        calls = []
        site, reactor, resource, client = setup(allowRequest=lambda r: calls.append(r) or True)
        client.handshake()
        client.post("4a")
        client.get()
        assert len(calls) == 1

    def test_webSocketRefused(self):
        site, reactor, resource, client = setup(allowRequest=lambda r: False)
        ws = WebSocketClient(site, reactor, {"EIO": "4", "transport": "websocket"})
        assert ws.status == 403
        assert resource.engine.sessions == {}

    def test_webSocketDeferredAcceptance(self):
        pending = []
        site, reactor, resource, client = setup(allowRequest=lambda r: pending.append(Deferred()) or pending[-1])
        ws = WebSocketClient(site, reactor, {"EIO": "4", "transport": "websocket"})
        assert ws.head == b""
        pending[0].callback(True)
        head, _, rest = ws.transport.value().partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 ")
        ws._pending = rest
        ws.transport.clear()
        assert ws.messages()[0][0] == "0"


class TestCors:
    """
    CORS headers for the configured origins only, and preflight requests.
    """

    def handshake(self, origin, **kw):
        site, reactor, resource, client = setup(**kw)
        headers = [f"Origin: {origin}"] if origin else []
        return client.request("GET", {"EIO": "4", "transport": "polling"}, headers=headers)

    def test_noneByDefault(self):
        exchange = self.handshake("https://a.example")
        assert exchange.status == 200
        assert exchange.header("access-control-allow-origin") is None

    def test_allowedOrigin(self):
        exchange = self.handshake("https://a.example", corsOrigins=("https://a.example",))
        assert exchange.header("access-control-allow-origin") == "https://a.example"
        assert "Origin" in exchange.header("vary")
        assert exchange.header("access-control-allow-credentials") is None

    def test_otherOrigin(self):
        exchange = self.handshake("https://evil.example", corsOrigins=("https://a.example",))
        assert exchange.status == 200
        assert exchange.header("access-control-allow-origin") is None

    def test_noOriginHeader(self):
        exchange = self.handshake(None, corsOrigins=("*",))
        assert exchange.header("access-control-allow-origin") is None

    def test_anyOrigin(self):
        exchange = self.handshake("https://b.example", corsOrigins=("*",))
        assert exchange.header("access-control-allow-origin") == "*"

    def test_credentials(self):
        exchange = self.handshake("https://b.example", corsOrigins=("*",), corsCredentials=True)
        assert exchange.header("access-control-allow-origin") == "https://b.example"
        assert exchange.header("access-control-allow-credentials") == "true"

    def test_onRefusalsToo(self):
        site, reactor, resource, client = setup(corsOrigins=("https://a.example",))
        exchange = client.request("GET", {"EIO": "9", "transport": "polling"}, headers=["Origin: https://a.example"])
        assertRefused(exchange, 5)
        assert exchange.header("access-control-allow-origin") == "https://a.example"

    def test_preflight(self):
        site, reactor, resource, client = setup(corsOrigins=("https://a.example",))
        exchange = client.request(
            "OPTIONS",
            {"EIO": "4", "transport": "polling"},
            headers=[
                "Origin: https://a.example",
                "Access-Control-Request-Method: POST",
                "Access-Control-Request-Headers: content-type",
            ],
        )
        assert exchange.status == 204
        assert exchange.body == b""
        assert exchange.header("access-control-allow-origin") == "https://a.example"
        assert set(exchange.header("access-control-allow-methods").replace(" ", "").split(",")) >= {"GET", "POST"}
        assert exchange.header("access-control-allow-headers") == "content-type"
        assert resource.engine.sessions == {}

    def test_preflightOtherOrigin(self):
        site, reactor, resource, client = setup(corsOrigins=("https://a.example",))
        exchange = client.request("OPTIONS", {"EIO": "4", "transport": "polling"}, headers=["Origin: https://x.example"])
        assert exchange.header("access-control-allow-origin") is None
        assert exchange.header("access-control-allow-methods") is None


class TestCookie:
    """
    The optional session cookie, set on the handshake only.
    """

    def test_offByDefault(self):
        site, reactor, resource, client = setup()
        exchange = client.request("GET", {"EIO": "4", "transport": "polling"})
        assert exchange.header("set-cookie") is None

    def test_on(self):
        site, reactor, resource, client = setup(cookie="io")
        exchange = client.request("GET", {"EIO": "4", "transport": "polling"})
        sid = json.loads(exchange.text[1:])["sid"]
        parts = [p.strip() for p in exchange.header("set-cookie").split(";")]
        assert parts[0] == f"io={sid}"
        lowered = [p.lower() for p in parts]
        assert "path=/" in lowered
        assert "httponly" in lowered
        assert "samesite=lax" in lowered

    def test_pathAndNotHttpOnly(self):
        site, reactor, resource, client = setup(cookie="eio", cookiePath="/app", cookieHttpOnly=False)
        exchange = client.request("GET", {"EIO": "4", "transport": "polling"})
        lowered = [p.strip().lower() for p in exchange.header("set-cookie").split(";")]
        assert "path=/app" in lowered and "httponly" not in lowered

    def test_notOnLaterRequests(self):
        site, reactor, resource, client = setup(cookie="io")
        client.handshake()
        assert client.post("4a").header("set-cookie") is None
        RecordingEIOHandler.instances[-1].socket.send("x")
        assert client.get().header("set-cookie") is None


class TestCompression:
    """
    Polling responses of at least C{compressionThreshold} bytes are gzipped
    (or deflated) for clients that accept it.
    """

    BIG = "x" * 2000

    def big(self, acceptEncoding=None, **kw):
        site, reactor, resource, client, handler = session(**kw)
        handler.socket.send(self.BIG)
        headers = [f"Accept-Encoding: {acceptEncoding}"] if acceptEncoding is not None else []
        return client.get(headers=headers)

    def test_gzip(self):
        exchange = self.big("gzip, deflate, br")
        assert exchange.header("content-encoding") == "gzip"
        assert "Accept-Encoding" in exchange.header("vary")
        assert int(exchange.header("content-length")) == len(exchange.body) < 1000
        assert gzip.decompress(exchange.body) == ("4" + self.BIG).encode()

    def test_deflate(self):
        exchange = self.big("deflate")
        assert exchange.header("content-encoding") == "deflate"
        assert zlib.decompress(exchange.body) == ("4" + self.BIG).encode()

    def test_notAccepted(self):
        exchange = self.big()
        assert exchange.header("content-encoding") is None
        assert exchange.body == ("4" + self.BIG).encode()

    def test_identityOnly(self):
        exchange = self.big("identity")
        assert exchange.header("content-encoding") is None

    def test_gzipRefusedWithQZero(self):
        """
        BUG (minor): C{gzip;q=0} means "not gzip" (RFC 9110 section
        12.5.3), but any mention of gzip is taken as acceptance.
        """
        exchange = self.big("gzip;q=0, identity")
        assert exchange.header("content-encoding") is None

    def test_disabled(self):
        exchange = self.big("gzip", httpCompression=False)
        assert exchange.header("content-encoding") is None

    def test_smallResponseNotCompressed(self):
        site, reactor, resource, client, handler = session()
        handler.socket.send("x" * 1000)
        exchange = client.get(headers=["Accept-Encoding: gzip"])
        assert exchange.header("content-encoding") is None
        assert len(exchange.body) == 1001

    def test_thresholdInclusive(self):
        site, reactor, resource, client, handler = session()
        handler.socket.send("x" * 1023)
        exchange = client.get(headers=["Accept-Encoding: gzip"])
        assert exchange.header("content-encoding") == "gzip"

    def test_heldGetCompressed(self):
        site, reactor, resource, client, handler = session()
        exchange = client.get(headers=["Accept-Encoding: gzip"])
        handler.socket.send(self.BIG)
        reactor.advance(0)
        assert gzip.decompress(exchange.body) == ("4" + self.BIG).encode()


class TestBodyLimit:
    """
    C{maxHttpBufferSize} bounds POST bodies: past it the answer is 413 and
    the session is closed.
    """

    def test_overLimit(self):
        site, reactor, resource, client, handler = session(maxHttpBufferSize=1000)
        exchange = client.post("4" + "x" * 1000)
        assert exchange.status == 413
        assert exchange.json()["code"] == 3
        assert handler.closedWith == ["transport error"]
        assertRefused(client.get(), 1)
        assert resource.engine.sessions == {}

    def test_atLimit(self):
        site, reactor, resource, client, handler = session(maxHttpBufferSize=1000)
        assert client.post("4" + "x" * 999).body == b"ok"
        assert handler.messages == ["x" * 999]

    def test_chunkedOverLimit(self):
        site, reactor, resource, client, handler = session(maxHttpBufferSize=1000)
        chunk = b"x" * 600
        raw = (
            f"POST /engine.io/?{query(**client.params())} HTTP/1.1\r\nHost: x\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        ).encode() + b"258\r\n4" + chunk[1:] + b"\r\n258\r\n" + chunk + b"\r\n0\r\n\r\n"
        exchange = Exchange(site, raw)
        assert exchange.status == 413
        assert resource.engine.sessions == {}

    def test_announcedInHandshake(self):
        site, reactor, resource, client = setup(maxHttpBufferSize=1234)
        assert client.handshake()["maxPayload"] == 1234


class TestDisconnects:
    """
    A client that goes away while its GET is held closes the session.
    """

    def test_heldGetLost(self):
        site, reactor, resource, client, handler = session()
        exchange = client.get()
        exchange.lose()
        assert handler.closedWith == ["transport close"]
        assert handler.socket.closed
        assertNothingLeft(reactor, resource, client)

    def test_answeredGetLostIsHarmless(self):
        site, reactor, resource, client, handler = session()
        handler.socket.send("a")
        exchange = client.get()
        exchange.lose()
        assert handler.closedWith == []
        assert resource.engine.sessions


def openWebSocket(site, reactor, protocol=4, **params):
    """
    A WebSocket session opened directly; returns the client and the open
    packet.
    """
    ws = WebSocketClient(site, reactor, {"EIO": str(protocol), "transport": "websocket", **params})
    assert ws.head.startswith(b"HTTP/1.1 101 "), ws.head
    messages = ws.messages()
    assert len(messages) == 1 and messages[0][0] == "0", messages
    return ws, json.loads(messages[0][1:])


class TestWebSocket:
    """
    Sessions on the WebSocket transport from the start: one packet per
    frame.
    """

    def test_handshake(self):
        site, reactor, resource, client = setup()
        ws, packet = openWebSocket(site, reactor)
        assert packet["upgrades"] == []
        assert set(packet) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
        handler = RecordingEIOHandler.instances[-1]
        assert handler.calls == [("opened", "websocket")]
        assert handler.socket.sid == packet["sid"]
        assert list(resource.engine.sessions) == [packet["sid"]]

    def test_messages(self):
        site, reactor, resource, client = setup(EchoHandler)
        ws, packet = openWebSocket(site, reactor)
        ws.sendText("4hello")
        ws.sendBinary(b"\x01\x02\x03")
        assert ws.messages() == ["4hello", b"\x01\x02\x03"]
        assert RecordingEIOHandler.instances[-1].messages == ["hello", b"\x01\x02\x03"]

    def test_v3(self):
        site, reactor, resource, client = setup(EchoHandler)
        ws, packet = openWebSocket(site, reactor, protocol=3)
        assert "maxPayload" not in packet
        ws.sendBinary(b"\x04\x01\x02")
        ws.sendText("2")
        assert ws.messages() == [b"\x04\x01\x02", "3"]

    def test_invalidPacketClosesSession(self):
        site, reactor, resource, client = setup()
        ws, packet = openWebSocket(site, reactor)
        ws.sendText("abc")
        ws.messages()
        assert ws.closes and ws.closes[0][0] == 1000
        assert RecordingEIOHandler.instances[-1].closedWith == ["transport error"]
        assert resource.engine.sessions == {}

    def test_clientClosePacket(self):
        site, reactor, resource, client = setup()
        ws, packet = openWebSocket(site, reactor)
        ws.sendText("1")
        assert RecordingEIOHandler.instances[-1].closedWith == ["client close"]
        ws.messages()
        assert ws.closes

    def test_serverClose(self):
        site, reactor, resource, client = setup()
        ws, packet = openWebSocket(site, reactor)
        RecordingEIOHandler.instances[-1].socket.close()
        assert ws.messages() == ["1"]
        assert ws.closes == [(1000, "")]
        assert ws.disconnecting
        ws.lose()
        assertNothingLeft(reactor, resource, client)

    def test_connectionLost(self):
        site, reactor, resource, client = setup()
        ws, packet = openWebSocket(site, reactor)
        ws.lose()
        assert RecordingEIOHandler.instances[-1].closedWith == ["transport close"]
        assertNothingLeft(reactor, resource, client)

    def test_closingHandshake(self):
        site, reactor, resource, client = setup()
        ws, packet = openWebSocket(site, reactor)
        ws.close()
        assert RecordingEIOHandler.instances[-1].closedWith == []
        ws.messages()
        assert ws.disconnecting
        ws.lose()
        assert RecordingEIOHandler.instances[-1].closedWith == ["transport close"]
        assertNothingLeft(reactor, resource, client)

    def test_unknownSid(self):
        site, reactor, resource, client = setup()
        ws = WebSocketClient(site, reactor, {"EIO": "4", "transport": "websocket", "sid": "nope"})
        assert ws.status == 400

    def test_webSocketOnlyServer(self):
        site, reactor, resource, client = setup(transports=("websocket",))
        ws, packet = openWebSocket(site, reactor)
        assertRefused(client.request("GET", {"EIO": "4", "transport": "polling"}), 0)

    def test_messageTooBig(self):
        site, reactor, resource, client = setup(maxHttpBufferSize=100)
        ws, packet = openWebSocket(site, reactor)
        ws.sendText("4" + "x" * 200)
        ws.messages()
        assert ws.closes and ws.closes[0][0] == 1009
        ws.lose()
        assert RecordingEIOHandler.instances[-1].closedWith == ["transport close"]


class TestUpgrade:
    """
    "Upgrade" end to end: probe, release of the held GET, C{5}, then the
    WebSocket only.
    """

    def probe(self, **kw):
        site, reactor, resource, client, handler = session(**kw)
        held = client.get()
        ws = WebSocketClient(site, reactor, {"EIO": "4", "transport": "websocket", "sid": client.sid})
        assert ws.head.startswith(b"HTTP/1.1 101 ")
        # No open packet on a probe.
        assert ws.messages() == []
        return site, reactor, resource, client, handler, held, ws

    def test_endToEnd(self):
        site, reactor, resource, client, handler, held, ws = self.probe()
        assert not held.done
        ws.sendText("2probe")
        assert ws.messages() == ["3probe"]
        assert held.status == 200 and held.body == b"6"
        # The client may poll once more before it sends 5.
        assert client.get().body == b"6"
        handler.socket.send("queued")
        ws.sendText("5")
        assert handler.calls[-1] == ("upgraded", "websocket")
        assert handler.socket.transport == "websocket"
        assert ws.messages() == ["4queued"]
        handler.socket.send("over ws")
        handler.socket.send(b"\x00")
        assert ws.messages() == ["4over ws", b"\x00"]
        ws.sendText("4from client")
        assert handler.messages == ["from client"]
        assertRefused(client.get(), 3)
        assertRefused(client.post("4late"), 3)
        assert handler.closedWith == []

    def test_probeAnswerLeavesBeforeGetReleased(self):
        """
        The 3probe is on the WebSocket's wire before the held GET is
        answered, so that engine.io-client pauses polling first instead of
        sending one more GET.
        """
        site, reactor, resource, client, handler, held, ws = self.probe()
        onWsWhenAnswered = []
        write = held.transport.write

        def recordingWrite(data):
            onWsWhenAnswered.append(ws.transport.value())
            write(data)

        held.transport.write = recordingWrite
        ws.sendText("2probe")
        assert held.body == b"6"
        assert len(onWsWhenAnswered) == 1 and onWsWhenAnswered[0] != b""
        assert ws.messages() == ["3probe"]

    def test_messagesInOrderAcrossUpgrade(self):
        site, reactor, resource, client, handler, held, ws = self.probe()
        handler.socket.send("m0")
        ws.sendText("2probe")
        assert held.body == b"4m0"
        handler.socket.send("m1")
        handler.socket.send("m2")
        reactor.advance(0)
        ws.sendText("5")
        handler.socket.send("m3")
        assert ws.messages() == ["3probe", "4m1", "4m2", "4m3"]

    def test_secondWebSocketClosed(self):
        """
        A second WebSocket for a session being probed is accepted and
        closed at once (as the protocol's test suite expects); the first
        goes on.
        """
        site, reactor, resource, client, handler, held, ws = self.probe()
        other = WebSocketClient(site, reactor, {"EIO": "4", "transport": "websocket", "sid": client.sid})
        assert other.status == 101
        other.messages()
        assert other.closes == [(1000, "")]
        ws.sendText("2probe")
        assert ws.messages() == ["3probe"]

    def test_upgradeTimeout(self):
        site, reactor, resource, client, handler, held, ws = self.probe()
        ws.sendText("2probe")
        ws.messages()
        reactor.advance(3)
        ws.messages()
        assert ws.closes == [(1000, "")]
        ws.lose()
        assert handler.closedWith == []
        exchange = client.get()
        handler.socket.send("polling still")
        reactor.advance(0)
        assert exchange.body == b"4polling still"

    def test_probeLostBeforeUpgrade(self):
        site, reactor, resource, client, handler, held, ws = self.probe()
        ws.sendText("2probe")
        ws.lose()
        assert handler.closedWith == []
        handler.socket.send("a")
        assert client.get().body == b"4a"
        assert client.post("4b").body == b"ok"

    def test_badProbePacket(self):
        site, reactor, resource, client, handler, held, ws = self.probe()
        ws.sendText("4hello")
        ws.messages()
        assert ws.closes
        assert handler.messages == []
        assert handler.closedWith == []
        assert not held.done

    def test_v3Upgrade(self):
        site, reactor, resource, client = setup(protocol=3)
        client.handshake(b64="1")
        handler = RecordingEIOHandler.instances[-1]
        ws = WebSocketClient(site, reactor, {"EIO": "3", "transport": "websocket", "sid": client.sid})
        ws.sendText("2probe")
        assert ws.messages() == ["3probe"]
        ws.sendText("5")
        handler.socket.send(b"\x01")
        assert ws.messages() == [b"\x04\x01"]

    def test_upgradedSessionClosedByWebSocket(self):
        site, reactor, resource, client, handler, held, ws = self.probe()
        ws.sendText("2probe")
        ws.sendText("5")
        ws.lose()
        assert handler.closedWith == ["transport close"]
        assertNothingLeft(reactor, resource, client)


class TestHeartbeat:
    """
    Heartbeats in fake time: the session's one timer, cancelled when the
    session closes.
    """

    def test_v4PingAnswersHeldGet(self):
        site, reactor, resource, client, handler = session()
        exchange = client.get()
        reactor.advance(10)
        assert exchange.body == b"2"
        assert client.post("3").body == b"ok"
        reactor.advance(5)
        assert handler.closedWith == []
        exchange = client.get()
        reactor.advance(5)
        assert exchange.body == b"2"

    def test_v4PingTimeout(self):
        site, reactor, resource, client, handler = session()
        exchange = client.get()
        reactor.advance(10)
        assert exchange.body == b"2"
        second = client.get()
        reactor.advance(4.9)
        assert handler.closedWith == []
        reactor.advance(0.1)
        assert handler.closedWith == ["ping timeout"]
        assert second.body == b"1"
        assertNothingLeft(reactor, resource, client)

    def test_v4PingTimeoutWithoutGet(self):
        site, reactor, resource, client, handler = session()
        reactor.advance(10)
        reactor.advance(5)
        assert handler.closedWith == ["ping timeout"]
        assertRefused(client.get(), 1)
        assertNothingLeft(reactor, resource, client)

    def test_oneTimerPerSession(self):
        """
        A session keeps one timer, whatever its requests; a held GET's
        connection keeps only its HTTP channel's (which does not drop it).
        """
        site, reactor, resource, client, handler = session()

        def sessionTimers():
            return [c for c in reactor.getDelayedCalls() if "EngineIOSocket" in repr(c)]

        assert len(sessionTimers()) == 1 and len(reactor.getDelayedCalls()) == 1
        held = client.get()
        client.post("4a").lose()
        client.post("3").lose()
        assert len(sessionTimers()) == 1 and len(reactor.getDelayedCalls()) == 2
        held.lose()
        assert reactor.getDelayedCalls() == []

    def test_v4OverWebSocket(self):
        site, reactor, resource, client = setup()
        ws, packet = openWebSocket(site, reactor)
        handler = RecordingEIOHandler.instances[-1]
        reactor.advance(10)
        assert ws.messages() == ["2"]
        ws.sendText("3")
        reactor.advance(10)
        assert ws.messages() == ["2"]
        reactor.advance(5)
        assert handler.closedWith == ["ping timeout"]
        ws.messages()
        assert ws.closes == [(1000, "")]
        ws.lose()
        assertNothingLeft(reactor, resource, client)

    def test_v3HeldGetReleasedWithNoop(self):
        site, reactor, resource, client = setup(protocol=3)
        client.handshake(b64="1")
        exchange = client.get(b64="1")
        reactor.advance(10)
        assert exchange.body == b"1:6"

    def test_v3ClientPing(self):
        site, reactor, resource, client = setup(protocol=3)
        client.handshake(b64="1")
        handler = RecordingEIOHandler.instances[-1]
        for _ in range(5):
            reactor.advance(9)
            client.post("1:2", b64="1")
            assert client.get(b64="1").body == b"1:3"
        assert handler.closedWith == []
        reactor.advance(15)
        assert handler.closedWith == ["ping timeout"]
        assertNothingLeft(reactor, resource, client)


class TestJsonp:
    """
    v3 JSONP polling: responses as C{___eio[j]("...");} scripts, POSTs as
    form-encoded C{d}.
    """

    def test_handshake(self):
        site, reactor, resource, client = setup(protocol=3)
        exchange = client.request("GET", {"EIO": "3", "transport": "polling", "j": "4"})
        assert exchange.status == 200
        assert exchange.header("content-type") == "text/javascript; charset=UTF-8"
        assert exchange.body.startswith(b'___eio[4]("') and exchange.body.endswith(b'");')
        payload = json.loads(exchange.body[len(b"___eio[4](") : -2])
        length, _, packet = payload.partition(":")
        assert int(length) == len(packet) and packet[0] == "0"

    def test_indexSanitized(self):
        site, reactor, resource, client = setup(protocol=3)
        exchange = client.request("GET", {"EIO": "3", "transport": "polling", "j": '1");alert(1)//'})
        assert exchange.body.startswith(b'___eio[11]("')

    def test_getWithBinary(self):
        site, reactor, resource, client = setup(protocol=3)
        client.handshake(j="0")
        handler = RecordingEIOHandler.instances[-1]
        handler.socket.send(b"\x01\x02\x03\x04")
        handler.socket.send("\u2028")
        exchange = client.get(j="1")
        assert exchange.body == b'___eio[1]("10:b4AQIDBA==2:4\\u2028");'

    def test_post(self):
        site, reactor, resource, client = setup(protocol=3)
        client.handshake(j="0")
        handler = RecordingEIOHandler.instances[-1]
        # "4a<newline>b" and "4c<backslash>nd", escaped as the client does.
        body = ("d=" + quote_plus("4:4a\\nb5:4c\\\\nd")).encode()
        exchange = client.post(body, headers=["Content-Type: application/x-www-form-urlencoded"], j="0")
        assert exchange.body == b"ok"
        assert handler.messages == ["a\nb", "c\\nd"]

    def test_badPost(self):
        site, reactor, resource, client = setup(protocol=3)
        client.handshake(j="0")
        assertRefused(client.post(b"x=1", j="0"), 3)
        assert resource.engine.sessions == {}

    def test_heldGet(self):
        site, reactor, resource, client = setup(protocol=3)
        client.handshake(j="0")
        exchange = client.get(j="2")
        RecordingEIOHandler.instances[-1].socket.send("x")
        reactor.advance(0)
        assert exchange.body == b'___eio[2]("2:4x");'


class CloseOnOpen(RecordingEIOHandler):
    """
    Closes the session as soon as it opens.
    """

    def connectionOpened(self, socket):
        super().connectionOpened(socket)
        socket.close()


class CloseOnMessage(RecordingEIOHandler):
    """
    Closes the session on the first message.
    """

    def messageReceived(self, data):
        super().messageReceived(data)
        self.socket.close()


class SendOnClose(RecordingEIOHandler):
    """
    Tries to send and close again once closed.
    """

    def connectionClosed(self, reason):
        super().connectionClosed(reason)
        self.socket.send("too late")
        self.socket.close()


class Raising(RecordingEIOHandler):
    """
    Fails on every message.
    """

    def messageReceived(self, data):
        super().messageReceived(data)
        raise ValueError("handler bug")


class TestHandlerCalls:
    """
    Handlers may close or send from any callback; their exceptions are
    logged without breaking the session.
    """

    def test_closeOnOpenPolling(self):
        site, reactor, resource, client = setup(CloseOnOpen)
        exchange = client.request("GET", {"EIO": "4", "transport": "polling"})
        packets = exchange.packets()
        assert packets[0][0] == "0" and packets[1:] == []
        sid = json.loads(packets[0][1:])["sid"]
        assert client.request("GET", {"EIO": "4", "transport": "polling", "sid": sid}).packets() == ["1"]
        assert RecordingEIOHandler.instances[-1].closedWith == ["server close"]
        assertNothingLeft(reactor, resource, client)

    def test_closeOnOpenWebSocket(self):
        site, reactor, resource, client = setup(CloseOnOpen)
        ws = WebSocketClient(site, reactor, {"EIO": "4", "transport": "websocket"})
        messages = ws.messages()
        assert messages[0][0] == "0" and messages[1:] == ["1"]
        assert ws.closes == [(1000, "")]
        ws.lose()
        assertNothingLeft(reactor, resource, client)

    def test_closeOnMessageStopsThePayload(self):
        site, reactor, resource, client, handler = session(CloseOnMessage)
        held = client.get()
        assert client.post("4a\x1e4b").body == b"ok"
        assert held.body == b"1"
        assert handler.messages == ["a"]
        assert handler.closedWith == ["server close"]

    def test_closeOnMessageWebSocket(self):
        site, reactor, resource, client = setup(CloseOnMessage)
        ws, packet = openWebSocket(site, reactor)
        ws.sendText("4a")
        ws.sendText("4b")
        assert ws.messages() == ["1"]
        assert RecordingEIOHandler.instances[-1].messages == ["a"]

    def test_sendAndCloseAfterClose(self):
        site, reactor, resource, client, handler = session(SendOnClose)
        client.get().lose()
        assert handler.closedWith == ["transport close"]
        assertNothingLeft(reactor, resource, client)

    def test_exceptionLoggedSessionContinues(self):
        site, reactor, resource, client, handler = session(Raising)
        assert client.post("4a\x1e4b").body == b"ok"
        assert handler.messages == ["a", "b"]
        assert handler.closedWith == []


class LeakHandler(QuietHandler):
    """
    Keeps weak references to itself and its socket, and counts closes.
    """

    refs: list = []
    closed = 0

    def connectionOpened(self, socket):
        super().connectionOpened(socket)
        LeakHandler.refs.append(weakref.ref(self))
        LeakHandler.refs.append(weakref.ref(socket))

    def connectionClosed(self, reason):
        LeakHandler.closed += 1


class TestLeaks:
    """
    Thousands of sessions opened and dropped leave no session, no timer and
    no handler or socket behind.
    """

    N = 1000

    def test_noSessionsTimersOrHandlersLeft(self):
        LeakHandler.refs = []
        LeakHandler.closed = 0
        site, reactor, resource = makeEngineIOSite(LeakHandler, **OPTIONS)

        # Polling sessions whose held GET's connection is lost.
        for _ in range(self.N):
            client = EngineIOClient(site, reactor)
            client.handshake()
            client.get().lose()
            client.closeAll()
        assert resource.engine.sessions == {}

        # WebSocket sessions whose connection is lost.
        for _ in range(self.N):
            ws = WebSocketClient(site, reactor, {"EIO": "4", "transport": "websocket"})
            ws.messages()
            ws.lose()
        assert resource.engine.sessions == {}

        # Upgraded sessions whose WebSocket is lost.
        for _ in range(self.N // 4):
            client = EngineIOClient(site, reactor)
            client.handshake()
            client.get()
            ws = WebSocketClient(site, reactor, {"EIO": "4", "transport": "websocket", "sid": client.sid})
            ws.sendText("2probe")
            ws.sendText("5")
            ws.lose()
            client.closeAll()
        assert resource.engine.sessions == {}

        # Sessions that time out: polling v4 and v3 (half of them with a
        # held GET), and WebSocket.
        pending = []
        for i in range(self.N):
            client = EngineIOClient(site, reactor, protocol=3 if i % 2 else 4)
            client.handshake(**({"b64": "1"} if i % 2 else {}))
            if i % 4 < 2:
                client.get()
            pending.append(client)
        for _ in range(self.N // 4):
            ws = WebSocketClient(site, reactor, {"EIO": "4", "transport": "websocket"})
            ws.messages()
            pending.append(ws)
        assert len(resource.engine.sessions) == self.N + self.N // 4
        # v3: no client ping in pingInterval + pingTimeout; v4 and
        # WebSocket: a ping at pingInterval, no pong in pingTimeout.
        reactor.advance(10)
        reactor.advance(5)
        assert resource.engine.sessions == {}
        for peer in pending:
            if isinstance(peer, WebSocketClient):
                peer.messages()
                peer.lose()
            else:
                peer.closeAll()
        del pending, peer, client, ws

        total = 3 * self.N + self.N // 2
        assert LeakHandler.closed == total
        assert reactor.getDelayedCalls() == []
        assert len(site.connections) == 0
        gc.collect()
        assert len(LeakHandler.refs) == 2 * total
        alive = [r() for r in LeakHandler.refs if r() is not None]
        assert alive == []
