"""
L{EngineIOHandler}: a base class for engine.io applications.
"""

from zope.interface import implementer

from rtproto.interfaces import IEngineIOHandler


@implementer(IEngineIOHandler)
class EngineIOHandler:
    """
    Does nothing on every event; subclass it and override what you need.

    @ivar socket: the L{rtproto.interfaces.IEngineIOSocket}, set when the
        session opens.
    """

    socket = None

    def connectionOpened(self, socket):
        """
        Remember the socket.
        """
        self.socket = socket

    def messageReceived(self, data):
        """
        Ignore the message.
        """

    def transportUpgraded(self, transport):
        """
        Nothing to do.
        """

    def connectionClosed(self, reason):
        """
        Nothing to do.
        """
