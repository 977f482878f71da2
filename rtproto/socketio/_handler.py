"""
L{NamespaceHandler}: a base class for socket.io namespace handlers.

One handler serves one socket, as one Twisted protocol serves one
connection.  An event C{"chat message"} from the client calls the method
C{on_chat message}, found with L{getattr} (so C{on_chat} for C{"chat"});
its return value, or what its L{Deferred} fires with, is the
acknowledgement when the client asked for one.  This is the pattern of
Perspective Broker's C{remote_<name>} methods, with socket.io's C{on_}
prefix that python-socketio users know.
"""

from zope.interface import implementer

from rtproto.interfaces import INamespaceHandler


@implementer(INamespaceHandler)
class NamespaceHandler:
    """
    Accepts every socket and dispatches each event to C{on_<event>};
    subclass it and override what you need.

    @ivar socket: the L{rtproto.interfaces.ISocket}, set once connected.
    """

    socket = None

    def authorize(self, socket):
        """
        Accept every socket (override to check C{socket.handshake.auth} and
        raise L{rtproto.errors.ConnectRefused}).
        """

    def connectionMade(self, socket):
        """
        Remember the socket.
        """
        self.socket = socket

    def eventReceived(self, event, args):
        """
        Call C{on_<event>(*args)}; an event without such a method goes to
        L{unknownEvent}.
        """
        method = getattr(self, f"on_{event}", None) if event.__class__ is str else None
        if method is None:
            return self.unknownEvent(event, args)
        return method(*args)

    def unknownEvent(self, event, args):
        """
        An event nothing handles: ignored (an acknowledgement, if asked
        for, carries no arguments).
        """

    def disconnecting(self, reason):
        """
        Nothing to do.
        """

    def connectionLost(self, reason):
        """
        Nothing to do.
        """
