"""
The socket.io test application on rtproto: the same application as the
reference Node server's (C{sio_server.js}, whose header comment is the
specification of both), mounted by C{--socketio-app
tests.interop.sio_app.setup --sio-recovery}.
"""

import json

from rtproto.errors import AckTimeout, ConnectRefused
from rtproto.socketio import NamespaceHandler

ACK_TIMEOUT = 5.0

# Every disconnection seen, in order: {sid, nsp, reason, rooms}.
disconnections: list = []


class CommandHandler(NamespaceHandler):
    """
    The handlers of every namespace of the test application.
    """

    def eventReceived(self, event, args):
        """
        Dispatch on the event name (they are not Python identifiers).
        """
        method = self.COMMANDS.get(event)
        if method is None:
            return None
        return method(self, *args)

    def disconnecting(self, reason):
        """
        Record the disconnection with the rooms the socket still has.
        """
        socket = self.socket
        disconnections.append(
            {"sid": socket.sid, "nsp": socket.namespace.name, "reason": reason, "rooms": sorted(socket.rooms)}
        )

    def echo(self, *args):
        self.socket.emit("echo", *args)

    def ack(self, *args):
        return tuple(args)

    def requestAck(self, event, *args):
        socket = self.socket
        d = socket.emitWithAck(event, *args, timeout=ACK_TIMEOUT)

        def answered(result):
            if result is None:
                response = []
            elif isinstance(result, tuple):
                response = list(result)
            else:
                response = [result]
            socket.emit("ack-result", {"response": response})

        def failed(failure):
            failure.trap(AckTimeout, ConnectionError)
            if socket.connected:
                socket.emit("ack-result", {"error": "timeout"})

        d.addCallbacks(answered, failed)

    def join(self, room):
        self.socket.join(room)
        return True

    def leave(self, room):
        self.socket.leave(room)
        return True

    def rooms(self):
        return sorted(self.socket.rooms)

    def toRoom(self, room, event, *args):
        self.socket.to(room).emit(event, *args)

    def toRoomAll(self, room, event, *args):
        self.socket.namespace.to(room).emit(event, *args)

    def broadcastExcept(self, room, exceptRoom, event, *args):
        self.socket.namespace.to(room).except_(exceptRoom).emit(event, *args)

    def broadcastAck(self, room, event, *args):
        d = self.socket.namespace.to(room).timeout(ACK_TIMEOUT).emitWithAck(event, *args)

        def first(response):
            # The first argument of each client's ack.
            return response[0] if isinstance(response, tuple) else response

        def report(responses, error):
            ordered = sorted((first(r) for r in responses), key=lambda r: json.dumps(r, separators=(",", ":")))
            return {"error": error, "responses": ordered}

        def failed(failure):
            failure.trap(AckTimeout)
            return report(failure.value.responses, str(failure.value))

        return d.addCallbacks(lambda responses: report(responses, None), failed)

    def whoami(self):
        socket = self.socket
        return {
            "sid": socket.sid,
            "nsp": socket.namespace.name,
            "recovered": socket.recovered,
            "auth": socket.handshake.auth,
        }

    def disconnectMe(self, closeAll=None):
        self.socket.disconnect(closeAll is True)

    def dropTransport(self):
        self.socket.client.eio.close()

    def reasons(self):
        return list(disconnections)

    COMMANDS = {
        "echo": echo,
        "ack": ack,
        "request-ack": requestAck,
        "join": join,
        "leave": leave,
        "rooms": rooms,
        "to-room": toRoom,
        "to-room-all": toRoomAll,
        "broadcast-except": broadcastExcept,
        "broadcast-ack": broadcastAck,
        "whoami": whoami,
        "disconnect-me": disconnectMe,
        "drop-transport": dropTransport,
        "reasons": reasons,
    }


def requireToken(socket):
    """
    The C{/auth} middleware: the token must be C{"secret"}.
    """
    if socket.handshake.auth.get("token") != "secret":
        raise ConnectRefused("not authorized", {"code": 401})


def setup(server):
    """
    Configure the test application's namespaces on C{server}.
    """
    server.of("/", CommandHandler)
    server.of("/other", CommandHandler)
    server.of("/auth", CommandHandler).use(requireToken)
    server.addDynamicNamespace(r"^/dyn-\w+$", CommandHandler)
