"""
L{WebSocketHandler}: the base class applications subclass.
"""

from zope.interface import implementer

from rtproto.interfaces import IWebSocketHandler


@implementer(IWebSocketHandler)
class WebSocketHandler:
    """
    A handler that does nothing; override what you need, as with a Twisted
    C{Protocol}.

    @ivar connection: the L{rtproto.interfaces.IWebSocketConnection}, set
        just before L{connectionOpened}.
    """

    connection = None

    def handshake(self, request):
        """
        Accept every connection, choosing no subprotocol.
        """
        return None

    def connectionOpened(self, connection):
        """
        Remember the connection as C{self.connection}.
        """
        self.connection = connection

    def textReceived(self, text):
        """
        Ignore text messages.
        """

    def binaryReceived(self, data):
        """
        Ignore binary messages.
        """

    def pongReceived(self, payload):
        """
        Ignore pongs.
        """

    def writePaused(self):
        """
        Ignore write back-pressure.
        """

    def writeResumed(self):
        """
        Ignore write back-pressure.
        """

    def connectionClosed(self, code, reason, wasClean):
        """
        Forget nothing: nothing was kept.
        """
