"""
L{PreparedMessage}: a server message encoded once (RFC 6455 section 5.2
framing; RFC 7692 section 7.2.1 compression) and written to many
connections.
"""

import zlib

import pytest

from rtproto.errors import UsageError
from rtproto.websocket import PreparedMessage
from rtproto.websocket._deflate import DeflateOptions
from rtproto.websocket._frames import encodeFrame

from .helpers import (
    OP_BINARY,
    OP_TEXT,
    deflatePair,
    hexText,
    makeClient,
    makeServer,
    parseFrames,
    summarize,
)


class TestPreparedMessageFraming:
    """
    The uncompressed frame is the ordinary unmasked server frame.
    """

    @pytest.mark.parametrize("n", [0, 5, 125, 126, 65535, 65536, 70000])
    def test_frameEqualsServerFrame(self, n):
        data = bytes(i % 256 for i in range(n))
        prepared = PreparedMessage(data)
        assert prepared.frame() == encodeFrame(OP_BINARY, data)
        server, out = makeServer()
        server.sendBinary(data)
        assert prepared.frame() == b"".join(out)

    def test_textFrame(self):
        prepared = PreparedMessage("h\u00e9")
        assert prepared.opcode == OP_TEXT
        assert prepared.payload == b"h\xc3\xa9"
        assert prepared.frame() == b"\x81\x03h\xc3\xa9"

    def test_typeOverride(self):
        assert PreparedMessage(b"abc", isBinary=False).frame() == b"\x81\x03abc"
        assert PreparedMessage("abc", isBinary=True).frame() == b"\x82\x03abc"

    def test_frameIsReused(self):
        prepared = PreparedMessage(b"x" * 100)
        assert prepared.frame() is prepared.frame()

    def test_sendPreparedWithoutCodec(self):
        prepared = PreparedMessage("hello everyone")
        outs = []
        for _ in range(3):
            server, out = makeServer()
            server.sendPrepared(prepared)
            outs.append(b"".join(out))
        assert outs == [b"\x81\x0ehello everyone"] * 3

    def test_sendPreparedOnClientMasks(self):
        client, out = makeClient()
        client.sendPrepared(PreparedMessage("to the server"))
        [frame] = parseFrames(b"".join(out))
        assert frame.masked
        assert (frame.opcode, frame.payload) == (OP_TEXT, b"to the server")

    def test_sendPreparedDuringFragmentedIsUsageError(self):
        server, out = makeServer()
        server.sendFragment("part")
        out.clear()
        with pytest.raises(UsageError):
            server.sendPrepared(PreparedMessage("whole"))
        assert out == []


class TestPreparedMessageCompressed:
    """
    RFC 7692 section 7.2.1: the compressed frame decodes on a peer, and the
    connection's own compression stays in step with the peer's window.
    """

    def test_compressedFrameDecodesOnClient(self):
        text = hexText(3000)
        prepared = PreparedMessage(text)
        _, _, client, _, _ = deflatePair()
        frame = prepared.compressedFrame(15)
        [parsed] = parseFrames(frame)
        assert parsed.rsv1 and not parsed.masked and parsed.opcode == OP_TEXT
        assert len(parsed.payload) < len(text)
        assert summarize(client.receiveData(frame)) == [("text", text)]

    def test_compressedFrameReused(self):
        prepared = PreparedMessage(b"y" * 2000)
        assert prepared.compressedFrame(15) is prepared.compressedFrame(15)
        narrow = prepared.compressedFrame(10)
        assert narrow is prepared.compressedFrame(10)
        [parsed] = parseFrames(narrow)
        assert zlib.decompressobj(-10).decompress(parsed.payload + b"\x00\x00\xff\xff") == b"y" * 2000

    def test_sendPreparedCompressed(self):
        server, serverOut, client, _, _ = deflatePair()
        prepared = PreparedMessage(hexText(2000))
        server.sendPrepared(prepared)
        assert b"".join(serverOut) == prepared.compressedFrame(15)
        assert summarize(client.receiveData(b"".join(serverOut))) == [("text", prepared.payload.decode())]

    def test_sendPreparedUsesNegotiatedWindow(self):
        server, serverOut, client, _, _ = deflatePair(
            clientOptions=DeflateOptions(threshold=0, serverMaxWindowBits=10)
        )
        prepared = PreparedMessage(hexText(2000))
        server.sendPrepared(prepared)
        assert b"".join(serverOut) == prepared.compressedFrame(10)
        assert summarize(client.receiveData(b"".join(serverOut))) == [("text", prepared.payload.decode())]

    def test_sendPreparedBelowThresholdUncompressed(self):
        server, serverOut, _, _, _ = deflatePair(serverOptions=DeflateOptions(threshold=100))
        prepared = PreparedMessage("short")
        server.sendPrepared(prepared)
        assert serverOut == [prepared.frame()]

    def test_compressorResetAfterPrepared(self):
        """
        With context takeover: a normal message, a prepared one, then a
        normal one sharing content with the first.  The prepared frame was
        compressed elsewhere, so the connection's compressor must forget its
        history, or the third message would refer to the wrong bytes of the
        peer's window.
        """
        server, serverOut, client, _, _ = deflatePair()
        shared = hexText(3000, seed=1)
        other = hexText(3000, seed=2)
        server.sendText(shared)
        server.sendPrepared(PreparedMessage(other))
        assert server._codec._compressor is None
        server.sendText(shared)
        server.sendText(shared)
        assert summarize(client.receiveData(b"".join(serverOut))) == [
            ("text", shared), ("text", other), ("text", shared), ("text", shared)
        ]

    def test_compressorResetAfterPreparedMessageByMessage(self):
        server, serverOut, client, _, _ = deflatePair()
        shared = hexText(3000, seed=3)
        for message in [shared, PreparedMessage(shared), shared, PreparedMessage(shared + "!"), shared]:
            if isinstance(message, PreparedMessage):
                server.sendPrepared(message)
                expected = message.payload.decode()
            else:
                server.sendText(message)
                expected = message
            assert summarize(client.receiveData(b"".join(serverOut))) == [("text", expected)]
            serverOut.clear()

    def test_preparedSharedAcrossConnections(self):
        prepared = PreparedMessage(hexText(4000, seed=9))
        pairs = [deflatePair() for _ in range(3)]
        for server, serverOut, client, _, _ in pairs:
            server.sendText(hexText(500, seed=10))
            server.sendPrepared(prepared)
            server.sendText(hexText(4000, seed=9))
            assert summarize(client.receiveData(b"".join(serverOut))) == [
                ("text", hexText(500, seed=10)), ("text", prepared.payload.decode()),
                ("text", hexText(4000, seed=9)),
            ]

    def test_window8ConnectionGetsPlainFrame(self):
        server, serverOut, client, _, _ = deflatePair(
            clientOptions=DeflateOptions(threshold=0, serverMaxWindowBits=8)
        )
        prepared = PreparedMessage(hexText(2000))
        server.sendPrepared(prepared)
        assert serverOut == [prepared.frame()]
        assert summarize(client.receiveData(b"".join(serverOut))) == [("text", prepared.payload.decode())]
