"""
C{/healthz} and C{/metrics} (L{rtproto.tx.health}) on the default app's
site, and the counters behind them: each transport's connections,
messages, slow-client drops and protocol errors, through fake transports
and fake time.
"""

import json
import sys

import pytest
from twisted.application.internet import StreamServerEndpointService
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure

from rtproto import tap
from rtproto.tx.health import FAMILIES, prometheusText
from rtproto.tx._metrics import Metrics
from rtproto.websocket import TextMessage
from tests.tx.helpers import FakeClient, upgradeRequest
from tests.tx.sio_helpers import Peer
from tests.tx.sse_helpers import SSEClient, subscribe


def build(*args):
    """
    The service of C{args}: C{(service, site, reactor)}.
    """
    options = tap.Options()
    options.parseOptions(list(args))
    reactor = MemoryReactorClock()
    service = tap.makeService(options, reactor)
    site = next(c for c in service if isinstance(c, StreamServerEndpointService)).factory
    return service, site, reactor


def fetch(site, target: bytes, headers=()):
    """
    One GET of C{target}: its response.
    """
    client = SSEClient(site, port=42000)
    client.get(target, headers)
    return client.response()


def openWebSocket(site, reactor, path="/ws") -> FakeClient:
    client = FakeClient(site, reactor)
    client.send(upgradeRequest(path))
    assert client.response()[0].startswith(b"HTTP/1.1 101")
    return client


class TestHealthz:
    def test_ok(self):
        _, site, reactor = build()
        reactor.advance(12.5)
        response = fetch(site, b"/healthz")
        assert response.status == 200
        assert response.header(b"content-type") == b"application/json"
        assert response.header(b"cache-control") == b"no-store"
        body = json.loads(response.body)
        assert body == {
            "status": "ok",
            "uptime": 12.5,
            "connections": {"websocket": 0, "engineio": 0, "socketio": 0, "sse": 0},
        }

    def test_countsOpenConnections(self):
        _, site, reactor = build()
        ws = openWebSocket(site, reactor)
        stream = subscribe(site)
        connections = json.loads(fetch(site, b"/healthz").body)["connections"]
        assert connections == {"websocket": 1, "engineio": 0, "socketio": 0, "sse": 1}
        ws.transport.protocol.connectionLost(Failure(ConnectionDone()))
        stream.lose()
        connections = json.loads(fetch(site, b"/healthz").body)["connections"]
        assert connections == {"websocket": 0, "engineio": 0, "socketio": 0, "sse": 0}

    def test_stoppingAnswers503(self):
        """
        Once the graceful stop began, a load balancer is told to go away.
        """
        service, site, _ = build()
        [stop] = [c for c in service if isinstance(c, tap.GracefulStop)]
        stop.stopService()
        response = fetch(site, b"/healthz")
        assert response.status == 503
        assert json.loads(response.body)["status"] == "stopping"
        assert json.loads(fetch(site, b"/metrics").body)["stopping"] is True

    def test_head(self):
        _, site, _ = build()
        client = SSEClient(site, port=42001)
        client.request(b"HEAD", b"/healthz")
        response = client.response()
        assert response.status == 200
        assert response.body == b""

    def test_belowIsNotFound(self):
        _, site, _ = build()
        assert fetch(site, b"/healthz/x").status == 404
        assert fetch(site, b"/metrics/x").status == 404

    def test_withoutDemo(self):
        """
        The endpoints are there whatever the app.
        """
        _, site, _ = build("--no-demo", "--ws", "/x=echo")
        assert fetch(site, b"/healthz").status == 200
        assert fetch(site, b"/metrics").status == 200

    def test_mountWins(self):
        """
        An app's own mount at C{/metrics} is served instead.
        """
        _, site, reactor = build("--no-demo", "--ws", "/metrics=echo")
        response = fetch(site, b"/metrics")
        assert response.status == 426  # the WebSocket mount: upgrade required
        assert fetch(site, b"/healthz").status == 200


class TestCounters:
    def test_webSocket(self):
        _, site, reactor = build()
        ws = openWebSocket(site, reactor)
        ws.sendText("hello")
        ws.sendText("again")
        frames = ws.frames(ws.response()[1])
        assert [(type(f), f.data) for f in frames] == [(TextMessage, "hello"), (TextMessage, "again")]
        counters = site.metrics.websocket
        assert (counters.connections, counters.opened, counters.received, counters.sent) == (1, 1, 2, 2)
        # a protocol error of the peer: an unmasked frame
        ws.send(b"\x81\x02hi")
        assert counters.errors == 1
        ws.transport.protocol.connectionLost(Failure(ConnectionDone()))
        assert counters.connections == 0

    def test_sse(self):
        _, site, reactor = build("--sse-history", "10")
        [resource] = site.sse
        resource.publish("chat", "before")
        stream = subscribe(site, b"/events?channel=chat")
        resource.publish("chat", "one")
        counters = site.metrics.sse
        assert (counters.connections, counters.opened, counters.sent) == (1, 1, 1)
        lastId = stream.events()[-1].lastEventId
        stream.lose()
        assert counters.connections == 0
        # a replay counts what it writes
        first = resource.publish("chat", "two")
        again = subscribe(site, b"/events?channel=chat", headers=[(b"Last-Event-ID", lastId.encode())], port=41001)
        assert [e.data for e in again.events()] == ["two"]
        assert first
        assert (counters.connections, counters.opened, counters.sent) == (1, 2, 2)

    def test_sseSlowClientDropped(self):
        _, site, _ = build("--sse-buffer", "1000")
        [resource] = site.sse
        stream = subscribe(site, b"/events?channel=chat")
        [subscriber] = resource.subscribers
        subscriber.pauseProducing()
        resource.publish("chat", "x" * 2000)
        assert site.metrics.sse.dropped == 1
        assert site.metrics.sse.connections == 0
        assert stream is not None

    def test_engineIOPolling(self):
        _, site, reactor = build("--no-demo", "--engineio", "/engine.io/=echo")
        client = SSEClient(site, port=42002)
        client.get(b"/engine.io/?EIO=4&transport=polling")
        response = client.response()
        assert response.status == 200, response
        counters = site.metrics.engineio
        assert (counters.connections, counters.opened) == (1, 1)
        metrics = json.loads(fetch(site, b"/metrics").body)
        assert metrics["transports"]["engineio"]["connections"] == 1

    def test_socketIO(self):
        _, site, _ = build()
        [server] = site.socketio
        assert server.metrics is site.metrics
        peer = Peer(server)
        peer.connect("/chat")
        peer.connected("/chat")
        counters = site.metrics.socketio
        assert (counters.connections, counters.opened) == (1, 1)
        peer.emit("nick", "ann", namespace="/chat", ackId=1)
        assert counters.received == 2  # CONNECT and the EVENT
        peer.lose()
        assert counters.connections == 0


class TestMetricsEndpoint:
    def test_json(self):
        _, site, reactor = build()
        openWebSocket(site, reactor)
        response = fetch(site, b"/metrics")
        assert response.status == 200
        assert response.header(b"content-type") == b"application/json"
        body = json.loads(response.body)
        assert set(body) == {"startTime", "uptime", "stopping", "transports"}
        assert set(body["transports"]) == {"websocket", "engineio", "socketio", "sse"}
        assert body["transports"]["websocket"] == {
            "connections": 1,
            "opened": 1,
            "received": 0,
            "sent": 0,
            "dropped": 0,
            "errors": 0,
        }

    @pytest.mark.parametrize(
        "target, headers",
        [
            (b"/metrics", [(b"Accept", b"text/plain;version=0.0.4;q=0.3,*/*;q=0.1")]),
            (b"/metrics", [(b"Accept", b"application/openmetrics-text; version=1.0.0")]),
            (b"/metrics?format=prometheus", []),
        ],
    )
    def test_prometheus(self, target, headers):
        _, site, reactor = build()
        openWebSocket(site, reactor)
        response = fetch(site, target, headers)
        assert response.status == 200
        assert response.header(b"content-type").startswith(b"text/plain")
        text = response.body.decode("utf-8")
        assert 'rtproto_connections{transport="websocket"} 1.0' in text
        assert 'rtproto_connections_opened_total{transport="websocket"} 1.0' in text
        assert 'rtproto_messages_sent_total{transport="sse"} 0.0' in text
        assert "# TYPE rtproto_connections gauge" in text
        assert "rtproto_stopping 0.0" in text
        for name, *_ in FAMILIES:
            assert f"# HELP {name}" in text

    def test_jsonWins(self):
        _, site, _ = build()
        response = fetch(site, b"/metrics", [(b"Accept", b"application/json, text/plain")])
        assert response.header(b"content-type") == b"application/json"

    def test_prometheusWithoutClient(self, monkeypatch):
        """
        Without C{prometheus_client}: 406, saying what to install.
        """
        monkeypatch.setitem(sys.modules, "prometheus_client", None)
        with pytest.raises(ImportError):
            prometheusText(Metrics())
        _, site, _ = build()
        response = fetch(site, b"/metrics?format=prometheus")
        assert response.status == 406
        assert "pip install prometheus_client" in json.loads(response.body)["error"]


class TestConnectionLog:
    """
    With C{--log-connections}: one debug line when a connection opens and
    one when it closes, naming the transport and the peer.  A protocol
    error is logged once, above debug, either way.
    """

    @staticmethod
    def lines(capture, level=None):
        from twisted.logger import LogLevel, formatEvent

        return [
            (e["log_level"], formatEvent(e))
            for e in capture.events
            if level is None or e["log_level"] is getattr(LogLevel, level)
        ]

    def test_webSocket(self):
        from tests.tx.sse_helpers import LogCapture

        _, site, reactor = build("--log-connections")
        with LogCapture() as capture:
            ws = openWebSocket(site, reactor)
            ws.send(b"\x81\x02hi")  # unmasked: a protocol error
            ws.transport.protocol.connectionLost(Failure(ConnectionDone()))
        debug = [text for _, text in self.lines(capture, "debug")]
        assert len(debug) == 2, debug
        assert debug[0] == "websocket connection with 127.0.0.1:40000 opened"
        assert debug[1].startswith("websocket connection with 127.0.0.1:40000 closed: code 1002 "), debug
        above = [text for level, text in self.lines(capture) if level.name != "debug"]
        assert len(above) == 1 and "1002" in above[0], above

    def test_sse(self):
        from tests.tx.sse_helpers import LogCapture

        _, site, _ = build("--log-connections")
        with LogCapture() as capture:
            stream = subscribe(site, b"/events?channel=chat")
            stream.lose()
        debug = [text for _, text in self.lines(capture, "debug")]
        assert debug == [
            "SSE stream of ('chat',) with 127.0.0.1:41000 opened",
            "SSE stream of ('chat',) with 127.0.0.1:41000 closed: client gone",
        ], debug

    def test_offByDefault(self):
        """
        Without C{--log-connections}, connections log nothing at debug (two
        events per connection cost a busy server a tenth of its CPU).
        """
        from tests.tx.sse_helpers import LogCapture

        _, site, reactor = build()
        with LogCapture() as capture:
            ws = openWebSocket(site, reactor)
            ws.send(b"\x81\x02hi")
            ws.transport.protocol.connectionLost(Failure(ConnectionDone()))
            subscribe(site, b"/events?channel=chat").lose()
        assert self.lines(capture, "debug") == []
        above = [text for level, text in self.lines(capture)]
        assert len(above) == 1 and "1002" in above[0], above

    def test_engineIOAndSocketIO(self):
        from tests.tx.sse_helpers import LogCapture

        _, site, _ = build("--log-connections")
        [server] = site.socketio
        with LogCapture() as capture:
            peer = Peer(server)
            peer.connect("/chat")
            peer.lose()
        debug = [text for _, text in self.lines(capture, "debug")]
        assert len(debug) == 2, debug
        assert debug[0].startswith("socket.io socket ") and debug[0].endswith(" connected")
        assert "on /chat" in debug[0]
        assert debug[1].endswith("disconnected: transport close"), debug
