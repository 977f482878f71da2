"""
Event ids with their epoch (L{rtproto.sse.EventIds}) and the bounded history
of a mount (L{rtproto.sse.History}) that C{Last-Event-ID} replay reads: the
bounds by count and by bytes, exact boundaries (nothing lost, nothing
twice), L{None} exactly when something the client missed is gone, channels,
ids from another run, the application's own ids, and sizes large enough to
show any quadratic behaviour.
"""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtproto.errors import UsageError
from rtproto.sse import EventIds, History, encodeEvent


def tokens(prefix="ep"):
    n = iter(range(10_000))
    return lambda: f"{prefix}{next(n)}"


def publish(history, ids, channel, data="x", eventId=None):
    """
    Publish like the glue: a sequence number, the id (ours unless given),
    the encoded event, kept in C{history}; return C{(seq, id, encoded)}.
    """
    seq, ourId = ids.next()
    eventId = ourId if eventId is None else eventId
    encoded = encodeEvent(data, id=eventId)
    history.append(seq, channel, eventId, encoded)
    return seq, eventId, encoded


class TestEventIds:
    def test_sequence(self):
        ids = EventIds("ep")
        assert ids.seq == 0
        assert ids.next() == (1, "ep-1")
        assert ids.next() == (2, "ep-2")
        assert ids.seq == 2
        assert ids.format(7) == "ep-7"

    def test_parse(self):
        ids = EventIds("ep")
        for _ in range(12):
            ids.next()
        assert ids.parse("ep-1") == 1
        assert ids.parse("ep-12") == 12

    @pytest.mark.parametrize(
        "bad",
        [
            "",
            "ep",
            "ep-",
            "ep-0",
            "ep-01",
            "ep--1",
            "ep-+1",
            "ep- 1",
            "ep-1 ",
            "ep-1.0",
            "ep-1e1",
            "ep-\u0661",  # Arabic-Indic one: isdigit() but not ASCII
            "ep-\xb2",  # superscript two: isdigit() too
            "EP-1",
            "xep-1",
            "ep-1-1",
            "1",
            None,
            1,
            b"ep-1",
        ],
    )
    def test_parseMalformed(self, bad):
        ids = EventIds("ep")
        for _ in range(12):
            ids.next()
        assert ids.parse(bad) is None

    def test_notCheckedAgainstTheCounter(self):
        """
        Any well-formed number of this epoch parses, given yet or not (the
        glue may count for itself and use L{EventIds.format}); comparing it
        with the last one published is the caller's job.
        """
        ids = EventIds("ep")
        assert ids.parse("ep-3") == 3
        assert ids.parse("ep-" + "9" * 20) == 10**20 - 1

    @pytest.mark.parametrize("digits", [21, 5000, 100_000])
    def test_hugeNumber(self, digits):
        """
        No huge int is built (nor L{ValueError} from Python's limit on
        digits).
        """
        ids = EventIds("ep")
        assert ids.parse("ep-" + "9" * digits) is None

    def test_otherEpoch(self):
        """
        An id from before a restart (another epoch) is unknown, not misread
        as this run's number.
        """
        before = EventIds(token=tokens("old"))
        after = EventIds(token=tokens("new"))
        for _ in range(5):
            before.next()
            after.next()
        assert after.parse(before.format(3)) is None
        assert before.parse(after.format(3)) is None

    def test_epochWithDashes(self):
        ids = EventIds("a-b")
        ids.next()
        assert ids.next() == (2, "a-b-2")
        assert ids.parse("a-b-2") == 2
        assert ids.parse("b-2") is None
        assert EventIds("a").parse("a-b-2") is None

    def test_tokenInjected(self):
        assert EventIds(token=lambda: "fixed").next() == (1, "fixed-1")

    def test_defaultEpochIsShortRandomAndUrlSafe(self):
        epochs = {EventIds().epoch for _ in range(50)}
        assert len(epochs) == 50
        for epoch in epochs:
            assert re.fullmatch(r"[A-Za-z0-9_-]{4,16}", epoch), epoch

    def test_idsAreValidFields(self):
        ids = EventIds()
        _, eventId = ids.next()
        assert encodeEvent("d", id=eventId).startswith(b"id: " + eventId.encode() + b"\n")

    @pytest.mark.parametrize("bad", ["", "a\nb", "a\rb", "a\0b", 5, b"ep"])
    def test_badEpoch(self, bad):
        with pytest.raises(UsageError, match="epoch"):
            EventIds(bad)


class TestBounds:
    def test_count(self):
        history = History(maxEvents=3)
        ids = EventIds("ep")
        for _ in range(10):
            publish(history, ids, "c")
        assert len(history) == 3
        assert history.after(7, {"c"}) == [encodeEvent("x", id=f"ep-{n}") for n in (8, 9, 10)]
        assert history.lastSeq == 10

    def test_bytes(self):
        history = History(maxEvents=100, maxBytes=100)
        ids = EventIds("ep")
        sizes = []
        for _ in range(10):
            sizes.append(len(publish(history, ids, "c", "y" * 20, eventId="same-size")[2]))
        assert all(size == sizes[0] for size in sizes)
        kept = 100 // sizes[0]
        assert len(history) == kept
        assert history.size == kept * sizes[0] <= 100
        assert history.after(10 - kept, {"c"}) is not None
        assert history.after(10 - kept - 1, {"c"}) is None

    def test_bytesExactlyAtTheBound(self):
        history = History(maxBytes=10)
        history.append(1, "c", "1", b"x" * 4)
        history.append(2, "c", "2", b"x" * 6)
        assert len(history) == 2 and history.size == 10
        history.append(3, "c", "3", b"x")
        assert len(history) == 2 and history.size == 7

    def test_eventBiggerThanTheBound(self):
        """
        An event bigger than C{maxBytes} is not kept (nor anything older);
        a client that missed it is told so.
        """
        history = History(maxBytes=10)
        history.append(1, "c", "1", b"x" * 5)
        history.append(2, "c", "2", b"x" * 11)
        assert len(history) == 0 and history.size == 0
        assert history.after(2, {"c"}) == []
        assert history.after(1, {"c"}) is None
        assert history.lookup("2") is None
        history.append(3, "c", "3", b"x" * 3)
        assert history.after(2, {"c"}) == [b"xxx"]

    def test_zeroKeepsNothing(self):
        history = History(maxEvents=0)
        history.append(1, "c", "1", b"a")
        assert len(history) == 0
        assert history.after(1, {"c"}) == []
        assert history.after(0, {"c"}) is None

    def test_defaults(self):
        history = History()
        assert (history.maxEvents, history.maxBytes) == (1000, 1 << 20)

    @pytest.mark.parametrize("kw", [{"maxEvents": -1}, {"maxBytes": -1}, {"maxEvents": 1.5}, {"maxBytes": True}])
    def test_badBounds(self, kw):
        with pytest.raises(UsageError):
            History(**kw)

    @pytest.mark.parametrize("seq", [3, 2, 0, -1])
    def test_sequenceMustIncrease(self, seq):
        history = History()
        history.append(3, "c", "3", b"")
        with pytest.raises(UsageError, match="increase"):
            history.append(seq, "c", "x", b"")
        assert len(history) == 1

    def test_gapsInSequenceNumbers(self):
        history = History()
        for seq in (2, 5, 9):
            history.append(seq, "c", str(seq), str(seq).encode())
        assert history.after(0, {"c"}) == [b"2", b"5", b"9"]
        assert history.after(4, {"c"}) == [b"5", b"9"]
        assert history.after(5, {"c"}) == [b"9"]
        assert history.after(9, {"c"}) == []
        assert history.after(100, {"c"}) == []


class TestAfter:
    def setup_method(self):
        self.history = History(maxEvents=5)
        self.ids = EventIds("ep")
        self.encoded = {}
        for _ in range(8):
            seq, _, encoded = publish(self.history, self.ids, "c", "data")
            self.encoded[seq] = encoded  # 1..3 evicted, 4..8 kept

    def expected(self, *seqs):
        return [self.encoded[s] for s in seqs]

    def test_latest(self):
        assert self.history.after(8, {"c"}) == []

    def test_exactBoundary(self):
        for seq in range(4, 8):
            assert self.history.after(seq, {"c"}) == self.expected(*range(seq + 1, 9))

    def test_lastEvictedIsEnough(self):
        """
        The client got event 3 (no longer kept): it missed 4..8, all kept.
        """
        assert self.history.after(3, {"c"}) == self.expected(4, 5, 6, 7, 8)

    def test_missedAnEvictedOne(self):
        assert self.history.after(2, {"c"}) is None
        assert self.history.after(0, {"c"}) is None

    def test_nothingTwiceNothingLost(self):
        """
        Replay, then the live events: every event after the client's, once.
        """
        for seq in range(3, 9):
            self.setup_method()
            replayed = self.history.after(seq, {"c"})
            live = []
            for _ in range(3):
                newSeq, _, encoded = publish(self.history, self.ids, "c", "live")
                self.encoded[newSeq] = encoded
                live.append(encoded)
            assert replayed + live == self.expected(*range(seq + 1, 12)), seq

    def test_channelsAsStrRefused(self):
        with pytest.raises(UsageError, match="set of channels"):
            self.history.after(4, "c")

    def test_noChannels(self):
        assert self.history.after(4, set()) == []


class TestChannels:
    def setup_method(self):
        self.history = History()
        self.ids = EventIds("ep")
        for channel in "abcabcab":
            publish(self.history, self.ids, channel, channel)

    def data(self, encoded):
        return [e.split(b"data: ")[1][:1].decode() for e in encoded]

    def test_oneChannel(self):
        assert self.data(self.history.after(0, {"a"})) == ["a", "a", "a"]
        assert self.data(self.history.after(4, {"a"})) == ["a"]

    def test_severalInOrder(self):
        assert self.data(self.history.after(0, {"a", "c"})) == ["a", "c", "a", "c", "a"]
        assert self.data(self.history.after(0, frozenset({"b", "c"}))) == ["b", "c", "b", "c", "b"]
        assert self.data(self.history.after(0, ["c", "b"])) == ["b", "c", "b", "c", "b"]

    def test_unknownChannel(self):
        assert self.history.after(0, {"z"}) == []

    def test_busyChannelDoesNotSpoilAQuietOne(self):
        """
        Events evicted from another channel are not something this client
        missed: it still resumes.
        """
        history = History(maxEvents=3)
        ids = EventIds("ep")
        quiet, _, _ = publish(history, ids, "quiet")
        later, _, _ = publish(history, ids, "quiet")
        for _ in range(10):
            publish(history, ids, "busy")
        # both "quiet" events are evicted by now
        assert history.after(later, {"quiet"}) == []
        assert history.after(quiet, {"quiet"}) is None
        assert history.after(later, {"quiet", "busy"}) is None
        assert history.after(ids.seq - 3, {"quiet", "busy"}) is not None
        _, _, lastEvent = publish(history, ids, "quiet")
        assert history.after(later, {"quiet"}) == [lastEvent]

    def test_manyChannelsMergedIntoTheFloor(self):
        """
        Past C{maxTracked} channels, the least recently evicted are merged
        into one floor: possibly a "missed" too many, never a silent gap.
        """
        history = History(maxEvents=1)
        history.maxTracked = 2
        ids = EventIds("ep")
        for channel in ("c1", "c2", "c3", "c4", "c5"):
            publish(history, ids, channel)
        # evicted: c1 (1), c2 (2), c3 (3), c4 (4); tracked: c3, c4
        assert len(history._evicted) == 2
        assert history.after(1, {"c2"}) is None  # exact: c2's 2 is gone
        assert history.after(2, {"c2"}) == []  # nothing of c2 after 2
        assert history.after(1, {"c1"}) is None  # conservative (floor 2)
        assert history.after(3, {"c3"}) == []
        assert history.after(2, {"c3"}) is None
        assert history.after(4, {"c5"}) == [encodeEvent("x", id="ep-5")]


class TestLookup:
    def test_appIds(self):
        """
        An application's own id resolves to its sequence number, so a client
        sending it back resumes exactly.
        """
        history = History(maxEvents=3)
        ids = EventIds("ep")
        published = [publish(history, ids, "c", f"d{n}", eventId=f"order-{n}") for n in range(5)]
        assert history.lookup("order-0") is None  # evicted
        assert history.lookup("order-1") is None
        seq = history.lookup("order-2")
        assert seq == published[2][0]
        assert history.after(seq, {"c"}) == [published[3][2], published[4][2]]
        assert history.lookup("order-4") == ids.seq
        assert history.lookup("nope") is None

    def test_ourIdsToo(self):
        history = History()
        ids = EventIds("ep")
        seq, eventId, _ = publish(history, ids, "c")
        assert history.lookup(eventId) == seq == ids.parse(eventId)

    def test_reusedIdMeansItsLatestUse(self):
        history = History(maxEvents=3)
        history.append(1, "c", "same", b"1")
        history.append(2, "c", "other", b"2")
        history.append(3, "c", "same", b"3")
        assert history.lookup("same") == 3
        history.append(4, "c", "x", b"4")  # evicts 1, the older "same"
        assert history.lookup("same") == 3
        history.append(5, "c", "y", b"5")
        history.append(6, "c", "z", b"6")  # evicts 3
        assert history.lookup("same") is None

    def test_mapShrinksWithTheHistory(self):
        history = History(maxEvents=10)
        ids = EventIds("ep")
        for n in range(5000):
            publish(history, ids, "c", eventId=f"app-{n}")
        assert len(history._ids) == 10


class TestRestart:
    def test_idFromBeforeARestartIsUnknown(self):
        """
        After a restart the history is empty and the numbers start again;
        an old id must not be read as one of the new numbers.
        """
        before, history = EventIds(token=tokens("run1-")), History()
        for _ in range(5):
            publish(history, before, "c")
        oldId = before.format(2)
        after, history = EventIds(token=tokens("run2-")), History()
        for _ in range(5):
            publish(history, after, "c")
        assert after.parse(oldId) is None
        assert history.lookup(oldId) is None


class TestModel:
    """
    The history against the simplest model: every event ever published,
    the kept ones being the longest suffix within both bounds.
    """

    @settings(max_examples=300, deadline=None)
    @given(
        maxEvents=st.integers(0, 8),
        maxBytes=st.integers(0, 60),
        events=st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 15)), max_size=40),
        queries=st.lists(st.tuples(st.integers(0, 45), st.sets(st.sampled_from("abcd"))), max_size=20),
    )
    def test_matchesTheModel(self, maxEvents, maxBytes, events, queries):
        history = History(maxEvents=maxEvents, maxBytes=maxBytes)
        everything = []
        for seq, (channel, size) in enumerate(events, 1):
            encoded = b"%d" % seq + b"." * size
            history.append(seq, channel, f"id{seq}", encoded)
            everything.append((seq, channel, encoded))
        kept, total = [], 0
        for event in reversed(everything):
            if len(kept) + 1 > maxEvents or total + len(event[2]) > maxBytes:
                break
            kept.insert(0, event)
            total += len(event[2])
        keptSeqs = {e[0] for e in kept}
        assert len(history) == len(kept) and history.size == total
        for seq, channels in queries:
            missed = [e for e in everything if e[0] > seq and e[1] in channels]
            expected = None if any(e[0] not in keptSeqs for e in missed) else [e[2] for e in missed]
            assert history.after(seq, channels) == expected, (seq, channels)
        for seq, _, _ in everything:
            assert history.lookup(f"id{seq}") == (seq if seq in keptSeqs else None)


class TestLargeHistories:
    """
    Long runs stay correct and bounded in memory (speed is measured by the
    benchmarks, never asserted in tests).
    """

    def test_manyAppendsSmallHistory(self):
        history = History(maxEvents=1000)
        encoded = encodeEvent("x" * 50, id="ep-1")
        for seq in range(1, 100_001):
            history.append(seq, "c" if seq % 3 else "d", f"ep-{seq}", encoded)
        assert len(history) == 1000
        assert len(history._seqs) < 2100, "evicted slots are cut off"

    def test_manyAppendsBigHistory(self):
        history = History(maxEvents=100_000, maxBytes=1 << 30)
        for seq in range(1, 100_001):
            history.append(seq, str(seq % 10), f"ep-{seq}", b"event")
        for seq in range(99_000, 100_001, 10):
            expected = sum(1 for s in range(seq + 1, 100_001) if s % 10 == 1)
            assert len(history.after(seq, {"1"})) == expected
            assert history.lookup(f"ep-{seq}") == seq
        assert len(history) == 100_000

    def test_afterCostsWhatItReturns(self):
        """
        Asking for the last few events of a long history gives just them.
        """
        history = History(maxEvents=100_000, maxBytes=1 << 30)
        for seq in range(1, 100_001):
            history.append(seq, "c", str(seq), b"e")
        for _ in range(10_000):
            assert history.after(99_998, {"c"}) == [b"e", b"e"]

    def test_manyEvictionsByBytes(self):
        history = History(maxEvents=1_000_000, maxBytes=10_000)
        for seq in range(1, 100_001):
            history.append(seq, "c", str(seq), b"x" * (seq % 200))
        assert history.size <= 10_000
