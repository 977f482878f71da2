"""
Rooms and broadcasts of one namespace, in memory: L{MemoryAdapter}, the
default L{rtproto.interfaces.IAdapter}.

A broadcast is encoded once into a L{Prepared} message, which every
recipient is handed as it is; the glue keeps what it derives from it (the
engine.io packet, the WebSocket frame) in the L{Prepared} too, so that the
same bytes go to every client on the same kind of transport.

Recipients are the namespace's sockets: the adapter reads their C{sid} and
calls their C{deliver(prepared, volatile)} and C{expectAck(ackId,
callback)}.
"""

from dataclasses import dataclass

from zope.interface import implementer

from rtproto.interfaces import IAdapter
from rtproto.socketio._packets import EVENT, Packet, encodePacket
from rtproto.socketio._recovery import RecoveryStore

_EMPTY: frozenset = frozenset()


@dataclass(frozen=True, slots=True)
class BroadcastOptions:
    """
    Which sockets a broadcast goes to, and how.

    @ivar rooms: the rooms it goes to (every socket when empty).
    @ivar exceptRooms: sockets in any of these rooms are left out (a
        socket's own id leaves that socket out).
    @ivar volatile: drop it for a client that cannot take it at once,
        rather than buffer it.
    @ivar local: this process only (matters to multi-process adapters).
    """

    rooms: frozenset = _EMPTY
    exceptRooms: frozenset = _EMPTY
    volatile: bool = False
    local: bool = False


class Prepared:
    """
    An encoded packet as its engine.io messages (a L{str}, then the binary
    attachments), each with a cache for what the transports derive from it
    (see L{rtproto.interfaces.IEngineIOSocket.sendShared}).
    """

    __slots__ = ("messages", "caches")

    def __init__(self, messages: list) -> None:
        self.messages = messages
        self.caches = [{} for _ in messages]


def prepare(packet: Packet, protocol: int = 5) -> Prepared:
    """
    Encode C{packet} once for any number of recipients.
    """
    return Prepared(encodePacket(packet, protocol))


@implementer(IAdapter)
class MemoryAdapter:
    """
    Rooms in two dicts (room to socket ids, socket id to rooms) and
    broadcasts written straight to the namespace's sockets.

    @ivar rooms: room name to the L{set} of socket ids in it.
    @ivar sids: socket id to the L{set} of its rooms.
    @ivar recovery: the L{RecoveryStore} when connection state recovery is
        on, else L{None}.
    """

    def __init__(self, namespace, recovery: "RecoveryStore | None" = None) -> None:
        """
        @param namespace: has C{sockets}, a mapping of socket id to a
            recipient (C{deliver}, C{expectAck}).
        """
        self.namespace = namespace
        self.rooms: "dict[str, set]" = {}
        self.sids: "dict[str, set]" = {}
        self.recovery = recovery

    # -- rooms ---------------------------------------------------------------

    def addAll(self, sid: str, rooms) -> None:
        """
        Put socket C{sid} in every room of C{rooms}.
        """
        mine = self.sids.get(sid)
        if mine is None:
            mine = self.sids[sid] = set()
        for room in rooms:
            if room in mine:
                continue
            mine.add(room)
            members = self.rooms.get(room)
            if members is None:
                self.rooms[room] = {sid}
            else:
                members.add(sid)

    def delete(self, sid: str, room: str) -> None:
        """
        Take socket C{sid} out of C{room}; an empty room is forgotten.
        """
        mine = self.sids.get(sid)
        if mine is not None:
            mine.discard(room)
        members = self.rooms.get(room)
        if members is not None:
            members.discard(sid)
            if not members:
                del self.rooms[room]

    def deleteAll(self, sid: str) -> None:
        """
        Take socket C{sid} out of every room, and forget it.
        """
        mine = self.sids.pop(sid, None)
        if not mine:
            return
        for room in mine:
            members = self.rooms.get(room)
            if members is not None:
                members.discard(sid)
                if not members:
                    del self.rooms[room]

    def socketRooms(self, sid: str) -> frozenset:
        """
        The rooms socket C{sid} is in.
        """
        return frozenset(self.sids.get(sid, _EMPTY))

    def sockets(self, rooms=()) -> set:
        """
        The ids of the sockets in any of C{rooms} (every socket when empty).
        """
        if not rooms:
            return set(self.sids)
        found: set = set()
        for room in rooms:
            found |= self.rooms.get(room, _EMPTY)
        return found

    def _recipients(self, options: BroadcastOptions):
        rooms = options.rooms
        if not rooms:
            sids = self.sids.keys()
        elif len(rooms) == 1:
            (room,) = rooms
            sids = self.rooms.get(room, _EMPTY)
        else:
            sids = set()
            for room in rooms:
                sids |= self.rooms.get(room, _EMPTY)
        excluded = options.exceptRooms
        if excluded:
            out: set = set()
            for room in excluded:
                out |= self.rooms.get(room, _EMPTY)
            return [sid for sid in sids if sid not in out]
        # A copy: delivering may close a socket, which leaves its rooms.
        return list(sids)

    # -- broadcasts ----------------------------------------------------------

    def broadcast(self, packet: Packet, options: BroadcastOptions) -> None:
        """
        Send C{packet} to every socket C{options} chooses, encoded once.
        With recovery on, an event asking for no acknowledgement and not
        volatile is kept, with its offset appended (for every client, as
        the Node server does).
        """
        recovery = self.recovery
        volatile = options.volatile
        sockets = self.namespace.sockets
        if recovery is None or packet.type != EVENT or packet.id is not None or volatile:
            prepared = prepare(packet)
            for sid in self._recipients(options):
                socket = sockets.get(sid)
                if socket is not None:
                    socket.deliver(prepared, volatile)
            return
        n, data = recovery.assign(packet.data)
        prepared = prepare(Packet(EVENT, packet.namespace, data))
        # Kept only once it could be encoded.
        recovery.keep(n, options.rooms, options.exceptRooms, data)
        for sid in self._recipients(options):
            socket = sockets.get(sid)
            if socket is not None:
                socket.deliver(prepared, volatile)

    def broadcastWithAck(self, packet: Packet, options: BroadcastOptions, clientCount, ack) -> None:
        """
        Send C{packet} (with its ack id) like L{broadcast}, expecting an
        answer from each recipient: C{clientCount(n)} first, then
        C{ack(sid, args)} per answer.
        """
        prepared = prepare(packet)
        sockets = self.namespace.sockets
        recipients = [sockets[sid] for sid in self._recipients(options) if sid in sockets]
        clientCount(len(recipients))
        ackId = packet.id
        volatile = options.volatile
        for socket in recipients:
            socket.expectAck(ackId, _answer(ack, socket.sid))
            socket.deliver(prepared, volatile)

    # -- connection state recovery -------------------------------------------

    def persistSession(self, session: dict, now: float) -> None:
        """
        Keep a disconnected socket's C{pid}, C{sid}, C{rooms} and C{data}.
        """
        if self.recovery is not None:
            self.recovery.persist(session["pid"], session["sid"], session["rooms"], session["data"], now)

    def restoreSession(self, pid: str, offset: str, now: float):
        """
        The session kept under C{pid} as a L{dict} (C{sid}, C{rooms},
        C{data}, C{missed}: the arguments of every packet missed since
        C{offset}), or L{None}.
        """
        if self.recovery is None:
            return None
        found = self.recovery.restore(pid, offset, now)
        if found is None:
            return None
        session, missed = found
        return {"sid": session.sid, "pid": pid, "rooms": session.rooms, "data": session.data, "missed": missed}


def _answer(ack, sid: str):
    return lambda args: ack(sid, args)
