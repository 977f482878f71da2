"""
L{rtproto.socketio.NamespaceHandler}: events dispatched to C{on_<event>}
methods, the rest to C{unknownEvent}; every hook a no-op by default.  And
L{rtproto.socketio.SocketIOOptions}: defaults and the values it refuses.
"""

import dataclasses

import pytest
from zope.interface.verify import verifyObject

from rtproto.interfaces import INamespaceHandler
from rtproto.socketio import NamespaceHandler, SocketIOOptions


class Handler(NamespaceHandler):
    def __init__(self):
        self.unknown = []

    def on_add(self, a, b):
        return a + b

    def on_chat(self, *args):
        return ("chat", args)

    def unknownEvent(self, event, args):
        self.unknown.append((event, args))
        return "unknown"


def test_providesINamespaceHandler():
    assert verifyObject(INamespaceHandler, NamespaceHandler())


def test_dispatchToMethod():
    handler = Handler()
    assert handler.eventReceived("add", [2, 3]) == 5
    assert handler.eventReceived("chat", []) == ("chat", ())
    assert handler.unknown == []


def test_nameWithSpaceLooksForExactAttribute():
    """
    C{"chat message"} looks for C{on_chat message}, not C{on_chat}.
    """
    handler = Handler()
    assert handler.eventReceived("chat message", ["x"]) == "unknown"
    assert handler.unknown == [("chat message", ["x"])]


@pytest.mark.parametrize("event", [1, 2.5, None])
def test_nonStringEventIsUnknown(event):
    handler = Handler()
    assert handler.eventReceived(event, []) == "unknown"
    assert handler.unknown == [(event, [])]


def test_defaultsDoNothing():
    handler = NamespaceHandler()
    assert handler.socket is None
    assert handler.authorize(object()) is None
    sentinel = object()
    handler.connectionMade(sentinel)
    assert handler.socket is sentinel
    assert handler.eventReceived("nothing", [1]) is None
    assert handler.unknownEvent("nothing", []) is None
    assert handler.disconnecting("transport close") is None
    assert handler.connectionLost("transport close") is None


def test_wrongArgumentCountRaises():
    """
    The arguments go as they came: a mismatch is the handler's error (the
    glue logs it), not silently ignored.
    """
    with pytest.raises(TypeError):
        Handler().eventReceived("add", [1])


def test_optionsDefaults():
    options = SocketIOOptions()
    assert (options.connectTimeout, options.ackTimeout, options.maxAttachments) == (45.0, 30.0, 10)
    assert options.recovery is False
    assert (options.maxDisconnectionDuration, options.recoveryMaxPackets) == (120.0, 10_000)
    assert options.skipMiddlewares is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.recovery = True


@pytest.mark.parametrize(
    "kw",
    [
        {"connectTimeout": 0},
        {"ackTimeout": -1},
        {"maxDisconnectionDuration": 0},
        {"maxAttachments": -1},
        {"recoveryMaxPackets": 0},
    ],
)
def test_optionsRefused(kw):
    with pytest.raises(ValueError):
        SocketIOOptions(**kw)


def test_optionsZeroAttachmentsAllowed():
    assert SocketIOOptions(maxAttachments=0).maxAttachments == 0
