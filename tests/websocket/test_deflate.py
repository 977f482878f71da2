"""
RFC 7692: the permessage-deflate extension, its negotiation (section 7.1)
and compressed messages (section 7.2, with the examples of 7.2.3).
"""

import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtproto.errors import HandshakeError
from rtproto.websocket import PerMessageDeflate, checkRequest
from rtproto.websocket._deflate import (
    DeflateOptions,
    acceptClient,
    clientOffer,
    negotiateServer,
    parseExtensions,
)

from .helpers import (
    OP_BINARY,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    clientFrame,
    deflatePair,
    feedEach,
    hexText,
    makeClient,
    makeServer,
    parseFrames,
    rawDeflate,
    TAIL,
    serverFrame,
    summarize,
)


def negotiate(offer: str, **options):
    return negotiateServer(parseExtensions(offer), DeflateOptions(**options))


def serverWithCodec(offer="permessage-deflate", options=None, **kw):
    response, codec = negotiateServer(parseExtensions(offer), options or DeflateOptions(threshold=0))
    server, out = makeServer(codec=codec, **kw)
    return server, out, codec


class CountingInflater:
    """
    A raw inflater that counts the bytes it produces.
    """

    def __init__(self):
        self._d = zlib.decompressobj(-15)
        self.produced = 0

    def decompress(self, data, max_length=0):
        out = self._d.decompress(data, max_length)
        self.produced += len(out)
        return out

    @property
    def unconsumed_tail(self):
        return self._d.unconsumed_tail


class TestRFC7692Section7_1ServerNegotiation:
    """
    Section 7.1: the server accepts an offer by answering with the
    parameters it agrees to, or declines it.
    """

    def test_plainOffer(self):
        response, codec = negotiate("permessage-deflate")
        assert response == "permessage-deflate"
        assert isinstance(codec, PerMessageDeflate)
        assert codec.sendWindowBits == 15
        assert not codec.sendNoContextTakeover
        assert not codec.receiveNoContextTakeover
        assert codec.canCompress

    def test_serverNoContextTakeover(self):
        """
        Section 7.1.1.1: a server accepting this parameter MUST include it
        in its response.
        """
        response, codec = negotiate("permessage-deflate; server_no_context_takeover")
        assert response == "permessage-deflate; server_no_context_takeover"
        assert codec.sendNoContextTakeover
        assert not codec.receiveNoContextTakeover

    def test_clientNoContextTakeover(self):
        response, codec = negotiate("permessage-deflate; client_no_context_takeover")
        assert response == "permessage-deflate; client_no_context_takeover"
        assert codec.receiveNoContextTakeover
        assert not codec.sendNoContextTakeover

    @pytest.mark.parametrize("bits", [9, 10, 12, 15])
    def test_serverMaxWindowBits(self, bits):
        """
        Section 7.1.2.1: accepted by answering with the same or a smaller
        value.
        """
        response, codec = negotiate(f"permessage-deflate; server_max_window_bits={bits}")
        assert response == f"permessage-deflate; server_max_window_bits={bits}"
        assert codec.sendWindowBits == bits
        assert codec.canCompress

    def test_serverMaxWindowBitsQuoted(self):
        response, codec = negotiate('permessage-deflate; server_max_window_bits="10"')
        assert response == "permessage-deflate; server_max_window_bits=10"
        assert codec.sendWindowBits == 10

    def test_serverMaxWindowBitsBelowOurs(self):
        response, codec = negotiate("permessage-deflate; server_max_window_bits=13", serverMaxWindowBits=11)
        assert response == "permessage-deflate; server_max_window_bits=11"
        assert codec.sendWindowBits == 11

    def test_ourServerWindowAnnounced(self):
        response, codec = negotiate("permessage-deflate", serverMaxWindowBits=12)
        assert response == "permessage-deflate; server_max_window_bits=12"
        assert codec.sendWindowBits == 12

    def test_clientMaxWindowBitsWithoutValue(self):
        """
        Section 7.1.2.2: the server MAY answer; with no limit of its own it
        need not.
        """
        response, _ = negotiate("permessage-deflate; client_max_window_bits")
        assert response == "permessage-deflate"

    def test_clientMaxWindowBitsWithValue(self):
        response, _ = negotiate("permessage-deflate; client_max_window_bits=10")
        assert response == "permessage-deflate; client_max_window_bits=10"

    def test_clientMaxWindowBitsLimitedByUs(self):
        response, _ = negotiate("permessage-deflate; client_max_window_bits", clientMaxWindowBits=12)
        assert response == "permessage-deflate; client_max_window_bits=12"

    def test_ourNoContextTakeoverAnnounced(self):
        response, codec = negotiate(
            "permessage-deflate", serverNoContextTakeover=True, clientNoContextTakeover=True
        )
        assert response == "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        assert codec.sendNoContextTakeover and codec.receiveNoContextTakeover

    def test_allParameters(self):
        response, codec = negotiate(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=10; client_max_window_bits=11"
        )
        assert response == (
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=10; client_max_window_bits=11"
        )
        assert (codec.sendWindowBits, codec.sendNoContextTakeover, codec.receiveNoContextTakeover) == (
            10, True, True
        )

    @pytest.mark.parametrize(
        "offer",
        [
            "permessage-deflate; unknown_param",
            "permessage-deflate; x=1",
            "permessage-deflate; server_max_window_bits",  # needs a value
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=abc",
            "permessage-deflate; server_max_window_bits=010",
            "permessage-deflate; server_max_window_bits=-9",
            "permessage-deflate; client_max_window_bits=7",
            "permessage-deflate; client_max_window_bits=16",
            "permessage-deflate; client_max_window_bits=1x",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_max_window_bits=10; server_max_window_bits=11",
            "permessage-deflate; client_max_window_bits; client_max_window_bits",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; client_no_context_takeover=true",
            "x-webkit-deflate-frame",
            "",
        ],
    )
    def test_declined(self, offer):
        """
        Section 7.1: an offer with an unknown parameter, an invalid value or
        a repeated parameter is declined.
        """
        assert negotiate(offer) is None

    @pytest.mark.parametrize(
        "param", ["server_max_window_bits=1\u00b9", "client_max_window_bits=\u00b2", "server_max_window_bits=\u00b3"]
    )
    def test_nonAsciiDigitsDeclined(self, param):
        """
        Section 7.1.2: window bits are 1*DIGIT, ASCII digits.  Header bytes
        are decoded as latin-1, so a client can send C{B9} (superscript one),
        which L{str.isdigit} accepts and L{int} does not: the offer must be
        declined, not blow up the server's handshake with a ValueError.
        """
        offers = checkRequest(
            "GET",
            {
                "host": ["h"], "upgrade": ["websocket"], "connection": ["Upgrade"],
                "sec-websocket-key": ["dGhlIHNhbXBsZSBub25jZQ=="], "sec-websocket-version": ["13"],
                "sec-websocket-extensions": [
                    f"permessage-deflate; {param}".encode("latin-1").decode("latin-1")
                ],
            },
        ).extensions
        assert negotiateServer(offers, DeflateOptions()) is None

    def test_firstAcceptableOfSeveral(self):
        """
        Section 5.1 / 7.1: offers are in preference order; the server takes
        the first one it can accept.
        """
        response, codec = negotiate(
            "x-webkit-deflate-frame, permessage-deflate; foo=1, "
            "permessage-deflate; server_max_window_bits=10, permessage-deflate"
        )
        assert response == "permessage-deflate; server_max_window_bits=10"
        assert codec.sendWindowBits == 10

    def test_serverMaxWindowBits8AcceptedButUncompressed(self):
        """
        zlib cannot deflate with a 256-byte window; section 6 lets an
        endpoint send any message uncompressed, so the server accepts and
        never sets RSV1.
        """
        response, codec = negotiate("permessage-deflate; server_max_window_bits=8")
        assert response == "permessage-deflate; server_max_window_bits=8"
        assert codec.sendWindowBits == 8
        assert not codec.canCompress
        assert not codec.shouldCompress(10_000)
        server, out = makeServer(codec=codec)
        text = "a" * 5000
        server.sendText(text)
        assert b"".join(out) == serverFrame(OP_TEXT, text.encode())
        out.clear()
        server.sendFragment("b" * 3000, final=False)
        server.sendFragment("c" * 3000, final=True)
        assert b"".join(out) == (
            serverFrame(OP_TEXT, b"b" * 3000, fin=False) + serverFrame(OP_CONTINUATION, b"c" * 3000)
        )

    def test_window8ServerStillInflates(self):
        _, codec = negotiate("permessage-deflate; server_max_window_bits=8")
        server, _ = makeServer(codec=codec)
        text = hexText(2000)
        frame = clientFrame(OP_TEXT, rawDeflate(text.encode()), rsv1=True)
        assert summarize(server.receiveData(frame)) == [("text", text)]


class TestRFC7692Section7_1ClientNegotiation:
    """
    Section 7.1: the client's offer, and its checks of the server's answer.
    """

    def test_defaultOffer(self):
        assert clientOffer(DeflateOptions()) == "permessage-deflate; client_max_window_bits"

    def test_fullOffer(self):
        options = DeflateOptions(
            serverNoContextTakeover=True,
            clientNoContextTakeover=True,
            serverMaxWindowBits=10,
            clientMaxWindowBits=12,
        )
        assert clientOffer(options) == (
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=10; client_max_window_bits=12"
        )

    @pytest.mark.parametrize(
        "options",
        [
            DeflateOptions(),
            DeflateOptions(serverNoContextTakeover=True),
            DeflateOptions(clientNoContextTakeover=True),
            DeflateOptions(serverMaxWindowBits=9, clientMaxWindowBits=10),
            DeflateOptions(serverNoContextTakeover=True, clientNoContextTakeover=True,
                           serverMaxWindowBits=12, clientMaxWindowBits=9),
        ],
    )
    def test_offerAcceptedByOurServer(self, options):
        """
        Whatever our client offers, our server accepts, and the client
        accepts the answer with matching settings on both sides.
        """
        response, serverCodec = negotiateServer(parseExtensions(clientOffer(options)), DeflateOptions())
        clientCodec = acceptClient(response, options)
        assert clientCodec.sendNoContextTakeover == serverCodec.receiveNoContextTakeover
        assert clientCodec.receiveNoContextTakeover == serverCodec.sendNoContextTakeover
        assert serverCodec.sendWindowBits == options.serverMaxWindowBits
        assert clientCodec.sendWindowBits == options.clientMaxWindowBits

    def test_acceptPlain(self):
        codec = acceptClient("permessage-deflate", DeflateOptions())
        assert codec.sendWindowBits == 15
        assert not codec.sendNoContextTakeover and not codec.receiveNoContextTakeover

    def test_acceptParameters(self):
        codec = acceptClient(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "client_max_window_bits=10; server_max_window_bits=11",
            DeflateOptions(),
        )
        assert codec.sendWindowBits == 10
        assert codec.sendNoContextTakeover
        assert codec.receiveNoContextTakeover

    def test_declinedByServer(self):
        assert acceptClient("", DeflateOptions()) is None

    @pytest.mark.parametrize(
        "response, options",
        [
            ("permessage-deflate; foo", DeflateOptions()),
            ("permessage-deflate; server_no_context_takeover=1", DeflateOptions()),
            ("permessage-deflate; client_no_context_takeover=x", DeflateOptions()),
            ("permessage-deflate; client_max_window_bits", DeflateOptions()),  # needs a value
            ("permessage-deflate; client_max_window_bits=16", DeflateOptions()),
            ("permessage-deflate; client_max_window_bits=7", DeflateOptions()),
            ("permessage-deflate; client_max_window_bits=13", DeflateOptions(clientMaxWindowBits=12)),
            ("permessage-deflate; server_max_window_bits=11", DeflateOptions(serverMaxWindowBits=10)),
            ("permessage-deflate; server_max_window_bits", DeflateOptions()),
            ("permessage-deflate; server_max_window_bits=20", DeflateOptions()),
            ("permessage-deflate; server_no_context_takeover; server_no_context_takeover", DeflateOptions()),
            ("permessage-deflate", DeflateOptions(serverNoContextTakeover=True)),
            ("permessage-deflate, permessage-deflate", DeflateOptions()),
            ("x-webkit-deflate-frame", DeflateOptions()),
        ],
    )
    def test_badResponseRefused(self, response, options):
        """
        Section 7.1: a response with an undefined parameter, an invalid
        value, a repeated parameter, or one the client cannot support, fails
        the connection.
        """
        with pytest.raises(HandshakeError):
            acceptClient(response, options)

    @pytest.mark.parametrize("param", ["client_max_window_bits=1\u00b9", "server_max_window_bits=\u00b2"])
    def test_nonAsciiDigitsInResponseRefused(self, param):
        """
        A response with a window size in non-ASCII digits is an invalid
        value (section 7.1): a L{HandshakeError}, not a ValueError.
        """
        with pytest.raises(HandshakeError):
            acceptClient(f"permessage-deflate; {param}", DeflateOptions())


class TestRFC7692Section7_2_3Examples:
    """
    The examples of section 7.2.3, received by a server (masked) and by a
    client.
    """

    def test_helloCompressed(self):
        """
        Section 7.2.3.1: "Hello" compressed.
        """
        server, _, _ = serverWithCodec()
        frame = clientFrame(OP_TEXT, bytes.fromhex("f248cdc9c90700"), rsv1=True)
        assert summarize(server.receiveData(frame)) == [("text", "Hello")]

    def test_helloUnmaskedToClient(self):
        client, _ = makeClient(codec=acceptClient("permessage-deflate", DeflateOptions()))
        assert summarize(client.receiveData(bytes.fromhex("c107f248cdc9c90700"))) == [("text", "Hello")]

    def test_helloFragmented(self):
        """
        Section 7.2.3.1: the same message in two fragments, RSV1 on the
        first only.
        """
        server, _, _ = serverWithCodec()
        data = clientFrame(OP_TEXT, bytes.fromhex("f248cd"), fin=False, rsv1=True)
        data += clientFrame(OP_CONTINUATION, bytes.fromhex("c9c90700"))
        assert summarize(server.receiveData(data)) == [("text", "Hello")]

    def test_sharingTheWindow(self):
        """
        Section 7.2.3.2: the second "Hello" refers back into the first.
        """
        server, _, _ = serverWithCodec()
        data = clientFrame(OP_TEXT, bytes.fromhex("f248cdc9c90700"), rsv1=True)
        data += clientFrame(OP_TEXT, bytes.fromhex("f200110000"), rsv1=True)
        assert summarize(server.receiveData(data)) == [("text", "Hello"), ("text", "Hello")]

    def test_noCompressionBlock(self):
        """
        Section 7.2.3.3: a stored (uncompressed) DEFLATE block.
        """
        server, _, _ = serverWithCodec()
        frame = clientFrame(OP_TEXT, bytes.fromhex("000500faff48656c6c6f00"), rsv1=True)
        assert summarize(server.receiveData(frame)) == [("text", "Hello")]

    def test_bfinalBlock(self):
        """
        Section 7.2.3.4: a block with BFINAL set.
        """
        server, _, _ = serverWithCodec()
        frame = clientFrame(OP_TEXT, bytes.fromhex("f348cdc9c9070000"), rsv1=True)
        assert summarize(server.receiveData(frame)) == [("text", "Hello")]

    def test_twoBlocks(self):
        """
        Section 7.2.3.5: two DEFLATE blocks in one message.
        """
        server, _, _ = serverWithCodec()
        frame = clientFrame(OP_TEXT, bytes.fromhex("f248050000 00ffff cac9c90700".replace(" ", "")), rsv1=True)
        assert summarize(server.receiveData(frame)) == [("text", "Hello")]

    def test_emptyMessage(self):
        """
        Section 7.2.3.6: an empty message compressed to the single byte 00.
        """
        server, _, _ = serverWithCodec()
        assert summarize(server.receiveData(clientFrame(OP_BINARY, b"\x00", rsv1=True))) == [("binary", b"")]


class TestRFC7692Section7_2Compression:
    """
    Section 7.2: compressing and decompressing messages, both directions,
    with and without context takeover.
    """

    @pytest.mark.parametrize("size", [0, 1, 100, 5000, 70000])
    def test_clientToServer(self, size):
        server, _, client, clientOut, _ = deflatePair()
        text = hexText(size)
        client.sendText(text)
        [frame] = parseFrames(b"".join(clientOut))
        assert frame.rsv1 and frame.masked and frame.opcode == OP_TEXT
        assert zlib.decompressobj(-15).decompress(frame.payload + TAIL) == text.encode()
        assert summarize(server.receiveData(b"".join(clientOut))) == [("text", text)]

    @pytest.mark.parametrize("size", [0, 1, 100, 5000, 70000])
    def test_serverToClient(self, size):
        server, serverOut, client, _, _ = deflatePair()
        data = hexText(size).encode()
        server.sendBinary(data)
        [frame] = parseFrames(b"".join(serverOut))
        assert frame.rsv1 and not frame.masked and frame.opcode == OP_BINARY
        assert zlib.decompressobj(-15).decompress(frame.payload + TAIL) == data
        assert summarize(client.receiveData(b"".join(serverOut))) == [("binary", data)]

    def test_serverContextTakeover(self):
        """
        With context takeover a repeated message compresses against the
        previous one.
        """
        server, serverOut, client, _, _ = deflatePair()
        text = hexText(3000)
        server.sendText(text)
        server.sendText(text)
        server.sendText(text)
        first, second, third = parseFrames(b"".join(serverOut))
        assert second.rsv1 and third.rsv1
        assert len(second.payload) * 4 < len(first.payload)
        assert summarize(client.receiveData(b"".join(serverOut))) == [("text", text)] * 3

    def test_serverNoContextTakeover(self):
        server, serverOut, client, _, response = deflatePair(
            clientOptions=DeflateOptions(threshold=0, serverNoContextTakeover=True)
        )
        assert "server_no_context_takeover" in response
        text = hexText(3000)
        server.sendText(text)
        server.sendText(text)
        first, second = parseFrames(b"".join(serverOut))
        assert first.payload == second.payload
        assert summarize(client.receiveData(b"".join(serverOut))) == [("text", text)] * 2
        assert client._codec._decompressor is None  # dropped after each message

    def test_clientContextTakeover(self):
        server, _, client, clientOut, _ = deflatePair()
        data = hexText(3000).encode()
        client.sendBinary(data)
        client.sendBinary(data)
        first, second = parseFrames(b"".join(clientOut))
        assert len(second.payload) * 4 < len(first.payload)
        assert summarize(server.receiveData(b"".join(clientOut))) == [("binary", data)] * 2

    @pytest.mark.parametrize("side", ["client", "server"])
    def test_clientNoContextTakeover(self, side):
        """
        Asked for by the client itself or imposed by the server (section
        7.1.1.2).
        """
        if side == "client":
            options = dict(clientOptions=DeflateOptions(threshold=0, clientNoContextTakeover=True))
        else:
            options = dict(serverOptions=DeflateOptions(threshold=0, clientNoContextTakeover=True))
        server, _, client, clientOut, response = deflatePair(**options)
        assert "client_no_context_takeover" in response
        data = hexText(3000).encode()
        client.sendBinary(data)
        client.sendBinary(data)
        first, second = parseFrames(b"".join(clientOut))
        assert first.payload == second.payload
        assert summarize(server.receiveData(b"".join(clientOut))) == [("binary", data)] * 2
        assert server._codec._decompressor is None

    def test_severalMessagesBothWays(self):
        server, serverOut, client, clientOut, _ = deflatePair()
        messages = [hexText(n, seed=n) for n in (10, 2000, 2000, 0, 40000, 7)]
        for m in messages:
            client.sendText(m)
            server.sendText(m[::-1])
        assert summarize(server.receiveData(b"".join(clientOut))) == [("text", m) for m in messages]
        assert summarize(client.receiveData(b"".join(serverOut))) == [("text", m[::-1]) for m in messages]

    @pytest.mark.parametrize("bits", [9, 10, 12])
    def test_serverWindowRespected(self, bits):
        """
        Section 7.1.2.1: with server_max_window_bits the server's stream
        never refers further back than the window; a decoder with only that
        window inflates it.
        """
        server, serverOut, client, _, response = deflatePair(
            clientOptions=DeflateOptions(threshold=0, serverMaxWindowBits=bits)
        )
        assert f"server_max_window_bits={bits}" in response
        chunk = hexText(3000)
        server.sendText(chunk + chunk)
        server.sendText(chunk)
        frames = parseFrames(b"".join(serverOut))
        inflater = zlib.decompressobj(-bits)
        assert inflater.decompress(frames[0].payload + TAIL) == (chunk + chunk).encode()
        assert inflater.decompress(frames[1].payload + TAIL) == chunk.encode()
        assert summarize(client.receiveData(b"".join(serverOut))) == [("text", chunk + chunk), ("text", chunk)]

    def test_threshold(self):
        """
        Short messages are not worth compressing: they go out with RSV1
        clear (section 6 allows any message to be sent uncompressed).
        """
        server, serverOut, client, _, _ = deflatePair(serverOptions=DeflateOptions(threshold=100))
        server.sendText("a" * 99)
        assert serverOut == [serverFrame(OP_TEXT, b"a" * 99)]
        serverOut.clear()
        server.sendText("a" * 100)
        [frame] = parseFrames(b"".join(serverOut))
        assert frame.rsv1
        assert len(frame.payload) < 100
        client.receiveData(serverFrame(OP_TEXT, b"a" * 99))
        assert summarize(client.receiveData(b"".join(serverOut))) == [("text", "a" * 100)]

    def test_defaultThreshold(self):
        server, serverOut, _, _, _ = deflatePair(serverOptions=DeflateOptions())
        server.sendBinary(b"b" * 1023)
        server.sendBinary(b"b" * 1024)
        small, large = parseFrames(b"".join(serverOut))
        assert not small.rsv1 and small.payload == b"b" * 1023
        assert large.rsv1

    def test_uncompressedMessagesMix(self):
        server, _, client, clientOut, _ = deflatePair(clientOptions=DeflateOptions(threshold=50))
        client.sendText("short")
        client.sendText("long " * 40)
        client.sendText("tiny")
        assert [f.rsv1 for f in parseFrames(b"".join(clientOut))] == [False, True, False]
        assert summarize(server.receiveData(b"".join(clientOut))) == [
            ("text", "short"), ("text", "long " * 40), ("text", "tiny")
        ]

    def test_sendFragmentCompressed(self):
        """
        Section 6.1: RSV1 on the first frame only; the message is one
        compressed stream across its fragments.
        """
        server, _, client, clientOut, _ = deflatePair()
        parts = [hexText(500, seed=1), hexText(500, seed=2), hexText(500, seed=1)]
        client.sendFragment(parts[0])
        client.sendFragment(parts[1])
        client.sendFragment(parts[2], final=True)
        frames = parseFrames(b"".join(clientOut))
        assert [(f.opcode, f.fin, f.rsv1) for f in frames] == [
            (OP_TEXT, False, True), (OP_CONTINUATION, False, False), (OP_CONTINUATION, True, False)
        ]
        assert summarize(server.receiveData(b"".join(clientOut))) == [("text", "".join(parts))]

    def test_sendFragmentCompressedEmptyLast(self):
        server, serverOut, client, _, _ = deflatePair()
        server.sendFragment(b"\x01" * 2000, isBinary=True)
        server.sendFragment(b"", isBinary=True, final=True)
        server.sendBinary(b"\x02" * 2000)
        assert summarize(client.receiveData(b"".join(serverOut))) == [
            ("binary", b"\x01" * 2000), ("binary", b"\x02" * 2000)
        ]

    def test_compressedMessageInManyFragments(self):
        server, _, _ = serverWithCodec()
        text = "\u00e9\u20ac" + hexText(4000)
        body = rawDeflate(text.encode())
        cuts = [0, 1, 2, 3, 10, 100, len(body) // 2, len(body)]
        frames = [
            clientFrame(OP_TEXT if i == 0 else OP_CONTINUATION, body[a:b],
                        fin=b == len(body), rsv1=i == 0)
            for i, (a, b) in enumerate(zip(cuts, cuts[1:]))
        ]
        wire = b"".join(frames)
        assert feedEach(server, [wire[i : i + 7] for i in range(0, len(wire), 7)]) == [("text", text)]

    def test_pingInsideCompressedMessage(self):
        server, out, _ = serverWithCodec()
        body = rawDeflate(b"compressed and fragmented " * 20)
        data = clientFrame(OP_BINARY, body[:10], fin=False, rsv1=True)
        data += clientFrame(OP_PING, b"hi")
        data += clientFrame(OP_CONTINUATION, body[10:])
        assert summarize(server.receiveData(data)) == [
            ("ping", b"hi"), ("binary", b"compressed and fragmented " * 20)
        ]
        assert out == [serverFrame(OP_PONG, b"hi")]

    @pytest.mark.parametrize("opcode", [OP_PING, OP_PONG])
    def test_rsv1OnControlFrameIs1002(self, opcode):
        """
        Section 6.1: RSV1 is for data messages only.
        """
        server, _, _ = serverWithCodec()
        assert summarize(server.receiveData(clientFrame(opcode, b"", rsv1=True))) == [("failure", 1002)]

    def test_rsv1OnContinuationIs1002(self):
        server, _, _ = serverWithCodec()
        data = clientFrame(OP_TEXT, rawDeflate(b"ab"), fin=False, rsv1=True)
        data += clientFrame(OP_CONTINUATION, b"", rsv1=True)
        assert summarize(server.receiveData(data)) == [("failure", 1002)]

    @pytest.mark.parametrize("body", [b"\xff\xff\xff\xff", b"\x07\x00", bytes(range(40))])
    def test_invalidDeflateDataIs1007(self, body):
        server, _, _ = serverWithCodec()
        assert summarize(server.receiveData(clientFrame(OP_BINARY, body, rsv1=True))) == [("failure", 1007)]

    def test_invalidUtf8AfterInflationIs1007(self):
        server, _, _ = serverWithCodec()
        frame = clientFrame(OP_TEXT, rawDeflate(b"caf\xe9" * 10), rsv1=True)
        assert summarize(server.receiveData(frame)) == [("failure", 1007)]

    def test_zlibObjectsFreedOnConnectionLost(self):
        server, serverOut, client, clientOut, _ = deflatePair()
        client.sendText(hexText(2000))
        server.receiveData(b"".join(clientOut))
        server.sendText(hexText(2000))
        client.receiveData(b"".join(serverOut))
        codec = server._codec
        assert codec._compressor is not None and codec._decompressor is not None
        server.connectionLost()
        assert codec._compressor is None
        assert codec._decompressor is None

    def test_zlibObjectsFreedOnClose(self):
        server, serverOut, client, clientOut, _ = deflatePair()
        client.sendText(hexText(2000))
        server.receiveData(b"".join(clientOut))
        server.sendText(hexText(2000))
        clientOut.clear()
        client.close(1000)
        server.receiveData(b"".join(clientOut))
        assert server._codec._compressor is None
        assert server._codec._decompressor is None

    def test_noZlibObjectsAfterConnectionLost(self):
        """
        Sending to a connection that is gone (a broadcast that still lists
        it, say) must not allocate a fresh compressor after
        L{connectionLost} freed it.
        """
        server, serverOut, _, _, _ = deflatePair()
        server.sendText(hexText(2000))
        server.connectionLost()
        serverOut.clear()
        server.sendText(hexText(2000))
        assert server._codec._compressor is None
        assert serverOut == []

    def test_idleCodecHoldsNoZlibObjects(self):
        server, _, client, _, _ = deflatePair()
        assert server._codec._compressor is None and server._codec._decompressor is None
        assert client._codec._compressor is None and client._codec._decompressor is None


class TestRFC7692Section8_1DecompressionBomb:
    """
    Section 8.1 (security): the size limit applies to the inflated
    message, and inflating stops at the limit.
    """

    LIMIT = 1 << 20

    def bomb(self, size: int) -> bytes:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        return (c.compress(bytes(size)) + c.flush(zlib.Z_SYNC_FLUSH))[:-4]

    def test_zipBomb(self):
        body = self.bomb(10_000_000)
        assert len(body) < 20_000
        server, out, codec = serverWithCodec(maxMessageSize=self.LIMIT)
        inflater = codec._decompressor = CountingInflater()
        assert summarize(server.receiveData(clientFrame(OP_BINARY, body, rsv1=True))) == [("failure", 1009)]
        assert inflater.produced <= self.LIMIT + 1
        assert out == []

    def test_zipBombStopsEarly(self):
        """
        Fed in small reads, the bomb fails as soon as the inflated size
        passes the limit, long before its last compressed byte.
        """
        body = self.bomb(10_000_000)
        server, _, codec = serverWithCodec(maxMessageSize=self.LIMIT)
        inflater = codec._decompressor = CountingInflater()
        wire = clientFrame(OP_BINARY, body, rsv1=True)
        reads = [wire[i : i + 256] for i in range(0, len(wire), 256)]
        for n, piece in enumerate(reads):
            events = summarize(server.receiveData(piece))
            if events:
                break
        assert events == [("failure", 1009)]
        assert n < len(reads) // 4
        assert inflater.produced <= self.LIMIT + 1

    def test_zipBombAcrossFragments(self):
        body = self.bomb(3 * self.LIMIT)
        server, _, codec = serverWithCodec(maxMessageSize=self.LIMIT)
        inflater = codec._decompressor = CountingInflater()
        third = len(body) // 3
        data = clientFrame(OP_BINARY, body[:third], fin=False, rsv1=True)
        data += clientFrame(OP_CONTINUATION, body[third : 2 * third], fin=False)
        data += clientFrame(OP_CONTINUATION, body[2 * third :])
        assert summarize(server.receiveData(data)) == [("failure", 1009)]
        assert inflater.produced <= self.LIMIT + 1

    def test_exactlyAtLimitAccepted(self):
        server, _, _ = serverWithCodec(maxMessageSize=self.LIMIT)
        frame = clientFrame(OP_BINARY, self.bomb(self.LIMIT), rsv1=True)
        assert summarize(server.receiveData(frame)) == [("binary", bytes(self.LIMIT))]

    def test_oneOverLimitRefused(self):
        server, _, _ = serverWithCodec(maxMessageSize=self.LIMIT)
        frame = clientFrame(OP_BINARY, self.bomb(self.LIMIT + 1), rsv1=True)
        assert summarize(server.receiveData(frame)) == [("failure", 1009)]

    def test_limitIsPerMessageWithContextTakeover(self):
        server, _, _ = serverWithCodec(maxMessageSize=1000)
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        data = b""
        for _ in range(5):
            data += clientFrame(OP_BINARY, (c.compress(b"x" * 1000) + c.flush(zlib.Z_SYNC_FLUSH))[:-4], rsv1=True)
        assert summarize(server.receiveData(data)) == [("binary", b"x" * 1000)] * 5

    def test_unlimited(self):
        server, _, _ = serverWithCodec(maxMessageSize=0, maxFrameSize=0)
        frame = clientFrame(OP_BINARY, self.bomb(3 * self.LIMIT), rsv1=True)
        assert summarize(server.receiveData(frame)) == [("binary", bytes(3 * self.LIMIT))]


def _fragmentText(draw, text):
    raw = text.encode("utf-8")
    cuts = sorted(set(draw(st.lists(st.integers(0, len(raw)), max_size=3))))
    return [raw[a:b] for a, b in zip([0] + cuts, cuts + [len(raw)])]


@st.composite
def _operations(draw):
    ops = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["text", "binary", "ping", "fragText", "fragBinary"]))
        if kind == "text":
            ops.append((kind, draw(st.text(max_size=400))))
        elif kind == "binary":
            ops.append((kind, draw(st.binary(max_size=400) | st.just(b"x" * 3000))))
        elif kind == "ping":
            ops.append((kind, draw(st.binary(max_size=125))))
        elif kind == "fragText":
            ops.append((kind, _fragmentText(draw, draw(st.text(max_size=300)))))
        else:
            ops.append((kind, draw(st.lists(st.binary(max_size=200), min_size=1, max_size=4))))
    return ops


class TestRFC7692Section7_2RoundTripProperty:
    """
    Any sequence of messages, pings and fragmented messages, sent through
    the public sending API with or without permessage-deflate (any context
    takeover setting and threshold), arrives intact whatever the read
    boundaries, in both directions.
    """

    @settings(max_examples=150, deadline=None)
    @given(
        ops=_operations(),
        compression=st.booleans(),
        serverNoCtx=st.booleans(),
        clientNoCtx=st.booleans(),
        threshold=st.sampled_from([0, 50, 1024]),
        fromClient=st.booleans(),
        readCuts=st.lists(st.integers(min_value=0, max_value=20000), max_size=12),
    )
    def test_roundTrip(self, ops, compression, serverNoCtx, clientNoCtx, threshold, fromClient, readCuts):
        if compression:
            options = DeflateOptions(threshold=threshold, serverNoContextTakeover=serverNoCtx,
                                     clientNoContextTakeover=clientNoCtx)
            server, serverOut, client, clientOut, _ = deflatePair(
                clientOptions=options, serverOptions=DeflateOptions(threshold=threshold))
        else:
            server, serverOut = makeServer()
            client, clientOut = makeClient()
        sender, senderOut, receiver = (client, clientOut, server) if fromClient else (server, serverOut, client)
        expected = []
        for kind, value in ops:
            if kind == "text":
                sender.sendText(value)
                expected.append(("text", value))
            elif kind == "binary":
                sender.sendBinary(value)
                expected.append(("binary", value))
            elif kind == "ping":
                sender.ping(value)
                expected.append(("ping", value))
            else:
                isBinary = kind == "fragBinary"
                for i, piece in enumerate(value):
                    sender.sendFragment(piece, isBinary=isBinary, final=i == len(value) - 1)
                joined = b"".join(value)
                expected.append(("binary", joined) if isBinary else ("text", joined.decode("utf-8")))
        wire = b"".join(senderOut)
        for frame in parseFrames(wire):
            assert frame.masked == fromClient
        bounds = sorted({min(c, len(wire)) for c in readCuts})
        reads = [wire[a:b] for a, b in zip([0] + bounds, bounds + [len(wire)])]
        assert feedEach(receiver, reads) == expected
