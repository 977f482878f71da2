"""
engine.io packets (protocol v4 "Packet encoding", v3 "Encoding / Packet"):
one packet as a string (polling payloads and WebSocket text frames) and as
a WebSocket binary frame, in both protocol revisions.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtproto.engineio._packets import (
    CLOSE,
    MESSAGE,
    NOOP,
    OPEN,
    PING,
    PONG,
    UPGRADE,
    decodeBinaryFrame,
    decodeString,
    encodeBinaryFrame,
    encodeString,
)
from rtproto.errors import EngineIOError, PeerError

TYPES = [(OPEN, "0"), (CLOSE, "1"), (PING, "2"), (PONG, "3"), (MESSAGE, "4"), (UPGRADE, "5"), (NOOP, "6")]


def badRequest(call, *args):
    """
    Run C{call(*args)}, expecting the code 3 "Bad request" error.
    """
    with pytest.raises(EngineIOError) as info:
        call(*args)
    assert info.value.code == EngineIOError.BAD_REQUEST == 3
    assert info.value.message == "Bad request"
    assert info.value.status == 400
    return info.value


class TestPacketTypes:
    """
    The seven packet types and their ids 0 to 6.
    """

    def test_typeIds(self):
        assert (OPEN, CLOSE, PING, PONG, MESSAGE, UPGRADE, NOOP) == (0, 1, 2, 3, 4, 5, 6)

    @pytest.mark.parametrize("protocol", [3, 4])
    @pytest.mark.parametrize("ptype,char", TYPES)
    def test_typeIsTheFirstCharacter(self, protocol, ptype, char):
        assert encodeString(ptype, "", protocol) == char
        assert decodeString(char, protocol) == (ptype, "")

    @pytest.mark.parametrize("protocol", [3, 4])
    def test_pingProbe(self, protocol):
        """
        The upgrade probe is a ping with the data C{probe}; its answer a pong.
        """
        assert decodeString("2probe", protocol) == (PING, "probe")
        assert encodeString(PONG, "probe", protocol) == "3probe"


class TestStringPackets:
    """
    C{<packet type>[<data>]}: the text data follows the type unchanged.
    """

    @pytest.mark.parametrize("protocol", [3, 4])
    def test_messageHello(self, protocol):
        assert encodeString(MESSAGE, "hello", protocol) == "4hello"
        assert decodeString("4hello", protocol) == (MESSAGE, "hello")

    @pytest.mark.parametrize("protocol", [3, 4])
    def test_emptyMessage(self, protocol):
        assert decodeString("4", protocol) == (MESSAGE, "")

    @pytest.mark.parametrize("protocol", [3, 4])
    @pytest.mark.parametrize("text", ["€", "😀", "e\u0301", "中文", "\x1e", "b", "4", "\u2028\x00"])
    def test_textKeptVerbatim(self, protocol, text):
        """
        Non-ASCII, combining, astral characters, a record separator and a
        leading C{b} in the data are all just data.
        """
        assert encodeString(MESSAGE, text, protocol) == "4" + text
        assert decodeString("4" + text, protocol) == (MESSAGE, text)

    @pytest.mark.parametrize("protocol", [3, 4])
    def test_openPacketJson(self, protocol):
        data = '{"sid":"x"}'
        assert decodeString(encodeString(OPEN, data, protocol), protocol) == (OPEN, data)


class TestBase64Packets:
    """
    Binary data in a string: C{b<base64>} in v4 (always a message), and
    C{b<type><base64>} in v3.
    """

    def test_v4Binary(self):
        assert encodeString(MESSAGE, b"\x01\x02\x03\x04", 4) == "bAQIDBA=="
        assert decodeString("bAQIDBA==", 4) == (MESSAGE, b"\x01\x02\x03\x04")

    def test_v3Binary(self):
        assert encodeString(MESSAGE, b"\x01\x02\x03\x04", 3) == "b4AQIDBA=="
        assert decodeString("b4AQIDBA==", 3) == (MESSAGE, b"\x01\x02\x03\x04")

    @pytest.mark.parametrize("protocol,text", [(4, "b"), (3, "b4")])
    def test_emptyBinary(self, protocol, text):
        assert encodeString(MESSAGE, b"", protocol) == text
        assert decodeString(text, protocol) == (MESSAGE, b"")

    def test_v3BinaryOfAnotherType(self):
        assert decodeString("b2AQ==", 3) == (PING, b"\x01")

    def test_v4BinaryIsAlwaysAMessage(self):
        """
        In v4 the character after C{b} is base64, not a type.
        """
        assert decodeString("b2AQ=", 4) == (MESSAGE, b"\xd8\x04")

    @settings(max_examples=200, deadline=None)
    @given(data=st.binary(max_size=300), protocol=st.sampled_from([3, 4]))
    def test_roundTrip(self, data, protocol):
        assert decodeString(encodeString(MESSAGE, data, protocol), protocol) == (MESSAGE, data)

    @settings(max_examples=200, deadline=None)
    @given(
        text=st.text(max_size=100),
        ptype=st.sampled_from([t for t, _ in TYPES]),
        protocol=st.sampled_from([3, 4]),
    )
    def test_textRoundTrip(self, text, ptype, protocol):
        assert decodeString(encodeString(ptype, text, protocol), protocol) == (ptype, text)


class TestMalformedPackets:
    """
    A packet that cannot be read is a bad request (error code 3), a peer
    error.
    """

    @pytest.mark.parametrize("protocol", [3, 4])
    def test_empty(self, protocol):
        error = badRequest(decodeString, "", protocol)
        assert isinstance(error, PeerError)

    @pytest.mark.parametrize("protocol", [3, 4])
    @pytest.mark.parametrize("text", ["7", "9hello", "x", "abc", "-1", " 4", "\u0664hello", "４hi"])
    def test_unknownType(self, protocol, text):
        badRequest(decodeString, text, protocol)

    @pytest.mark.parametrize("text", ["b", "bx", "b7AQ==", "b\u0664AQ=="])
    def test_v3BinaryWithoutAValidType(self, text):
        badRequest(decodeString, text, 3)

    @pytest.mark.parametrize("protocol,prefix", [(4, "b"), (3, "b4")])
    @pytest.mark.parametrize("encoded", ["!!!!", "AQIDBA", "AQ=D", "AQ==AQ==", "AQ\nID", "é"])
    def test_badBase64(self, protocol, prefix, encoded):
        badRequest(decodeString, prefix + encoded, protocol)


class TestWebSocketBinaryFrames:
    """
    Binary messages over WebSocket: the raw bytes in v4; in v3 the first
    byte is the packet type (the number 4, not the character).
    """

    def test_v4Raw(self):
        assert encodeBinaryFrame(b"\x01\x02", 4) == b"\x01\x02"
        assert decodeBinaryFrame(b"\x01\x02", 4) == (MESSAGE, b"\x01\x02")

    def test_v4EmptyFrame(self):
        assert decodeBinaryFrame(b"", 4) == (MESSAGE, b"")

    def test_v3TypeByte(self):
        assert encodeBinaryFrame(b"\x00\x01\x02", 3) == b"\x04\x00\x01\x02"
        assert decodeBinaryFrame(b"\x04\x00\x01\x02", 3) == (MESSAGE, b"\x00\x01\x02")

    def test_v3OtherTypeByte(self):
        assert decodeBinaryFrame(b"\x02probe", 3) == (PING, b"probe")

    def test_v3EmptyFrame(self):
        badRequest(decodeBinaryFrame, b"", 3)

    @pytest.mark.parametrize("first", [7, 0x34, 0xFF])
    def test_v3BadTypeByte(self, first):
        badRequest(decodeBinaryFrame, bytes([first]) + b"data", 3)

    @settings(max_examples=100, deadline=None)
    @given(data=st.binary(max_size=200), protocol=st.sampled_from([3, 4]))
    def test_roundTrip(self, data, protocol):
        assert decodeBinaryFrame(encodeBinaryFrame(data, protocol), protocol) == (MESSAGE, data)
