"""
socket.io packets (protocol revision 5 "Packet encoding", revision 4
"Packet encoding" in the v4 branch of socket.io-protocol): the text form,
binary attachments, the rules per packet type, and the differences between
the two revisions.
"""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtproto.errors import PeerError, SocketIOProtocolError, UsageError
from rtproto.socketio import (
    ACK,
    BINARY_ACK,
    BINARY_EVENT,
    CONNECT,
    CONNECT_ERROR,
    DISCONNECT,
    EVENT,
    Packet,
    PacketDecoder,
    encodePacket,
    hasBinary,
)

BOTH = pytest.mark.parametrize("protocol", [4, 5])
OK_TEXT = '2["ok"]'


def decodeAll(messages, protocol=5, **kwargs):
    """
    Feed C{messages} to a fresh decoder: every one but the last must leave
    it waiting; return what the last one completes.
    """
    decoder = PacketDecoder(protocol, **kwargs)
    for message in messages[:-1]:
        assert decoder.receive(message) is None
        assert decoder.waitingForAttachments
    packet = decoder.receive(messages[-1])
    assert not decoder.waitingForAttachments
    return packet


def roundTrip(packet, protocol=5):
    """
    Encode C{packet}, decode the result, return the decoded packet.
    """
    return decodeAll(encodePacket(packet, protocol), protocol)


def refused(messages, protocol=5, **kwargs):
    """
    Feed C{messages} to a fresh decoder until one raises
    L{SocketIOProtocolError}; check the decoder was reset and reads the
    next packet; return the error.
    """
    decoder = PacketDecoder(protocol, **kwargs)
    with pytest.raises(SocketIOProtocolError) as info:
        for message in messages:
            decoder.receive(message)
    assert not decoder.waitingForAttachments
    assert decoder.receive(OK_TEXT) == Packet(EVENT, data=["ok"])
    error = info.value
    assert isinstance(error, PeerError)
    assert isinstance(error.reason, str) and error.reason
    return error


def placeholder(num):
    """
    The text of the placeholder for attachment C{num}.
    """
    return f'{{"_placeholder":true,"num":{num}}}'


def unusable(packet, protocol=5):
    """
    Encoding C{packet} raises L{UsageError}; return the error.
    """
    with pytest.raises(UsageError) as info:
        encodePacket(packet, protocol)
    return info.value


class TestPacket:
    """
    The packet types and the L{Packet} class.
    """

    def test_typeIds(self):
        assert (CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK) == tuple(range(7))

    def test_defaults(self):
        packet = Packet(EVENT)
        assert (packet.type, packet.namespace, packet.data, packet.id, packet.query) == (
            EVENT,
            "/",
            None,
            None,
            None,
        )

    def test_positionalOrder(self):
        assert Packet(ACK, "/a", ["x"], 3, None) == Packet(ACK, namespace="/a", data=["x"], id=3)

    def test_equality(self):
        assert Packet(EVENT, data=["a"]) == Packet(EVENT, "/", ["a"])
        assert Packet(EVENT, data=["a"]) != Packet(EVENT, data=["b"])
        assert Packet(EVENT, data=["a"]) != Packet(EVENT, data=["a"], id=1)
        assert Packet(CONNECT, "/a") != Packet(CONNECT, "/a", query="")
        assert Packet(EVENT) != (EVENT, "/", None, None, None)

    def test_slots(self):
        with pytest.raises(AttributeError):
            Packet(EVENT).other = 1

    def test_repr(self):
        assert repr(Packet(EVENT, data=["a", b"\x01"], id=3)) == "Packet(EVENT, '/', data=['a', b'\\x01'], id=3)"
        assert repr(Packet(CONNECT, "/nsp", query="t=1")) == "Packet(CONNECT, '/nsp', query='t=1')"
        assert repr(Packet(DISCONNECT)) == "Packet(DISCONNECT, '/')"
        assert repr(Packet(9)) == "Packet(9, '/')"


# (packet, wire): the examples of the revision 5 spec, "Packet encoding" and
# "Sample session" (the engine.io "4" prefix removed)
V5_EXAMPLES = [
    (Packet(CONNECT), ["0"]),
    (
        Packet(CONNECT, "/admin", {"sid": "oSO0OpakMV_3jnilAAAA"}),
        ['0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}'],
    ),
    (Packet(CONNECT, data={"sid": "wZX3oN0bSVIhsaknAAAI"}), ['0{"sid":"wZX3oN0bSVIhsaknAAAI"}']),
    (Packet(CONNECT_ERROR, data={"message": "Not authorized"}), ['4{"message":"Not authorized"}']),
    (Packet(EVENT, data=["foo"]), ['2["foo"]']),
    (Packet(EVENT, "/admin", ["bar"]), ['2/admin,["bar"]']),
    (Packet(EVENT, data=["hey", "Jude"]), ['2["hey","Jude"]']),
    (
        Packet(EVENT, data=["baz", b"\x01\x02\x03\x04"]),
        ['51-["baz",{"_placeholder":true,"num":0}]', b"\x01\x02\x03\x04"],
    ),
    (
        Packet(EVENT, "/admin", ["baz", b"\x01\x02", b"\x03\x04"]),
        [
            '52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
            b"\x01\x02",
            b"\x03\x04",
        ],
    ),
    (Packet(EVENT, data=["foo"], id=12), ['212["foo"]']),
    (Packet(ACK, "/admin", ["bar"], 13), ['3/admin,13["bar"]']),
    (Packet(ACK, data=[], id=12), ["312[]"]),
    (
        Packet(ACK, data=["bar", b"\x01\x02\x03\x04"], id=15),
        ['61-15["bar",{"_placeholder":true,"num":0}]', b"\x01\x02\x03\x04"],
    ),
    (Packet(EVENT, "/admin", ["tellme"], 1), ['2/admin,1["tellme"]']),
    (
        Packet(ACK, "/admin", [b"\xff"], 1),
        ['61-/admin,1[{"_placeholder":true,"num":0}]', b"\xff"],
    ),
    (Packet(DISCONNECT), ["1"]),
    (Packet(DISCONNECT, "/admin"), ["1/admin,"]),
]

# the examples of the revision 4 spec
V4_EXAMPLES = [
    (Packet(CONNECT), ["0"]),
    (Packet(CONNECT, "/admin"), ["0/admin,"]),
    (Packet(DISCONNECT, "/admin"), ["1/admin,"]),
    (Packet(EVENT, data=["hello", 1]), ['2["hello",1]']),
    (Packet(EVENT, "/admin", ["project:delete", 123], 456), ['2/admin,456["project:delete",123]']),
    (Packet(ACK, "/admin", [], 456), ["3/admin,456[]"]),
    (Packet(CONNECT_ERROR, "/admin", "Not authorized"), ['4/admin,"Not authorized"']),
    (
        Packet(EVENT, data=["hello", b"\x01\x02\x03"]),
        ['51-["hello",{"_placeholder":true,"num":0}]', b"\x01\x02\x03"],
    ),
    (
        Packet(EVENT, "/admin", ["project:delete", b"\x01\x02\x03"], 456),
        ['51-/admin,456["project:delete",{"_placeholder":true,"num":0}]', b"\x01\x02\x03"],
    ),
    (
        Packet(ACK, "/admin", [b"\x03\x02\x01"], 456),
        ['61-/admin,456[{"_placeholder":true,"num":0}]', b"\x03\x02\x01"],
    ),
    (Packet(EVENT, data=["hey", "Jude"]), ['2["hey","Jude"]']),
    (Packet(CONNECT, "/admin", query="token=1234&uid=abcd"), ["0/admin?token=1234&uid=abcd,"]),
]


class TestSpecExamples:
    """
    The spec's examples, written and read exactly.
    """

    @pytest.mark.parametrize("packet,wire", V5_EXAMPLES)
    def test_v5Encode(self, packet, wire):
        assert encodePacket(packet) == wire
        assert encodePacket(packet, 5) == wire

    @pytest.mark.parametrize("packet,wire", V5_EXAMPLES)
    def test_v5Decode(self, packet, wire):
        assert decodeAll(wire, 5) == packet

    @pytest.mark.parametrize("packet,wire", V4_EXAMPLES)
    def test_v4Encode(self, packet, wire):
        assert encodePacket(packet, 4) == wire

    @pytest.mark.parametrize("packet,wire", V4_EXAMPLES)
    def test_v4Decode(self, packet, wire):
        assert decodeAll(wire, 4) == packet

    @pytest.mark.parametrize(
        "packet",
        [
            Packet(BINARY_EVENT, data=["hello", b"\x01\x02\x03"]),
            Packet(BINARY_ACK, "/admin", [b"\x03\x02\x01"], 456),
        ],
    )
    @BOTH
    def test_binaryTypesGiven(self, packet, protocol):
        """
        A packet built with BINARY_EVENT or BINARY_ACK is written like its
        EVENT or ACK twin, and read back as that twin.
        """
        twin = Packet(packet.type - 3, packet.namespace, packet.data, packet.id)
        assert encodePacket(packet, protocol) == encodePacket(twin, protocol)
        assert roundTrip(packet, protocol) == twin


class TestComplianceSuite:
    """
    The messages of socket.io-protocol's test suite (revision 5), without
    their engine.io C{"4"}.
    """

    @pytest.mark.parametrize(
        "text,packet",
        [
            ("0", Packet(CONNECT)),
            ('0{"token":"123"}', Packet(CONNECT, data={"token": "123"})),
            ("0/custom,", Packet(CONNECT, "/custom")),
            ('0/custom,{"token":"abc"}', Packet(CONNECT, "/custom", {"token": "abc"})),
            ("0/random", Packet(CONNECT, "/random")),
            ("0/custom", Packet(CONNECT, "/custom")),
            ("1", Packet(DISCONNECT)),
            ("1/custom", Packet(DISCONNECT, "/custom")),
            ('2["message","message to main namespace"]', Packet(EVENT, data=["message", "message to main namespace"])),
            ('2["message",1,"2",{"3":[true]}]', Packet(EVENT, data=["message", 1, "2", {"3": [True]}])),
            (
                '2456["message-with-ack",1,"2",{"3":[false]}]',
                Packet(EVENT, data=["message-with-ack", 1, "2", {"3": [False]}], id=456),
            ),
        ],
    )
    def test_clientPackets(self, text, packet):
        assert decodeAll([text]) == packet

    def test_binaryWithTwoAttachments(self):
        packet = decodeAll(
            [
                '52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
                bytes([1, 2, 3]),
                bytes([4, 5, 6]),
            ]
        )
        assert packet == Packet(EVENT, data=["message", b"\x01\x02\x03", b"\x04\x05\x06"])

    def test_binaryWithAnAck(self):
        packet = decodeAll(
            [
                '52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
                bytes([1, 2, 3]),
                bytes([4, 5, 6]),
            ]
        )
        assert packet == Packet(EVENT, data=["message-with-ack", b"\x01\x02\x03", b"\x04\x05\x06"], id=789)

    @pytest.mark.parametrize(
        "packet,wire",
        [
            (Packet(EVENT, data=["auth", {}]), ['2["auth",{}]']),
            (Packet(EVENT, "/custom", ["auth", {"token": "abc"}]), ['2/custom,["auth",{"token":"abc"}]']),
            (Packet(EVENT, data=["message-back", 1, "2", {"3": [True]}]), ['2["message-back",1,"2",{"3":[true]}]']),
            (Packet(ACK, data=[1, "2", {"3": [False]}], id=456), ['3456[1,"2",{"3":[false]}]']),
            (Packet(CONNECT_ERROR, "/random", {"message": "Invalid namespace"}), ['4/random,{"message":"Invalid namespace"}']),
            (
                Packet(ACK, data=[b"\x01\x02\x03", b"\x04\x05\x06"], id=789),
                ['62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', b"\x01\x02\x03", b"\x04\x05\x06"],
            ),
        ],
    )
    def test_serverAnswers(self, packet, wire):
        assert encodePacket(packet) == wire

    @pytest.mark.parametrize("text", ["abc", "2{}", '2abc["message-with-ack",1,"2",{"3":[false]}]'])
    def test_closesUponInvalidFormat(self, text):
        refused([text])


ROUND_TRIPS = [
    Packet(CONNECT),
    Packet(CONNECT, "/admin"),
    Packet(DISCONNECT),
    Packet(DISCONNECT, "/admin"),
    Packet(EVENT, data=["a"]),
    Packet(EVENT, data=["a", 1, 2.5, -3, True, False, None, {}, [], "", {"k": [1, {"x": None}]}]),
    Packet(EVENT, "/admin", ["a", {"b": "c"}], 0),
    Packet(EVENT, data=[42, "numeric event name"]),
    Packet(EVENT, data=[1.5]),
    Packet(EVENT, "/a/b/c", ["deep", "namespace"], 9007199254740991),
    Packet(ACK, data=[], id=0),
    Packet(ACK, "/admin", [None, "x"], 7),
    Packet(EVENT, data=["bin", b"\x00\xff"]),
    Packet(EVENT, data=["empty", b""]),
    Packet(EVENT, data=["empties", b"", b"", {"e": b""}]),
    Packet(EVENT, "/admin", ["nested", {"a": [1, {"b": b"x"}], "c": b"y"}, [[b"z"]]], 5),
    Packet(EVENT, data=["many"] + [bytes([i]) * i for i in range(10)]),
    Packet(ACK, data=[b"only"], id=1),
    Packet(ACK, "/admin", [{"files": [b"1", b"22", b"333"]}], 99),
    Packet(EVENT, data=["unicode", "€ 中文 日本語 한국어 😀 👩‍👩‍👧 e\u0301 \u2028\u2029 \x00\x1f\x7f"]),
    Packet(EVENT, "/中文", ["😀", {"ключ": "значение"}]),
    Packet(EVENT, "/😀", ["emoji namespace"], 3),
    Packet(EVENT, data=["looks like packets", '2["x"]', "51-", "/admin,", "0", '{"_placeholder":true,"num":0}']),
    Packet(EVENT, data=['2["nested"]', "\\", '"', "\\u0000"]),
    Packet(EVENT, "/a?b", ["query-looking namespace, not in a CONNECT"]),
    Packet(EVENT, data=["big ints", 2**53, 10**30, -(10**30)]),
]

CONNECT_ERRORS_V5 = [
    Packet(CONNECT_ERROR, data={"message": "Not authorized"}),
    Packet(CONNECT_ERROR, "/admin", {"message": "Not authorized", "data": {"retry": 3, "why": ["a"]}}),
    Packet(CONNECT_ERROR, data="plain string, as the parser accepts"),
]

CONNECT_ERRORS_V4 = [
    Packet(CONNECT_ERROR),
    Packet(CONNECT_ERROR, data="Not authorized"),
    Packet(CONNECT_ERROR, "/admin", "Not authorized"),
    Packet(CONNECT_ERROR, data={"message": "object"}),
    Packet(CONNECT_ERROR, data=["list"]),
    Packet(CONNECT_ERROR, data=True),
]


class TestRoundTrips:
    """
    Every type, in both revisions, comes back as it was sent.
    """

    @BOTH
    @pytest.mark.parametrize("packet", ROUND_TRIPS, ids=range(len(ROUND_TRIPS)))
    def test_roundTrip(self, packet, protocol):
        assert roundTrip(packet, protocol) == packet

    @pytest.mark.parametrize(
        "packet",
        CONNECT_ERRORS_V5 + [Packet(CONNECT, data={"token": "123", "n": [1, 2]}), Packet(CONNECT, "/a", {})],
    )
    def test_v5Only(self, packet):
        assert roundTrip(packet, 5) == packet

    @pytest.mark.parametrize(
        "packet",
        CONNECT_ERRORS_V4
        + [
            Packet(CONNECT, "/nsp", query="token=x"),
            Packet(CONNECT, "/nsp", query=""),
            Packet(CONNECT, query="a=b"),
            Packet(CONNECT, "/中文", query="name=%E4%B8%AD&x=?y"),
            Packet(EVENT, data=["connect"]),
        ],
    )
    def test_v4Only(self, packet):
        assert roundTrip(packet, 4) == packet

    @BOTH
    def test_attachmentsAreTheSameObjects(self, protocol):
        """
        The bytes given as attachments are the very objects in the data.
        """
        first, second = b"first", b"second"
        decoder = PacketDecoder(protocol)
        assert decoder.receive('52-["x",{"a":{"_placeholder":true,"num":1}},[{"_placeholder":true,"num":0}]]') is None
        assert decoder.receive(first) is None
        packet = decoder.receive(second)
        assert packet.data[1]["a"] is second
        assert packet.data[2][0] is first

    @BOTH
    def test_encodedAttachmentsAreTheGivenBytes(self, protocol):
        blob = b"blob"
        assert encodePacket(Packet(EVENT, data=["x", blob]), protocol)[1] is blob

    @BOTH
    def test_sequenceOfPackets(self, protocol):
        """
        One decoder reads a stream of packets, binary ones among them.
        """
        packets = [
            Packet(EVENT, data=["a"]),
            Packet(EVENT, data=["b", b"1"], id=1),
            Packet(ACK, "/x", [b"2", b"3"], 2),
            Packet(DISCONNECT, "/x"),
            Packet(EVENT, data=["c", b""]),
        ]
        decoder = PacketDecoder(protocol)
        received = []
        for packet in packets:
            for message in encodePacket(packet, protocol):
                result = decoder.receive(message)
                if result is not None:
                    received.append(result)
        assert received == packets


class TestJson:
    """
    The data is written as C{JSON.stringify} would: compact, non-ASCII kept;
    it is read strictly.
    """

    def test_compact(self):
        assert encodePacket(Packet(EVENT, data=["a", {"b": [1, 2], "c": None}])) == ['2["a",{"b":[1,2],"c":null}]']

    def test_nonAsciiKept(self):
        assert encodePacket(Packet(EVENT, data=["€", "中文", "😀"])) == ['2["€","中文","😀"]']

    def test_escapes(self):
        assert encodePacket(Packet(EVENT, data=['"\\\n\x00'])) == ['2["\\"\\\\\\n\\u0000"]']

    def test_dictOrderKept(self):
        assert encodePacket(Packet(EVENT, data=["a", {"z": 1, "a": 2, "m": 3}])) == ['2["a",{"z":1,"a":2,"m":3}]']

    def test_tupleIsAnArray(self):
        assert encodePacket(Packet(EVENT, data=("a", (1, 2)))) == ['2["a",[1,2]]']

    @pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
    @BOTH
    def test_nanAndInfinityRefused(self, value, protocol):
        error = unusable(Packet(EVENT, data=["a", {"x": [value]}]), protocol)
        assert "JSON" in str(error)

    @pytest.mark.parametrize("value", [{1, 2}, object(), 1j, Packet(EVENT)])
    @BOTH
    def test_notJsonRefused(self, value, protocol):
        unusable(Packet(EVENT, data=["a", value]), protocol)
        unusable(Packet(ACK, data=[value], id=1), protocol)

    def test_bytesKeyRefused(self):
        unusable(Packet(EVENT, data=["a", {b"k": 1}]))

    def test_circularRefused(self):
        data = ["a"]
        data.append(data)
        unusable(Packet(EVENT, data=data))

    def test_tooDeepRefused(self):
        data = ["a"]
        inner = data
        for _ in range(100_000):
            inner.append([])
            inner = inner[-1]
        unusable(Packet(EVENT, data=data))

    @pytest.mark.parametrize(
        "packet",
        [
            Packet(CONNECT, data={"token": b"x"}),
            Packet(CONNECT_ERROR, data={"message": b"x"}),
        ],
    )
    def test_binaryOutsideEventsRefused(self, packet):
        unusable(packet)

    def test_binaryOutsideEventsRefusedV4(self):
        unusable(Packet(CONNECT_ERROR, data=[b"x"]), 4)

    @pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
    @BOTH
    def test_constantsNotRead(self, constant, protocol):
        refused([f'2["a",{constant}]'], protocol)
        refused([f'2["a",{{"x":[{constant}]}}]'], protocol)

    @pytest.mark.parametrize("number", ["1e400", "-1e400", "1" * 400 + ".0"])
    def test_overflowNotRead(self, number):
        refused([f'2["a",{number}]'])

    def test_largeIntegerRead(self):
        assert decodeAll(['2["a",123456789012345678901234567890]']).data[1] == 123456789012345678901234567890

    def test_floatsRead(self):
        assert decodeAll(['2["a",1.5,-0.25,1e10,1E-3]']).data == ["a", 1.5, -0.25, 1e10, 1e-3]

    def test_whitespaceInsideAccepted(self):
        assert decodeAll(['2[ "a" , { "b" : 1 } ]']) == Packet(EVENT, data=["a", {"b": 1}])

    @pytest.mark.parametrize("text", ['2 ["a"]', '2["a"] ', '2["a"]\n', '2\t["a"]'])
    def test_whitespaceAroundRefused(self, text):
        refused([text])

    def test_escapesRead(self):
        assert decodeAll(['2["\\u20ac\\ud83d\\ude00\\n"]']).data == ["€😀\n"]

    def test_encodedMatchesJsonModule(self):
        data = ["a", {"x": [1, 2.5, "€"], "y": None}]
        assert encodePacket(Packet(EVENT, data=data))[0][1:] == json.dumps(
            data, separators=(",", ":"), ensure_ascii=False
        )


class TestBinaryEncoding:
    """
    EVENT and ACK holding binary values become BINARY_EVENT and BINARY_ACK,
    with placeholders numbered depth first.
    """

    def test_placeholderOrder(self):
        a, b, c, d, e = b"a", b"b", b"c", b"d", b"e"
        wire = encodePacket(Packet(EVENT, data=["x", [a, {"k2": b, "k1": [c, d]}], {"z": e}]))
        assert wire == [
            (
                '55-["x",[{"_placeholder":true,"num":0},{"k2":{"_placeholder":true,"num":1},'
                '"k1":[{"_placeholder":true,"num":2},{"_placeholder":true,"num":3}]}],'
                '{"z":{"_placeholder":true,"num":4}}]'
            ),
            a,
            b,
            c,
            d,
            e,
        ]

    def test_bytesLikeBecomeBytes(self):
        wire = encodePacket(Packet(EVENT, data=["x", bytearray(b"ab"), memoryview(b"cd")]))
        assert wire[1:] == [b"ab", b"cd"]
        assert [type(part) for part in wire[1:]] == [bytes, bytes]

    def test_sameObjectTwice(self):
        """
        Each occurrence is an attachment of its own, as in the reference
        encoder.
        """
        blob = b"xy"
        wire = encodePacket(Packet(ACK, data=[blob, blob], id=1))
        assert wire == ['62-1[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', blob, blob]

    def test_emptyBytes(self):
        assert encodePacket(Packet(EVENT, data=["x", b""])) == ['51-["x",{"_placeholder":true,"num":0}]', b""]

    @BOTH
    def test_binaryTypeWithoutBinaryIsPlain(self, protocol):
        assert encodePacket(Packet(BINARY_EVENT, data=["x"]), protocol) == ['2["x"]']
        assert encodePacket(Packet(BINARY_ACK, data=[], id=2), protocol) == ["32[]"]

    def test_manyAttachmentsEncoded(self):
        """
        The encoder has no attachment limit: the peer's decoder has its own.
        """
        wire = encodePacket(Packet(EVENT, data=["x"] + [b"."] * 12))
        assert wire[0].startswith("512-")
        assert len(wire) == 13

    def test_dataNotModified(self):
        data = ["x", {"b": b"1"}]
        encodePacket(Packet(EVENT, data=data))
        assert data == ["x", {"b": b"1"}]


class TestHasBinary:
    """
    L{hasBinary} finds binary values anywhere.
    """

    @pytest.mark.parametrize(
        "data",
        [b"", bytearray(), memoryview(b"x"), [b"x"], ("a", b"x"), {"k": b"x"}, [1, {"a": [{"b": [b"x"]}]}]],
    )
    def test_found(self, data):
        assert hasBinary(data)

    @pytest.mark.parametrize("data", [None, "bytes", 1, [], {}, ["a", {"b": [1, None]}], {b"k": 1}, "b'x'"])
    def test_notFound(self, data):
        assert not hasBinary(data)

    def test_deep(self):
        data = [b"x"]
        for _ in range(10_000):
            data = [data]
        assert hasBinary(data)


class TestProtocolDifferences:
    """
    Revision 5 against revision 4: CONNECT data and queries, CONNECT_ERROR
    data, reserved event names.
    """

    def test_v5ServerConnect(self):
        assert encodePacket(Packet(CONNECT, data={"sid": "x"}), 5) == ['0{"sid":"x"}']
        assert encodePacket(Packet(CONNECT, "/nsp", {"sid": "x"}), 5) == ['0/nsp,{"sid":"x"}']

    def test_v4ServerConnect(self):
        assert encodePacket(Packet(CONNECT), 4) == ["0"]
        assert encodePacket(Packet(CONNECT, "/nsp"), 4) == ["0/nsp,"]

    @pytest.mark.parametrize("data", [{"sid": "x"}, {}])
    def test_v4ConnectCarriesNoData(self, data):
        error = unusable(Packet(CONNECT, data=data), 4)
        assert "protocol 4 CONNECT" in str(error)
        refused(['0{"sid":"x"}'], 4)
        refused(['0/nsp?token=x,{"a":1}'], 4)

    def test_v5ConnectError(self):
        assert encodePacket(Packet(CONNECT_ERROR, data={"message": "m", "data": {"a": 1}}), 5) == [
            '4{"message":"m","data":{"a":1}}'
        ]

    def test_v4ConnectError(self):
        assert encodePacket(Packet(CONNECT_ERROR, data="message"), 4) == ['4"message"']
        assert encodePacket(Packet(CONNECT_ERROR, "/nsp", "message"), 4) == ['4/nsp,"message"']

    @pytest.mark.parametrize("data", [0, 42, 1.5, -1])
    def test_v4ConnectErrorNumberRefused(self, data):
        """
        A number right after the type would read as an ack id.
        """
        unusable(Packet(CONNECT_ERROR, data=data), 4)

    def test_v4ConnectErrorAnyJson(self):
        for text, data in [("4", None), ("4null", None), ('4"m"', "m"), ("4[1]", [1]), ("4-1", -1), ("4false", False)]:
            assert decodeAll([text], 4) == Packet(CONNECT_ERROR, data=data)

    def test_v4ConnectWithQuery(self):
        assert decodeAll(["0/nsp?token=x,"], 4) == Packet(CONNECT, "/nsp", query="token=x")
        assert decodeAll(["0/nsp?token=x"], 4) == Packet(CONNECT, "/nsp", query="token=x")
        assert decodeAll(["0/nsp?a=1?b=2,"], 4) == Packet(CONNECT, "/nsp", query="a=1?b=2")
        assert decodeAll(["0/?a=b,"], 4) == Packet(CONNECT, query="a=b")
        assert encodePacket(Packet(CONNECT, "/nsp", query="token=x"), 4) == ["0/nsp?token=x,"]
        assert encodePacket(Packet(CONNECT, query="a=b"), 4) == ["0/?a=b,"]

    def test_v4QueryOnlyInConnect(self):
        assert decodeAll(['2/nsp?x,["a"]'], 4) == Packet(EVENT, "/nsp?x", ["a"])
        assert decodeAll(["1/nsp?x,"], 4) == Packet(DISCONNECT, "/nsp?x")

    def test_v5QueryIsPartOfTheNamespace(self):
        """
        Revision 5 clients send no query in the namespace; a C{"?"} is kept
        as part of it, as the reference server does (which then answers
        "Invalid namespace").
        """
        assert decodeAll(["0/nsp?token=x,"], 5) == Packet(CONNECT, "/nsp?token=x")
        assert encodePacket(Packet(CONNECT, "/nsp?token=x"), 5) == ["0/nsp?token=x,"]

    @pytest.mark.parametrize("ptype", [EVENT, DISCONNECT, CONNECT_ERROR])
    def test_queryOutsideV4ConnectRefused(self, ptype):
        data = {EVENT: ["a"], DISCONNECT: None, CONNECT_ERROR: "m"}[ptype]
        unusable(Packet(ptype, "/nsp", data, query="a=b"), 4)
        unusable(Packet(CONNECT, "/nsp", query="a=b"), 5)

    @pytest.mark.parametrize("query", ["a,b", 1, b"a=b"])
    def test_badQueryRefused(self, query):
        unusable(Packet(CONNECT, "/nsp", query=query), 4)

    def test_v4ConnectNamespaceWithQuestionMarkRefused(self):
        unusable(Packet(CONNECT, "/nsp?x=1"), 4)

    @pytest.mark.parametrize(
        "name", ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]
    )
    def test_reservedEventNames(self, name):
        """
        The revision 5 parser refuses the reserved event names; the revision
        4 parser does not.
        """
        packet = Packet(EVENT, data=[name, 1])
        assert "reserved" in str(unusable(packet, 5))
        assert "reserved" in refused([f'2["{name}",1]'], 5).reason
        assert "reserved" in refused([f'51-["{name}",{{"_placeholder":true,"num":0}}]'], 5).reason
        assert roundTrip(packet, 4) == packet

    def test_reservedNamesOnlyAsEventNames(self):
        packet = Packet(EVENT, data=["message", "connect", {"disconnect": "connect"}])
        assert roundTrip(packet, 5) == packet
        assert roundTrip(Packet(ACK, data=["connect"], id=1), 5) == Packet(ACK, data=["connect"], id=1)


class TestAckIds:
    """
    Ack ids: decimal digits right before the data, up to 2**53 - 1.
    """

    @BOTH
    @pytest.mark.parametrize("ackId", [0, 1, 9, 10, 456, 2**31, 2**53 - 1])
    def test_roundTrip(self, ackId, protocol):
        assert roundTrip(Packet(EVENT, data=["a"], id=ackId), protocol).id == ackId
        assert roundTrip(Packet(ACK, "/n", [], ackId), protocol).id == ackId

    def test_leadingZeros(self):
        assert decodeAll(['2007["a"]']) == Packet(EVENT, data=["a"], id=7)
        assert decodeAll(["2" + "0" * 15 + '1["a"]']) == Packet(EVENT, data=["a"], id=1)

    @pytest.mark.parametrize(
        "text",
        [
            '29007199254740992["a"]',
            '29999999999999999["a"]',
            '2' + "1" * 17 + '["a"]',
            '2' + "1" * 10_000 + '["a"]',
            '3' + "0" * 17 + "[]",
        ],
    )
    def test_tooLarge(self, text):
        refused([text])

    @pytest.mark.parametrize("ackId", [-1, 2**53, 1.0, "1", True, False])
    def test_badIdsNotEncoded(self, ackId):
        unusable(Packet(EVENT, data=["a"], id=ackId))

    @pytest.mark.parametrize("text", ['2\u0661["a"]', '2１["a"]', '2²["a"]'])
    def test_onlyAsciiDigits(self, text):
        refused([text])

    def test_ackNeedsAnId(self):
        unusable(Packet(ACK, data=["a"]))
        refused(['3["a"]'])
        refused(['61-[{"_placeholder":true,"num":0}]', b"x"])

    @BOTH
    @pytest.mark.parametrize(
        "packet",
        [Packet(CONNECT, id=1), Packet(DISCONNECT, id=1), Packet(CONNECT_ERROR, data="m", id=1)],
    )
    def test_onlyEventsAndAcksCarryIds(self, packet, protocol):
        unusable(packet, protocol)

    @BOTH
    @pytest.mark.parametrize("text", ["01", "0/a,1", "11", "1/a,12", '41"m"', "412"])
    def test_onlyEventsAndAcksCarryIdsDecoded(self, text, protocol):
        refused([text], protocol)


class TestEncoderRefuses:
    """
    What cannot be written raises L{UsageError}, our side's fault.
    """

    @pytest.mark.parametrize("ptype", [-1, 7, 10, "2", 2.0, True, None])
    def test_unknownType(self, ptype):
        unusable(Packet(ptype, data=["a"]))

    @pytest.mark.parametrize("protocol", [3, 6, "5", None])
    def test_unknownProtocol(self, protocol):
        unusable(Packet(EVENT, data=["a"]), protocol)

    @BOTH
    @pytest.mark.parametrize("namespace", ["/a,b", "/,", ",", "admin", "", None, b"/admin", 1])
    def test_badNamespace(self, namespace, protocol):
        error = unusable(Packet(EVENT, namespace, ["a"]), protocol)
        assert "namespace" in str(error)

    @BOTH
    @pytest.mark.parametrize("data", [None, [], {}, "a", 1, ["a"][:0], {"0": "a"}])
    def test_badEventData(self, data, protocol):
        unusable(Packet(EVENT, data=data), protocol)

    @BOTH
    @pytest.mark.parametrize("name", [None, True, False, ["a"], {"a": 1}, b"a"])
    def test_badEventName(self, name, protocol):
        unusable(Packet(EVENT, data=[name, 1]), protocol)

    @BOTH
    @pytest.mark.parametrize("data", [None, {}, "a", 1])
    def test_badAckData(self, data, protocol):
        unusable(Packet(ACK, data=data, id=1), protocol)

    @BOTH
    @pytest.mark.parametrize("data", [{}, [], "a", 0, False])
    def test_disconnectCarriesNoData(self, data, protocol):
        unusable(Packet(DISCONNECT, data=data), protocol)

    @pytest.mark.parametrize("data", [[], "a", 1, True, ["a"]])
    def test_v5ConnectDataIsAnObject(self, data):
        unusable(Packet(CONNECT, data=data), 5)

    @pytest.mark.parametrize("data", [None, [], ["m"], 1, True])
    def test_v5ConnectErrorData(self, data):
        unusable(Packet(CONNECT_ERROR, data=data), 5)


class TestDecoderRefuses:
    """
    A malformed message raises L{SocketIOProtocolError}, and the decoder
    is reset, ready for the next packet.
    """

    @BOTH
    @pytest.mark.parametrize("text", ["", "7", "9", "x", "a2", "-", " 2", "\u0662[]", "２[]", "/", "[]", "{}"])
    def test_unknownType(self, text, protocol):
        refused([text], protocol)

    @BOTH
    @pytest.mark.parametrize(
        "text",
        [
            "5",
            "5-",
            '5["a"]',
            '5-["a",{"_placeholder":true,"num":0}]',
            '5a-["a",{"_placeholder":true,"num":0}]',
            '51["a",{"_placeholder":true,"num":0}]',
            '5+1-["a",{"_placeholder":true,"num":0}]',
            '5 1-["a",{"_placeholder":true,"num":0}]',
            '5\u0661-["a",{"_placeholder":true,"num":0}]',
            '50-["a"]',
            '600-1[]',
            '511-["a",{"_placeholder":true,"num":0}]',
            "5" + "1" * 20 + '-["a",{"_placeholder":true,"num":0}]',
            "5" + "1" * 100_000,
        ],
    )
    def test_badAttachmentCount(self, text, protocol):
        refused([text], protocol)

    def test_maxAttachments(self):
        header = '53-["x",' + ",".join(placeholder(i) for i in range(3)) + "]"
        assert "too many" in refused([header], maxAttachments=2).reason
        assert decodeAll([header, b"a", b"b", b"c"], maxAttachments=3).data == ["x", b"a", b"b", b"c"]
        refused(['51-["a",{"_placeholder":true,"num":0}]'], maxAttachments=0)

    def test_defaultMaxAttachmentsIsTen(self):
        placeholders = ",".join(placeholder(i) for i in range(10))
        packet = decodeAll([f'510-["a",{placeholders}]'] + [b"x"] * 10)
        assert packet.data == ["a"] + [b"x"] * 10
        refused([f'511-["a",{placeholders}]'])

    @BOTH
    @pytest.mark.parametrize(
        "text",
        [
            "2",
            "2/admin,",
            "2/admin",
            "212",
            "2{}",
            "2[]",
            '2"a"',
            "2null",
            "2[true]",
            "2[false]",
            "2[null]",
            '2[{"a":1}]',
            '2[["a"]]',
            '2[{"toString":"foo"}]',
            '2["a"',
            '2["a"]]',
            '2["a"]x',
            '2["a"],',
            '2["a"]["b"]',
            "2nope",
            "2abc",
            "2'a'",
            '2[\'a\']',
            '2/admin,"invalid',
            "2/admin,{}",
            '2/admin["a","b"]',
            '2["a",]',
            '2["a" "b"]',
            '2["\\x"]',
            '2["a\x00"]',
        ],
    )
    def test_badEvent(self, text, protocol):
        refused([text], protocol)

    @BOTH
    @pytest.mark.parametrize("text", ["3", "31", "312", "312{}", '312"a"', "312null", "31[", '51-1{"_placeholder":true,"num":0}'])
    def test_badAck(self, text, protocol):
        refused([text], protocol)

    @BOTH
    @pytest.mark.parametrize("text", ["1{}", "1/admin,{}", "1[]", '1"x"', "1null", "1/admin,null"])
    def test_badDisconnect(self, text, protocol):
        refused([text], protocol)

    @pytest.mark.parametrize("text", ["0[]", '0"a"', "0null", "0true", '0/admin,"invalid"', "0/admin,[]", "0{", '0{"a":1}x'])
    def test_badV5Connect(self, text):
        refused([text], 5)

    @pytest.mark.parametrize("text", ["4", "4/admin,", "4[]", "4null", "41", '4/admin,["m"]', "4true"])
    def test_badV5ConnectError(self, text):
        refused([text], 5)

    @pytest.mark.parametrize("text", ["0{}", '0/nsp,{"a":1}', "0[]", '0"a"', "0null", '442["some","data"', "4{"])
    def test_badV4(self, text):
        refused([text], 4)

    @BOTH
    def test_tooDeep(self, protocol):
        refused(['2["a",' + "[" * 100_000 + "]" * 100_000 + "]"], protocol)

    @BOTH
    def test_hugeNumber(self, protocol):
        refused(['2["a",' + "1" * 5000 + "]"], protocol)

    def test_errorsHaveAReason(self):
        assert "unknown packet type" in refused(["9"]).reason
        assert "JSON" in refused(['2["a"']).reason
        assert "garbage" in refused(['2["a"]x']).reason
        assert "non-empty array" in refused(["2{}"]).reason


class TestPlaceholders:
    """
    The placeholders of a binary packet must each refer to one of its
    attachments.
    """

    @BOTH
    @pytest.mark.parametrize(
        "placeholder",
        [
            '{"_placeholder":true}',
            '{"_placeholder":true,"num":1}',
            '{"_placeholder":true,"num":-1}',
            '{"_placeholder":true,"num":"0"}',
            '{"_placeholder":true,"num":0.0}',
            '{"_placeholder":true,"num":true}',
            '{"_placeholder":true,"num":null}',
            '{"_placeholder":true,"num":[0]}',
            '{"_placeholder":true,"num":"splice"}',
            '{"_placeholder":1,"num":0}',
            '{"_placeholder":"true","num":0}',
            '{"_placeholder":false,"num":0}',
            '{"_placeholder":null,"num":0}',
            '{"_placeholder":{},"num":0}',
        ],
    )
    def test_badPlaceholder(self, placeholder, protocol):
        refused([f'51-["a",{placeholder}]', b"x"], protocol)
        refused([f'51-["a",{{"deep":[1,{placeholder}]}}]', b"x"], protocol)

    def test_placeholderAsEventNameRefused(self):
        refused(['51-[{"_placeholder":true,"num":0}]', b"x"])

    def test_placeholderFailsOnTheHeader(self):
        """
        A bad placeholder is found when the text arrives, before any
        attachment is buffered.
        """
        decoder = PacketDecoder()
        with pytest.raises(SocketIOProtocolError):
            decoder.receive('51-["a",{"_placeholder":true,"num":5}]')
        assert not decoder.waitingForAttachments

    def test_unreferencedAttachmentDropped(self):
        """
        As in the reference parser, all declared attachments are awaited;
        one no placeholder refers to is dropped.
        """
        packet = decodeAll(['52-["a",{"_placeholder":true,"num":1}]', b"dropped", b"kept"])
        assert packet == Packet(EVENT, data=["a", b"kept"])
        assert decodeAll(['51-["a","no placeholder"]', b"dropped"]) == Packet(EVENT, data=["a", "no placeholder"])

    def test_attachmentReferencedTwice(self):
        packet = decodeAll(['51-["a",{"_placeholder":true,"num":0},[{"_placeholder":true,"num":0}]]', b"x"])
        assert packet == Packet(EVENT, data=["a", b"x", [b"x"]])
        assert packet.data[1] is packet.data[2][0]

    def test_placeholderWithExtraKeys(self):
        """
        Only C{_placeholder} and C{num} matter, as in the reference parser.
        """
        packet = decodeAll(['51-["a",{"_placeholder":true,"num":0,"extra":1}]', b"x"])
        assert packet.data == ["a", b"x"]

    @BOTH
    def test_placeholderInAPlainPacketIsJustData(self, protocol):
        text = '2["a",{"_placeholder":true,"num":0}]'
        assert decodeAll([text], protocol) == Packet(EVENT, data=["a", {"_placeholder": True, "num": 0}])

    def test_placeholderObjectInADict(self):
        packet = decodeAll(['61-3[{"file":{"_placeholder":true,"num":0},"name":"f"}]', b"data"])
        assert packet == Packet(ACK, data=[{"file": b"data", "name": "f"}], id=3)


class TestDecoderState:
    """
    Waiting for attachments, sequencing errors, and the kinds of messages.
    """

    @BOTH
    def test_waitingForAttachments(self, protocol):
        decoder = PacketDecoder(protocol)
        assert not decoder.waitingForAttachments
        assert decoder.receive('52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]') is None
        assert decoder.waitingForAttachments
        assert decoder.receive(b"1") is None
        assert decoder.waitingForAttachments
        assert decoder.receive(b"2") == Packet(EVENT, data=["a", b"1", b"2"])
        assert not decoder.waitingForAttachments
        assert decoder.receive('2["b"]') == Packet(EVENT, data=["b"])

    @BOTH
    def test_attachmentWithoutAPacket(self, protocol):
        error = refused([b"x"], protocol)
        assert "no binary packet" in error.reason
        refused([OK_TEXT, b"x"], protocol)
        refused(['51-["a",{"_placeholder":true,"num":0}]', b"x", b"y"], protocol)

    @BOTH
    def test_textWhileWaiting(self, protocol):
        error = refused(['52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', b"x", OK_TEXT], protocol)
        assert "1 attachments were awaited" in error.reason

    def test_resetAfterError(self):
        """
        After an error the decoder does not still wait for the attachments
        of the packet before.
        """
        decoder = PacketDecoder()
        decoder.receive('51-["a",{"_placeholder":true,"num":0}]')
        with pytest.raises(SocketIOProtocolError):
            decoder.receive('2["b"]')
        with pytest.raises(SocketIOProtocolError):
            decoder.receive(b"late attachment")
        assert decoder.receive('51-["c",{"_placeholder":true,"num":0}]') is None
        assert decoder.receive(b"z") == Packet(EVENT, data=["c", b"z"])

    def test_resetMethod(self):
        decoder = PacketDecoder()
        decoder.receive('51-["a",{"_placeholder":true,"num":0}]')
        decoder.reset()
        assert not decoder.waitingForAttachments
        assert decoder.receive(OK_TEXT) == Packet(EVENT, data=["ok"])

    @pytest.mark.parametrize("attachment", [bytearray(b"ab"), memoryview(b"ab")])
    def test_bytesLikeAttachments(self, attachment):
        packet = decodeAll(['51-["a",{"_placeholder":true,"num":0}]', attachment])
        assert packet.data[1] == b"ab"
        assert type(packet.data[1]) is bytes

    def test_emptyAttachment(self):
        assert decodeAll(['51-["a",{"_placeholder":true,"num":0}]', b""]) == Packet(EVENT, data=["a", b""])

    @pytest.mark.parametrize("message", [1, None, ["2"], Packet(EVENT)])
    def test_notAMessage(self, message):
        decoder = PacketDecoder()
        with pytest.raises(UsageError):
            decoder.receive(message)

    @pytest.mark.parametrize("kwargs", [{"protocol": 3}, {"protocol": "5"}, {"maxAttachments": -1}, {"maxAttachments": "10"}])
    def test_badOptions(self, kwargs):
        with pytest.raises(UsageError):
            PacketDecoder(**kwargs)

    def test_options(self):
        decoder = PacketDecoder(4, maxAttachments=3)
        assert (decoder.protocol, decoder.maxAttachments) == (4, 3)
        assert (PacketDecoder().protocol, PacketDecoder().maxAttachments) == (5, 10)

    def test_binaryPacketsComeBackAsEventAndAck(self):
        assert decodeAll(['51-["a",{"_placeholder":true,"num":0}]', b"x"]).type == EVENT
        assert decodeAll(['61-1[{"_placeholder":true,"num":0}]', b"x"]).type == ACK


class TestCrossCheck:
    """
    python-socketio (revision 5) reads what we write, and we read what it
    writes.
    """

    PACKETS = (
        Packet(CONNECT, data={"sid": "abc"}),
        Packet(CONNECT, "/admin", {"sid": "abc"}),
        Packet(DISCONNECT, "/admin"),
        Packet(EVENT, data=["hello", "€", {"a": [1, 2.5, None]}]),
        Packet(EVENT, "/admin", ["x"], 12),
        Packet(ACK, "/admin", ["ok"], 13),
        Packet(CONNECT_ERROR, "/admin", {"message": "Not authorized"}),
        Packet(EVENT, "/admin", ["bin", b"\x01\x02", {"n": b"\x03"}], 14),
        Packet(ACK, data=[b"\x04"], id=15),
    )

    @pytest.mark.parametrize("packet", PACKETS)
    def test_theyReadOurs(self, packet):
        theirs = pytest.importorskip("socketio.packet")
        wire = encodePacket(packet)
        decoded = theirs.Packet(encoded_packet=wire[0])
        for attachment in wire[1:]:
            decoded.add_attachment(attachment)
        assert decoded.packet_type == (packet.type + 3 if len(wire) > 1 else packet.type)
        assert (decoded.namespace or "/", decoded.data, decoded.id) == (packet.namespace, packet.data, packet.id)

    @pytest.mark.parametrize("packet", PACKETS)
    def test_weReadTheirs(self, packet):
        theirs = pytest.importorskip("socketio.packet")
        wire = theirs.Packet(packet.type, data=packet.data, namespace=packet.namespace, id=packet.id).encode()
        if isinstance(wire, str):
            wire = [wire]
        assert decodeAll(wire) == packet


def jsonValues(binary):
    """
    A strategy for JSON values, with bytes anywhere when C{binary}.
    """
    leaves = (
        st.none()
        | st.booleans()
        | st.integers(-(2**64), 2**64)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20)
    )
    if binary:
        leaves = leaves | st.binary(max_size=20)
    return st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
        max_leaves=12,
    )


namespaces = st.just("/") | st.text(max_size=12).filter(lambda s: "," not in s).map(lambda s: "/" + s)
RESERVED = ("connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener")
eventNames = st.text(max_size=15).filter(lambda s: s not in RESERVED) | st.integers(0, 10**6) | st.floats(-1e9, 1e9)
ackIds = st.none() | st.integers(0, 2**53 - 1)


class TestProperties:
    """
    Round trips and robustness over generated packets and messages.
    """

    @settings(max_examples=300, deadline=None)
    @given(
        protocol=st.sampled_from([4, 5]),
        namespace=namespaces,
        name=eventNames,
        args=st.lists(jsonValues(True), max_size=4),
        ackId=ackIds,
    )
    def test_eventRoundTrip(self, protocol, namespace, name, args, ackId):
        packet = Packet(EVENT, namespace, [name, *args], ackId)
        wire = encodePacket(packet, protocol)
        assert len(wire) - 1 == sum(1 for _ in _binaries(args))
        assert decodeAll(wire, protocol, maxAttachments=10**6) == packet

    @settings(max_examples=200, deadline=None)
    @given(
        protocol=st.sampled_from([4, 5]),
        namespace=namespaces,
        args=st.lists(jsonValues(True), max_size=4),
        ackId=st.integers(0, 2**53 - 1),
    )
    def test_ackRoundTrip(self, protocol, namespace, args, ackId):
        packet = Packet(ACK, namespace, args, ackId)
        assert decodeAll(encodePacket(packet, protocol), protocol, maxAttachments=10**6) == packet

    @settings(max_examples=200, deadline=None)
    @given(namespace=namespaces, data=st.none() | st.dictionaries(st.text(max_size=8), jsonValues(False), max_size=4))
    def test_v5ConnectRoundTrip(self, namespace, data):
        packet = Packet(CONNECT, namespace, data)
        assert roundTrip(packet, 5) == packet

    @settings(max_examples=200, deadline=None)
    @given(namespace=namespaces, query=st.none() | st.text(max_size=20).filter(lambda s: "," not in s))
    def test_v4ConnectRoundTrip(self, namespace, query):
        packet = Packet(CONNECT, namespace.replace("?", ""), query=query)
        assert roundTrip(packet, 4) == packet

    @settings(max_examples=500, deadline=None)
    @given(protocol=st.sampled_from([4, 5]), messages=st.lists(st.text(max_size=40) | st.binary(max_size=5), max_size=4))
    def test_onlyProtocolErrors(self, protocol, messages):
        """
        Whatever the peer sends, the decoder answers a packet, L{None} or
        L{SocketIOProtocolError}.
        """
        decoder = PacketDecoder(protocol)
        for message in messages:
            try:
                result = decoder.receive(message)
            except SocketIOProtocolError:
                assert not decoder.waitingForAttachments
            else:
                assert result is None or isinstance(result, Packet)

    @settings(max_examples=300, deadline=None)
    @given(
        protocol=st.sampled_from([4, 5]),
        ptype=st.sampled_from("0123456"),
        count=st.sampled_from(["", "1-", "2-", "0-"]),
        namespace=st.sampled_from(["", "/a,", "/a", "/a?b,"]),
        ackId=st.sampled_from(["", "1", "12"]),
        data=jsonValues(False).map(lambda v: json.dumps(v, separators=(",", ":"))) | st.just(""),
    )
    def test_structuredFuzz(self, protocol, ptype, count, namespace, ackId, data):
        """
        Headers put together from valid and invalid parts decode to a packet
        that encodes back to an equal one, or raise L{SocketIOProtocolError}.
        """
        decoder = PacketDecoder(protocol)
        try:
            result = decoder.receive(ptype + count + namespace + ackId + data)
        except SocketIOProtocolError:
            return
        if result is None:
            return
        if protocol == 4 and result.type == CONNECT_ERROR and type(result.data) in (int, float):
            # a number the encoder refuses: it would read as an ack id
            with pytest.raises(UsageError):
                encodePacket(result, protocol)
            return
        assert decodeAll(encodePacket(result, protocol), protocol) == result


def _binaries(value):
    """
    The binary values inside C{value}, depth first.
    """
    if isinstance(value, bytes):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _binaries(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _binaries(item)
