"""
The built-in C{echo} handlers, for WebSocket and for engine.io: they send
every message back as it came.
"""

from rtproto.engineio import EngineIOHandler
from rtproto.handlers import HandlerPlugin
from rtproto.websocket import WebSocketHandler


class EchoHandler(WebSocketHandler):
    """
    Echo text as text and binary as binary.  When the peer stops reading our
    echoes, stop reading its messages: a slow reader cannot make us buffer
    without bound.
    """

    def textReceived(self, text):
        """
        Send the text back.
        """
        self.connection.sendText(text)

    def binaryReceived(self, data):
        """
        Send the bytes back.
        """
        self.connection.sendBinary(data)

    def writePaused(self):
        """
        Our echoes are piling up: stop reading.
        """
        self.connection.pauseReading()

    def writeResumed(self):
        """
        The peer caught up: read again.
        """
        self.connection.resumeReading()


class EngineIOEchoHandler(EngineIOHandler):
    """
    Echo engine.io messages: strings as strings, binary as binary.
    """

    def messageReceived(self, data):
        """
        Send the message back.
        """
        self.socket.send(data)


echo = HandlerPlugin("echo", "websocket", EchoHandler, "sends every message back")
eioEcho = HandlerPlugin("echo", "engineio", EngineIOEchoHandler, "sends every engine.io message back")
