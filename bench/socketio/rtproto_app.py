"""
The socket.io bench application on rtproto (see C{bench/socketio/README.md}
for the specification every server follows), mounted with
C{--namespace /=bench.socketio.rtproto_app.BenchNamespace}.
"""

from rtproto.socketio import NamespaceHandler

ROOM = "bench"


class BenchNamespace(NamespaceHandler):
    """
    C{join-bench}, C{fanout} and C{echo-ack}.
    """

    def eventReceived(self, event, args):
        """
        The three events (their names are not identifiers).
        """
        if event == "echo-ack":
            return args[0] if args else None
        if event == "fanout":
            self.socket.namespace.to(ROOM).emit("msg", args[0] if args else None)
            return None
        if event == "join-bench":
            self.socket.join(ROOM)
        return None
