"""
The engine.io session state machine, L{rtproto.engineio.Session}, driven
without I/O: a recording listener, fake polling responders and fake
WebSocket sinks, and time passed in by hand.

Grouped by the sections of the protocol: long-polling GET and POST,
heartbeat (v4 server pings, v3 client pings), upgrade, and the ways a
session closes.
"""

import pytest

from rtproto.engineio._session import CLOSED, CLOSING, JAVASCRIPT, OCTET_STREAM, OPEN, TEXT_PLAIN
from rtproto.errors import EngineIOError

from .helpers import Responder, Sink, makeServer, openPolling, openWebSocket, runUntil

OPTIONS = dict(pingInterval=10.0, pingTimeout=5.0, upgradeTimeout=3.0)


def polling(protocol=4, **kw):
    """
    An open polling session after its handshake GET, with L{OPTIONS}.
    """
    server, session, listener, _ = openPolling(protocol=protocol, **{**OPTIONS, **kw})
    return server, session, listener


def held(session, now=0.0, jsonp=None):
    """
    Send a GET that must be held.
    """
    responder = Responder()
    session.pollGet(responder, now, jsonp)
    assert not responder.answered
    return responder


def get(session, now=0.0, jsonp=None):
    """
    Send a GET that must be answered at once; return its body.
    """
    responder = Responder()
    session.pollGet(responder, now, jsonp)
    assert responder.answered
    return responder.body


def upgrading(protocol=4, **kw):
    """
    A polling session with a probe that has been answered C{3probe}.
    """
    server, session, listener = polling(protocol, **kw)
    probe = Sink()
    assert session.canUpgrade()
    session.startProbe(probe, 0.0)
    session.webSocketMessage(probe, "2probe", 0.0)
    assert probe.sent == ["3probe"]
    probe.sent.clear()
    return server, session, listener, probe


def upgraded(protocol=4, **kw):
    """
    A session upgraded from polling to a WebSocket sink.
    """
    server, session, listener, probe = upgrading(protocol, **kw)
    session.webSocketMessage(probe, "5", 0.0)
    return server, session, listener, probe


class TestPollingGet:
    """
    Long-polling "Receiving data": a GET is held until there is something
    to send, and answered with every packet buffered.
    """

    def test_heldUntilSend(self):
        server, session, listener = polling()
        responder = held(session)
        session.send("hello")
        assert listener.calls == [("wantFlush",)]
        # The glue flushes after the current reactor turn.
        assert not responder.answered
        session.flush()
        assert responder.answers == [(b"4hello", TEXT_PLAIN)]

    def test_severalSendsBatched(self):
        server, session, listener = polling()
        responder = held(session)
        session.send("a")
        session.send(b"\x01\x02\x03\x04")
        session.send("c")
        assert listener.calls == [("wantFlush",)]
        session.flush()
        assert responder.body == b"4a\x1ebAQIDBA==\x1e4c"

    def test_answeredAtOnceWhenBuffered(self):
        server, session, listener = polling()
        session.send("a")
        session.send("b")
        # No GET is held: nothing to flush.
        assert listener.calls == []
        assert get(session) == b"4a\x1e4b"

    def test_nextGetHeldAgain(self):
        server, session, listener = polling()
        session.send("a")
        get(session)
        held(session)

    def test_wantFlushAgainAfterFlush(self):
        server, session, listener = polling()
        held(session)
        session.send("a")
        session.flush()
        held(session)
        session.send("b")
        assert listener.calls == [("wantFlush",), ("wantFlush",)]

    def test_flushWithoutGet(self):
        server, session, listener = polling()
        session.send("a")
        session.flush()
        assert get(session) == b"4a"

    def test_flushWithNothingBuffered(self):
        server, session, listener = polling()
        responder = held(session)
        session.flush()
        assert not responder.answered

    def test_handshakeBody(self):
        server, session, listener, packet = openPolling(**OPTIONS)
        assert packet["sid"] == session.sid == "sid0"

    def test_v3TextPayload(self):
        server, session, listener = polling(3)
        responder = held(session)
        session.send("😀")
        session.send(b"\x01\x02\x03\x04")
        session.flush()
        assert responder.answers == [("3:4😀10:b4AQIDBA==".encode("utf-8"), TEXT_PLAIN)]

    def test_v3BinaryPayload(self):
        """
        A v3 XHR2 client (no C{b64}) gets binary payloads when there is
        binary data, text payloads otherwise.
        """
        server, session, listener, _ = openPolling(protocol=3, binaryPolling=True, **OPTIONS)
        session.send("€")
        session.send(b"\x01\x02\x03\x04")
        responder = Responder()
        session.pollGet(responder, 0.0)
        assert responder.answers == [
            (bytes([0, 4, 0xFF, 0x34, 0xE2, 0x82, 0xAC, 1, 5, 0xFF, 4, 1, 2, 3, 4]), OCTET_STREAM)
        ]
        session.send("€")
        assert get(session) == "2:4€".encode("utf-8")

    def test_v3Jsonp(self):
        server, session, listener = polling(3)
        session.send('a"\u2028')
        responder = Responder()
        session.pollGet(responder, 0.0, jsonp="5")
        assert responder.answers == [(b'___eio[5]("4:4a\\"\\u2028");', JAVASCRIPT)]

    def test_heldJsonpAnsweredAsJsonp(self):
        server, session, listener = polling(3)
        responder = held(session, jsonp="2")
        session.send("x")
        session.flush()
        assert responder.body == b'___eio[2]("2:4x");'

    def test_overlappingGetClosesSession(self):
        """
        "a client MUST NOT have more than one active GET request. Should it
        happen, the server MUST return an HTTP 400 error status and close
        the session": the first GET gets a close packet.
        """
        server, session, listener = polling()
        first = held(session)
        second = Responder()
        with pytest.raises(EngineIOError) as info:
            session.pollGet(second, 1.0)
        assert info.value.code == EngineIOError.BAD_REQUEST
        assert first.answers == [(b"1", TEXT_PLAIN)]
        assert not second.answered
        assert session.state is CLOSED
        assert listener.closedWith == ["transport error"]
        assert session.sid not in server.sessions

    def test_getOnClosedSessionGetsClose(self):
        server, session, listener = polling()
        session.abort()
        assert get(session) == b"1"

    def test_sendAfterCloseIgnored(self):
        server, session, listener = polling()
        session.abort()
        session.send("late")
        assert session.nextDeadline() is None


class TestPollingPost:
    """
    Long-polling "Sending data": a POST body holds one or more packets.
    """

    def test_severalPackets(self):
        server, session, listener = polling()
        session.pollData(b"4test1\x1e4test2\x1e4test3", 0.0)
        assert listener.messages == ["test1", "test2", "test3"]

    def test_textAndBinary(self):
        server, session, listener = polling()
        session.pollData(b"4hello\x1ebAQIDBA==", 0.0)
        assert listener.messages == ["hello", b"\x01\x02\x03\x04"]

    def test_utf8(self):
        server, session, listener = polling()
        session.pollData("4€😀".encode("utf-8"), 0.0)
        assert listener.messages == ["€😀"]

    def test_v3Text(self):
        server, session, listener = polling(3)
        session.pollData("3:4😀10:b4AQIDBA==1:6".encode("utf-8"), 0.0)
        assert listener.messages == ["😀", b"\x01\x02\x03\x04"]

    def test_v3Binary(self):
        server, session, listener = polling(3)
        body = bytes([0, 4, 0xFF, 0x34, 0xE2, 0x82, 0xAC, 1, 5, 0xFF, 4, 1, 2, 3, 4])
        session.pollData(body, 0.0, "application/octet-stream")
        assert listener.messages == ["€", b"\x01\x02\x03\x04"]

    def test_v4IgnoresOctetStream(self):
        """
        v4 payloads are always text, whatever the content type says.
        """
        server, session, listener = polling()
        session.pollData(b"4a", 0.0, "application/octet-stream")
        assert listener.messages == ["a"]

    def test_v3Jsonp(self):
        server, session, listener = polling(3)
        session.pollData(b"d=4%3A4a%5Cnb", 0.0, "application/x-www-form-urlencoded", jsonp=True)
        assert listener.messages == ["a\nb"]

    def test_noopIgnored(self):
        server, session, listener = polling()
        session.pollData(b"6\x1e4a", 0.0)
        assert listener.messages == ["a"]
        assert session.state is OPEN

    def test_clientClose(self):
        server, session, listener = polling()
        session.pollData(b"4a\x1e1\x1e4b", 0.0)
        assert listener.messages == ["a"]
        assert listener.closedWith == ["client close"]
        assert session.sid not in server.sessions

    @pytest.mark.parametrize(
        "body",
        [b"abc", b"", b"4a\x1e", b"bnot base64!", b"\xff4a", b"0{}", b"5", b"4a\x1e9b"],
        ids=["badType", "empty", "emptyPacket", "badBase64", "notUtf8", "open", "upgrade", "badSecond"],
    )
    def test_malformedClosesSession(self, body):
        """
        An invalid payload is answered 400 (code 3) and closes the session
        (test suite: "closes the session upon invalid packet format").
        """
        server, session, listener = polling()
        responder = held(session)
        with pytest.raises(EngineIOError) as info:
            session.pollData(body, 0.0)
        assert info.value.code == EngineIOError.BAD_REQUEST
        assert listener.closedWith == ["transport error"]
        assert responder.body == b"1"
        assert session.sid not in server.sessions

    def test_messagesBeforeABadPacketDelivered(self):
        server, session, listener = polling()
        with pytest.raises(EngineIOError):
            session.pollData(b"4a\x1e5", 0.0)
        assert listener.messages == ["a"]

    @pytest.mark.parametrize(
        "body", ["\u3a01\u4e00", "2:4a\u3a01\u4e00"], ids=["onlyCjk", "afterAPacket"]
    )
    def test_malformedV3CjkPayloadClosesSession(self, body):
        """
        BUG (see L{tests.engineio.test_payload}): this malformed v3 payload
        raises L{UnicodeDecodeError}, which escapes L{Session.pollData}; the
        session stays open and the glue answers 500.
        """
        server, session, listener = polling(3)
        with pytest.raises(EngineIOError):
            session.pollData(body.encode("utf-8"), 0.0)
        assert listener.closedWith == ["transport error"]

    def test_postWhileClosingIgnored(self):
        server, session, listener = polling()
        session.close(0.0)
        assert session.state is CLOSING
        session.pollData(b"4late", 0.0)
        assert listener.messages == []

    def test_postAfterCloseIgnored(self):
        server, session, listener = polling()
        session.abort()
        session.pollData(b"4late", 0.0)
        assert listener.messages == []


class TestHeartbeatV4:
    """
    v4 "Heartbeat": the server pings every C{pingInterval}; no pong within
    C{pingTimeout} closes the session.
    """

    def test_firstDeadlineIsPingInterval(self):
        server, session, listener = polling()
        assert session.nextDeadline() == 10.0

    def test_pingAnswersHeldGet(self):
        server, session, listener = polling()
        responder = held(session, now=1.0)
        session.tick(9.9)
        assert not responder.answered
        session.tick(10.0)
        assert responder.body == b"2"
        assert session.nextDeadline() == 15.0

    def test_pingWaitsForNextGet(self):
        server, session, listener = polling()
        session.tick(10.0)
        assert get(session, 11.0) == b"2"

    def test_pongClearsTimeout(self):
        server, session, listener = polling()
        session.tick(10.0)
        session.pollData(b"3", 12.0)
        assert session.nextDeadline() == 22.0
        session.tick(15.0)
        assert session.state is OPEN

    def test_secondPingAfterPong(self):
        server, session, listener = polling()
        session.tick(10.0)
        get(session, 10.0)
        session.pollData(b"3", 11.0)
        session.tick(21.0)
        assert get(session, 21.0) == b"2"

    def test_missingPongTimesOut(self):
        server, session, listener = polling()
        responder = held(session, 0.0)
        session.tick(10.0)
        assert responder.body == b"2"
        next = held(session, 10.0)
        session.tick(14.9)
        assert session.state is OPEN
        session.tick(15.0)
        assert listener.closedWith == ["ping timeout"]
        assert next.body == b"1"
        assert session.nextDeadline() is None
        assert session.sid not in server.sessions

    def test_runUntilTimesOut(self):
        server, session, listener = polling()
        runUntil(session, 100.0)
        assert listener.closedWith == ["ping timeout"]

    def test_overWebSocket(self):
        server, session, listener, sink, _ = openWebSocket(**OPTIONS)
        session.tick(10.0)
        assert sink.sent == ["2"]
        session.webSocketMessage(sink, "3", 11.0)
        assert session.nextDeadline() == 21.0
        session.tick(21.0)
        assert sink.sent == ["2", "2"]
        session.tick(26.0)
        assert listener.closedWith == ["ping timeout"]
        assert sink.closed == 1

    def test_clientPingIsAnError(self):
        """
        In v4 the server pings; a ping from the client is the wrong
        direction.
        """
        server, session, listener = polling()
        with pytest.raises(EngineIOError):
            session.pollData(b"2", 0.0)
        assert listener.closedWith == ["transport error"]

    def test_noPingWhileClosing(self):
        server, session, listener = polling()
        session.close(9.0)
        session.tick(10.0)
        assert get(session, 10.0) == b"1"


class TestHeartbeatV3:
    """
    v3 "Timeouts": the client pings, the server answers with a pong; no
    ping within C{pingInterval + pingTimeout} closes the session.  A held
    GET is answered with a noop after C{pingInterval}.
    """

    def test_pongAnswersPing(self):
        server, session, listener = polling(3)
        responder = held(session)
        session.pollData(b"1:2", 1.0)
        session.flush()
        assert responder.body == b"1:3"

    def test_pongEchoesPingData(self):
        server, session, listener = polling(3)
        session.pollData(b"5:2abcd", 1.0)
        assert get(session, 1.0) == b"5:3abcd"

    def test_noServerPing(self):
        """
        At C{pingInterval} the server sends no ping: a held GET gets a noop.
        """
        server, session, listener = polling(3)
        responder = held(session, 0.0)
        session.tick(10.0)
        assert session.state is OPEN
        assert responder.body == b"1:6"

    def test_deadlineIsIntervalPlusTimeout(self):
        server, session, listener = polling(3)
        assert session.nextDeadline() == 15.0
        session.tick(14.9)
        assert session.state is OPEN
        session.tick(15.0)
        assert listener.closedWith == ["ping timeout"]
        assert session.sid not in server.sessions

    def test_pingExtendsDeadline(self):
        server, session, listener = polling(3)
        session.pollData(b"1:2", 12.0)
        assert session.nextDeadline() == 27.0
        session.tick(15.0)
        assert session.state is OPEN
        session.tick(27.0)
        assert listener.closedWith == ["ping timeout"]

    def test_heldGetReleasedWithNoop(self):
        server, session, listener = polling(3)
        responder = held(session, 2.0)
        assert session.nextDeadline() == 12.0
        session.tick(12.0)
        assert responder.answers == [(b"1:6", TEXT_PLAIN)]
        assert session.state is OPEN
        assert session.nextDeadline() == 15.0

    def test_heldJsonpGetReleasedWithNoop(self):
        server, session, listener = polling(3)
        responder = held(session, 2.0, jsonp="0")
        session.tick(12.0)
        assert responder.answers == [(b'___eio[0]("1:6");', JAVASCRIPT)]

    def test_overWebSocket(self):
        server, session, listener, sink, _ = openWebSocket(protocol=3, **OPTIONS)
        session.webSocketMessage(sink, "2", 5.0)
        assert sink.sent == ["3"]
        assert session.nextDeadline() == 20.0
        session.tick(20.0)
        assert listener.closedWith == ["ping timeout"]
        assert sink.closed == 1

    def test_clientPongIsAnError(self):
        server, session, listener = polling(3)
        with pytest.raises(EngineIOError):
            session.pollData(b"1:3", 0.0)
        assert listener.closedWith == ["transport error"]


class TestUpgrade:
    """
    "Upgrade": a WebSocket probes the session (C{2probe} / C{3probe}), the
    held GET is released with a noop, and C{5} moves the session onto the
    WebSocket without losing, repeating or reordering a packet.
    """

    def test_canUpgradeWhenPolling(self):
        server, session, listener = polling()
        assert session.canUpgrade()

    @pytest.mark.parametrize(
        "kw", [dict(allowUpgrades=False), dict(transports=("polling",))], ids=["noUpgrades", "pollingOnly"]
    )
    def test_cannotUpgradeWhenNotAllowed(self, kw):
        server, session, listener = polling(**kw)
        assert not session.canUpgrade()

    def test_cannotUpgradeTwice(self):
        server, session, listener, probe = upgrading()
        assert not session.canUpgrade()
        session.webSocketMessage(probe, "5", 0.0)
        assert not session.canUpgrade()

    def test_cannotUpgradeWebSocketSession(self):
        server, session, listener, sink, _ = openWebSocket(**OPTIONS)
        assert not session.canUpgrade()

    def test_cannotUpgradeClosingSession(self):
        server, session, listener = polling()
        session.close(0.0)
        assert not session.canUpgrade()

    def test_probeAnsweredAndGetReleased(self):
        server, session, listener = polling()
        responder = held(session)
        probe = Sink()
        session.startProbe(probe, 0.0)
        assert not responder.answered
        session.webSocketMessage(probe, "2probe", 0.0)
        assert probe.sent == ["3probe"]
        assert responder.answers == [(b"6", TEXT_PLAIN)]
        assert session.transport == "polling"

    def test_probeAnswerSentBeforeGetReleased(self):
        """
        The 3probe is flushed out of the sink before the held GET returns,
        so that the client has paused polling when the GET's answer comes
        (else it sends one more GET before the upgrade).
        """
        server, session, listener = polling()
        probe = Sink()
        flushesWhenAnswered = []
        responder = held(session)
        responder.onAnswer = lambda: flushesWhenAnswered.append(list(probe.flushes))
        session.startProbe(probe, 0.0)
        session.webSocketMessage(probe, "2probe", 0.0)
        assert flushesWhenAnswered == [[1]]

    def test_noFlushWithoutHeldGet(self):
        server, session, listener = polling()
        probe = Sink()
        session.startProbe(probe, 0.0)
        session.webSocketMessage(probe, "2probe", 0.0)
        assert probe.sent == ["3probe"]
        assert probe.flushes == []

    def test_getWhileProbedAnsweredAtOnce(self):
        server, session, listener, probe = upgrading()
        assert get(session, 1.0) == b"6"
        assert get(session, 1.0) == b"6"

    def test_bufferedPacketsNotLostWhenGetReleased(self):
        server, session, listener = polling()
        responder = held(session)
        session.send("a")
        probe = Sink()
        session.startProbe(probe, 0.0)
        session.webSocketMessage(probe, "2probe", 0.0)
        assert responder.body == b"4a"

    def test_postsStillServedWhileProbing(self):
        server, session, listener, probe = upgrading()
        session.pollData(b"4viaPost", 1.0)
        assert listener.messages == ["viaPost"]

    def test_upgradeSwitchesAndFlushesInOrder(self):
        server, session, listener, probe = upgrading()
        session.send("a")
        session.send(b"\x01\x02")
        session.send("c")
        session.webSocketMessage(probe, "5", 0.0)
        assert session.transport == "websocket"
        assert session.upgraded
        assert probe.sent == ["4a", b"\x01\x02", "4c"]
        assert listener.of("upgraded") == [("websocket",)]
        session.send("d")
        assert probe.sent[-1] == "4d"

    def test_v3UpgradeBinaryFramesTyped(self):
        server, session, listener, probe = upgraded(3)
        session.send(b"\x01\x02")
        assert probe.sent == [b"\x04\x01\x02"]

    def test_heldGetAtUpgradeAnsweredWithNoop(self):
        """
        A GET made after C{3probe} is answered at once; one still held at
        C{5} (a client racing) gets a noop, and buffered packets go to the
        WebSocket.
        """
        server, session, listener = polling()
        probe = Sink()
        session.startProbe(probe, 0.0)
        responder = held(session)
        session.webSocketMessage(probe, "2probe", 0.0)
        assert responder.body == b"6"
        session.send("a")
        session.webSocketMessage(probe, "5", 0.0)
        assert probe.sent == ["3probe", "4a"]

    def test_messagesOverUpgradedWebSocket(self):
        server, session, listener, probe = upgraded()
        session.webSocketMessage(probe, "4hi", 1.0)
        session.webSocketMessage(probe, b"\x00\x01", 1.0)
        assert listener.messages == ["hi", b"\x00\x01"]

    def test_heartbeatMovesToWebSocket(self):
        server, session, listener, probe = upgraded()
        session.tick(10.0)
        assert probe.sent == ["2"]

    def test_upgradeTimeoutDropsProbe(self):
        server, session, listener = polling()
        probe = Sink()
        session.startProbe(probe, 1.0)
        assert session.nextDeadline() == 4.0
        session.tick(4.0)
        assert probe.closed == 1
        assert session.state is OPEN and session.transport == "polling"
        assert session.canUpgrade()
        assert session.nextDeadline() == 10.0

    def test_upgradeTimeoutAfterProbeAnswered(self):
        server, session, listener, probe = upgrading()
        session.tick(3.0)
        assert probe.closed == 1
        # Polling works again: GETs are held.
        responder = held(session, 3.0)
        session.send("x")
        session.flush()
        assert responder.body == b"4x"

    @pytest.mark.parametrize(
        "data", ["4hello", "abc", "", "2ping", "5", b"\x05", "1", "3probe"],
        ids=["message", "garbage", "empty", "otherPing", "upgradeFirst", "binary", "close", "pong"],
    )
    def test_badPacketOnProbeDropsIt(self, data):
        server, session, listener = polling()
        probe = Sink()
        session.startProbe(probe, 0.0)
        session.webSocketMessage(probe, data, 0.0)
        assert probe.closed == 1
        assert session.state is OPEN
        assert listener.calls == []
        assert session.canUpgrade()

    def test_badPacketAfterProbeDropsIt(self):
        server, session, listener, probe = upgrading()
        session.webSocketMessage(probe, "4early", 0.0)
        assert probe.closed == 1
        assert session.transport == "polling"
        assert listener.messages == []

    def test_noopOnProbeIgnored(self):
        server, session, listener, probe = upgrading()
        session.webSocketMessage(probe, "6", 0.0)
        assert probe.closed == 0
        session.webSocketMessage(probe, "5", 0.0)
        assert session.upgraded

    def test_probeClosingLeavesPollingWorking(self):
        server, session, listener, probe = upgrading()
        session.webSocketClosed(probe)
        assert session.state is OPEN and session.transport == "polling"
        assert listener.calls == []
        responder = held(session, 1.0)
        session.send("still")
        session.flush()
        assert responder.body == b"4still"
        assert session.canUpgrade()

    def test_secondProbeAfterFirstDropped(self):
        server, session, listener, probe = upgrading()
        session.webSocketClosed(probe)
        second = Sink()
        session.startProbe(second, 1.0)
        session.webSocketMessage(second, "2probe", 1.0)
        session.webSocketMessage(second, "5", 1.0)
        assert session.upgraded
        # The dropped probe is no transport.
        session.webSocketMessage(probe, "4ghost", 1.0)
        assert listener.messages == []

    def test_serverCloseBeforeProbeClosesProbe(self):
        server, session, listener = polling()
        probe = Sink()
        session.startProbe(probe, 0.0)
        session.close(1.0)
        assert probe.closed == 1

    def test_serverCloseAfterProbeGoesWithALateGet(self):
        server, session, listener, probe = upgrading()
        session.close(1.0)
        responder = Responder()
        session.pollGet(responder, 1.0)
        assert responder.body == b"1"
        assert probe.closed == 1
        assert listener.closedWith == ["server close"]

    def test_serverCloseAfterProbeGoesOnTheWebSocket(self):
        """
        A client that got C{3probe} polls no more: a close packet waits for
        its C{5} and goes on the WebSocket.
        """
        server, session, listener, probe = upgrading()
        session.close(1.0)
        assert probe.closed == 0 and listener.closedWith == []
        session.webSocketMessage(probe, "5", 1.5)
        assert probe.sent == ["1"]
        assert probe.closed == 1
        assert listener.closedWith == ["server close"]
        assert session.sid not in server.sessions

    def test_serverCloseAfterProbeWithoutUpgrade(self):
        """
        If the client never sends C{5}, the session still ends.
        """
        server, session, listener, probe = upgrading()
        session.close(1.0)
        session.tick(1.0 + session.options.upgradeTimeout + session.options.pingTimeout)
        assert listener.closedWith == ["server close"]
        assert probe.closed == 1

    def test_upgradedTransportClosed(self):
        server, session, listener, probe = upgraded()
        session.webSocketClosed(probe)
        assert listener.closedWith == ["transport close"]
        assert session.sid not in server.sessions


class TestServerClose:
    """
    Closing from the server side: a close packet, then the transport.
    """

    def test_pollingWithHeldGet(self):
        server, session, listener = polling()
        responder = held(session)
        session.close(1.0)
        assert responder.body == b"1"
        assert session.state is CLOSED
        assert listener.closedWith == ["server close"]
        assert session.sid not in server.sessions

    def test_pollingNextGet(self):
        server, session, listener = polling()
        session.send("last")
        session.close(1.0)
        assert session.state is CLOSING
        assert listener.closedWith == []
        session.send("ignored")
        # What was buffered first, then the close packet on its own (as the
        # Node server does: clients handle messages a tick after a close).
        assert get(session, 2.0) == b"4last"
        assert session.state is CLOSING
        assert listener.closedWith == []
        assert get(session, 2.5) == b"1"
        assert session.state is CLOSED
        assert listener.closedWith == ["server close"]
        assert session.sid not in server.sessions

    def test_pollingHeldGetGetsBufferThenClose(self):
        server, session, listener = polling()
        held = []
        session.pollGet(lambda body, ctype: held.append(body), 1.0)
        # Sent during this reactor turn: buffered until the flush.
        session.send("queued")
        session.close(1.0)
        assert held == [b"4queued"]
        assert session.state is CLOSING
        assert session.nextDeadline() == 6.0
        assert get(session, 2.0) == b"1"
        assert listener.closedWith == ["server close"]

    def test_pollingFinishesAfterPingTimeout(self):
        server, session, listener = polling()
        session.close(1.0)
        assert session.nextDeadline() == 6.0
        session.tick(5.9)
        assert session.state is CLOSING
        session.tick(6.0)
        assert session.state is CLOSED
        assert listener.closedWith == ["server close"]
        assert session.sid not in server.sessions

    def test_v3Polling(self):
        server, session, listener = polling(3)
        responder = held(session)
        session.close(1.0)
        assert responder.body == b"1:1"

    def test_webSocket(self):
        server, session, listener, sink, _ = openWebSocket(**OPTIONS)
        session.send("bye")
        session.close(1.0)
        assert sink.sent == ["4bye", "1"]
        assert sink.closed == 1
        assert listener.closedWith == ["server close"]
        assert session.sid not in server.sessions

    def test_closeTwice(self):
        server, session, listener, sink, _ = openWebSocket(**OPTIONS)
        session.close(1.0)
        session.close(2.0)
        assert sink.sent == ["1"] and sink.closed == 1
        assert listener.closedWith == ["server close"]

    def test_customReason(self):
        server, session, listener = polling()
        held(session)
        session.close(0.0, "shutdown")
        assert listener.closedWith == ["shutdown"]


class TestGoAway:
    """
    A graceful stop ends sessions so that clients reconnect: what is
    buffered is delivered, no close packet is sent, a WebSocket closes
    with 1001.
    """

    def test_heldGetGetsNoop(self):
        server, session, listener = polling()
        responder = held(session)
        session.goAway()
        assert responder.body == b"6"
        assert session.state is CLOSED
        assert listener.closedWith == ["server shutting down"]
        assert session.sid not in server.sessions

    def test_heldGetGetsWhatIsBuffered(self):
        server, session, listener = polling()
        responder = held(session)
        session.send("a")
        session.send("b")
        session.goAway()
        assert responder.body == b"4a\x1e4b"
        assert listener.closedWith == ["server shutting down"]

    def test_noHeldGet(self):
        """
        Without a held GET there is nowhere to send: the session ends, and
        the client's next GET finds none (and it reconnects).
        """
        server, session, listener = polling()
        session.send("lost")
        session.goAway()
        assert listener.closedWith == ["server shutting down"]
        assert session.sid not in server.sessions
        assert session.nextDeadline() is None

    def test_bufferedKeptForTheNextGet(self):
        """
        Given a deadline, a polling session with packets buffered and no
        GET held keeps them for the client's next GET, which gets them and
        ends the session; no close packet.
        """
        server, session, listener = polling()
        session.send("a")
        session.send("b")
        session.goAway(until=5.0)
        assert session.state is CLOSING
        assert listener.closedWith == []
        assert session.nextDeadline() == 5.0
        session.send("too late")
        session.goAway(until=9.0)
        assert session.state is CLOSING and session.nextDeadline() == 5.0
        assert get(session, 1.0) == b"4a\x1e4b"
        assert session.state is CLOSED
        assert listener.closedWith == ["server shutting down"]
        assert session.sid not in server.sessions

    @pytest.mark.parametrize("protocol", [4, 3])
    def test_bufferedUntilTheDeadline(self, protocol):
        server, session, listener = polling(protocol)
        session.send("a")
        session.goAway(until=5.0)
        session.tick(4.9)
        assert session.state is CLOSING
        session.tick(5.0)
        assert session.state is CLOSED
        assert listener.closedWith == ["server shutting down"]
        assert session.sid not in server.sessions
        assert session.nextDeadline() is None

    def test_postRefusedWhileGoingAway(self):
        """
        What the client sends while its session is going away would be
        lost: the POST is refused (code 1, as the session is about to be
        unknown); the buffered packets still wait for the GET.
        """
        server, session, listener = polling()
        session.send("a")
        session.goAway(until=5.0)
        with pytest.raises(EngineIOError) as e:
            session.pollData(b"4hello", 1.0)
        assert e.value.code == EngineIOError.UNKNOWN_SID
        assert listener.messages == []
        assert get(session, 1.0) == b"4a"

    def test_nothingBufferedEndsAtOnce(self):
        server, session, listener = polling()
        session.goAway(until=5.0)
        assert session.state is CLOSED
        assert listener.closedWith == ["server shutting down"]

    def test_heldGetStillEndsAtOnce(self):
        server, session, listener = polling()
        responder = held(session)
        session.send("a")
        session.goAway(until=5.0)
        assert responder.body == b"4a"
        assert session.state is CLOSED

    def test_serverClosingSessionEndsAtOnce(self):
        """
        A session the server was already closing (its close packet due on
        the next GET) ends at once, as before.
        """
        server, session, listener = polling()
        session.send("a")
        session.close(0.0)
        session.goAway(until=5.0)
        assert session.state is CLOSED
        assert listener.closedWith == ["server shutting down"]

    @pytest.mark.parametrize("protocol", [4, 3])
    def test_webSocketClosedGoingAway(self, protocol):
        server, session, listener, probe = upgraded(protocol)
        session.goAway()
        assert probe.sent == []
        assert probe.closeCodes == [1001]
        assert listener.closedWith == ["server shutting down"]
        assert session.sid not in server.sessions

    def test_duringUpgrade(self):
        """
        A client between C{3probe} and C{5} polls no more: its probe closes
        with 1001 and the session ends.
        """
        server, session, listener, probe = upgrading()
        session.goAway()
        assert probe.closed == 1
        assert probe.sent == []
        assert listener.closedWith == ["server shutting down"]

    def test_closedSessionIgnored(self):
        server, session, listener = polling()
        session.abort()
        session.goAway()
        assert listener.closedWith == ["transport error"]


class TestClientAndTransportClose:
    """
    The client's close packet, and transports going away.
    """

    def test_clientCloseOverWebSocket(self):
        server, session, listener, sink, _ = openWebSocket(**OPTIONS)
        session.webSocketMessage(sink, "1", 0.0)
        assert listener.closedWith == ["client close"]
        assert sink.closed == 1

    def test_clientCloseReleasesHeldGetWithNoop(self):
        """
        The client closed the session itself: its pending GET is released
        with a noop, as the protocol's test suite expects.
        """
        server, session, listener = polling()
        responder = held(session, 0.0)
        session.pollData(b"1", 0.0)
        assert responder.body == b"6"
        assert listener.closedWith == ["client close"]

    def test_webSocketClosed(self):
        server, session, listener, sink, _ = openWebSocket(**OPTIONS)
        session.webSocketClosed(sink)
        assert listener.closedWith == ["transport close"]
        assert session.sid not in server.sessions

    def test_webSocketClosedTwice(self):
        server, session, listener, sink, _ = openWebSocket(**OPTIONS)
        session.webSocketClosed(sink)
        session.webSocketClosed(sink)
        assert listener.closedWith == ["transport close"]

    def test_badWebSocketPacket(self):
        server, session, listener, sink, _ = openWebSocket(**OPTIONS)
        with pytest.raises(EngineIOError):
            session.webSocketMessage(sink, "abc", 0.0)
        assert listener.closedWith == ["transport error"]
        assert sink.closed == 1

    def test_badV3BinaryFrame(self):
        server, session, listener, sink, _ = openWebSocket(protocol=3, **OPTIONS)
        with pytest.raises(EngineIOError):
            session.webSocketMessage(sink, b"\x09", 0.0)
        assert listener.closedWith == ["transport error"]

    def test_heldGetAborted(self):
        server, session, listener = polling()
        responder = held(session)
        session.pollAborted(responder)
        assert listener.closedWith == ["transport close"]
        assert not responder.answered
        assert session.sid not in server.sessions

    def test_answeredGetAbortedIsHarmless(self):
        server, session, listener = polling()
        responder = held(session)
        session.send("a")
        session.flush()
        session.pollAborted(responder)
        assert session.state is OPEN

    def test_abort(self):
        server, session, listener = polling()
        responder = held(session)
        session.abort("transport error")
        assert responder.body == b"1"
        assert listener.closedWith == ["transport error"]


class TestBufferLimit:
    """
    C{maxBufferSize}: a client that does not poll cannot make the server
    buffer without bound.
    """

    def test_bufferFull(self):
        server, session, listener = polling(maxBufferSize=200)
        session.send("1" * 100)
        session.send(b"1" * 100)
        assert session.state is OPEN
        session.send("x")
        assert listener.closedWith == ["buffer full"]
        assert session.sid not in server.sessions
        assert get(session) == b"1"

    def test_pollingEmptiesBuffer(self):
        server, session, listener = polling(maxBufferSize=200)
        for _ in range(5):
            session.send("1" * 150)
            get(session)
        assert session.state is OPEN

    def test_webSocketNotLimitedHere(self):
        """
        On a WebSocket nothing waits in the session (the WebSocket layer
        bounds its own write buffer).
        """
        server, session, listener, sink, _ = openWebSocket(maxBufferSize=200, **OPTIONS)
        session.send("x" * 1000)
        assert session.state is OPEN


def closePaths():
    """
    Every way a session closes: C{(name, protocol, action)} where C{action}
    takes the session and its sink (or None) at time 0.
    """

    def overlap(s, sink):
        held(s)
        with pytest.raises(EngineIOError):
            s.pollGet(Responder(), 0.0)

    def badPost(s, sink):
        with pytest.raises(EngineIOError):
            s.pollData(b"abc", 0.0)

    def serverCloseThenGet(s, sink):
        s.close(0.0)
        get(s)

    def serverCloseTimeout(s, sink):
        s.close(0.0)
        s.tick(100.0)

    def heldClose(s, sink):
        held(s)
        s.close(0.0)

    def bufferFull(s, sink):
        s.send("x" * (s.options.maxBufferSize + 1))

    def aborted(s, sink):
        r = held(s)
        s.pollAborted(r)

    def upgradedThenLost(s, sink):
        probe = Sink()
        s.startProbe(probe, 0.0)
        s.webSocketMessage(probe, "2probe", 0.0)
        s.webSocketMessage(probe, "5", 0.0)
        s.webSocketClosed(probe)

    return [
        ("overlappingGet", 4, overlap),
        ("badPost", 4, badPost),
        ("clientClosePost", 4, lambda s, sink: s.pollData(b"1", 0.0)),
        ("serverCloseThenGet", 4, serverCloseThenGet),
        ("serverCloseTimeout", 4, serverCloseTimeout),
        ("serverCloseHeld", 4, heldClose),
        ("pingTimeoutV4", 4, lambda s, sink: runUntil(s, 1000.0)),
        ("pingTimeoutV3", 3, lambda s, sink: runUntil(s, 1000.0)),
        ("bufferFull", 4, bufferFull),
        ("getAborted", 4, aborted),
        ("abort", 3, lambda s, sink: s.abort()),
        ("upgradedThenLost", 4, upgradedThenLost),
        ("wsServerClose", "ws", lambda s, sink: s.close(0.0)),
        ("goAwayPolling", 4, lambda s, sink: s.goAway()),
        ("goAwayHeld", 3, lambda s, sink: (held(s), s.goAway())),
        ("goAwayWebSocket", "ws", lambda s, sink: s.goAway()),
        ("goAwayBufferedThenGet", 4, lambda s, sink: (s.send("x"), s.goAway(until=5.0), get(s, 1.0))),
        ("goAwayBufferedTimeout", 3, lambda s, sink: (s.send("x"), s.goAway(until=5.0), s.tick(5.0))),
        ("wsClientClose", "ws", lambda s, sink: s.webSocketMessage(sink, "1", 0.0)),
        ("wsLost", "ws", lambda s, sink: s.webSocketClosed(sink)),
        ("wsPingTimeout", "ws", lambda s, sink: runUntil(s, 1000.0)),
    ]


class TestEveryClosePath:
    """
    Whatever closes a session, the listener hears it exactly once, the
    server forgets the session, and no deadline is left.
    """

    @pytest.mark.parametrize("name,protocol,action", closePaths(), ids=[p[0] for p in closePaths()])
    def test_closedOnceAndReleased(self, name, protocol, action):
        server = makeServer(**OPTIONS)
        if protocol == "ws":
            _, session, listener, sink, _ = openWebSocket(server, **OPTIONS)
        else:
            _, session, listener, _ = openPolling(server, protocol=protocol, **OPTIONS)
            sink = None
        assert server.sessions == {session.sid: session}
        action(session, sink)
        assert session.state is CLOSED
        assert len(listener.closedWith) == 1
        assert listener.calls[-1][0] == "closed"
        assert server.sessions == {}
        assert session.nextDeadline() is None
        # Nothing more happens to a closed session.
        session.tick(10_000.0)
        session.close(10_000.0)
        session.abort()
        assert len(listener.closedWith) == 1
