"""
Connection state recovery's store (L{rtproto.socketio._recovery}): offsets,
sessions kept and given back with the packets they missed, the limits on
what is kept (C{maxPackets}, C{maxDisconnectionDuration}) and the cleanup
that ages packets by the marks it leaves.  Time only comes in as C{now}.
"""

import inspect

import pytest

from rtproto.socketio import _recovery
from rtproto.socketio._recovery import RECOVERABLE_REASONS, RecoveryStore, StoredSession

EMPTY = frozenset()


def tokens(prefix="tok"):
    n = iter(range(10_000))
    return lambda: f"{prefix}{next(n):03d}xyz"


def makeStore(**kw) -> RecoveryStore:
    """
    A store whose offsets are C{tok000-<n>} and pids C{tok001xyz}, ...
    """
    return RecoveryStore(token=tokens(), **kw)


def offset(n: int) -> str:
    return f"tok000-{n}"


def storeMany(store, n, rooms=EMPTY, exceptRooms=EMPTY):
    return [store.store([f"e{i}"], rooms, exceptRooms) for i in range(n)]


class TestOffsets:
    def test_appended(self):
        store = makeStore()
        data = ["ev", {"a": 1}]
        assert store.store(data, EMPTY, EMPTY) == ["ev", {"a": 1}, offset(0)]
        assert store.store(["ev2"], EMPTY, EMPTY) == ["ev2", offset(1)]
        assert data == ["ev", {"a": 1}], "the caller's list is not changed"

    def test_prefixIsPerStore(self):
        """
        Two stores (two namespaces) do not accept each other's offsets.
        """
        one = RecoveryStore(token=tokens("aaa"))
        two = RecoveryStore(token=tokens("bbb"))
        first = one.store(["x"], EMPTY, EMPTY)[-1]
        two.store(["x"], EMPTY, EMPTY)
        two.persist("p", "s", {"s"}, {}, 0.0)
        assert two.restore("p", first, 0.0) is None

    def test_defaultTokensAreRandom(self):
        one, two = RecoveryStore(), RecoveryStore()
        assert one.newPid() != two.newPid()
        assert one.store([], EMPTY, EMPTY)[-1] != two.store([], EMPTY, EMPTY)[-1]

    def test_newPid(self):
        store = makeStore()
        assert store.newPid() == "tok001xyz"
        assert store.newPid() == "tok002xyz"


class TestRestore:
    def setup_method(self):
        self.store = makeStore(maxDisconnectionDuration=100.0)

    def test_sessionAndMissedInOrder(self):
        self.store.store(["seen"], EMPTY, EMPTY)
        self.store.persist("pid", "sid", {"sid", "room"}, {"user": 7}, 10.0)
        self.store.store(["a"], EMPTY, EMPTY)
        self.store.store(["b", 1], EMPTY, EMPTY)
        session, missed = self.store.restore("pid", offset(0), 20.0)
        assert isinstance(session, StoredSession)
        assert (session.pid, session.sid, session.data) == ("pid", "sid", {"user": 7})
        assert session.disconnectedAt == 10.0
        assert session.rooms == frozenset({"sid", "room"})
        assert missed == [["a", offset(1)], ["b", 1, offset(2)]]

    def test_restoredOnlyOnce(self):
        self.store.store(["x"], EMPTY, EMPTY)
        self.store.persist("pid", "sid", {"sid"}, {}, 0.0)
        assert self.store.restore("pid", offset(0), 1.0) is not None
        assert self.store.restore("pid", offset(0), 1.0) is None
        assert self.store.sessions == {}

    def test_latestOffsetMissesNothing(self):
        storeMany(self.store, 3)
        self.store.persist("pid", "sid", {"sid"}, {}, 0.0)
        assert self.store.restore("pid", offset(2), 1.0)[1] == []

    def test_onlyPacketsMeantForIt(self):
        self.store.store(["first"], EMPTY, EMPTY)
        self.store.persist("pid", "sid", {"sid", "red"}, {}, 0.0)
        self.store.store(["toRed"], frozenset({"red"}), EMPTY)
        self.store.store(["toBlue"], frozenset({"blue"}), EMPTY)
        self.store.store(["toRedOrBlue"], frozenset({"red", "blue"}), EMPTY)
        self.store.store(["toMe"], frozenset({"sid"}), EMPTY)
        self.store.store(["allButRed"], EMPTY, frozenset({"red"}))
        self.store.store(["allButGreen"], EMPTY, frozenset({"green"}))
        self.store.store(["blueButNotMe"], frozenset({"blue"}), frozenset({"sid"}))
        self.store.store(["redButNotMe"], frozenset({"red"}), frozenset({"sid"}))
        _, missed = self.store.restore("pid", offset(0), 1.0)
        assert [m[0] for m in missed] == ["toRed", "toRedOrBlue", "toMe", "allButGreen"]

    def test_unknownPid(self):
        self.store.store(["x"], EMPTY, EMPTY)
        assert self.store.restore("nobody", offset(0), 0.0) is None

    def test_expired(self):
        self.store.store(["x"], EMPTY, EMPTY)
        self.store.persist("pid", "sid", {"sid"}, {}, 10.0)
        assert self.store.restore("pid", offset(0), 110.001) is None
        assert self.store.sessions == {}

    def test_justInTime(self):
        self.store.store(["x"], EMPTY, EMPTY)
        self.store.persist("pid", "sid", {"sid"}, {}, 10.0)
        assert self.store.restore("pid", offset(0), 110.0) is not None

    @pytest.mark.parametrize(
        "bad",
        [
            "",
            "tok000-",
            "tok000-x",
            "tok000--1",
            "tok000-+1",
            "tok000-1.0",
            "tok000-\u0661",  # an Arabic-Indic one: isdigit() but not ASCII
            "tok999-0",
            "0",
            None,
            0,
            ["tok000-0"],
        ],
    )
    def test_badOffset(self, bad):
        self.store.store(["x"], EMPTY, EMPTY)
        self.store.store(["y"], EMPTY, EMPTY)
        self.store.persist("pid", "sid", {"sid"}, {}, 0.0)
        assert self.store.restore("pid", bad, 0.0) is None

    def test_offsetNotYetGiven(self):
        self.store.store(["x"], EMPTY, EMPTY)
        self.store.persist("pid", "sid", {"sid"}, {}, 0.0)
        assert self.store.restore("pid", offset(1), 0.0) is None

    def test_nothingEverStored(self):
        self.store.persist("pid", "sid", {"sid"}, {}, 0.0)
        assert self.store.restore("pid", offset(0), 0.0) is None

    def test_severalSessions(self):
        self.store.store(["x"], EMPTY, EMPTY)
        self.store.persist("p1", "s1", {"s1"}, {"n": 1}, 0.0)
        self.store.persist("p2", "s2", {"s2"}, {"n": 2}, 0.0)
        self.store.store(["to2"], frozenset({"s2"}), EMPTY)
        one, missed1 = self.store.restore("p1", offset(0), 1.0)
        two, missed2 = self.store.restore("p2", offset(0), 1.0)
        assert (one.sid, one.data, missed1) == ("s1", {"n": 1}, [])
        assert (two.sid, two.data, missed2) == ("s2", {"n": 2}, [["to2", offset(1)]])


class TestMaxPackets:
    def test_oldestDropped(self):
        store = makeStore(maxPackets=3)
        storeMany(store, 10)
        assert [p[0] for p in store._packets] == [7, 8, 9]

    def test_missedTooMuch(self):
        """
        A client whose next packet was dropped is not recovered: it would
        miss it silently.
        """
        store = makeStore(maxPackets=3)
        store.store(["seen"], EMPTY, EMPTY)
        store.persist("pid", "sid", {"sid"}, {}, 0.0)
        storeMany(store, 4)  # offsets 1..4; 1 is dropped
        assert store.restore("pid", offset(0), 1.0) is None

    def test_missedJustEnough(self):
        store = makeStore(maxPackets=3)
        store.store(["seen"], EMPTY, EMPTY)
        store.persist("pid", "sid", {"sid"}, {}, 0.0)
        storeMany(store, 3)  # offsets 1..3, all kept
        _, missed = store.restore("pid", offset(0), 1.0)
        assert [m[-1] for m in missed] == [offset(1), offset(2), offset(3)]

    def test_offsetOfDroppedPacketWithNothingMissed(self):
        """
        The offset of a packet no longer kept is fine when everything after
        it still is.
        """
        store = makeStore(maxPackets=2)
        storeMany(store, 3)  # 0 dropped, 1 and 2 kept
        store.persist("pid", "sid", {"sid"}, {}, 0.0)
        assert store.restore("pid", offset(0), 1.0)[1] == [["e1", offset(1)], ["e2", offset(2)]]


class TestCleanup:
    def setup_method(self):
        self.store = makeStore(maxDisconnectionDuration=100.0)

    def test_expiredSessionsForgotten(self):
        self.store.persist("old", "s1", {"s1"}, {}, 0.0)
        self.store.persist("new", "s2", {"s2"}, {}, 50.0)
        self.store.cleanup(100.0)
        assert set(self.store.sessions) == {"old", "new"}, "exactly the duration is not expired"
        self.store.cleanup(100.5)
        assert set(self.store.sessions) == {"new"}
        self.store.cleanup(151.0)
        assert self.store.sessions == {}

    def test_packetsAgeByMarks(self):
        """
        A cleanup marks which offsets existed then; once a mark is older than
        the duration, the packets before it are forgotten.
        """
        storeMany(self.store, 2)  # 0, 1 before the first mark
        self.store.cleanup(0.0)
        storeMany(self.store, 2)  # 2, 3
        self.store.cleanup(60.0)
        storeMany(self.store, 1)  # 4
        self.store.cleanup(100.0)
        assert [p[0] for p in self.store._packets] == [0, 1, 2, 3, 4], "no mark older than 100 s yet"
        self.store.cleanup(100.5)
        assert [p[0] for p in self.store._packets] == [2, 3, 4]
        self.store.cleanup(160.5)
        assert [p[0] for p in self.store._packets] == [4]
        self.store.cleanup(10_000.0)
        assert list(self.store._packets) == []

    def test_marksBounded(self):
        """
        Cleanups every second for a long time keep about a duration's worth
        of marks, not all of them.
        """
        for now in range(5000):
            self.store.cleanup(float(now))
        assert len(self.store._marks) <= 102

    def test_cleanupKeepsRecentPacketsForRestore(self):
        """
        The packet of the client's offset may be forgotten: what matters is
        that everything after it is still kept.
        """
        self.store.store(["seen"], EMPTY, EMPTY)
        self.store.cleanup(0.0)
        self.store.persist("pid", "sid", {"sid"}, {}, 30.0)
        self.store.store(["missed"], EMPTY, EMPTY)
        self.store.cleanup(50.0)
        self.store.cleanup(101.0)  # forgets "seen" only
        _, missed = self.store.restore("pid", offset(0), 101.0)
        assert missed == [["missed", offset(1)]]


def test_recoverableReasons():
    """
    socket.io 4.6's list: the transport failed or the server went away,
    not a deliberate disconnect.
    """
    assert RECOVERABLE_REASONS == {
        "transport error",
        "transport close",
        "forced close",
        "ping timeout",
        "server shutting down",
        "forced server close",
    }
    for deliberate in ("client namespace disconnect", "server namespace disconnect", "parse error"):
        assert deliberate not in RECOVERABLE_REASONS


def test_noClockNoTwisted():
    source = inspect.getsource(_recovery)
    assert "import time" not in source and "from time" not in source
    assert "twisted" not in source
