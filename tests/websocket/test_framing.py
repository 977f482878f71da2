"""
RFC 6455 sections 5.1-5.4: base framing, masking and fragmentation.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtproto.websocket import CLOSED, WebSocketConnection

from .helpers import (
    MASK,
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    clientFrame,
    closePayload,
    feedEach,
    makeClient,
    makeServer,
    parseFrames,
    serverFrame,
    summarize,
    xor,
)

# Payload lengths at the edges of the three length encodings (section 5.2).
LENGTHS = [0, 1, 125, 126, 127, 65535, 65536, 70000]


def payloadOf(n: int) -> bytes:
    return bytes(i * 7 % 251 for i in range(n))


def failureOf(conn, data: bytes) -> list:
    return summarize(conn.receiveData(data))


class TestRFC6455Section5_2BaseFraming:
    """
    Section 5.2: the frame header, its three payload length encodings and
    the reserved bits and opcodes.
    """

    @pytest.mark.parametrize("n", LENGTHS)
    def test_serverReceivesLength(self, n):
        payload = payloadOf(n)
        server, out = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_BINARY, payload))) == [("binary", payload)]
        assert out == []

    @pytest.mark.parametrize("n", LENGTHS)
    def test_clientReceivesLength(self, n):
        payload = payloadOf(n)
        client, out = makeClient()
        assert summarize(client.receiveData(serverFrame(OP_BINARY, payload))) == [("binary", payload)]

    @pytest.mark.parametrize(
        "n, header",
        [
            (0, b"\x82\x00"),
            (125, b"\x82\x7d"),
            (126, b"\x82\x7e\x00\x7e"),
            (65535, b"\x82\x7e\xff\xff"),
            (65536, b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00"),
            (70000, b"\x82\x7f" + (70000).to_bytes(8, "big")),
        ],
    )
    def test_serverSendsMinimalLength(self, n, header):
        """
        Section 5.2: the length uses the shortest encoding; server frames
        carry no mask.
        """
        payload = payloadOf(n)
        server, out = makeServer()
        server.sendBinary(payload)
        assert b"".join(out) == header + payload

    @pytest.mark.parametrize(
        "n, header",
        [
            (0, b"\x82\x80"),
            (125, b"\x82\xfd"),
            (126, b"\x82\xfe\x00\x7e"),
            (65535, b"\x82\xfe\xff\xff"),
            (65536, b"\x82\xff\x00\x00\x00\x00\x00\x01\x00\x00"),
        ],
    )
    def test_clientSendsMinimalLengthMasked(self, n, header):
        payload = payloadOf(n)
        key = b"\x10\x20\x30\x40"
        client, out = makeClient(maskKeys=lambda: key)
        client.sendBinary(payload)
        data = b"".join(out)
        assert data[: len(header)] == header
        assert data[len(header) : len(header) + 4] == key
        assert data[len(header) + 4 :] == xor(payload, key)

    def test_textFrame(self):
        server, out = makeServer()
        server.sendText("h\u00e9llo \u20ac")
        assert b"".join(out) == b"\x81\x0ah\xc3\xa9llo \xe2\x82\xac"

    def test_severalFramesInOneRead(self):
        server, _ = makeServer()
        data = clientFrame(OP_TEXT, b"one") + clientFrame(OP_BINARY, b"two") + clientFrame(OP_TEXT, b"")
        assert summarize(server.receiveData(data)) == [("text", "one"), ("binary", b"two"), ("text", "")]

    def test_headerSplitAcrossReads(self):
        """
        A 64-bit length header arriving one byte at a time.
        """
        payload = payloadOf(70000)
        server, _ = makeServer()
        frame = clientFrame(OP_BINARY, payload)
        events = feedEach(server, [frame[i : i + 1] for i in range(14)] + [frame[14:]])
        assert events == [("binary", payload)]

    @pytest.mark.parametrize("which", ["rsv2", "rsv3"])
    @pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY, OP_PING])
    def test_rsv2Rsv3Is1002(self, which, opcode):
        server, out = makeServer()
        assert failureOf(server, clientFrame(opcode, b"x", **{which: True})) == [("failure", 1002)]
        assert out == []

    def test_rsv1WithoutExtensionIs1002(self):
        server, _ = makeServer()
        assert failureOf(server, clientFrame(OP_TEXT, b"x", rsv1=True)) == [("failure", 1002)]

    @pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 11, 12, 13, 14, 15])
    def test_reservedOpcodeIs1002(self, opcode):
        server, _ = makeServer()
        assert failureOf(server, clientFrame(opcode, b"x")) == [("failure", 1002)]

    @pytest.mark.parametrize("opcode", [3, 11])
    def test_reservedOpcodeFailsOnHeaderAlone(self, opcode):
        server, _ = makeServer()
        frame = clientFrame(opcode, b"payload")
        assert failureOf(server, frame[:6]) == [("failure", 1002)]

    def test_highBitLengthIs1002(self):
        """
        Section 5.2: the most significant bit of a 64-bit length MUST be 0.
        """
        server, _ = makeServer(maxFrameSize=0, maxMessageSize=0)
        header = b"\x82\xff" + ((1 << 63) | 5).to_bytes(8, "big") + MASK
        assert failureOf(server, header) == [("failure", 1002)]

    @pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE])
    def test_controlFrameOver125Is1002(self, opcode):
        """
        Section 5.5: control frames carry at most 125 bytes; the 16-bit
        length form is already a violation.
        """
        server, out = makeServer()
        assert failureOf(server, clientFrame(opcode, b"\x03\xe8" + b"x" * 124)) == [("failure", 1002)]
        assert out == []

    def test_controlFrameOf125Accepted(self):
        server, out = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_PING, b"p" * 125))) == [("ping", b"p" * 125)]
        assert out == [serverFrame(OP_PONG, b"p" * 125)]

    @pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE])
    def test_fragmentedControlFrameIs1002(self, opcode):
        """
        Section 5.5: control frames MUST NOT be fragmented.
        """
        server, out = makeServer()
        assert failureOf(server, clientFrame(opcode, b"", fin=False)) == [("failure", 1002)]
        assert out == []


class TestRFC6455Section5_3ClientToServerMasking:
    """
    Section 5.3 (and 5.1): clients mask every frame, servers never do.
    """

    @pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY, OP_PING, OP_CLOSE])
    def test_unmaskedFromClientIs1002(self, opcode):
        server, out = makeServer()
        assert failureOf(server, serverFrame(opcode, b"")) == [("failure", 1002)]
        assert out == []

    @pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY, OP_PING, OP_CLOSE])
    def test_maskedFromServerIs1002(self, opcode):
        client, out = makeClient()
        assert failureOf(client, clientFrame(opcode, b"")) == [("failure", 1002)]
        assert out == []

    def test_serverNeverMasks(self):
        server, out = makeServer()
        server.sendText("a")
        server.sendBinary(b"b")
        server.ping(b"c")
        server.sendFragment("d", final=True)
        server.close(1000, "e")
        frames = parseFrames(b"".join(out))
        assert [f.opcode for f in frames] == [OP_TEXT, OP_BINARY, OP_PING, OP_TEXT, OP_CLOSE]
        assert not any(f.masked for f in frames)

    def test_clientMasksEveryFrameWithFreshKeys(self):
        keys = iter([b"\x01\x02\x03\x04", b"\x05\x06\x07\x08", b"\x09\x0a\x0b\x0c",
                     b"\x0d\x0e\x0f\x10", b"\x11\x12\x13\x14"])
        client, out = makeClient(maskKeys=lambda: next(keys))
        client.sendText("hello")
        client.sendBinary(b"\x00\x01")
        client.ping(b"p")
        client.sendFragment(b"frag", isBinary=True, final=True)
        client.close(1000)
        frames = parseFrames(b"".join(out))
        assert [f.maskKey for f in frames] == [
            b"\x01\x02\x03\x04", b"\x05\x06\x07\x08", b"\x09\x0a\x0b\x0c",
            b"\x0d\x0e\x0f\x10", b"\x11\x12\x13\x14",
        ]
        assert [f.payload for f in frames] == [b"hello", b"\x00\x01", b"p", b"frag", closePayload(1000)]

    def test_defaultMaskKeysVary(self):
        out: list = []
        client = WebSocketConnection(True, out.append)
        for _ in range(4):
            client.sendBinary(b"x")
        keys = {f.maskKey for f in parseFrames(b"".join(out))}
        assert len(keys) == 4

    @pytest.mark.parametrize("opcode, payload", [
        (OP_BINARY, b"0123456789abcdef\x00\xff\x80"),
        (OP_TEXT, "h\u00e9llo w\u00f6rld \u20ac\U0001d11e!".encode()),
    ])
    def test_maskKeyRotationByteByByte(self, opcode, payload):
        """
        The masking key applies by payload offset (j MOD 4), whatever the
        read boundaries; feed the frame one byte at a time.
        """
        server, _ = makeServer()
        frame = clientFrame(opcode, payload)
        events = feedEach(server, [frame[i : i + 1] for i in range(len(frame))])
        expected = ("text", payload.decode()) if opcode == OP_TEXT else ("binary", payload)
        assert events == [expected]

    @pytest.mark.parametrize("opcode", [OP_BINARY, OP_TEXT])
    def test_maskKeyRotationEverySplit(self, opcode):
        payload = b"split me at every byte!"
        frame = clientFrame(opcode, payload) + clientFrame(opcode, payload[::-1], maskKey=b"\xde\xad\xbe\xef")
        kind = "text" if opcode == OP_TEXT else "binary"
        value = (lambda p: p.decode()) if opcode == OP_TEXT else (lambda p: p)
        for i in range(len(frame) + 1):
            for j in range(i, len(frame) + 1, 5):
                server, _ = makeServer()
                events = feedEach(server, [frame[:i], frame[i:j], frame[j:]])
                assert events == [(kind, value(payload)), (kind, value(payload[::-1]))], (i, j)

    @settings(max_examples=200, deadline=None)
    @given(
        payload=st.binary(max_size=300),
        key=st.binary(min_size=4, max_size=4),
        cuts=st.lists(st.integers(min_value=0, max_value=320), max_size=8),
    )
    def test_maskingProperty(self, payload, key, cuts):
        server, _ = makeServer()
        frame = clientFrame(OP_BINARY, payload, maskKey=key)
        bounds = sorted({min(c, len(frame)) for c in cuts})
        pieces = [frame[a:b] for a, b in zip([0] + bounds, bounds + [len(frame)])]
        assert feedEach(server, pieces) == [("binary", payload)]


class TestRFC6455Section5_4Fragmentation:
    """
    Section 5.4: a message in several frames; control frames may be
    injected between them.
    """

    def test_textInThreeFragments(self):
        server, _ = makeServer()
        data = (
            clientFrame(OP_TEXT, b"Hel", fin=False)
            + clientFrame(OP_CONTINUATION, b"lo, ", fin=False)
            + clientFrame(OP_CONTINUATION, b"world")
        )
        assert summarize(server.receiveData(data)) == [("text", "Hello, world")]

    def test_binaryInFragmentsAcrossReads(self):
        server, _ = makeServer()
        events = feedEach(server, [
            clientFrame(OP_BINARY, b"\x00\x01", fin=False),
            clientFrame(OP_CONTINUATION, b"", fin=False),
            clientFrame(OP_CONTINUATION, b"\x02"),
        ])
        assert events == [("binary", b"\x00\x01\x02")]

    def test_emptyFragments(self):
        server, _ = makeServer()
        data = clientFrame(OP_TEXT, b"", fin=False) + clientFrame(OP_CONTINUATION, b"")
        assert summarize(server.receiveData(data)) == [("text", "")]

    def test_clientReceivesFragments(self):
        client, _ = makeClient()
        data = serverFrame(OP_TEXT, b"ab", fin=False) + serverFrame(OP_CONTINUATION, b"cd")
        assert summarize(client.receiveData(data)) == [("text", "abcd")]

    def test_pingInsideFragmentedMessage(self):
        """
        Section 5.4: control frames MAY be injected in the middle of a
        fragmented message, and section 5.5.2: the pong goes out as soon as
        practical, not after the message.
        """
        server, out = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_TEXT, b"first ", fin=False))) == []
        assert summarize(server.receiveData(clientFrame(OP_PING, b"are you there"))) == [
            ("ping", b"are you there")
        ]
        assert out == [serverFrame(OP_PONG, b"are you there")]
        assert summarize(server.receiveData(clientFrame(OP_PONG, b"unsolicited"))) == [
            ("pong", b"unsolicited")
        ]
        assert summarize(server.receiveData(clientFrame(OP_CONTINUATION, b"second"))) == [
            ("text", "first second")
        ]

    def test_pingInsideFragmentedMessageOneRead(self):
        server, out = makeServer()
        data = (
            clientFrame(OP_BINARY, b"a", fin=False)
            + clientFrame(OP_PING, b"1")
            + clientFrame(OP_CONTINUATION, b"b", fin=False)
            + clientFrame(OP_PING, b"2")
            + clientFrame(OP_CONTINUATION, b"c")
        )
        assert summarize(server.receiveData(data)) == [("ping", b"1"), ("ping", b"2"), ("binary", b"abc")]
        assert b"".join(out) == serverFrame(OP_PONG, b"1") + serverFrame(OP_PONG, b"2")

    def test_closeInsideFragmentedMessage(self):
        server, out = makeServer()
        data = clientFrame(OP_TEXT, b"never", fin=False) + clientFrame(OP_CLOSE, closePayload(1001))
        assert summarize(server.receiveData(data)) == [("close", 1001, "")]
        assert server.state == CLOSED

    def test_continuationWithoutStartIs1002(self):
        server, _ = makeServer()
        assert failureOf(server, clientFrame(OP_CONTINUATION, b"x")) == [("failure", 1002)]

    def test_continuationAfterFinishedMessageIs1002(self):
        server, _ = makeServer()
        data = clientFrame(OP_TEXT, b"done") + clientFrame(OP_CONTINUATION, b"more")
        assert summarize(server.receiveData(data)) == [("text", "done"), ("failure", 1002)]

    @pytest.mark.parametrize("first", [OP_TEXT, OP_BINARY])
    @pytest.mark.parametrize("second", [OP_TEXT, OP_BINARY])
    def test_newMessageDuringFragmentedIs1002(self, first, second):
        server, _ = makeServer()
        data = clientFrame(first, b"a", fin=False) + clientFrame(second, b"b")
        assert failureOf(server, data) == [("failure", 1002)]


class TestRFC6455Section7_1_7FailingTheConnection:
    """
    Section 7.1.7 with the core's contract: events before a violation are
    delivered, then a L{ProtocolFailure}; L{fail} writes the close frame and
    asks for the disconnect.
    """

    def test_eventsBeforeViolationKept(self):
        server, out = makeServer()
        data = (
            clientFrame(OP_TEXT, b"one")
            + clientFrame(OP_PING, b"p")
            + clientFrame(OP_BINARY, b"two")
            + clientFrame(5, b"bad")
            + clientFrame(OP_TEXT, b"never seen")
        )
        assert summarize(server.receiveData(data)) == [
            ("text", "one"), ("ping", b"p"), ("binary", b"two"), ("failure", 1002)
        ]
        # The pong for the ping before the violation went out; nothing else.
        assert out == [serverFrame(OP_PONG, b"p")]
        assert not server.shouldDisconnect

    def test_failWritesCloseAndDisconnects(self):
        server, out = makeServer()
        [failure] = server.receiveData(clientFrame(OP_CONTINUATION, b"x"))
        assert failure.code == 1002
        assert isinstance(failure.reason, str) and failure.reason
        server.fail(failure.code, failure.reason)
        [frame] = parseFrames(b"".join(out))
        assert frame.opcode == OP_CLOSE and not frame.masked
        assert frame.payload == closePayload(1002, failure.reason.encode())
        assert server.shouldDisconnect
        assert server.state == CLOSED
        assert server.closeCode == 1002
        assert server.failure == failure.reason
        assert not server.wasClean

    def test_failOnClientMasksClose(self):
        client, out = makeClient()
        [failure] = client.receiveData(serverFrame(3, b""))
        client.fail(failure.code, failure.reason)
        [frame] = parseFrames(b"".join(out))
        assert frame.opcode == OP_CLOSE and frame.masked
        assert frame.payload[:2] == b"\x03\xea"
        assert client.shouldDisconnect

    def test_noReadingAfterFailure(self):
        server, out = makeServer()
        assert failureOf(server, clientFrame(OP_TEXT, b"x", rsv3=True)) == [("failure", 1002)]
        assert summarize(server.receiveData(clientFrame(OP_PING, b"late"))) == []
        server.fail(1002, "bad")
        out.clear()
        assert summarize(server.receiveData(clientFrame(OP_PING, b"later"))) == []
        assert out == []

    def test_failIsIdempotent(self):
        server, out = makeServer()
        server.fail(1002, "first")
        server.fail(1007, "second")
        assert len(parseFrames(b"".join(out))) == 1
        assert server.closeCode == 1002
        assert server.failure == "first"
