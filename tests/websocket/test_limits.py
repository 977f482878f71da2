"""
Size limits (RFC 6455 section 10.4, close code 1009 of section 7.4.1):
C{maxFrameSize} and C{maxMessageSize}, refused as early as the header
allows; 0 means no limit.
"""

import pytest

from .helpers import (
    OP_BINARY,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    clientFrame,
    makeClient,
    makeServer,
    serverFrame,
    summarize,
)


def header(frame: bytes, n: int) -> bytes:
    """
    The header (with masking key) of a client frame with an C{n}-byte
    payload.
    """
    return frame[: (2 if n < 126 else 4 if n < 65536 else 10) + 4]


class TestRFC6455Section10_4FrameSizeLimit:
    """
    Section 10.4: implementations SHOULD impose a limit on frame sizes.
    """

    def test_overLimitFailsOnHeaderAlone(self):
        server, out = makeServer(maxFrameSize=100)
        frame = clientFrame(OP_BINARY, b"x" * 101)
        assert summarize(server.receiveData(header(frame, 101))) == [("failure", 1009)]
        assert out == []

    def test_overLimit64BitHeaderAlone(self):
        server, _ = makeServer(maxFrameSize=1 << 20, maxMessageSize=0)
        head = b"\x82\xff" + (1 << 40).to_bytes(8, "big") + b"\x00\x00\x00\x00"
        assert summarize(server.receiveData(head)) == [("failure", 1009)]

    @pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
    def test_atLimitAccepted(self, opcode):
        server, _ = makeServer(maxFrameSize=100)
        events = summarize(server.receiveData(clientFrame(opcode, b"x" * 100)))
        assert events == [("text", "x" * 100) if opcode == OP_TEXT else ("binary", b"x" * 100)]

    def test_limitIsPerFrame(self):
        """
        Many frames each under the frame limit make a larger message.
        """
        server, _ = makeServer(maxFrameSize=100, maxMessageSize=0)
        data = clientFrame(OP_BINARY, b"a" * 100, fin=False)
        data += b"".join(clientFrame(OP_CONTINUATION, b"b" * 100, fin=False) for _ in range(8))
        data += clientFrame(OP_CONTINUATION, b"c" * 100)
        assert summarize(server.receiveData(data)) == [("binary", b"a" * 100 + b"b" * 800 + b"c" * 100)]

    def test_overLimitContinuation(self):
        server, _ = makeServer(maxFrameSize=100, maxMessageSize=0)
        assert summarize(server.receiveData(clientFrame(OP_TEXT, b"a" * 10, fin=False))) == []
        frame = clientFrame(OP_CONTINUATION, b"b" * 101)
        assert summarize(server.receiveData(header(frame, 101))) == [("failure", 1009)]

    def test_clientSide(self):
        client, _ = makeClient(maxFrameSize=10)
        assert summarize(client.receiveData(serverFrame(OP_BINARY, b"y" * 11)[:2])) == [("failure", 1009)]

    def test_zeroIsUnlimited(self):
        payload = b"z" * ((2 << 20) + 1)
        server, _ = makeServer(maxFrameSize=0, maxMessageSize=0)
        assert summarize(server.receiveData(clientFrame(OP_BINARY, payload))) == [("binary", payload)]

    def test_defaultLimitIsOneMebibyte(self):
        server, _ = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_BINARY, b"z" * (1 << 20)))) == [
            ("binary", b"z" * (1 << 20))
        ]
        frame = clientFrame(OP_BINARY, b"z" * ((1 << 20) + 1))
        server, _ = makeServer()
        assert summarize(server.receiveData(header(frame, (1 << 20) + 1))) == [("failure", 1009)]

    def test_controlFramesStillAnswered(self):
        """
        A small frame limit does not get in the way of control frames within
        the protocol's own 125-byte bound.
        """
        server, out = makeServer(maxFrameSize=10, maxMessageSize=10)
        assert summarize(server.receiveData(clientFrame(OP_PING, b"p" * 50))) == [("ping", b"p" * 50)]
        assert out == [serverFrame(OP_PONG, b"p" * 50)]


class TestRFC6455Section10_4MessageSizeLimit:
    """
    Section 10.4: a limit on the size of a reassembled message.
    """

    def test_singleFrameOverLimitFailsOnHeader(self):
        server, _ = makeServer(maxMessageSize=100, maxFrameSize=0)
        frame = clientFrame(OP_TEXT, b"x" * 101)
        assert summarize(server.receiveData(header(frame, 101))) == [("failure", 1009)]

    def test_acrossFragmentsFailsOnHeader(self):
        server, _ = makeServer(maxMessageSize=100, maxFrameSize=0)
        assert summarize(server.receiveData(clientFrame(OP_BINARY, b"a" * 60, fin=False))) == []
        frame = clientFrame(OP_CONTINUATION, b"b" * 41)
        assert summarize(server.receiveData(header(frame, 41))) == [("failure", 1009)]

    def test_acrossManyFragments(self):
        server, _ = makeServer(maxMessageSize=100, maxFrameSize=0)
        data = b"".join(clientFrame(OP_TEXT if i == 0 else OP_CONTINUATION, b"0123456789", fin=False)
                        for i in range(10))
        assert summarize(server.receiveData(data)) == []
        assert summarize(server.receiveData(clientFrame(OP_CONTINUATION, b"!"))) == [("failure", 1009)]

    def test_exactlyAtLimitAcrossFragments(self):
        server, _ = makeServer(maxMessageSize=100, maxFrameSize=0)
        data = clientFrame(OP_TEXT, b"a" * 60, fin=False) + clientFrame(OP_CONTINUATION, b"b" * 40)
        assert summarize(server.receiveData(data)) == [("text", "a" * 60 + "b" * 40)]

    def test_limitIsPerMessage(self):
        server, _ = makeServer(maxMessageSize=100, maxFrameSize=0)
        data = b"".join(clientFrame(OP_BINARY, bytes([i]) * 100) for i in range(5))
        assert summarize(server.receiveData(data)) == [("binary", bytes([i]) * 100) for i in range(5)]
        data = clientFrame(OP_BINARY, b"a" * 50, fin=False) + clientFrame(OP_CONTINUATION, b"b" * 50)
        data += clientFrame(OP_BINARY, b"c" * 50, fin=False) + clientFrame(OP_CONTINUATION, b"d" * 50)
        assert summarize(server.receiveData(data)) == [
            ("binary", b"a" * 50 + b"b" * 50), ("binary", b"c" * 50 + b"d" * 50)
        ]

    def test_eventsBeforeTooBigKept(self):
        server, _ = makeServer(maxMessageSize=10, maxFrameSize=0)
        data = clientFrame(OP_TEXT, b"fine") + clientFrame(OP_TEXT, b"far too long")
        assert summarize(server.receiveData(data)) == [("text", "fine"), ("failure", 1009)]

    def test_streamingModeEnforcesLimit(self):
        server, _ = makeServer(maxMessageSize=10, maxFrameSize=0, streaming=True)
        assert summarize(server.receiveData(clientFrame(OP_BINARY, b"123456", fin=False))) == [
            ("fragment", b"123456", True, True, False)
        ]
        assert summarize(server.receiveData(clientFrame(OP_CONTINUATION, b"12345")[:6])) == [
            ("failure", 1009)
        ]

    def test_zeroIsUnlimitedAcrossFragments(self):
        server, _ = makeServer(maxMessageSize=0, maxFrameSize=1 << 20)
        chunk = b"q" * (1 << 20)
        data = clientFrame(OP_BINARY, chunk, fin=False) + clientFrame(OP_CONTINUATION, chunk, fin=False)
        data += clientFrame(OP_CONTINUATION, b"!")
        assert summarize(server.receiveData(data)) == [("binary", chunk * 2 + b"!")]
