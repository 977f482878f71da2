"""
L{BroadcastOperator}: who a socket.io broadcast goes to (rooms, rooms left
out, volatile, local, an acknowledgement timeout), and sending it through
the namespace's adapter.
"""

from twisted.internet.defer import Deferred

from rtproto.errors import AckTimeout
from rtproto.socketio import EVENT, Packet
from rtproto.socketio._adapter import BroadcastOptions
from rtproto.tx._siosocket import ackResult, checkEvent


class BroadcastOperator:
    """
    Who a broadcast goes to and how; each method returns a new operator.
    """

    __slots__ = ("namespace", "options", "_timeout")

    def __init__(self, namespace, options: BroadcastOptions = BroadcastOptions(), timeout=None) -> None:
        self.namespace = namespace
        self.options = options
        self._timeout = timeout

    def _with(self, **changes) -> "BroadcastOperator":
        o = self.options
        fields = {"rooms": o.rooms, "exceptRooms": o.exceptRooms, "volatile": o.volatile, "local": o.local}
        fields.update(changes)
        return BroadcastOperator(self.namespace, BroadcastOptions(**fields), self._timeout)

    def to(self, *rooms: str) -> "BroadcastOperator":
        """
        Also to the sockets in C{rooms}.
        """
        return self._with(rooms=self.options.rooms | frozenset(rooms))

    in_ = to

    def except_(self, *rooms: str) -> "BroadcastOperator":
        """
        Leave out the sockets in C{rooms} (a socket id leaves that socket out).
        """
        return self._with(exceptRooms=self.options.exceptRooms | frozenset(rooms))

    @property
    def volatile(self) -> "BroadcastOperator":
        """
        Drop it for clients that cannot take it at once.
        """
        return self._with(volatile=True)

    @property
    def local(self) -> "BroadcastOperator":
        """
        To this process's sockets only.
        """
        return self._with(local=True)

    def timeout(self, seconds: float) -> "BroadcastOperator":
        """
        How long L{emitWithAck} waits for every answer.
        """
        return BroadcastOperator(self.namespace, self.options, seconds)

    def emit(self, event: str, *args) -> None:
        """
        Send C{event} with C{args} to the chosen sockets, encoded once.
        """
        checkEvent(event)
        self.namespace.adapter.broadcast(Packet(EVENT, self.namespace.name, [event, *args]), self.options)

    def emitWithAck(self, event: str, *args) -> Deferred:
        """
        Send C{event} asking each recipient for an acknowledgement.

        @return: a L{Deferred} firing with the list of answers (each as
            C{emitWithAck} on a socket gives it), or failing with
            L{AckTimeout} (its C{responses} are the answers that came).
        """
        checkEvent(event)
        namespace = self.namespace
        server = namespace.server
        ackId = namespace.nextAckId()
        d = Deferred()
        responses: list = []
        expected = []
        timer = None
        delay = server.options.ackTimeout if self._timeout is None else self._timeout

        def finish(result):
            if timer is not None and timer.active():
                timer.cancel()
            for socket in list(namespace.sockets.values()):
                socket.cancelAck(ackId)
            if isinstance(result, AckTimeout):
                d.errback(result)
            else:
                d.callback(result)

        def clientCount(n):
            expected.append(n)
            if n == 0 and not d.called:
                finish([])

        def ack(sid, args):
            responses.append(ackResult(args))
            if expected and len(responses) == expected[0] and not d.called:
                finish(list(responses))

        def timedOut():
            if not d.called:
                finish(AckTimeout(responses=responses))

        packet = Packet(EVENT, namespace.name, [event, *args], ackId)
        namespace.adapter.broadcastWithAck(packet, self.options, clientCount, ack)
        if not d.called:
            # Only once it went out: a packet that cannot be encoded raises
            # above, with nothing left waiting.
            timer = server.reactor.callLater(delay, timedOut)
        return d

    def sockets(self) -> list:
        """
        The chosen sockets of this process.
        """
        namespace = self.namespace
        found = namespace.adapter.sockets(self.options.rooms)
        if self.options.exceptRooms:
            found -= namespace.adapter.sockets(self.options.exceptRooms)
        return [namespace.sockets[sid] for sid in found if sid in namespace.sockets]

    def socketsJoin(self, *rooms: str) -> None:
        """
        Make the chosen sockets join C{rooms}.
        """
        for socket in self.sockets():
            socket.join(*rooms)

    def socketsLeave(self, room: str) -> None:
        """
        Make the chosen sockets leave C{room}.
        """
        for socket in self.sockets():
            socket.leave(room)

    def disconnectSockets(self, close: bool = False) -> None:
        """
        Disconnect the chosen sockets (C{close}: their whole connections).
        """
        for socket in self.sockets():
            socket.disconnect(close)
