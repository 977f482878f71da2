"""
Connection state recovery, as socket.io 4.6 does it, without a clock or I/O.

While recovery is on, every broadcast event packet that asks for no
acknowledgement and is not volatile gets an I{offset} (a string) appended to
its arguments and is kept here for C{maxDisconnectionDuration} seconds.  A
socket that disconnects for a recoverable reason (the transport failed, not
a deliberate disconnect) is kept too, under a private id (C{pid}) that only
its client knows.  A client reconnecting in time sends the C{pid} and the
last offset it saw; L{RecoveryStore.restore} gives back the socket's id,
rooms and data, and the packets it missed since that offset that were meant
for it, in order.

Time only comes in through the C{now} arguments: L{RecoveryStore.cleanup}
is called regularly by the glue (it also marks which offsets were current
then, which is how packets age without a timestamp each).
"""

import secrets
from collections import deque

# Disconnect reasons after which a socket's state is kept.
RECOVERABLE_REASONS = frozenset(
    (
        "transport error",
        "transport close",
        "forced close",
        "ping timeout",
        "server shutting down",
        "forced server close",
    )
)


class StoredSession:
    """
    A disconnected socket's state.
    """

    __slots__ = ("pid", "sid", "rooms", "data", "disconnectedAt")

    def __init__(self, pid: str, sid: str, rooms, data, disconnectedAt: float) -> None:
        self.pid = pid
        self.sid = sid
        self.rooms = frozenset(rooms)
        self.data = data
        self.disconnectedAt = disconnectedAt


class RecoveryStore:
    """
    The packets and disconnected sessions of one namespace.

    @ivar maxDisconnectionDuration: how long (seconds) state is kept.
    @ivar maxPackets: at most this many packets are kept (the oldest go
        first); a client that missed more is not recovered, but connects
        afresh.
    """

    def __init__(self, maxDisconnectionDuration: float = 120.0, maxPackets: int = 10_000, token=None) -> None:
        self.maxDisconnectionDuration = maxDisconnectionDuration
        self.maxPackets = maxPackets
        self._token = token or (lambda: secrets.token_urlsafe(12))
        # offsets are "<prefix>-<n>" with n counting from 0 in this store
        self._prefix = self._token()[:6] + "-"
        self._next = 0
        # (n, rooms, exceptRooms, data) in offset order
        self._packets: deque = deque()
        # (time, first n at that time) from each cleanup, oldest first
        self._marks: deque = deque()
        self.sessions: "dict[str, StoredSession]" = {}

    def newPid(self) -> str:
        """
        A fresh private session id for a connecting socket.
        """
        return self._token()

    def store(self, data: list, rooms, exceptRooms) -> list:
        """
        Keep a broadcast event's arguments; return them with the offset
        appended (what every recipient gets).
        """
        n, data = self.assign(data)
        self.keep(n, rooms, exceptRooms, data)
        return data

    def assign(self, data: list) -> "tuple[int, list]":
        """
        The next offset's number and C{data} with the offset appended; the
        packet is kept only by L{keep} (once it could be encoded).
        """
        n = self._next
        self._next = n + 1
        return n, data + [self._prefix + str(n)]

    def keep(self, n: int, rooms, exceptRooms, data: list) -> None:
        """
        Keep the packet numbered C{n} (from L{assign}).
        """
        packets = self._packets
        packets.append((n, rooms, exceptRooms, data))
        if len(packets) > self.maxPackets:
            packets.popleft()

    def persist(self, pid: str, sid: str, rooms, data, now: float) -> None:
        """
        Keep a socket that disconnected at C{now}.
        """
        self.sessions[pid] = StoredSession(pid, sid, rooms, data, now)

    def restore(self, pid: str, offset: str, now: float) -> "tuple[StoredSession, list] | None":
        """
        Take back the session kept under C{pid} and the arguments of every
        packet it missed after C{offset}, in order; L{None} if there is no
        such session any more, or the offset is unknown or too old.
        """
        session = self.sessions.pop(pid, None)
        if session is None or now - session.disconnectedAt > self.maxDisconnectionDuration:
            return None
        if not isinstance(offset, str) or not offset.startswith(self._prefix):
            return None
        number = offset[len(self._prefix):]
        if not number.isdigit() or not number.isascii():
            return None
        n = int(number)
        packets = self._packets
        if n >= self._next:
            return None
        if n + 1 < self._next and (not packets or n + 1 < packets[0][0]):
            # Older than what is kept: something it missed is gone.
            return None
        rooms = session.rooms
        missed = []
        for m, targets, excluded, data in packets:
            if m <= n:
                continue
            if targets and targets.isdisjoint(rooms):
                continue
            if excluded and not excluded.isdisjoint(rooms):
                continue
            missed.append(data)
        return session, missed

    def cleanup(self, now: float) -> None:
        """
        Forget sessions and packets older than C{maxDisconnectionDuration}.
        """
        limit = now - self.maxDisconnectionDuration
        for pid in [p for p, s in self.sessions.items() if s.disconnectedAt < limit]:
            del self.sessions[pid]
        marks = self._marks
        marks.append((now, self._next))
        # Packets sent before the newest mark older than the limit are old.
        oldest = None
        while marks and marks[0][0] < limit:
            oldest = marks.popleft()[1]
        if oldest is not None:
            packets = self._packets
            while packets and packets[0][0] < oldest:
                packets.popleft()
