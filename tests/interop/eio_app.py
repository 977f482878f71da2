"""
The engine.io application of the interop tests, mounted on rtproto with
C{--engineio /engine.io/=tests.interop.eio_app.CommandHandler} (run from the
repository root, which C{python -m twisted} puts on C{sys.path}).

It echoes every message (a string as a string, bytes as bytes) and records
it, except the text I{commands} below, which it obeys instead.  The
reference engine.io server runs the same application in C{eio_commands.js};
keep the two in step.

  - C{drop}: the server closes the session.
  - C{transport?}, C{protocol?}, C{sid?}: reply with the socket's current
    transport name, protocol revision (C{"3"} or C{"4"}) or session id.
  - C{received?}: reply C{"received:" + JSON}, the list of every message
    received so far (commands excepted), each described by L{summary}.
  - C{upgrades?}: reply C{"upgrades:" + JSON}, the transports the session
    upgraded to, in order.
  - C{big:N}: send a string of N characters of C{0-9a-z}, repeated
    (L{asciiText}).
  - C{uni:N}: send a string of N code points cycling through L{UNICODE}
    (L{unicodeText}).
  - C{bigbin:N}: send N bytes, byte I{i} being C{i % 251} (L{binaryData}).
  - C{burst:N}: send C{"m0"} to C{"m<N-1>"}, as fast as possible.
  - C{mixed:N}: send C{"m0"}, C{b"m1"}, C{"m2"}, ...: strings at even
    indexes, their UTF-8 bytes at odd ones.
  - C{whenclosed:SID}: reply C{"closed:" + reason} once session C{SID} has
    closed (at once if it already has), or C{"closed:still open"} after 5
    seconds.
"""

import hashlib
import json

from rtproto.engineio._handler import EngineIOHandler

ASCII = "0123456789abcdefghijklmnopqrstuvwxyz"
UNICODE = "a\u00e9\u20ac\u4e2d\U0001f600\u2028\"\\\n\x00z"
"""One to four UTF-8 bytes, an astral character (two UTF-16 units in
JavaScript), U+2028, a quote, a backslash, a newline and NUL."""
SHORT = 40
"""Strings of at most this many code points are described by themselves."""
MAX_COUNT = 16 << 20
CLOSE_WAIT = 5.0


def asciiText(n: int) -> str:
    """
    C{n} characters of C{0-9a-z}, repeated.
    """
    return (ASCII * (n // len(ASCII) + 1))[:n]


def unicodeText(n: int) -> str:
    """
    C{n} code points cycling through L{UNICODE}.
    """
    return (UNICODE * (n // len(UNICODE) + 1))[:n]


def binaryData(n: int) -> bytes:
    """
    C{n} bytes, byte I{i} being C{i % 251}.
    """
    return (bytes(range(251)) * (n // 251 + 1))[:n]


def summary(data):
    """
    How C{received?} describes a message: a short string by itself, a long
    one as C{{"text": code points, "sha256": of its UTF-8}}, bytes as
    C{{"binary": length, "sha256": ...}}.
    """
    if isinstance(data, str):
        if len(data) <= SHORT:
            return data
        return {"text": len(data), "sha256": hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()}
    data = bytes(data)
    return {"binary": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _count(arg: str) -> int:
    """
    Parse a command's count, bounded by L{MAX_COUNT}.
    """
    n = int(arg)
    if not 0 <= n <= MAX_COUNT:
        raise ValueError(f"bad count {arg!r}")
    return n


class CommandHandler(EngineIOHandler):
    """
    Echo, record and obey commands (see the module docstring).

    @cvar closedSessions: session id to close reason, for every session of
        this process that has closed.
    """

    closedSessions: "dict[str, str]" = {}
    _closeWaiters: "dict[str, list]" = {}

    def __init__(self) -> None:
        self.received: list = []
        self.upgrades: "list[str]" = []

    def connectionOpened(self, socket) -> None:
        """
        Remember the socket.
        """
        super().connectionOpened(socket)
        self.sid = socket.sid

    def transportUpgraded(self, transport) -> None:
        """
        Record the upgrade.
        """
        self.upgrades.append(transport)

    def connectionClosed(self, reason) -> None:
        """
        Record the reason and answer whoever waits for it.
        """
        self.closedSessions[self.sid] = reason
        for callback in self._closeWaiters.pop(self.sid, []):
            callback(reason)

    def messageReceived(self, data) -> None:
        """
        Obey a command, or echo and record the message.
        """
        if isinstance(data, str) and self._command(data):
            return
        self.received.append(summary(data))
        self.socket.send(data)

    def _command(self, text: str) -> bool:
        """
        Obey C{text} if it is a command.

        @return: whether it was one.
        """
        name, colon, arg = text.partition(":")
        send = self.socket.send
        if not colon:
            if text == "drop":
                self.socket.close()
            elif text == "transport?":
                send(self.socket.transport)
            elif text == "protocol?":
                send(str(self.socket.protocol))
            elif text == "sid?":
                send(self.socket.sid)
            elif text == "received?":
                send("received:" + json.dumps(self.received, ensure_ascii=False))
            elif text == "upgrades?":
                send("upgrades:" + json.dumps(self.upgrades))
            else:
                return False
            return True
        if name == "big":
            send(asciiText(_count(arg)))
        elif name == "uni":
            send(unicodeText(_count(arg)))
        elif name == "bigbin":
            send(binaryData(_count(arg)))
        elif name == "burst":
            for i in range(_count(arg)):
                send(f"m{i}")
        elif name == "mixed":
            for i in range(_count(arg)):
                send(f"m{i}".encode() if i % 2 else f"m{i}")
        elif name == "whenclosed":
            self._whenClosed(arg)
        else:
            return False
        return True

    def _whenClosed(self, sid: str) -> None:
        """
        Reply C{"closed:" + reason} once session C{sid} has closed, or
        C{"closed:still open"} after L{CLOSE_WAIT} seconds.
        """
        socket = self.socket
        if sid in self.closedSessions:
            socket.send("closed:" + self.closedSessions[sid])
            return
        from twisted.internet import reactor

        def timedOut():
            waiters = self._closeWaiters.get(sid, [])
            if reply in waiters:
                waiters.remove(reply)
            socket.send("closed:still open")

        call = reactor.callLater(CLOSE_WAIT, timedOut)

        def reply(reason):
            if call.active():
                call.cancel()
            socket.send("closed:" + reason)

        self._closeWaiters.setdefault(sid, []).append(reply)
