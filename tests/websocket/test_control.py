"""
RFC 6455 section 5.5: control frames (close, ping, pong), with the closing
handshake of section 7 and the close codes of section 7.4.
"""

import pytest

from rtproto.errors import UsageError
from rtproto.websocket import CLOSED, CLOSING, OPEN, PreparedMessage, isValidCloseCode
from rtproto.websocket._frames import decodeClosePayload, encodeClosePayload

from .helpers import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    clientFrame,
    closePayload,
    makeClient,
    makeServer,
    parseFrames,
    serverFrame,
    summarize,
)

VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]
INVALID_CODES = [0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


class TestRFC6455Section5_5_2Ping:
    """
    Section 5.5.2: a ping is answered with a pong carrying the same
    application data.
    """

    @pytest.mark.parametrize("payload", [b"", b"hello", bytes(range(125))])
    def test_serverAnswersPing(self, payload):
        server, out = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_PING, payload))) == [("ping", payload)]
        assert out == [serverFrame(OP_PONG, payload)]

    def test_clientAnswersPingMasked(self):
        client, out = makeClient()
        assert summarize(client.receiveData(serverFrame(OP_PING, b"\x00\xffbeat"))) == [
            ("ping", b"\x00\xffbeat")
        ]
        [frame] = parseFrames(b"".join(out))
        assert frame == frame._replace(fin=True, opcode=OP_PONG, masked=True, payload=b"\x00\xffbeat")

    def test_pingSplitAcrossReads(self):
        server, out = makeServer()
        frame = clientFrame(OP_PING, b"split ping")
        assert summarize(server.receiveData(frame[:9])) == []
        assert out == []
        assert summarize(server.receiveData(frame[9:])) == [("ping", b"split ping")]
        assert out == [serverFrame(OP_PONG, b"split ping")]

    def test_eachPingAnswered(self):
        server, out = makeServer()
        server.receiveData(clientFrame(OP_PING, b"1") + clientFrame(OP_PING, b"2"))
        assert b"".join(out) == serverFrame(OP_PONG, b"1") + serverFrame(OP_PONG, b"2")

    def test_sendPing(self):
        server, out = makeServer()
        server.ping(b"are you alive")
        assert out == [serverFrame(OP_PING, b"are you alive")]

    def test_pingPayloadOver125IsUsageError(self):
        server, out = makeServer()
        with pytest.raises(UsageError):
            server.ping(b"x" * 126)
        assert out == []


class TestRFC6455Section5_5_3Pong:
    """
    Section 5.5.3: a pong (solicited or not) is reported and not answered.
    """

    @pytest.mark.parametrize("payload", [b"", b"beat"])
    def test_pongEvent(self, payload):
        server, out = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_PONG, payload))) == [("pong", payload)]
        assert out == []


class TestRFC6455Section5_5_1Close:
    """
    Section 5.5.1 and 7.1: the closing handshake.
    """

    def test_serverEchoesCloseAndDisconnects(self):
        """
        The server answers a close with a close, then (section 7.1.1) closes
        the TCP connection first.
        """
        server, out = makeServer()
        events = server.receiveData(clientFrame(OP_CLOSE, closePayload(1000, b"bye")))
        assert summarize(events) == [("close", 1000, "bye")]
        [frame] = parseFrames(b"".join(out))
        assert frame.opcode == OP_CLOSE and frame.fin and not frame.masked
        assert frame.payload[:2] == b"\x03\xe8"
        assert server.state == CLOSED
        assert server.shouldDisconnect
        assert server.closeCode == 1000
        assert server.closeReason == "bye"
        assert server.wasClean

    def test_clientEchoesCloseAndWaitsForServer(self):
        """
        Section 7.1.1: the client waits for the server to close TCP, giving
        up after the close timeout.
        """
        client, out = makeClient(closeTimeout=7)
        events = client.receiveData(serverFrame(OP_CLOSE, closePayload(1001, b"restart")))
        assert summarize(events) == [("close", 1001, "restart")]
        [frame] = parseFrames(b"".join(out))
        assert frame.opcode == OP_CLOSE and frame.masked
        assert frame.payload[:2] == b"\x03\xe9"
        assert client.state == CLOSED
        assert not client.shouldDisconnect
        assert client.nextDeadline(50.0) == 57.0
        client.tick(56.9)
        assert not client.shouldDisconnect
        client.tick(57.0)
        assert client.shouldDisconnect

    def test_serverInitiatedClose(self):
        server, out = makeServer()
        server.close(1001, "going away")
        assert out == [serverFrame(OP_CLOSE, closePayload(1001, b"going away"))]
        assert server.state == CLOSING
        assert not server.shouldDisconnect
        out.clear()
        assert summarize(server.receiveData(clientFrame(OP_CLOSE, closePayload(1001)))) == [
            ("close", 1001, "")
        ]
        assert out == []  # no second close frame
        assert server.state == CLOSED
        assert server.shouldDisconnect
        assert server.wasClean

    def test_clientInitiatedClose(self):
        client, out = makeClient(closeTimeout=5)
        client.close(1000, "done")
        [frame] = parseFrames(b"".join(out))
        assert (frame.opcode, frame.masked, frame.payload) == (OP_CLOSE, True, closePayload(1000, b"done"))
        out.clear()
        client.receiveData(serverFrame(OP_CLOSE, closePayload(1000)))
        assert out == []
        assert client.state == CLOSED
        assert client.wasClean
        assert not client.shouldDisconnect

    @pytest.mark.parametrize("code", VALID_CODES)
    def test_validCodeOnTheWire(self, code):
        server, out = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_CLOSE, closePayload(code, b"r")))) == [
            ("close", code, "r")
        ]
        [frame] = parseFrames(b"".join(out))
        assert frame.payload[:2] == code.to_bytes(2, "big")
        assert server.closeCode == code

    @pytest.mark.parametrize("code", INVALID_CODES)
    def test_invalidCodeOnTheWireIs1002(self, code):
        server, out = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_CLOSE, closePayload(code)))) == [
            ("failure", 1002)
        ]
        assert out == []
        assert not server.closeReceived

    @pytest.mark.parametrize("code", VALID_CODES)
    def test_isValidCloseCodeAccepts(self, code):
        assert isValidCloseCode(code)

    @pytest.mark.parametrize("code", INVALID_CODES)
    def test_isValidCloseCodeRefuses(self, code):
        assert not isValidCloseCode(code)

    def test_oneBytePayloadIs1002(self):
        server, out = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_CLOSE, b"\x03"))) == [("failure", 1002)]
        assert out == []

    @pytest.mark.parametrize("reason", [b"\xff", b"ok \xc3", b"\xed\xa0\x80", b"\xc0\xaf"])
    def test_invalidUtf8ReasonIs1007(self, reason):
        server, out = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_CLOSE, closePayload(1000, reason)))) == [
            ("failure", 1007)
        ]
        assert out == []

    def test_emptyCloseIs1005EchoedEmpty(self):
        """
        Section 7.1.5: no status code means 1005 is reported; the echo has
        no code either (1005 may not be sent).
        """
        server, out = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_CLOSE, b""))) == [("close", 1005, "")]
        assert out == [b"\x88\x00"]
        assert server.closeCode == 1005
        assert server.shouldDisconnect

    def test_closeWithoutCode(self):
        server, out = makeServer()
        server.close(None)
        assert out == [b"\x88\x00"]

    @pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 2999, 5000])
    def test_closeWithInvalidCodeIsUsageError(self, code):
        server, out = makeServer()
        with pytest.raises(UsageError):
            server.close(code)
        assert out == []
        assert server.state == OPEN

    def test_reasonWithoutCodeIsUsageError(self):
        server, out = makeServer()
        with pytest.raises(UsageError):
            server.close(None, "why")
        assert out == []

    def test_closeTwiceSendsOneFrame(self):
        server, out = makeServer()
        server.close(1000)
        server.close(1001, "again")
        assert out == [serverFrame(OP_CLOSE, closePayload(1000))]

    def test_longReasonTrimmedOnCharacterBoundary(self):
        """
        Section 5.5: the whole close payload fits in 125 bytes; trimming
        must not cut a UTF-8 sequence.
        """
        server, out = makeServer()
        server.close(1000, "\u00e9" * 100)
        [frame] = parseFrames(b"".join(out))
        assert frame.payload == closePayload(1000, "\u00e9".encode() * 61)
        assert decodeClosePayload(frame.payload) == (1000, "\u00e9" * 61)

    def test_encodeClosePayload(self):
        assert encodeClosePayload(None) == b""
        assert encodeClosePayload(1000) == b"\x03\xe8"
        assert encodeClosePayload(4000, "x") == b"\x0f\xa0x"

    @pytest.mark.parametrize("after", ["close", "closeReceived"])
    def test_sendingAfterCloseDropped(self, after):
        """
        Section 5.5.1: after sending a close frame, no more data frames are
        sent; the core drops them rather than raising.
        """
        server, out = makeServer()
        if after == "close":
            server.close(1000)
        else:
            server.receiveData(clientFrame(OP_CLOSE, closePayload(1000)))
        out.clear()
        server.sendText("late")
        server.sendBinary(b"late")
        server.sendFragment("late", final=False)
        server.sendFragment("late", final=True)
        server.sendPrepared(PreparedMessage("late"))
        server.ping(b"late")
        assert out == []

    def test_sendingAfterCloseDroppedOnClient(self):
        client, out = makeClient()
        client.close(1000)
        out.clear()
        client.sendText("late")
        client.sendBinary(b"late")
        client.ping()
        assert out == []

    def test_messagesBeforeCloseDelivered(self):
        server, out = makeServer()
        data = (
            clientFrame(OP_TEXT, b"last words")
            + clientFrame(OP_CLOSE, closePayload(1000))
            + clientFrame(OP_BINARY, b"after close")
        )
        assert summarize(server.receiveData(data)) == [("text", "last words"), ("close", 1000, "")]
        # Nothing is read after the close frame (section 5.5.1).
        assert summarize(server.receiveData(clientFrame(OP_TEXT, b"x"))) == []

    def test_connectionLostWithoutClose(self):
        server, _ = makeServer()
        server.connectionLost()
        assert server.state == CLOSED
        assert server.closeCode == 1006
        assert not server.wasClean

    def test_connectionLostAfterUnansweredClose(self):
        """
        Section 7.1.5: without a close frame received, the close code is
        1006.
        """
        server, _ = makeServer()
        server.close(1000)
        server.connectionLost()
        assert server.closeCode == 1006
        assert not server.wasClean

    def test_connectionLostAfterCloseHandshake(self):
        server, _ = makeServer()
        server.receiveData(clientFrame(OP_CLOSE, closePayload(4001, b"app")))
        server.connectionLost()
        assert (server.closeCode, server.closeReason) == (4001, "app")
        assert server.wasClean


class TestRFC6455Section7_1_4Closed:
    """
    Section 7.1.4: once the TCP connection is closed the WebSocket
    connection is in the CLOSED state, for good.  The core's contract
    (sending on a closed connection is dropped silently) holds for an
    abrupt loss too, not only after a closing handshake.
    """

    def test_sendingAfterConnectionLostDropped(self):
        server, out = makeServer()
        server.connectionLost()
        server.sendText("late")
        server.sendBinary(b"late")
        server.sendFragment("late", final=True)
        server.sendPrepared(PreparedMessage("late"))
        server.ping(b"late")
        assert out == []

    def test_closeAfterConnectionLostStaysClosed(self):
        """
        A handler that calls close() from its connectionClosed callback must
        not reopen the state machine: no frame, no CLOSING, no deadline.
        """
        server, out = makeServer(closeTimeout=10.0)
        server.connectionLost()
        server.close(1000)
        assert out == []
        assert server.state == CLOSED
        assert server.nextDeadline(5.0) is None
        assert server.closeCode == 1006
