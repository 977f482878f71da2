"""
Streaming messages (RFC 6455 section 5.4: a message of unknown length sent
as fragments; receivers may deliver fragments as they arrive).
"""

import pytest

from rtproto.errors import UsageError

from .helpers import (
    OP_BINARY,
    OP_CONTINUATION,
    OP_PING,
    OP_TEXT,
    clientFrame,
    feedEach,
    makeClient,
    makeServer,
    parseFrames,
    summarize,
    transfer,
)


class TestRFC6455Section5_4ReceivingFragments:
    """
    A server with C{streaming=True} reports L{MessageFragment}s.
    """

    def test_fragmentsReported(self):
        server, _ = makeServer(streaming=True)
        data = (
            clientFrame(OP_TEXT, b"Hel", fin=False)
            + clientFrame(OP_CONTINUATION, b"lo ", fin=False)
            + clientFrame(OP_CONTINUATION, b"world")
        )
        assert summarize(server.receiveData(data)) == [
            ("fragment", "Hel", False, True, False),
            ("fragment", "lo ", False, False, False),
            ("fragment", "world", False, False, True),
        ]

    def test_binaryFragments(self):
        server, _ = makeServer(streaming=True)
        data = clientFrame(OP_BINARY, b"\x00\x01", fin=False) + clientFrame(OP_CONTINUATION, b"\x02")
        assert summarize(server.receiveData(data)) == [
            ("fragment", b"\x00\x01", True, True, False),
            ("fragment", b"\x02", True, False, True),
        ]

    def test_unfragmentedMessageIsOneFragment(self):
        server, _ = makeServer(streaming=True)
        assert summarize(server.receiveData(clientFrame(OP_TEXT, b"whole"))) == [
            ("fragment", "whole", False, True, True)
        ]

    def test_emptyMessage(self):
        server, _ = makeServer(streaming=True)
        assert summarize(server.receiveData(clientFrame(OP_BINARY, b""))) == [
            ("fragment", b"", True, True, True)
        ]

    def test_pieceOfAFrameAsItArrives(self):
        """
        Streaming delivers what arrived of a frame without waiting for its
        end.
        """
        server, _ = makeServer(streaming=True)
        frame = clientFrame(OP_BINARY, b"abcdefghij")
        assert summarize(server.receiveData(frame[:9])) == [("fragment", b"abc", True, True, False)]
        assert summarize(server.receiveData(frame[9:13])) == [("fragment", b"defg", True, False, False)]
        assert summarize(server.receiveData(frame[13:])) == [("fragment", b"hij", True, False, True)]

    def test_textDecodedIncrementally(self):
        """
        A character split across fragments is delivered once whole: each
        text piece is valid on its own.
        """
        server, _ = makeServer(streaming=True)
        data = (
            clientFrame(OP_TEXT, b"caf\xc3", fin=False)
            + clientFrame(OP_CONTINUATION, b"\xa9 \xe2\x82", fin=False)
            + clientFrame(OP_CONTINUATION, b"\xac")
        )
        assert summarize(server.receiveData(data)) == [
            ("fragment", "caf", False, True, False),
            ("fragment", "\u00e9 ", False, False, False),
            ("fragment", "\u20ac", False, False, True),
        ]

    def test_firstFragmentOnlyPartialCharacter(self):
        server, _ = makeServer(streaming=True)
        data = clientFrame(OP_TEXT, b"\xe2", fin=False) + clientFrame(OP_CONTINUATION, b"\x82\xac")
        assert summarize(server.receiveData(data)) == [
            ("fragment", "", False, True, False),
            ("fragment", "\u20ac", False, False, True),
        ]

    def test_invalidTextFailsMidStream(self):
        server, _ = makeServer(streaming=True)
        data = clientFrame(OP_TEXT, b"ok", fin=False) + clientFrame(OP_CONTINUATION, b"\xff", fin=False)
        assert summarize(server.receiveData(data)) == [
            ("fragment", "ok", False, True, False),
            ("failure", 1007),
        ]

    def test_pingBetweenFragments(self):
        server, out = makeServer(streaming=True)
        data = (
            clientFrame(OP_BINARY, b"a", fin=False)
            + clientFrame(OP_PING, b"p")
            + clientFrame(OP_CONTINUATION, b"b")
        )
        assert summarize(server.receiveData(data)) == [
            ("fragment", b"a", True, True, False),
            ("ping", b"p"),
            ("fragment", b"b", True, False, True),
        ]

    def test_severalMessages(self):
        server, _ = makeServer(streaming=True)
        data = clientFrame(OP_TEXT, b"one") + clientFrame(OP_BINARY, b"two", fin=False) + clientFrame(
            OP_CONTINUATION, b"!"
        ) + clientFrame(OP_TEXT, b"three")
        assert summarize(server.receiveData(data)) == [
            ("fragment", "one", False, True, True),
            ("fragment", b"two", True, True, False),
            ("fragment", b"!", True, False, True),
            ("fragment", "three", False, True, True),
        ]

    def test_byteByByteTextPiecesJoin(self):
        server, _ = makeServer(streaming=True)
        text = "\u00e9\u20ac\U0001d11e ascii"
        frame = clientFrame(OP_TEXT, text.encode())
        events = feedEach(server, [frame[i : i + 1] for i in range(len(frame))])
        assert "".join(e[1] for e in events) == text
        assert events[0][3] and not any(e[3] for e in events[1:])
        assert events[-1][4] and not any(e[4] for e in events[:-1])


class TestRFC6455Section5_4SendingFragments:
    """
    L{sendFragment} sends a message piece by piece.
    """

    def test_clientFragmentsReachServer(self):
        client, clientOut = makeClient()
        server, _ = makeServer()
        client.sendFragment("Hello, ")
        client.sendFragment(b"w\xc3")  # bytes may split a character
        client.sendFragment(b"\xb6rld", final=True)
        frames = parseFrames(b"".join(clientOut))
        assert [(f.opcode, f.fin, f.masked) for f in frames] == [
            (OP_TEXT, False, True), (OP_CONTINUATION, False, True), (OP_CONTINUATION, True, True)
        ]
        assert transfer(clientOut, server) == [("text", "Hello, w\u00f6rld")]

    def test_clientFragmentsReachStreamingServer(self):
        client, clientOut = makeClient()
        server, _ = makeServer(streaming=True)
        client.sendFragment(b"\x01", isBinary=True)
        client.sendFragment(b"\x02", isBinary=True, final=True)
        assert transfer(clientOut, server) == [
            ("fragment", b"\x01", True, True, False),
            ("fragment", b"\x02", True, False, True),
        ]

    def test_serverFragments(self):
        server, out = makeServer()
        server.sendFragment("a")
        server.sendFragment("b", final=True)
        server.sendFragment(b"c", isBinary=True, final=True)
        assert b"".join(out) == b"\x01\x01a\x80\x01b\x82\x01c"

    @pytest.mark.parametrize("send", ["sendText", "sendBinary"])
    def test_wholeMessageDuringFragmentedIsUsageError(self, send):
        """
        Section 5.4: fragments of different messages MUST NOT be
        interleaved.
        """
        client, out = makeClient()
        client.sendFragment("start")
        out.clear()
        with pytest.raises(UsageError):
            getattr(client, send)("whole" if send == "sendText" else b"whole")
        assert out == []

    def test_controlFramesAllowedDuringFragmented(self):
        client, out = makeClient()
        server, _ = makeServer()
        client.sendFragment("a")
        client.ping(b"x")
        client.sendFragment("b", final=True)
        assert transfer(out, server) == [("ping", b"x"), ("text", "ab")]

    def test_wholeMessageAfterFragmentedFinished(self):
        client, out = makeClient()
        server, _ = makeServer()
        client.sendFragment("a", final=True)
        client.sendText("b")
        assert transfer(out, server) == [("text", "a"), ("text", "b")]
