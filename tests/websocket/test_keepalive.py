"""
Keep-alive pings and the timeouts of the closing handshake, driven with
explicit C{now} values (RFC 6455 section 5.5.2 for pings as keep-alive,
section 7.1.1 for the wait on a closing handshake).
"""

import pytest

from rtproto.websocket import CLOSED, CLOSING

from .helpers import (
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    clientFrame,
    closePayload,
    makeClient,
    makeServer,
    parseFrames,
    serverFrame,
    summarize,
)


def keepAliveServer(interval=20.0, timeout=5.0, **kw):
    server, out = makeServer(pingInterval=interval, pingTimeout=timeout, **kw)
    server.start(100.0)
    return server, out


class TestRFC6455Section5_5_2KeepAlive:
    """
    Section 5.5.2: a ping may serve as a keep-alive; a peer that does not
    answer in time is dropped.
    """

    def test_startArmsPing(self):
        server, out = keepAliveServer()
        assert server.nextDeadline(100.0) == 120.0
        assert out == []

    def test_noPingWithoutInterval(self):
        server, _ = makeServer()
        server.start(100.0)
        assert server.nextDeadline(100.0) is None
        server.tick(1e9)
        assert not server.shouldDisconnect

    def test_noDeadlineBeforeStart(self):
        server, _ = makeServer(pingInterval=20.0)
        assert server.nextDeadline(0.0) is None

    def test_tickBeforeDeadlineDoesNothing(self):
        server, out = keepAliveServer()
        server.tick(119.999)
        assert out == []

    def test_tickSendsPing(self):
        server, out = keepAliveServer()
        server.tick(120.0)
        [frame] = parseFrames(b"".join(out))
        assert frame.opcode == OP_PING and frame.fin and not frame.masked
        assert 0 < len(frame.payload) <= 125
        # Next: the pong deadline, before the next ping.
        assert server.nextDeadline(120.0) == 125.0

    def test_clientPingMasked(self):
        client, out = makeClient(pingInterval=10.0)
        client.start(0.0)
        client.tick(10.0)
        [frame] = parseFrames(b"".join(out))
        assert frame.opcode == OP_PING and frame.masked

    def test_noPongFailsWith1011(self):
        server, out = keepAliveServer()
        server.tick(120.0)
        out.clear()
        server.tick(124.9)
        assert out == [] and server.failure is None
        server.tick(125.0)
        assert server.failure is not None
        [frame] = parseFrames(b"".join(out))
        assert frame.opcode == OP_CLOSE
        assert frame.payload[:2] == (1011).to_bytes(2, "big")
        assert server.shouldDisconnect
        assert server.state == CLOSED
        assert server.closeCode == 1011
        assert not server.wasClean

    def test_pongClearsTimeout(self):
        server, out = keepAliveServer()
        server.tick(120.0)
        [ping] = parseFrames(b"".join(out))
        out.clear()
        assert summarize(server.receiveData(clientFrame(OP_PONG, ping.payload))) == [("pong", ping.payload)]
        assert server.nextDeadline(122.0) == 140.0
        server.tick(125.0)
        assert out == [] and server.failure is None and not server.shouldDisconnect
        server.tick(140.0)
        [second] = parseFrames(b"".join(out))
        assert second.opcode == OP_PING
        assert second.payload != ping.payload
        assert server.nextDeadline(140.0) == 145.0

    def test_anyPongClearsTimeout(self):
        """
        A pong for an older ping, or an unsolicited one, still shows the
        peer is alive.
        """
        server, out = keepAliveServer()
        server.tick(120.0)
        server.receiveData(clientFrame(OP_PONG, b"whatever"))
        out.clear()
        server.tick(125.0)
        assert server.failure is None and out == []

    def test_pingsRepeatWithoutTimeout(self):
        server, out = keepAliveServer(timeout=0)
        for t in (120.0, 140.0, 160.0):
            assert server.nextDeadline(t) == t
            server.tick(t)
        assert [f.opcode for f in parseFrames(b"".join(out))] == [OP_PING] * 3
        assert server.failure is None

    def test_outstandingPingKeepsFirstDeadline(self):
        """
        With a ping timeout longer than the interval, a second ping does not
        push back the deadline of the first.
        """
        server, out = keepAliveServer(interval=10.0, timeout=15.0)
        server.tick(110.0)
        assert server.nextDeadline(110.0) == 120.0
        server.tick(120.0)
        assert server.nextDeadline(120.0) == 125.0
        server.tick(125.0)
        assert server.closeCode == 1011 and server.shouldDisconnect

    def test_noPingAfterClose(self):
        server, out = keepAliveServer()
        server.close(1000)
        out.clear()
        server.tick(120.0)
        server.tick(200.0)
        assert not any(f.opcode == OP_PING for f in parseFrames(b"".join(out)))

    def test_connectionLostClearsDeadlines(self):
        server, _ = keepAliveServer()
        server.tick(120.0)
        server.connectionLost()
        assert server.nextDeadline(120.0) is None


class TestRFC6455Section7_1_1CloseTimeout:
    """
    Section 7.1.1 / 7.1.2: the closing handshake is bounded in time; the
    close deadline is taken from the C{now} of the next L{nextDeadline}
    call after L{close}.
    """

    def test_closeArmsDeadlineLazily(self):
        server, out = makeServer(closeTimeout=10.0)
        server.start(0.0)
        server.close(1000)
        assert server.state == CLOSING
        assert server.nextDeadline(50.0) == 60.0
        assert server.nextDeadline(55.0) == 60.0  # armed once, not re-armed
        server.tick(59.9)
        assert not server.shouldDisconnect
        server.tick(60.0)
        assert server.shouldDisconnect
        assert out == [serverFrame(OP_CLOSE, closePayload(1000))]

    def test_closeReplacesKeepAlive(self):
        server, out = keepAliveServer(closeTimeout=30.0)
        server.close(1001)
        assert server.nextDeadline(105.0) == 135.0
        out.clear()
        server.tick(120.0)
        assert out == []
        assert not server.shouldDisconnect

    def test_closeHandshakeCompletesBeforeTimeout(self):
        server, _ = makeServer(closeTimeout=10.0)
        server.close(1000)
        server.nextDeadline(0.0)
        server.receiveData(clientFrame(OP_CLOSE, closePayload(1000)))
        assert server.shouldDisconnect
        assert server.wasClean

    def test_noCloseTimeout(self):
        server, _ = makeServer(closeTimeout=0)
        server.close(1000)
        assert server.nextDeadline(50.0) is None

    def test_clientWaitsForServerAfterCloseHandshake(self):
        """
        Section 7.1.1: the client lets the server close TCP, but not
        forever.
        """
        client, _ = makeClient(closeTimeout=4.0)
        client.close(1000)
        client.receiveData(serverFrame(OP_CLOSE, closePayload(1000)))
        assert client.state == CLOSED
        assert not client.shouldDisconnect
        deadline = client.nextDeadline(10.0)
        assert deadline == 14.0
        client.tick(deadline)
        assert client.shouldDisconnect

    @pytest.mark.parametrize("isClient", [False, True])
    def test_failureDisconnectsAtOnce(self, isClient):
        conn, _ = (makeClient if isClient else makeServer)(closeTimeout=10.0)
        conn.fail(1002, "broken")
        assert conn.shouldDisconnect
