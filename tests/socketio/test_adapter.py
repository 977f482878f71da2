"""
The in-memory adapter (L{rtproto.socketio.MemoryAdapter}): rooms kept both
ways (room to sockets, socket to rooms), broadcasts chosen by
L{BroadcastOptions} and encoded once into a L{Prepared}, broadcasts with
acknowledgements, and the offsets connection state recovery adds.  Sans
I/O: the recipients are fakes that record what they are handed.
"""

import pytest
from zope.interface.verify import verifyObject

from rtproto.errors import UsageError
from rtproto.interfaces import IAdapter
from rtproto.socketio import (
    ACK,
    CONNECT,
    DISCONNECT,
    EVENT,
    BroadcastOptions,
    MemoryAdapter,
    Packet,
    Prepared,
    encodePacket,
    prepare,
)
from rtproto.socketio._recovery import RecoveryStore


class FakeRecipient:
    """
    A socket as the adapter sees it: records deliveries and expected acks.
    """

    def __init__(self, sid: str, protocol: int = 5, onDeliver=None) -> None:
        self.sid = sid
        self.protocol = protocol
        self.delivered: list = []
        self.acks: dict = {}
        self.log: list = []
        self.onDeliver = onDeliver

    def deliver(self, prepared, volatile) -> None:
        self.delivered.append((prepared, volatile))
        self.log.append(("deliver", prepared))
        if self.onDeliver is not None:
            self.onDeliver(self)

    def expectAck(self, ackId, callback) -> None:
        self.acks[ackId] = callback
        self.log.append(("expectAck", ackId))

    @property
    def texts(self) -> list:
        return [prepared.messages[0] for prepared, _ in self.delivered]


class FakeNamespace:
    """
    A namespace: a name and its sockets.
    """

    def __init__(self, name: str = "/") -> None:
        self.name = name
        self.sockets: dict = {}


def tokens():
    n = iter(range(1000))
    return lambda: f"tok{next(n):03d}xyz"


def makeAdapter(recipients=(), rooms=None, recovery=None):
    """
    An adapter whose namespace has C{recipients}, each in its own room and
    in the rooms C{rooms} gives it (sid to a list of rooms).
    """
    namespace = FakeNamespace()
    adapter = MemoryAdapter(namespace, recovery)
    for recipient in recipients:
        namespace.sockets[recipient.sid] = recipient
        adapter.addAll(recipient.sid, [recipient.sid, *(rooms or {}).get(recipient.sid, ())])
    return adapter, namespace


def event(*data, namespace="/", ackId=None) -> Packet:
    return Packet(EVENT, namespace, list(data), ackId)


class TestRooms:
    """
    Rooms kept both ways, empty rooms forgotten.
    """

    def test_providesIAdapter(self):
        assert verifyObject(IAdapter, MemoryAdapter(FakeNamespace()))

    def test_addAll(self):
        adapter = MemoryAdapter(FakeNamespace())
        adapter.addAll("a", ["a", "r1", "r2"])
        adapter.addAll("b", ["b", "r1"])
        assert adapter.rooms == {"a": {"a"}, "b": {"b"}, "r1": {"a", "b"}, "r2": {"a"}}
        assert adapter.sids == {"a": {"a", "r1", "r2"}, "b": {"b", "r1"}}

    def test_addAllTwiceIsOnce(self):
        adapter = MemoryAdapter(FakeNamespace())
        adapter.addAll("a", ["r", "r"])
        adapter.addAll("a", ("r",))
        assert adapter.rooms == {"r": {"a"}}
        assert adapter.sids == {"a": {"r"}}

    def test_addAllNothingListsTheSocket(self):
        """
        A socket in no room is still known (it gets broadcasts to all).
        """
        adapter = MemoryAdapter(FakeNamespace())
        adapter.addAll("a", [])
        assert adapter.sids == {"a": set()}
        assert adapter.sockets() == {"a"}

    def test_deleteForgetsEmptyRoom(self):
        adapter = MemoryAdapter(FakeNamespace())
        adapter.addAll("a", ["r"])
        adapter.addAll("b", ["r"])
        adapter.delete("a", "r")
        assert adapter.rooms == {"r": {"b"}}
        adapter.delete("b", "r")
        assert adapter.rooms == {}
        assert adapter.sids == {"a": set(), "b": set()}

    def test_deleteUnknownIsHarmless(self):
        adapter = MemoryAdapter(FakeNamespace())
        adapter.addAll("a", ["r"])
        adapter.delete("a", "other")
        adapter.delete("nobody", "r")
        assert adapter.rooms == {"r": {"a"}}
        assert adapter.sids == {"a": {"r"}}

    def test_deleteAll(self):
        adapter = MemoryAdapter(FakeNamespace())
        adapter.addAll("a", ["a", "r1", "r2"])
        adapter.addAll("b", ["b", "r1"])
        adapter.deleteAll("a")
        assert adapter.rooms == {"b": {"b"}, "r1": {"b"}}
        assert adapter.sids == {"b": {"b", "r1"}}
        adapter.deleteAll("b")
        assert adapter.rooms == {} and adapter.sids == {}

    def test_deleteAllForgetsSocketInNoRoom(self):
        adapter = MemoryAdapter(FakeNamespace())
        adapter.addAll("a", ["r"])
        adapter.delete("a", "r")
        adapter.deleteAll("a")
        adapter.deleteAll("never-seen")
        assert adapter.sids == {} and adapter.rooms == {}

    def test_socketRooms(self):
        adapter = MemoryAdapter(FakeNamespace())
        adapter.addAll("a", ["a", "r"])
        rooms = adapter.socketRooms("a")
        assert rooms == frozenset({"a", "r"})
        assert isinstance(rooms, frozenset)
        adapter.delete("a", "r")
        assert rooms == frozenset({"a", "r"}), "a snapshot, not a view"
        assert adapter.socketRooms("nobody") == frozenset()

    def test_sockets(self):
        adapter = MemoryAdapter(FakeNamespace())
        adapter.addAll("a", ["a", "r1"])
        adapter.addAll("b", ["b", "r2"])
        adapter.addAll("c", ["c", "r1", "r2"])
        assert adapter.sockets() == {"a", "b", "c"}
        assert adapter.sockets(["r1"]) == {"a", "c"}
        assert adapter.sockets(["r1", "r2"]) == {"a", "b", "c"}
        assert adapter.sockets(["nowhere"]) == set()
        found = adapter.sockets(["r1"])
        found.add("zzz")
        assert adapter.rooms["r1"] == {"a", "c"}, "a copy is returned"


class TestPrepared:
    """
    A packet encoded once: its messages, each with its own cache.
    """

    def test_textPacket(self):
        packet = event("hi", {"a": 1}, namespace="/chat")
        prepared = prepare(packet)
        assert isinstance(prepared, Prepared)
        assert prepared.messages == encodePacket(packet, 5)
        assert prepared.caches == [{}]

    def test_binaryPacketHasACachePerMessage(self):
        prepared = prepare(event("file", {"a": b"\x00\x01", "b": [b"\x02"]}))
        assert len(prepared.messages) == 3
        assert prepared.messages[1:] == [b"\x00\x01", b"\x02"]
        assert len(prepared.caches) == 3
        assert len({id(c) for c in prepared.caches}) == 3

    @pytest.mark.parametrize("protocol", [4, 5])
    def test_protocol(self, protocol):
        packet = Packet(CONNECT, "/x", {"sid": "s"} if protocol == 5 else None)
        assert prepare(packet, protocol).messages == encodePacket(packet, protocol)

    def test_badPacketRaises(self):
        with pytest.raises(UsageError):
            prepare(event("x", object()))

    def test_broadcastOptionsDefaults(self):
        options = BroadcastOptions()
        assert options.rooms == frozenset() and options.exceptRooms == frozenset()
        assert options.volatile is False and options.local is False
        with pytest.raises(AttributeError):
            options.volatile = True


class TestBroadcast:
    """
    Who a broadcast reaches, and that it is encoded once for all.
    """

    def setup_method(self):
        self.a, self.b, self.c = FakeRecipient("a"), FakeRecipient("b"), FakeRecipient("c")
        self.adapter, self.namespace = makeAdapter(
            [self.a, self.b, self.c], {"a": ["red"], "b": ["red", "blue"], "c": ["blue"]}
        )

    def reached(self):
        return {r.sid for r in (self.a, self.b, self.c) if r.delivered}

    def test_everySocketWhenNoRooms(self):
        self.adapter.broadcast(event("news", 1), BroadcastOptions())
        assert self.reached() == {"a", "b", "c"}
        assert self.a.texts == ['2["news",1]']

    def test_encodedOnce(self):
        """
        Every recipient is handed the same L{Prepared}, so the transports
        share its caches.
        """
        self.adapter.broadcast(event("news", b"\x01"), BroadcastOptions())
        prepared = {id(r.delivered[0][0]) for r in (self.a, self.b, self.c)}
        assert len(prepared) == 1
        assert self.a.delivered[0][0].messages == ['51-["news",{"_placeholder":true,"num":0}]', b"\x01"]

    def test_oneRoom(self):
        self.adapter.broadcast(event("x"), BroadcastOptions(rooms=frozenset({"red"})))
        assert self.reached() == {"a", "b"}

    def test_severalRoomsOnceEach(self):
        self.adapter.broadcast(event("x"), BroadcastOptions(rooms=frozenset({"red", "blue"})))
        assert self.reached() == {"a", "b", "c"}
        assert len(self.b.delivered) == 1, "in two of the rooms, sent once"

    def test_unknownRoom(self):
        self.adapter.broadcast(event("x"), BroadcastOptions(rooms=frozenset({"green"})))
        assert self.reached() == set()

    def test_exceptRooms(self):
        self.adapter.broadcast(event("x"), BroadcastOptions(exceptRooms=frozenset({"blue"})))
        assert self.reached() == {"a"}

    def test_exceptOwnSid(self):
        self.adapter.broadcast(event("x"), BroadcastOptions(exceptRooms=frozenset({"a"})))
        assert self.reached() == {"b", "c"}

    def test_roomsAndExcept(self):
        self.adapter.broadcast(
            event("x"), BroadcastOptions(rooms=frozenset({"red"}), exceptRooms=frozenset({"blue"}))
        )
        assert self.reached() == {"a"}

    def test_roomsAndExceptUnknownRoom(self):
        self.adapter.broadcast(
            event("x"), BroadcastOptions(rooms=frozenset({"red", "blue"}), exceptRooms=frozenset({"green"}))
        )
        assert self.reached() == {"a", "b", "c"}

    @pytest.mark.parametrize("volatile", [False, True])
    def test_volatilePassedOn(self, volatile):
        self.adapter.broadcast(event("x"), BroadcastOptions(volatile=volatile))
        assert [v for _, v in self.a.delivered] == [volatile]

    def test_socketNotInNamespaceSkipped(self):
        """
        A sid still in a room whose socket the namespace no longer lists is
        left out rather than failing the broadcast.
        """
        del self.namespace.sockets["b"]
        self.adapter.broadcast(event("x"), BroadcastOptions(rooms=frozenset({"red"})))
        assert self.reached() == {"a"}

    @pytest.mark.parametrize(
        "options, expected",
        [
            (BroadcastOptions(), {"a", "b", "c"}),
            (BroadcastOptions(rooms=frozenset({"red"})), {"a", "b"}),
            (BroadcastOptions(rooms=frozenset({"red", "blue"})), {"a", "b", "c"}),
            (BroadcastOptions(exceptRooms=frozenset({"c"})), {"a", "b"}),
        ],
    )
    def test_deliveringMayLeaveRooms(self, options, expected):
        """
        A socket that leaves its rooms while being delivered to (its
        connection closed) does not break the loop over the recipients.
        """
        for recipient in (self.a, self.b, self.c):
            recipient.onDeliver = lambda r: self.adapter.deleteAll(r.sid)
        self.adapter.broadcast(event("x"), options)
        assert self.reached() == expected
        assert self.adapter.rooms.keys() <= {"red", "blue", "a", "b", "c"} - expected

    def test_noRecoveryNoOffset(self):
        self.adapter.broadcast(event("x", 1), BroadcastOptions())
        assert self.a.texts == ['2["x",1]']


class TestBroadcastWithAck:
    """
    A broadcast that expects an answer from each recipient.
    """

    def test_countThenAcks(self):
        a, b, c = FakeRecipient("a"), FakeRecipient("b"), FakeRecipient("c")
        adapter, _ = makeAdapter([a, b, c], {"a": ["r"], "b": ["r"]})
        calls = []
        adapter.broadcastWithAck(
            event("q", ackId=7),
            BroadcastOptions(rooms=frozenset({"r"})),
            lambda n: calls.append(("count", n)),
            lambda sid, args: calls.append(("ack", sid, args)),
        )
        assert calls == [("count", 2)]
        assert not c.delivered and not c.acks
        for recipient in (a, b):
            assert recipient.log == [("expectAck", 7), ("deliver", recipient.delivered[0][0])]
            assert recipient.texts == ['27["q"]']
        b.acks[7](["yes"])
        a.acks[7]([])
        assert calls[1:] == [("ack", "b", ["yes"]), ("ack", "a", [])]
        assert a.delivered[0][0] is b.delivered[0][0]

    def test_noRecipients(self):
        adapter, _ = makeAdapter([FakeRecipient("a")])
        counts = []
        adapter.broadcastWithAck(
            event("q", ackId=1), BroadcastOptions(rooms=frozenset({"none"})), counts.append, None
        )
        assert counts == [0]

    def test_countLeavesOutSocketsNotInNamespace(self):
        a, b = FakeRecipient("a"), FakeRecipient("b")
        adapter, namespace = makeAdapter([a, b])
        del namespace.sockets["a"]
        counts = []
        adapter.broadcastWithAck(event("q", ackId=1), BroadcastOptions(), counts.append, lambda *a: None)
        assert counts == [1]
        assert not a.delivered

    def test_exceptAndVolatile(self):
        a, b = FakeRecipient("a"), FakeRecipient("b")
        adapter, _ = makeAdapter([a, b])
        counts = []
        adapter.broadcastWithAck(
            event("q", ackId=3),
            BroadcastOptions(exceptRooms=frozenset({"a"}), volatile=True),
            counts.append,
            lambda *x: None,
        )
        assert counts == [1]
        assert [v for _, v in b.delivered] == [True]

    def test_noOffsetEvenWithRecovery(self):
        store = RecoveryStore(token=tokens())
        a = FakeRecipient("a")
        adapter, _ = makeAdapter([a], recovery=store)
        adapter.broadcastWithAck(event("q", ackId=1), BroadcastOptions(), lambda n: None, lambda *x: None)
        assert a.texts == ['21["q"]']
        assert store.restore("nope", "tok000-0", 0) is None


class TestRecoveryOffsets:
    """
    With recovery on, broadcast events without ack and not volatile carry an
    offset, and are kept.
    """

    def setup_method(self):
        self.store = RecoveryStore(token=tokens())
        self.v5 = FakeRecipient("v5", protocol=5)
        self.v4 = FakeRecipient("v4", protocol=4)
        self.adapter, _ = makeAdapter([self.v5, self.v4], recovery=self.store)

    def test_offsetForEveryClient(self):
        """
        As the Node server does, the offset goes to every recipient (a
        protocol 4 client sees it as one more argument).
        """
        self.adapter.broadcast(event("x", 1), BroadcastOptions())
        self.adapter.broadcast(event("y"), BroadcastOptions())
        assert self.v5.texts == ['2["x",1,"tok000-0"]', '2["y","tok000-1"]']
        assert self.v4.texts == self.v5.texts

    def test_encodedOnceWithOffset(self):
        self.adapter.broadcast(event("x", b"\x01"), BroadcastOptions())
        assert self.v4.delivered[0][0] is self.v5.delivered[0][0]
        assert self.v5.delivered[0][0].messages == ['51-["x",{"_placeholder":true,"num":0},"tok000-0"]', b"\x01"]

    def test_packetNotChanged(self):
        packet = event("x", 1)
        self.adapter.broadcast(packet, BroadcastOptions())
        assert packet.data == ["x", 1]

    def test_volatileNotKept(self):
        self.adapter.broadcast(event("x"), BroadcastOptions(volatile=True))
        assert self.v5.texts == ['2["x"]']
        self.adapter.broadcast(event("y"), BroadcastOptions())
        assert self.v5.texts[-1] == '2["y","tok000-0"]', "the volatile one took no offset"

    @pytest.mark.parametrize("packet", [event("x", ackId=4), Packet(DISCONNECT, "/"), Packet(ACK, "/", [], 2)])
    def test_onlyPlainEventsKept(self, packet):
        self.adapter.broadcast(packet, BroadcastOptions())
        assert self.v5.texts == encodePacket(packet)[:1]

    def test_keptPacketsAreWhatARestoreMisses(self):
        self.adapter.persistSession({"pid": "p", "sid": "gone", "rooms": {"gone", "r"}, "data": {"k": 1}}, 10.0)
        self.adapter.broadcast(event("a"), BroadcastOptions())
        self.adapter.broadcast(event("b"), BroadcastOptions(rooms=frozenset({"r"})))
        self.adapter.broadcast(event("c"), BroadcastOptions(rooms=frozenset({"other"})))
        self.adapter.broadcast(event("d"), BroadcastOptions(exceptRooms=frozenset({"r"})))
        restored = self.adapter.restoreSession("p", "tok000-0", 20.0)
        assert restored == {
            "sid": "gone",
            "pid": "p",
            "rooms": frozenset({"gone", "r"}),
            "data": {"k": 1},
            "missed": [["b", "tok000-1"]],
        }
        assert self.adapter.restoreSession("p", "tok000-0", 20.0) is None

    def test_restoreUnknown(self):
        assert self.adapter.restoreSession("nobody", "tok000-0", 0.0) is None


class TestWithoutRecovery:
    def test_persistAndRestoreAreNoOps(self):
        adapter = MemoryAdapter(FakeNamespace())
        assert adapter.recovery is None
        adapter.persistSession({"pid": "p", "sid": "s", "rooms": set(), "data": {}}, 0.0)
        assert adapter.restoreSession("p", "x-0", 0.0) is None
