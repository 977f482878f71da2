"""
A socket.io namespace with authentication and rooms.

Run it from the repository's root::

    PYTHONPATH=. twistd -n rtproto --no-demo --namespace /rooms=examples.sioauth.RoomsHandler

A client connects with a token in its auth payload (python-socketio:
C{await sio.connect(url, namespaces=["/rooms"], auth={"token": "alice-token"})};
JavaScript: C{io("/rooms", {auth: {token: "alice-token"}})}).  The tokens
are in L{TOKENS}: a real application would look them up (and may return a
L{Deferred} from C{authorize} to do so).  A missing or unknown token is
refused: the client gets C{connect_error} with the message C{"token
required"} or C{"invalid token"} and C{data} C{{"code": 401}}.

Events from the client, each acknowledged:

  - C{join(room)}: enter C{room}; the others there get C{joined({user,
    room})}; ack: C{{"room", "members"}}, or C{{"error"}}.
  - C{leave(room)}: leave it; the others get C{left({user, room})}; ack:
    C{True}, or C{False} if you were not there.
  - C{say(room, text)}: everybody in C{room} (you too) gets C{said({user,
    room, text})}; ack: C{True}, or C{{"error"}} if you are not in it or
    the text is empty or longer than L{MAX_TEXT}.
  - C{rooms()}: ack: the rooms you are in.

On connecting the client gets C{welcome({user})}.
"""

from rtproto.errors import ConnectRefused
from rtproto.socketio import NamespaceHandler

#: token -> user name
TOKENS = {"alice-token": "alice", "bob-token": "bob", "carol-token": "carol"}
MAX_ROOM = 32
MAX_TEXT = 500


class RoomsHandler(NamespaceHandler):
    """
    One authenticated user on the namespace.
    """

    def authorize(self, socket):
        """
        Accept a known token; remember who it is in C{socket.data}.
        """
        token = socket.handshake.auth.get("token")
        if token is None:
            raise ConnectRefused("token required", {"code": 401})
        user = TOKENS.get(token)
        if user is None:
            raise ConnectRefused("invalid token", {"code": 401})
        socket.data["user"] = user

    @property
    def user(self) -> str:
        """
        The user's name.
        """
        return self.socket.data["user"]

    def connectionMade(self, socket):
        """
        Greet the user.
        """
        super().connectionMade(socket)
        socket.emit("welcome", {"user": self.user})

    def _myRooms(self) -> list:
        return sorted(self.socket.rooms - {self.socket.sid})

    def on_join(self, room):
        """
        Enter a room.
        """
        if not isinstance(room, str) or not 0 < len(room) <= MAX_ROOM or room in self.socket.namespace.sockets:
            # (a socket's own room is its sid: nobody else may enter it)
            return {"error": "bad room name"}
        if room not in self.socket.rooms:
            self.socket.join(room)
            self.socket.to(room).emit("joined", {"user": self.user, "room": room})
        members = sorted(s.data["user"] for s in self.socket.namespace.to(room).sockets())
        return {"room": room, "members": members}

    def on_leave(self, room):
        """
        Leave a room.
        """
        if room == self.socket.sid or room not in self.socket.rooms:
            return False
        self.socket.leave(room)
        self.socket.to(room).emit("left", {"user": self.user, "room": room})
        return True

    def on_say(self, room, text):
        """
        Say something to a room you are in.
        """
        if room == self.socket.sid or room not in self.socket.rooms:
            return {"error": "not in that room"}
        if not isinstance(text, str) or not 0 < len(text) <= MAX_TEXT:
            return {"error": "bad text"}
        self.socket.namespace.to(room).emit("said", {"user": self.user, "room": room, "text": text})
        return True

    def on_rooms(self):
        """
        The rooms you are in.
        """
        return self._myRooms()

    def disconnecting(self, reason):
        """
        Tell each room who left.
        """
        for room in self._myRooms():
            self.socket.to(room).emit("left", {"user": self.user, "room": room})
