"""
The built-in C{chat} handlers, the default app's demo: a socket.io
namespace with rooms of people with nicknames, messages to a room, typing
notices, and acknowledgements that say whether a message went out; and two
read-only feeds of its messages, which show one handler reaching the
others through the site's L{rtproto.tx.app.App}: every message is
published to the app topic C{chat}, which an SSE mount relays to its
channel C{chat} (with ids, so C{Last-Event-ID} replays what a client
missed) and a WebSocket mount to its connections.

Events from the client (acknowledged where noted):

  - C{nick(name)}: set your nickname (1-32 characters); ack: the name used.
  - C{join(room)}: leave your current room for C{room}; ack: who is there.
  - C{message(text)}: say C{text} (at most 2,000 characters) in your room;
    ack: C{True}, or C{False} if it was refused.
  - C{typing(bool)}: tell your room you are typing, or stopped (volatile).

Events to the client: C{message({from, text, room, at})}, C{joined({nick,
room})}, C{left({nick, room})}, C{typing({nick, typing})}.  The feeds carry
each C{message} as the same JSON object.
"""

import json
import time

from rtproto.handlers import HandlerPlugin
from rtproto.socketio import NamespaceHandler
from rtproto.sse import SSEHandler
from rtproto.websocket import WebSocketHandler

#: The app topic, and the SSE channel, of chat messages.
TOPIC = "chat"
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
        message = {"from": self.nick, "text": text, "room": self.room, "at": int(time.time() * 1000)}
        self.socket.namespace.to(self.room).emit("message", message)
        app = self.socket.app
        if app is not None:
            app.publish(TOPIC, json.dumps(message, ensure_ascii=False), event="message")
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


class ChatFeedHandler(WebSocketHandler):
    """
    A read-only WebSocket feed: every chat message, as a JSON text message.
    What the client sends is ignored.
    """

    _stop = None

    def connectionOpened(self, connection):
        """
        Start relaying the app's C{chat} topic.
        """
        super().connectionOpened(connection)
        if connection.app is not None:
            self._stop = connection.app.listen(TOPIC, self._relay)

    def _relay(self, topic, data, event) -> None:
        self.connection.sendText(data)

    def connectionClosed(self, code, reason, wasClean):
        """
        Stop relaying.
        """
        if self._stop is not None:
            self._stop()
            self._stop = None


class ChatEventsHandler(SSEHandler):
    """
    Server-Sent Events of the chat: subscribers get the C{chat} channel
    unless they name others, and the mount relays the app's C{chat} topic
    to it (event C{message}), kept in its history for replay.
    """

    defaultChannels = (TOPIC,)

    @classmethod
    def attach(cls, resource):
        """
        Relay the topic to C{resource} (nothing outside a site); return what
        stops it.
        """
        if resource.app is None:
            return None
        return resource.app.listen(TOPIC, lambda topic, data, event: resource.publish(TOPIC, data, event=event))


chat = HandlerPlugin("chat", "socketio", ChatHandler, "a chat: nicknames, rooms, messages, typing notices")
chatFeed = HandlerPlugin("chat", "websocket", ChatFeedHandler, "the chat's messages as JSON, read-only")
chatEvents = HandlerPlugin("chat", "sse", ChatEventsHandler, "the chat's messages on channel chat")
