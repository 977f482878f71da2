"""
The built-in C{chat} socket.io namespace handler, the default app's demo:
rooms of people with nicknames, messages to a room, typing notices, and
acknowledgements that say whether a message went out.

Events from the client (acknowledged where noted):

  - C{nick(name)}: set your nickname (1-32 characters); ack: the name used.
  - C{join(room)}: leave your current room for C{room}; ack: who is there.
  - C{message(text)}: say C{text} (at most 2,000 characters) in your room;
    ack: C{True}, or C{False} if it was refused.
  - C{typing(bool)}: tell your room you are typing, or stopped (volatile).

Events to the client: C{message({from, text, room, at})}, C{joined({nick,
room})}, C{left({nick, room})}, C{typing({nick, typing})}.
"""

import time

from rtproto.handlers import HandlerPlugin
from rtproto.socketio import NamespaceHandler

LOBBY = "lobby"
MAX_TEXT = 2000
MAX_NICK = 32


class ChatHandler(NamespaceHandler):
    """
    One person in the chat.  The nickname and room live in C{socket.data},
    so that a socket restored by connection state recovery keeps them.
    """

    @property
    def nick(self) -> str:
        """
        The nickname.
        """
        return self.socket.data["nick"]

    @property
    def room(self) -> str:
        """
        The current room.
        """
        return self.socket.data["room"]

    def connectionMade(self, socket):
        """
        Enter the lobby under a guest name (a recovered socket is back where
        it was).
        """
        super().connectionMade(socket)
        if socket.recovered and "nick" in socket.data:
            return
        socket.data["nick"] = f"guest-{socket.sid[:4]}"
        self._enter(LOBBY)

    def _enter(self, room: str) -> None:
        self.socket.data["room"] = room
        self.socket.join(room)
        self.socket.namespace.to(room).emit("joined", {"nick": self.nick, "room": room})

    def _members(self) -> list:
        return sorted(s.data["nick"] for s in self.socket.namespace.to(self.room).sockets())

    def on_nick(self, name):
        """
        Change nickname.
        """
        if isinstance(name, str) and 0 < len(name.strip()) <= MAX_NICK:
            self.socket.data["nick"] = name.strip()
        return self.nick

    def on_join(self, room):
        """
        Move to another room.
        """
        if not isinstance(room, str) or not 0 < len(room) <= MAX_NICK or room in self.socket.namespace.sockets:
            # (A socket's own room is its sid: nobody else may enter it.)
            return None
        if room != self.room:
            self.socket.to(self.room).emit("left", {"nick": self.nick, "room": self.room})
            self.socket.leave(self.room)
            self._enter(room)
        return self._members()

    def on_message(self, text):
        """
        Say something in the current room.
        """
        if not isinstance(text, str) or not 0 < len(text) <= MAX_TEXT:
            return False
        self.socket.namespace.to(self.room).emit(
            "message", {"from": self.nick, "text": text, "room": self.room, "at": int(time.time() * 1000)}
        )
        return True

    def on_typing(self, typing):
        """
        Tell the others in the room (dropped for clients that are behind).
        """
        self.socket.to(self.room).volatile.emit("typing", {"nick": self.nick, "typing": bool(typing)})

    def disconnecting(self, reason):
        """
        Tell the room who left.
        """
        if self.socket is not None and "room" in self.socket.data:
            self.socket.to(self.room).emit("left", {"nick": self.nick, "room": self.room})


chat = HandlerPlugin("chat", "socketio", ChatHandler, "a chat: nicknames, rooms, messages, typing notices")
