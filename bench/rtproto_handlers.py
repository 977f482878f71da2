"""
rtproto handlers used by the benchmark (C{bench/run.py}).

C{BroadcastHandler} is mounted with
C{--ws /broadcast=bench.rtproto_handlers.BroadcastHandler} (the repository
root on C{PYTHONPATH}).  It is written the way an application would write a
fan-out: every message received from any client is encoded once as a
L{PreparedMessage} and sent to every open connection, the sender included.
"""

from rtproto.websocket import PreparedMessage, WebSocketHandler


class BroadcastHandler(WebSocketHandler):
    """
    Send every message received to all open connections.

    A handler is created per connection, so the set of open connections is
    kept on the class.
    """

    connections = set()

    def connectionOpened(self, connection):
        """
        Remember the connection and join the broadcast set.
        """
        super().connectionOpened(connection)
        self.connections.add(connection)

    def textReceived(self, text):
        """
        Broadcast a text message.
        """
        self.broadcast(PreparedMessage(text))

    def binaryReceived(self, data):
        """
        Broadcast a binary message.
        """
        self.broadcast(PreparedMessage(data, isBinary=True))

    def broadcast(self, prepared):
        """
        Send C{prepared} to every open connection.  A copy of the set is
        iterated: a send that fails may close a connection, and so remove
        it from the set, during the loop.
        """
        for connection in tuple(self.connections):
            connection.sendPrepared(prepared)

    def connectionClosed(self, code, reason, wasClean):
        """
        Leave the broadcast set.
        """
        self.connections.discard(self.connection)
