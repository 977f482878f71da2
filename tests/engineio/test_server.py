"""
The session table of one engine.io mount, L{rtproto.engineio.EngineIOServer}:
the checks every request goes through (the error codes 0 to 5 of the
protocol), the handshake's open packet, and session ids.
"""

import json

import pytest

from rtproto.engineio import EngineIOOptions, EngineIOServer
from rtproto.errors import EngineIOError, PeerError

from .helpers import RecordingListener, Responder, Sink, makeServer, openPolling, openWebSocket


def refused(server, method, query, isUpgrade=False):
    """
    The error code C{checkRequest} refuses a request with.
    """
    with pytest.raises(EngineIOError) as info:
        server.checkRequest(method, query, isUpgrade)
    error = info.value
    assert isinstance(error, PeerError)
    assert error.message == EngineIOError.MESSAGES[error.code]
    assert error.status == (403 if error.code == 4 else 400)
    return error.code


class TestErrorCodes:
    """
    The engine.io error codes and their standard messages.
    """

    def test_messages(self):
        assert EngineIOError.MESSAGES == {
            0: "Transport unknown",
            1: "Session ID unknown",
            2: "Bad handshake method",
            3: "Bad request",
            4: "Forbidden",
            5: "Unsupported protocol version",
        }

    def test_forbiddenIs403(self):
        assert EngineIOError(EngineIOError.FORBIDDEN).status == 403

    def test_statusOverride(self):
        assert EngineIOError(EngineIOError.BAD_REQUEST, "big", status=413).status == 413

    def test_reasonDefaultsToMessage(self):
        assert EngineIOError(1).reason == "Session ID unknown"


class TestCheckRequestProtocolVersion:
    """
    C{EIO}: 4, or 3 when C{allowEIO3}; anything else is code 5.
    """

    @pytest.mark.parametrize("eio", [None, "5", "abc", "", "2", "04", "4 "])
    def test_unsupported(self, eio):
        query = {"transport": "polling"}
        if eio is not None:
            query["EIO"] = eio
        assert refused(makeServer(), "GET", query) == 5

    def test_v4(self):
        assert makeServer().checkRequest("GET", {"EIO": "4", "transport": "polling"}, False) == (4, "polling", None)

    def test_v3(self):
        assert makeServer().checkRequest("GET", {"EIO": "3", "transport": "polling"}, False) == (3, "polling", None)

    def test_v3Refused(self):
        assert refused(makeServer(allowEIO3=False), "GET", {"EIO": "3", "transport": "polling"}) == 5


class TestCheckRequestTransport:
    """
    C{transport}: one of the configured transports, else code 0.
    """

    @pytest.mark.parametrize("transport", [None, "abc", "", "flashsocket", "Polling"])
    def test_unknown(self, transport):
        query = {"EIO": "4"}
        if transport is not None:
            query["transport"] = transport
        assert refused(makeServer(), "GET", query) == 0

    def test_notConfigured(self):
        server = makeServer(transports=("polling",))
        assert refused(server, "GET", {"EIO": "4", "transport": "websocket"}, True) == 0

    def test_pollingNotConfigured(self):
        server = makeServer(transports=("websocket",))
        assert refused(server, "GET", {"EIO": "4", "transport": "polling"}) == 0


class TestCheckRequestHandshake:
    """
    A request without C{sid} opens a session: only with GET (code 2), and a
    WebSocket one only as an upgrade (code 3).
    """

    @pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
    def test_badMethod(self, method):
        assert refused(makeServer(), method, {"EIO": "4", "transport": "polling"}) == 2

    def test_webSocketWithoutUpgrade(self):
        assert refused(makeServer(), "GET", {"EIO": "4", "transport": "websocket"}, False) == 3

    def test_webSocket(self):
        server = makeServer()
        assert server.checkRequest("GET", {"EIO": "4", "transport": "websocket"}, True) == (4, "websocket", None)


class TestCheckRequestSession:
    """
    Requests of an existing session: a known C{sid} (code 1), the same
    protocol revision, a transport the session can use (code 3).
    """

    def test_unknownSid(self):
        assert refused(makeServer(), "GET", {"EIO": "4", "transport": "polling", "sid": "nope"}) == 1

    def test_unknownSidPost(self):
        assert refused(makeServer(), "POST", {"EIO": "4", "transport": "polling", "sid": "nope"}) == 1

    def test_pollingGetAndPost(self):
        server, session, listener, _ = openPolling()
        query = {"EIO": "4", "transport": "polling", "sid": session.sid}
        assert server.checkRequest("GET", query, False) == (4, "polling", session)
        assert server.checkRequest("POST", query, False) == (4, "polling", session)

    @pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
    def test_pollingOtherMethod(self, method):
        server, session, listener, _ = openPolling()
        assert refused(server, method, {"EIO": "4", "transport": "polling", "sid": session.sid}) == 3

    def test_protocolMismatch(self):
        server, session, listener, _ = openPolling(protocol=3)
        assert refused(server, "GET", {"EIO": "4", "transport": "polling", "sid": session.sid}) == 3

    def test_upgradeRequest(self):
        server, session, listener, _ = openPolling()
        query = {"EIO": "4", "transport": "websocket", "sid": session.sid}
        assert server.checkRequest("GET", query, True) == (4, "websocket", session)

    def test_upgradeRequestWithoutUpgradeHeader(self):
        server, session, listener, _ = openPolling()
        assert refused(server, "GET", {"EIO": "4", "transport": "websocket", "sid": session.sid}, False) == 3

    def test_upgradeWhenNotAllowed(self):
        server, session, listener, _ = openPolling(allowUpgrades=False)
        assert refused(server, "GET", {"EIO": "4", "transport": "websocket", "sid": session.sid}, True) == 3

    def test_secondProbePassesTheCheck(self):
        """
        "A client MUST NOT open more than one WebSocket connection per
        session": one that does passes the request check (the glue then
        accepts and closes it, as the Node server and the protocol's test
        suite expect) and the session cannot be upgraded by it.
        """
        server, session, listener, _ = openPolling()
        session.startProbe(Sink(), 0.0)
        query = {"EIO": "4", "transport": "websocket", "sid": session.sid}
        assert server.checkRequest("GET", query, True) == (4, "websocket", session)
        assert not session.canUpgrade()

    def test_webSocketSessionCannotUpgradeAgain(self):
        server, session, listener, sink, _ = openWebSocket()
        query = {"EIO": "4", "transport": "websocket", "sid": session.sid}
        assert server.checkRequest("GET", query, True) == (4, "websocket", session)
        assert not session.canUpgrade()

    def test_pollingWebSocketSession(self):
        """
        Transport mismatch: polling on a WebSocket session.
        """
        server, session, listener, sink, _ = openWebSocket()
        assert refused(server, "GET", {"EIO": "4", "transport": "polling", "sid": session.sid}) == 3

    def test_pollingAfterUpgrade(self):
        server, session, listener, _ = openPolling()
        probe = Sink()
        session.startProbe(probe, 0.0)
        session.webSocketMessage(probe, "2probe", 0.0)
        query = {"EIO": "4", "transport": "polling", "sid": session.sid}
        # Still polling while the probe is under way.
        assert server.checkRequest("GET", query, False)[2] is session
        session.webSocketMessage(probe, "5", 0.0)
        assert refused(server, "GET", query) == 3
        assert refused(server, "POST", query) == 3

    def test_closedSessionUnknown(self):
        server, session, listener, _ = openPolling()
        session.abort()
        assert refused(server, "GET", {"EIO": "4", "transport": "polling", "sid": session.sid}) == 1

    def test_closingSessionStillKnown(self):
        """
        A session closing over polling waits for a GET to deliver its close
        packet.
        """
        server, session, listener, _ = openPolling()
        session.close(0.0)
        query = {"EIO": "4", "transport": "polling", "sid": session.sid}
        assert server.checkRequest("GET", query, False)[2] is session
        responder = Responder()
        session.pollGet(responder, 0.0)
        assert responder.body == b"1"
        assert refused(server, "GET", query) == 1


class TestOpenPacket:
    """
    "Handshake": the open packet's JSON (C{sid}, C{upgrades},
    C{pingInterval}, C{pingTimeout} in milliseconds, and C{maxPayload} in
    v4 only).
    """

    def test_v4Polling(self):
        server = makeServer()
        session = server.openSession(4, "polling", RecordingListener(), 0.0)
        responder = Responder()
        session.pollGet(responder, 0.0)
        assert responder.answers == [
            (
                b'0{"sid":"sid0","upgrades":["websocket"],"pingInterval":25000,'
                b'"pingTimeout":20000,"maxPayload":1000000}',
                "text/plain; charset=UTF-8",
            )
        ]

    def test_v3Polling(self):
        server, session, listener, packet = openPolling(protocol=3)
        assert packet == {"sid": "sid0", "upgrades": ["websocket"], "pingInterval": 25000, "pingTimeout": 20000}

    def test_v3PollingFraming(self):
        server = makeServer()
        session = server.openSession(3, "polling", RecordingListener(), 0.0)
        responder = Responder()
        session.pollGet(responder, 0.0)
        text = responder.body.decode("utf-8")
        length, _, packet = text.partition(":")
        assert int(length) == len(packet) and packet.startswith('0{"sid":"sid0"')

    def test_v3BinaryPollingHandshakeIsText(self):
        server, session, listener, packet = openPolling(protocol=3, binaryPolling=True)
        assert packet["sid"] == "sid0"

    def test_v4WebSocketNoUpgrades(self):
        server, session, listener, sink, packet = openWebSocket()
        assert packet == {
            "sid": "sid0",
            "upgrades": [],
            "pingInterval": 25000,
            "pingTimeout": 20000,
            "maxPayload": 1000000,
        }

    def test_v3WebSocket(self):
        server, session, listener, sink, packet = openWebSocket(protocol=3)
        assert "maxPayload" not in packet
        assert packet["upgrades"] == []

    @pytest.mark.parametrize(
        "kw", [dict(allowUpgrades=False), dict(transports=("polling",))], ids=["noUpgrades", "pollingOnly"]
    )
    def test_noUpgradesOffered(self, kw):
        server, session, listener, packet = openPolling(**kw)
        assert packet["upgrades"] == []

    def test_options(self):
        server, session, listener, packet = openPolling(pingInterval=0.3, pingTimeout=0.2, maxHttpBufferSize=1234)
        assert (packet["pingInterval"], packet["pingTimeout"], packet["maxPayload"]) == (300, 200, 1234)

    def test_openPacketFirst(self):
        server = makeServer()
        session = server.openSession(4, "polling", RecordingListener(), 0.0)
        session.send("hello")
        responder = Responder()
        session.pollGet(responder, 0.0)
        packets = responder.packets()
        assert packets[0].startswith("0{") and packets[1:] == ["4hello"]


class TestSessionIds:
    """
    Session ids come from the injectable C{newId}, are unique among open
    sessions, and are unguessable by default.
    """

    def test_fromNewId(self):
        server = makeServer()
        ids = [server.openSession(4, "polling", RecordingListener(), 0.0).sid for _ in range(3)]
        assert ids == ["sid0", "sid1", "sid2"]
        assert set(server.sessions) == set(ids)

    def test_duplicatesSkipped(self):
        values = iter(["a", "a", "a", "b"])
        server = EngineIOServer(EngineIOOptions(), newId=lambda: next(values))
        first = server.openSession(4, "polling", RecordingListener(), 0.0)
        second = server.openSession(4, "polling", RecordingListener(), 0.0)
        assert (first.sid, second.sid) == ("a", "b")

    def test_idReusableOnceClosed(self):
        values = iter(["a", "a"])
        server = EngineIOServer(EngineIOOptions(), newId=lambda: next(values))
        first = server.openSession(4, "polling", RecordingListener(), 0.0)
        first.abort()
        second = server.openSession(4, "polling", RecordingListener(), 0.0)
        assert second.sid == "a" and server.sessions == {"a": second}
        # The first session's release does not remove its successor.
        first.abort()
        assert server.sessions == {"a": second}

    def test_defaultIdsRandomAndUrlSafe(self):
        server = EngineIOServer()
        sessions = [server.openSession(4, "polling", RecordingListener(), 0.0) for _ in range(500)]
        ids = {s.sid for s in sessions}
        assert len(ids) == 500
        for sid in ids:
            assert len(sid) >= 20
            assert all(c.isascii() and (c.isalnum() or c in "-_") for c in sid)

    def test_sessionState(self):
        server = makeServer()
        session = server.openSession(3, "polling", RecordingListener(), 0.0, binaryPolling=True)
        assert (session.protocol, session.transport, session.state, session.upgraded) == (3, "polling", "open", False)
        assert session.binaryPolling
        assert "sid0" in repr(session)

    def test_openPacketIsJson(self):
        server = makeServer()
        text = server.openPacket("x", 4, "polling")
        assert json.loads(text)["sid"] == "x"
        assert " " not in text


class TestOptions:
    """
    L{EngineIOOptions}: defaults of the Node server, checked values, and
    the CORS origin decision.
    """

    def test_defaults(self):
        options = EngineIOOptions()
        assert (options.pingInterval, options.pingTimeout, options.maxHttpBufferSize) == (25.0, 20.0, 1_000_000)
        assert options.transports == ("polling", "websocket")
        assert options.allowUpgrades and options.allowEIO3
        assert options.cookie is None

    @pytest.mark.parametrize(
        "kw",
        [dict(transports=("polling", "flash")), dict(transports=()), dict(pingInterval=0), dict(pingTimeout=-1)],
    )
    def test_invalid(self, kw):
        with pytest.raises(ValueError):
            EngineIOOptions(**kw)

    def test_corsNone(self):
        assert EngineIOOptions().corsOrigin("https://a.example") is None

    def test_corsListed(self):
        options = EngineIOOptions(corsOrigins=("https://a.example",))
        assert options.corsOrigin("https://a.example") == "https://a.example"
        assert options.corsOrigin("https://b.example") is None
        assert options.corsOrigin(None) is None

    def test_corsAny(self):
        assert EngineIOOptions(corsOrigins=("*",)).corsOrigin("https://b.example") == "*"

    def test_corsAnyWithCredentialsReflects(self):
        options = EngineIOOptions(corsOrigins=("*",), corsCredentials=True)
        assert options.corsOrigin("https://b.example") == "https://b.example"
