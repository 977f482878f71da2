"""
Helpers for testing your own handlers: fakes of what rtproto gives a
handler, which record what the handler sends, and drivers that take it
through its life as the server would -- no network, no running reactor.

WebSocket (L{IWebSocketHandler}): L{openWebSocket} runs the handshake hook
and opens the handler on a L{FakeWebSocketConnection}::

    connection = resultOf(openWebSocket(Chat(), FakeHandshakeRequest(subprotocols=["chat.v1"])))
    connection.receiveText("hi")
    assert connection.texts == ["hi"]
    connection.receiveClose(1000)

socket.io (L{INamespaceHandler}): a L{FakeNamespace} connects handlers
(middlewares, C{authorize}) on L{FakeSocket}s; events go through the
server's dispatch, and C{receive} fires with the acknowledgement::

    namespace = FakeNamespace(Room, "/rooms")
    socket = resultOf(namespace.connect(auth={"token": "t"}))
    assert resultOf(socket.receive("say", "hello")) == [True]
    assert namespace.broadcasts[-1].rooms == frozenset({"lobby"})

Server-Sent Events (L{ISSEHandler}): a L{FakeEventSourceResource}
subscribes handlers and records what is published.  engine.io
(L{IEngineIOHandler}): L{openEngineIO} and L{FakeEngineIOSocket}.

Every fake sees an L{rtproto.tx.app.App} (a new one unless given; C{None}
for a handler outside a site), and time is a L{twisted.internet.task.Clock}
where it matters.  L{resultOf} reads a L{Deferred} that has fired.

@var Broadcast: see L{rtproto.testing._socketio.Broadcast}.
@var SSEEvent: see L{rtproto.testing._sse.SSEEvent}.
@var Published: see L{rtproto.testing._sse.Published}.
"""

from rtproto.testing._common import resultOf
from rtproto.testing._engineio import FakeEngineIORequest, FakeEngineIOSocket, openEngineIO
from rtproto.testing._socketio import Broadcast, FakeNamespace, FakeSocket
from rtproto.testing._sse import FakeEventSourceResource, FakeSSERequest, FakeSSESubscriber, Published, SSEEvent
from rtproto.testing._websocket import FakeHandshakeRequest, FakeWebSocketConnection, openWebSocket

__all__ = [
    "Broadcast",
    "FakeEngineIORequest",
    "FakeEngineIOSocket",
    "FakeEventSourceResource",
    "FakeHandshakeRequest",
    "FakeNamespace",
    "FakeSSERequest",
    "FakeSSESubscriber",
    "FakeSocket",
    "FakeWebSocketConnection",
    "Published",
    "SSEEvent",
    "openEngineIO",
    "openWebSocket",
    "resultOf",
]
