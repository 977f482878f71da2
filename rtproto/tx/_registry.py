"""
The open WebSocket connections of a site, so that a stopping service can
close them all with 1001 ("going away") and wait, within a bound, for
them to finish.
"""

from twisted.internet.defer import Deferred, succeed

from rtproto.websocket import CLOSE_GOING_AWAY


class ConnectionRegistry:
    """
    A set of live connections, each added when it opens and removed when it
    is lost.

    @ivar app: the site's L{rtproto.tx.app.App} (its connections' C{app}),
        or L{None}.
    """

    app = None

    def __init__(self) -> None:
        self._connections: set = set()
        self._drained: "list[Deferred]" = []

    def __len__(self) -> int:
        return len(self._connections)

    def __iter__(self):
        return iter(list(self._connections))

    def add(self, connection) -> None:
        """
        A connection opened.
        """
        self._connections.add(connection)

    def remove(self, connection) -> None:
        """
        A connection was lost.
        """
        self._connections.discard(connection)
        if not self._connections and self._drained:
            waiting, self._drained = self._drained, []
            for d in waiting:
                d.callback(None)

    def closeAll(self, reactor, timeout: float, code: int = CLOSE_GOING_AWAY, reason: str = "server shutting down") -> Deferred:
        """
        Start the closing handshake on every connection.

        @return: a L{Deferred} that fires when all are gone; connections
            still open after C{timeout} seconds are aborted.
        """
        if not self._connections:
            return succeed(None)
        d: Deferred = Deferred()
        self._drained.append(d)
        for connection in list(self._connections):
            connection.close(code, reason)

        def abortStragglers():
            for connection in list(self._connections):
                connection.abort()

        timer = reactor.callLater(timeout, abortStragglers)

        def done(result):
            if timer.active():
                timer.cancel()
            return result

        return d.addBoth(done)
