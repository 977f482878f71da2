"""
Event ids and the history kept for C{Last-Event-ID} replay, without a clock
or I/O.

Every event published on a mount gets a sequence number, counting from 1,
and unless the application chose its own, the id C{"<epoch>-<seq>"}
(L{EventIds}).  The epoch is a short random token drawn when the server
starts, so an id handed out before a restart is recognised as unknown
rather than misread as a number of this run.

A mount keeps one L{History} shared by all its channels, bounded by the
number of events and by their total size.  A browser that reconnects sends
the id of the last event it got; L{History.after} gives back the encoded
events it missed on its channels, in order, or L{None} when some of them
are no longer kept, so the glue can tell the client it missed events rather
than resume with a silent gap.

Randomness comes in only through the C{token} argument of L{EventIds}.
"""

import secrets
from bisect import bisect_right

from rtproto.errors import UsageError

__all__ = ["EventIds", "History"]


def _defaultToken() -> str:
    """
    A fresh epoch: 8 URL-safe characters (48 random bits).
    """
    return secrets.token_urlsafe(6)


class EventIds:
    """
    The sequence numbers and ids of one mount's events.

    @ivar epoch: this run's token, the part of every id before the last
        C{-}.
    @ivar seq: the last sequence number given by L{next} (0 before the
        first); callers that count for themselves use L{format} instead.
    """

    __slots__ = ("_prefix", "epoch", "seq")

    def __init__(self, epoch: "str | None" = None, token=None) -> None:
        """
        @param epoch: the epoch to use; by default one drawn from C{token}.
        @param token: a callable returning a random L{str}, for the default
            epoch (L{secrets.token_urlsafe} by default; tests pass their
            own).

        @raise UsageError: the epoch is empty, not a L{str}, or holds CR, LF
            or NUL (it goes into every C{id:} line).
        """
        if epoch is None:
            epoch = (token or _defaultToken)()
        if not isinstance(epoch, str) or not epoch or "\n" in epoch or "\r" in epoch or "\0" in epoch:
            raise UsageError(f"an SSE epoch must be a non-empty str without CR, LF or NUL, not {epoch!r}")
        self.epoch = epoch
        self.seq = 0
        self._prefix = epoch + "-"

    def next(self) -> "tuple[int, str]":
        """
        Give the next sequence number and its id.
        """
        seq = self.seq = self.seq + 1
        return seq, self._prefix + str(seq)

    def format(self, seq: int) -> str:
        """
        The id of sequence number C{seq}.
        """
        return self._prefix + str(seq)

    def parse(self, eventId) -> "int | None":
        """
        The sequence number in C{eventId}, if it is one of this epoch's ids:
        L{None} for another epoch (an id from before a restart), anything
        but a L{str}, or a malformed number (signs, spaces, leading zeros,
        non-ASCII digits, more than 20 digits).

        Whether that number was given yet is not checked here: the caller
        compares it with the last one it published (L{History.lastSeq}).
        """
        if not isinstance(eventId, str) or not eventId.startswith(self._prefix):
            return None
        number = eventId[len(self._prefix) :]
        if not (0 < len(number) <= 20 and number.isascii() and number.isdigit()) or number[0] == "0":
            return None
        return int(number)


class History:
    """
    The last events of one mount, shared by its channels, oldest first,
    bounded by count and by the total size of their encoded bytes (the
    oldest go first; an event bigger than C{maxBytes} is not kept at all).

    @ivar maxEvents: at most this many events are kept.
    @ivar maxBytes: at most this many bytes of encoded events are kept.
    @ivar maxTracked: how many channels' evictions are remembered one by
        one (see L{after}); past that, the least recently evicted channels
        are merged into one conservative floor.
    @ivar size: the total size of the encoded events kept.
    """

    maxTracked = 10_000

    def __init__(self, maxEvents: int = 1000, maxBytes: int = 1 << 20) -> None:
        """
        @raise UsageError: a bound is not a non-negative L{int}.
        """
        for name, value in (("maxEvents", maxEvents), ("maxBytes", maxBytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise UsageError(f"History {name} must be a non-negative int, not {value!r}")
        self.maxEvents = maxEvents
        self.maxBytes = maxBytes
        self.size = 0
        # Sequence numbers and (channel, eventId, encoded), in order; the
        # kept ones start at self._head (evicted slots are cut off in bulk).
        self._seqs: "list[int]" = []
        self._events: "list[tuple[str, str, bytes]]" = []
        self._head = 0
        self._last = 0
        # eventId -> seq, for the events kept
        self._ids: "dict[str, int]" = {}
        # channel -> seq of its newest evicted event, least recent first
        self._evicted: "dict[str, int]" = {}
        # every event evicted at or below this seq may have been on any
        # channel (the channels merged out of self._evicted)
        self._floor = 0

    def __len__(self) -> int:
        """
        How many events are kept.
        """
        return len(self._seqs) - self._head

    @property
    def lastSeq(self) -> int:
        """
        The sequence number of the last event appended (0 before any).
        """
        return self._last

    def append(self, seq: int, channel: str, eventId: str, encoded: bytes) -> None:
        """
        Keep an event, then evict the oldest ones past the bounds.

        @param seq: its sequence number, greater than any appended before.
        @param channel: the channel it was published on.
        @param eventId: its id (ours from L{EventIds}, or the
            application's), for L{lookup}.
        @param encoded: the event as written to subscribers.

        @raise UsageError: C{seq} is not greater than the last one.
        """
        if seq <= self._last:
            raise UsageError(f"History sequence numbers must increase: {seq} after {self._last}")
        self._last = seq
        self._seqs.append(seq)
        self._events.append((channel, eventId, encoded))
        self._ids[eventId] = seq
        self.size += len(encoded)
        if len(self._seqs) - self._head > self.maxEvents or self.size > self.maxBytes:
            self._evict()

    def _evict(self) -> None:
        """
        Drop the oldest events until both bounds hold.
        """
        seqs, events, ids, evicted = self._seqs, self._events, self._ids, self._evicted
        head, end = self._head, len(seqs)
        maxEvents, maxBytes = self.maxEvents, self.maxBytes
        size = self.size
        while head < end and (end - head > maxEvents or size > maxBytes):
            seq = seqs[head]
            channel, eventId, encoded = events[head]
            size -= len(encoded)
            if ids.get(eventId) == seq:
                del ids[eventId]
            # Re-insert so that the least recently evicted channel is first.
            evicted.pop(channel, None)
            evicted[channel] = seq
            head += 1
        self.size = size
        while len(evicted) > self.maxTracked:
            oldest = next(iter(evicted))
            self._floor = max(self._floor, evicted.pop(oldest))
        if head > 1024 and head * 2 > end:
            del seqs[:head]
            del events[:head]
            head = 0
        self._head = head

    def lookup(self, eventId: str) -> "int | None":
        """
        The sequence number of the kept event with id C{eventId} (its latest
        use, should the application have given the same id twice); L{None}
        if no kept event has that id.
        """
        return self._ids.get(eventId)

    def after(self, seq: int, channels) -> "list[bytes] | None":
        """
        The encoded events after C{seq} on any of C{channels}, in order; or
        L{None} if some event after C{seq} on those channels was evicted, so
        that replaying the rest would leave a silent gap.

        Only evictions on C{channels} count: a busy channel pushing out
        its own events does not spoil the resumption of a quiet one's
        subscribers.  (Past L{maxTracked} channels with evictions, the
        answer may be a conservative L{None}, never a gap.)  A C{seq}
        beyond L{lastSeq} gives C{[]}: rejecting ids never given is the
        caller's choice.

        @param seq: the sequence number of the last event the client got
            (0: it got none).
        @param channels: the client's channels (a L{set}, or anything that
            can be iterated and answers C{in}; not a lone L{str}).

        @raise UsageError: C{channels} is a L{str}.
        """
        if isinstance(channels, str):
            raise UsageError(f"History.after wants a set of channels, not the str {channels!r}")
        if seq < self._floor:
            return None
        evicted = self._evicted
        for channel in channels:
            if evicted.get(channel, 0) > seq:
                return None
        seqs, events = self._seqs, self._events
        start = bisect_right(seqs, seq, self._head)
        return [events[i][2] for i in range(start, len(seqs)) if events[i][0] in channels]
