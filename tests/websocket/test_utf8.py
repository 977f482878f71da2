"""
RFC 6455 section 8.1: text messages are UTF-8; invalid data fails the
connection with 1007, as soon as it is seen (the fail-fast rule of section
8.1 / Autobahn cases 6.x).
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtproto.errors import InvalidPayload, UsageError
from rtproto.websocket._utf8 import Utf8Decoder

from .helpers import (
    OP_CONTINUATION,
    OP_TEXT,
    clientFrame,
    feedEach,
    makeServer,
    summarize,
)

HEADER = 6  # two header bytes and the masking key, payloads under 126 bytes


def partial(payload: bytes, prefix: int, opcode=OP_TEXT, fin=True) -> bytes:
    """
    The header of a frame carrying C{payload} and only its first C{prefix}
    payload bytes.
    """
    return clientFrame(opcode, payload, fin=fin)[: HEADER + prefix]


class TestRFC6455Section8_1Utf8:
    """
    Section 8.1: invalid UTF-8 in a text message fails the connection
    (1007).
    """

    @pytest.mark.parametrize(
        "payload",
        [
            b"\xff",
            b"\xfe\xfe",
            b"caf\xe9",  # latin-1
            b"\xc0\xaf",  # overlong '/'
            b"\xe0\x80\xaf",  # overlong
            b"\xed\xa0\x80",  # surrogate U+D800
            b"\xed\xbf\xbf",  # surrogate U+DFFF
            b"\xf4\x90\x80\x80",  # above U+10FFFF
            b"\xf5\x80\x80\x80",
            b"ok \xe2\x82",  # truncated at the end of the message
            b"\x80",  # lone continuation byte
        ],
    )
    def test_invalidTextIs1007(self, payload):
        server, out = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_TEXT, payload))) == [("failure", 1007)]
        assert out == []

    def test_invalidTextArrivingByteByByteIs1007(self):
        server, _ = makeServer()
        frame = clientFrame(OP_TEXT, b"ok \xe2\x82")
        assert feedEach(server, [frame[i : i + 1] for i in range(len(frame))]) == [("failure", 1007)]

    def test_truncatedAtEndOfFragmentedMessageIs1007(self):
        server, _ = makeServer()
        data = clientFrame(OP_TEXT, b"ab", fin=False) + clientFrame(OP_CONTINUATION, b"\xe2\x82")
        assert summarize(server.receiveData(data)) == [("failure", 1007)]

    def test_failFastInsideFrame(self):
        """
        The frame's end has not arrived, but its first bytes can never be
        UTF-8: fail now.
        """
        server, _ = makeServer()
        payload = b"ab\xff" + b"x" * 50
        assert summarize(server.receiveData(partial(payload, 3))) == [("failure", 1007)]

    def test_failFastInsideFrameOnlyHeaderAndBadByte(self):
        server, _ = makeServer()
        payload = b"\xc0" + b"x" * 100
        assert summarize(server.receiveData(partial(payload, 0))) == []
        frame = clientFrame(OP_TEXT, payload)
        assert summarize(server.receiveData(frame[HEADER : HEADER + 1])) == [("failure", 1007)]

    def test_failFastAcrossFragments(self):
        """
        The message's end has not arrived (the invalid fragment is not the
        last): fail at the invalid fragment.
        """
        server, _ = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_TEXT, "\u00e9t\u00e9 ".encode(), fin=False))) == []
        bad = clientFrame(OP_CONTINUATION, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", fin=False)
        assert summarize(server.receiveData(bad)) == [("failure", 1007)]

    def test_failFastAcrossFragmentsPartialFrame(self):
        server, _ = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_TEXT, b"hello", fin=False))) == []
        payload = b"\xf8" + b"y" * 40
        assert summarize(server.receiveData(partial(payload, 1, OP_CONTINUATION, fin=False))) == [
            ("failure", 1007)
        ]

    def test_invalidSequenceSplitAcrossFragments(self):
        """
        A sequence started in one fragment and broken in the next.
        """
        server, _ = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_TEXT, b"x\xe2", fin=False))) == []
        assert summarize(server.receiveData(partial(b"\x28\xa1" + b"z" * 30, 1, OP_CONTINUATION))) == [
            ("failure", 1007)
        ]

    def test_surrogateDetectedAfterTwoBytes(self):
        """
        C{ED A0 80} encodes U+D800, a surrogate: C{ED A0} can only begin a
        surrogate, so it is invalid before the third byte arrives.
        """
        server, _ = makeServer()
        payload = b"a\xed\xa0\x80" + b"b" * 20
        assert summarize(server.receiveData(partial(payload, 2))) == []  # "a", then ED could be fine
        frame = clientFrame(OP_TEXT, payload)
        assert summarize(server.receiveData(frame[HEADER + 2 : HEADER + 3])) == [("failure", 1007)]

    def test_surrogateAcrossFragments(self):
        server, _ = makeServer()
        assert summarize(server.receiveData(clientFrame(OP_TEXT, b"a\xed", fin=False))) == []
        assert summarize(server.receiveData(partial(b"\xa0\x80xyz", 1, OP_CONTINUATION))) == [
            ("failure", 1007)
        ]

    def test_validEdSequenceNotRefused(self):
        """
        C{ED 9F BF} is U+D7FF, the last code point before the surrogates:
        its first two bytes must not be mistaken for a surrogate.
        """
        server, _ = makeServer()
        payload = b"\xed\x9f\xbf!"
        assert summarize(server.receiveData(partial(payload, 2))) == []
        frame = clientFrame(OP_TEXT, payload)
        assert summarize(server.receiveData(frame[HEADER + 2 :])) == [("text", "\ud7ff!")]

    @pytest.mark.parametrize("prefix", [b"\xf4\x90", b"\xf0\x80", b"\xe0\x80", b"\xe0\x9f", b"\xc1", b"\xf5"])
    def test_impossiblePrefixesFailFast(self, prefix):
        server, _ = makeServer()
        payload = prefix + b"\x80" * 20
        assert summarize(server.receiveData(partial(payload, len(prefix)))) == [("failure", 1007)]

    @pytest.mark.parametrize("prefix", [b"\xf4\x8f\xbf", b"\xf0\x90\x80", b"\xe2\x82", b"\xc3"])
    def test_validPrefixesWait(self, prefix):
        server, _ = makeServer()
        assert summarize(server.receiveData(partial(prefix + b"x" * 20, len(prefix)))) == []

    def test_multiByteSplitAcrossFrames(self):
        server, _ = makeServer()
        data = (
            clientFrame(OP_TEXT, b"\xe2", fin=False)
            + clientFrame(OP_CONTINUATION, b"\x82", fin=False)
            + clientFrame(OP_CONTINUATION, b"\xac \xf0\x9d", fin=False)
            + clientFrame(OP_CONTINUATION, b"\x84\x9e")
        )
        assert summarize(server.receiveData(data)) == [("text", "\u20ac \U0001d11e")]

    def test_multiByteSplitAcrossReads(self):
        server, _ = makeServer()
        text = "\u03ba\u1f79\u03c3\u03bc\u03b5 \u20ac\U0001d11e"
        frame = clientFrame(OP_TEXT, text.encode())
        assert feedEach(server, [frame[i : i + 1] for i in range(len(frame))]) == [("text", text)]

    @settings(max_examples=300, deadline=None)
    @given(
        text=st.text(max_size=60),
        fragmentCuts=st.lists(st.integers(min_value=0, max_value=300), max_size=6),
        readCuts=st.lists(st.integers(min_value=0, max_value=600), max_size=10),
        streaming=st.booleans(),
    )
    def test_anyTextRoundTrips(self, text, fragmentCuts, readCuts, streaming):
        """
        Any string survives being cut into fragments at arbitrary byte
        positions (inside characters included) and the wire bytes being cut
        into reads at arbitrary positions.
        """
        raw = text.encode("utf-8")
        bounds = sorted({min(c, len(raw)) for c in fragmentCuts})
        pieces = [raw[a:b] for a, b in zip([0] + bounds, bounds + [len(raw)])]
        wire = b"".join(
            clientFrame(OP_TEXT if i == 0 else OP_CONTINUATION, piece, fin=i == len(pieces) - 1,
                        maskKey=bytes([i, 0x5A, 0xA5, 255 - i]))
            for i, piece in enumerate(pieces)
        )
        rbounds = sorted({min(c, len(wire)) for c in readCuts})
        reads = [wire[a:b] for a, b in zip([0] + rbounds, rbounds + [len(wire)])]
        server, _ = makeServer(streaming=streaming)
        events = feedEach(server, reads)
        if not streaming:
            assert events == [("text", text)]
        else:
            assert all(e[0] == "fragment" and e[2] is False for e in events)
            assert "".join(e[1] for e in events) == text
            assert [e[3] for e in events] == [True] + [False] * (len(events) - 1)
            assert [e[4] for e in events] == [False] * (len(events) - 1) + [True]


class TestRFC6455Section8_1Sending:
    """
    Section 8.1 on the sending side: a text message is valid UTF-8, so a
    string that cannot be encoded (a lone surrogate) is refused before
    anything is written.
    """

    def test_loneSurrogateNotSent(self):
        server, out = makeServer()
        with pytest.raises((UsageError, UnicodeEncodeError)):
            server.sendText("ok \ud800")
        assert out == []
        server.sendText("still open")
        assert out == [b"\x81\x0astill open"]


class TestUtf8Decoder:
    """
    The streaming validator on its own.
    """

    def test_incremental(self):
        d = Utf8Decoder()
        assert d.decode(b"\xe2") == ""
        assert d.decode(b"\x82") == ""
        assert d.decode(b"\xac!", final=True) == "\u20ac!"

    def test_incompleteAtEnd(self):
        d = Utf8Decoder()
        assert d.decode(b"\xe2\x82") == ""
        with pytest.raises(InvalidPayload) as info:
            d.decode(b"", final=True)
        assert info.value.closeCode == 1007

    def test_surrogatePrefix(self):
        d = Utf8Decoder()
        assert d.decode(b"\xed") == ""
        with pytest.raises(InvalidPayload):
            d.decode(b"\xbf")
