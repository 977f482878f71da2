"""
The built-in C{echo} handlers (WebSocket and engine.io), with
L{rtproto.testing}.
"""

from rtproto.plugins.echo import EchoHandler, EngineIOEchoHandler
from rtproto.testing import openEngineIO, openWebSocket, resultOf


def test_echoesTextAndBinary():
    """
    Text comes back as text, binary as binary, in order.
    """
    connection = resultOf(openWebSocket(EchoHandler()))
    connection.receiveText("héllo")
    connection.receiveBinary(b"\x00\x01")
    connection.receiveText("")
    assert connection.sent == ["héllo", b"\x00\x01", ""]


def test_slowReaderPausesReading():
    """
    While the peer does not read the echoes, its messages are not read
    either.
    """
    connection = resultOf(openWebSocket(EchoHandler()))
    connection.pauseWriting()
    assert connection.readingPaused
    connection.resumeWriting()
    assert not connection.readingPaused


def test_engineIOEcho():
    """
    engine.io strings come back as strings, binary as binary.
    """
    socket = openEngineIO(EngineIOEchoHandler())
    socket.receive("text")
    socket.receive(b"\xff")
    assert socket.sent == ["text", b"\xff"]
