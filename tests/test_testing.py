"""
Tests for L{rtproto.testing}, the fakes handler authors test with: each
provides its interface, records what a handler sends, and drives the
handler as the server would.
"""

import pytest
from twisted.internet.defer import Deferred, fail, succeed
from twisted.web.http_headers import Headers
from zope.interface.verify import verifyObject

from rtproto.engineio import EngineIOHandler
from rtproto.errors import AckTimeout, ConnectionDeny, ConnectRefused, UsageError
from rtproto.interfaces import (
    IEngineIORequest,
    IEngineIOSocket,
    IHandshakeRequest,
    ISocket,
    ISocketIOHandshake,
    ISSERequest,
    ISSESubscriber,
    IWebSocketConnection,
)
from rtproto.socketio import NamespaceHandler
from rtproto.sse import SSEHandler
from rtproto.testing import (
    FakeEngineIORequest,
    FakeEngineIOSocket,
    FakeEventSourceResource,
    FakeHandshakeRequest,
    FakeNamespace,
    FakeSSERequest,
    FakeSSESubscriber,
    FakeWebSocketConnection,
    SSEEvent,
    openEngineIO,
    openWebSocket,
    resultOf,
)
from rtproto.tx.app import App
from rtproto.websocket import PreparedMessage
from tests.tx.helpers import RecordingHandler


class Recorder(RecordingHandler):
    """
    Records the calls it gets; answers C{"slow"} with an unfired Deferred.
    """

    def __init__(self, subprotocol=None):
        super().__init__()
        self.subprotocol = subprotocol
        self.pending = None

    def handshake(self, request):
        self.calls.append(("handshake", request))
        return self.subprotocol

    def textReceived(self, text):
        super().textReceived(text)
        if text == "slow":
            self.pending = Deferred()
            return self.pending
        return None


# -- resultOf ----------------------------------------------------------------


def test_resultOfFired():
    """
    The result of a fired Deferred, a plain value as it is; the Deferred
    still has its result afterwards.
    """
    d = succeed(5)
    assert resultOf(d) == 5
    assert resultOf(d) == 5
    assert resultOf("x") == "x"


def test_resultOfFailed():
    """
    A failed Deferred raises its exception.
    """
    with pytest.raises(ConnectionDeny):
        resultOf(fail(ConnectionDeny(403, "no")))


def test_resultOfUnfired():
    """
    An unfired Deferred is an assertion error.
    """
    with pytest.raises(AssertionError, match="not fired"):
        resultOf(Deferred())


# -- interfaces --------------------------------------------------------------


def test_interfaces():
    """
    Every fake provides its interface, attributes included.
    """
    assert verifyObject(IHandshakeRequest, FakeHandshakeRequest())
    assert verifyObject(IWebSocketConnection, FakeWebSocketConnection())
    assert verifyObject(IEngineIORequest, FakeEngineIORequest())
    assert verifyObject(IEngineIOSocket, FakeEngineIOSocket())
    assert verifyObject(ISSERequest, FakeSSERequest())
    assert verifyObject(ISSESubscriber, FakeSSESubscriber())
    socket = resultOf(FakeNamespace().connect())
    assert verifyObject(ISocket, socket)
    assert verifyObject(ISocketIOHandshake, socket.handshake)


def test_apps():
    """
    A fake sees a new L{App} by default, the one given, or none.
    """
    app = App()
    assert isinstance(FakeWebSocketConnection().app, App)
    assert FakeWebSocketConnection().app is not FakeWebSocketConnection().app
    assert FakeEngineIOSocket(app=app).app is app
    assert FakeEventSourceResource(app=None).app is None
    assert resultOf(FakeNamespace(app=app).connect()).app is app


# -- WebSocket -----------------------------------------------------------------


def test_handshakeRequest():
    """
    Friendly arguments become what L{IHandshakeRequest} promises.
    """
    request = FakeHandshakeRequest(
        "/chat", args={"token": "t", "x": ["1", b"2"]}, headers={"Cookie": "a=b"}, subprotocols=("v1",),
        origin="https://app.example",
    )
    assert request.path == b"/chat"
    assert request.args == {b"token": [b"t"], b"x": [b"1", b"2"]}
    assert request.uri == b"/chat?token=t&x=1&x=2"
    assert isinstance(request.headers, Headers)
    assert request.headers.getRawHeaders(b"cookie") == [b"a=b"]
    assert request.subprotocols == ["v1"]
    assert request.origin == "https://app.example"
    assert request.peer.host == "127.0.0.1"


def test_openWebSocket():
    """
    The handshake hook sees the request; the connection carries the chosen
    subprotocol and is given to C{connectionOpened}.
    """
    handler = Recorder("v2")
    request = FakeHandshakeRequest(subprotocols=["v1", "v2"])
    connection = resultOf(openWebSocket(handler, request))
    assert handler.calls == [("handshake", request), ("opened",)]
    assert handler.connection is connection
    assert connection.request is request
    assert connection.subprotocol == "v2"


def test_openWebSocketDenied():
    """
    A refusal in the hook fails the open, and the handler is never opened.
    """

    class Deny(Recorder):
        def handshake(self, request):
            raise ConnectionDeny(403, "no")

    handler = Deny()
    with pytest.raises(ConnectionDeny) as e:
        resultOf(openWebSocket(handler))
    assert (e.value.status, e.value.reason) == (403, "no")
    assert handler.connection is None


def test_openWebSocketLater():
    """
    A hook answering with a Deferred opens the handler when it fires.
    """
    d = Deferred()

    class Later(Recorder):
        def handshake(self, request):
            return d

    handler = Later()
    opened = openWebSocket(handler, FakeHandshakeRequest(subprotocols=["v1"]))
    assert handler.calls == []
    d.callback("v1")
    assert resultOf(opened).subprotocol == "v1"


def test_openWebSocketUnofferedSubprotocol():
    """
    Choosing a subprotocol the client did not offer is the handler's bug.
    """
    with pytest.raises(UsageError, match="did not offer"):
        resultOf(openWebSocket(Recorder("v9"), FakeHandshakeRequest(subprotocols=["v1"])))


def test_webSocketRecords():
    """
    Texts, binaries, prepared messages, fragments and pings are recorded in
    order.
    """
    connection = resultOf(openWebSocket(Recorder()))
    connection.sendText("a")
    connection.sendBinary(b"b")
    connection.sendPrepared(PreparedMessage("c"))
    connection.sendPrepared(PreparedMessage(b"d"))
    connection.sendFragment("e", final=False)
    connection.sendFragment("f", final=True)
    connection.ping(b"p")
    assert connection.sent == ["a", b"b", "c", b"d", "ef"]
    assert connection.texts == ["a", "c", "ef"]
    assert connection.binaries == [b"b", b"d"]
    assert connection.fragments == [("e", False, False), ("f", False, True)]
    assert connection.pings == [b"p"]
    with pytest.raises(UsageError):
        connection.sendText(b"bytes")


def test_webSocketDelivers():
    """
    Messages and pongs from the peer reach the handler; write back-pressure
    is passed on.
    """
    handler = Recorder()
    connection = resultOf(openWebSocket(handler))
    connection.receiveText("hi")
    connection.receiveBinary(b"\x00")
    connection.receivePong(b"p")
    connection.pauseWriting()
    connection.resumeWriting()
    assert handler.calls[2:] == [
        ("text", "hi"), ("binary", b"\x00"), ("pong", b"p"), ("writePaused",), ("writeResumed",)
    ]


def test_webSocketBackPressure():
    """
    While a Deferred returned by C{textReceived} has not fired, reading is
    paused, as on the server.
    """
    handler = Recorder()
    connection = resultOf(openWebSocket(handler))
    connection.receiveText("slow")
    assert connection.readingPaused
    handler.pending.callback(None)
    assert not connection.readingPaused
    connection.pauseReading()
    assert connection.readingPaused
    connection.resumeReading()
    assert not connection.readingPaused


def test_webSocketHandlerCloses():
    """
    The handler's close is recorded and what it sends afterwards is
    dropped; the peer's echo tells the handler, with the same code.
    """
    handler = Recorder()
    connection = resultOf(openWebSocket(handler))
    connection.close(4000, "bye")
    connection.sendText("late")
    assert (connection.closed, connection.closeCode, connection.closeReason) == (True, 4000, "bye")
    assert connection.sent == []
    assert handler.calls[-1] == ("opened",)
    connection.receiveClose()
    assert handler.calls[-1] == ("closed", 4000, "bye", True)
    with pytest.raises(UsageError):
        connection.receiveText("after")


def test_webSocketPeerCloses():
    """
    The peer closing, with a code or without, or the connection dropping.
    """
    handler = Recorder()
    resultOf(openWebSocket(handler)).receiveClose(1001, "away")
    assert handler.calls[-1] == ("closed", 1001, "away", True)
    handler = Recorder()
    resultOf(openWebSocket(handler)).receiveClose()
    assert handler.calls[-1] == ("closed", 1005, "", True)
    handler = Recorder()
    connection = resultOf(openWebSocket(handler))
    connection.abort()
    assert connection.aborted and connection.closed
    connection.dropConnection()
    connection.dropConnection()
    assert handler.calls[-2:] == [("opened",), ("closed", 1006, "", False)]


# -- engine.io -------------------------------------------------------------------


class EIORecorder(EngineIOHandler):
    def __init__(self):
        self.calls = []

    def messageReceived(self, data):
        self.calls.append(("message", data))
        self.socket.send(data)

    def transportUpgraded(self, transport):
        self.calls.append(("upgraded", transport))

    def connectionClosed(self, reason):
        self.calls.append(("closed", reason))


def test_engineIO():
    """
    Messages both ways, the upgrade, and the server's close.
    """
    handler = EIORecorder()
    socket = openEngineIO(handler, FakeEngineIORequest(args={"EIO": "4"}))
    assert handler.socket is socket
    assert socket.request.args == {b"EIO": [b"4"]}
    socket.receive("text")
    socket.receive(b"bin")
    socket.sendShared("shared", {})
    socket.upgrade()
    assert socket.transport == "websocket"
    socket.close()
    socket.send("late")
    assert socket.sent == ["text", b"bin", "shared"]
    assert handler.calls == [("message", "text"), ("message", b"bin"), ("upgraded", "websocket"), ("closed", "server close")]
    with pytest.raises(UsageError):
        socket.send(42)


def test_engineIOClientGone():
    """
    The client going away closes the session with its reason, once.
    """
    handler = EIORecorder()
    socket = openEngineIO(handler)
    socket.disconnect("ping timeout")
    socket.disconnect()
    assert handler.calls == [("closed", "ping timeout")]
    assert socket.closeReason == "ping timeout"


# -- socket.io -------------------------------------------------------------------


class Room(NamespaceHandler):
    """
    A namespace handler exercising what a socket offers.
    """

    def authorize(self, socket):
        if socket.handshake.auth.get("token") != "t":
            raise ConnectRefused("not authorized", {"code": 401})

    def connectionMade(self, socket):
        super().connectionMade(socket)
        socket.join("lobby")
        socket.emit("hello", socket.handshake.query.get("name"))

    def on_say(self, text):
        self.socket.to("lobby").emit("said", text)
        return True

    def on_shout(self, text):
        self.socket.namespace.to("lobby").except_("muted").emit("shouted", text)

    def on_pair(self):
        return ("a", 1)

    def on_bytes(self, data):
        return {"len": len(data), "data": data}

    def on_later(self):
        self.later = Deferred()
        return self.later

    def on_boom(self):
        raise ValueError("boom")

    def on_ask(self):
        self.answer = self.socket.emitWithAck("question", 42, timeout=5)

    def on_leave(self, room):
        self.socket.leave(room)

    def on_bye(self, close=False):
        self.socket.disconnect(close)

    def disconnecting(self, reason):
        self.socket.to("lobby").emit("gone", self.socket.sid)

    def connectionLost(self, reason):
        self.lost = reason


def test_socketIOConnect():
    """
    A good token connects: the socket is in its own room and the lobby,
    its handler was told, and what it was sent is recorded.
    """
    namespace = FakeNamespace(Room, "/room")
    socket = resultOf(namespace.connect(auth={"token": "t"}, query={"name": "ann"}))
    assert socket.connected and socket.handler.socket is socket
    assert socket.rooms == frozenset({socket.sid, "lobby"})
    assert socket.joined == ["lobby"]
    assert socket.emitted == [("hello", ("ann",))]
    assert socket.namespace is namespace and namespace.sockets == {socket.sid: socket}
    assert socket.handshake.auth == {"token": "t"}


def test_socketIORefused():
    """
    C{authorize} raising L{ConnectRefused} fails the connect with it; the
    socket never connects.
    """
    namespace = FakeNamespace(Room)
    with pytest.raises(ConnectRefused) as e:
        resultOf(namespace.connect(auth={"token": "wrong"}))
    assert (e.value.message, e.value.data) == ("not authorized", {"code": 401})
    assert namespace.sockets == {}


def test_socketIOMiddlewareAndLateAuthorize():
    """
    Middlewares run before C{authorize}; either may answer later.
    """
    order = []
    gate = Deferred()

    class Late(NamespaceHandler):
        def authorize(self, socket):
            order.append("authorize")
            return gate

    namespace = FakeNamespace(Late)
    namespace.use(lambda socket: order.append("middleware"))
    connecting = namespace.connect()
    assert order == ["middleware", "authorize"] and namespace.sockets == {}
    gate.callback(None)
    assert resultOf(connecting).connected


def test_socketIOAcks():
    """
    The return value becomes the acknowledgement as on the server: C{True}
    as one argument, a tuple's items, C{None} as none, bytes intact; a
    Deferred answers when it fires.
    """
    socket = resultOf(FakeNamespace(Room).connect(auth={"token": "t"}))
    assert resultOf(socket.receive("say", "hi")) == [True]
    assert resultOf(socket.receive("pair")) == ["a", 1]
    assert resultOf(socket.receive("shout", "x")) == []
    assert resultOf(socket.receive("nothing-handles-this")) == []
    assert resultOf(socket.receive("bytes", b"\x00\xff")) == [{"len": 2, "data": b"\x00\xff"}]
    later = socket.receive("later")
    with pytest.raises(AssertionError):
        resultOf(later)
    socket.handler.later.callback("done")
    assert resultOf(later) == ["done"]
    assert socket.receive("say", "no ack", ack=False) is None
    assert socket.acks == {1: [True], 2: ["a", 1], 3: [], 4: [], 5: [{"len": 2, "data": b"\x00\xff"}], 6: ["done"]}


def test_socketIOHandlerFails():
    """
    A handler that raises fails the acknowledgement's Deferred (or the
    call, without one) and is listed in C{failures}.
    """
    socket = resultOf(FakeNamespace(Room).connect(auth={"token": "t"}))
    with pytest.raises(ValueError, match="boom"):
        resultOf(socket.receive("boom"))
    with pytest.raises(ValueError, match="boom"):
        socket.receive("boom", ack=False)
    assert len(socket.failures) == 2
    assert socket.acks == {}


def test_socketIOBroadcasts():
    """
    C{socket.to(room)} reaches the others in the room, not the sender;
    C{namespace.to(room).except_(...)} leaves out the excepted rooms; each
    broadcast is recorded with its rooms.
    """
    namespace = FakeNamespace(Room)
    ann, bob, cid = (resultOf(namespace.connect(auth={"token": "t"})) for _ in range(3))
    cid.join("muted")
    resultOf(ann.receive("say", "hello"))
    resultOf(ann.receive("shout", "HEY"))
    assert ann.eventsNamed("said") == []
    assert bob.eventsNamed("said") == cid.eventsNamed("said") == [("hello",)]
    assert ann.eventsNamed("shouted") == bob.eventsNamed("shouted") == [("HEY",)]
    assert cid.eventsNamed("shouted") == []
    said, shouted = namespace.broadcasts
    assert (said.event, said.args, said.rooms, said.exceptRooms) == ("said", ("hello",), {"lobby"}, {ann.sid})
    assert (shouted.rooms, shouted.exceptRooms, shouted.volatile) == ({"lobby"}, {"muted"}, False)
    assert ann.broadcasts == [said] and bob.broadcasts == []


def test_socketIOEmitWithAck():
    """
    The server's question is recorded with its ack id; the client's answer
    fires the handler's Deferred; no answer times out on the namespace's
    clock.
    """
    namespace = FakeNamespace(Room)
    socket = resultOf(namespace.connect(auth={"token": "t"}))
    socket.receive("ask", ack=False)
    ((ackId, question),) = socket.ackRequests.items()
    assert question == ("question", (42,))
    socket.receiveAck(ackId, "yes")
    assert resultOf(socket.handler.answer) == "yes"
    socket.receive("ask", ack=False)
    namespace.reactor.advance(5)
    with pytest.raises(AckTimeout):
        resultOf(socket.handler.answer)


def test_socketIOLeaveAndDisconnects():
    """
    Leaving is recorded; the server disconnecting tells the client and the
    handler; the client disconnecting tells the handler its reason; the
    others hear of it while the rooms are still there.
    """
    namespace = FakeNamespace(Room)
    ann, bob = (resultOf(namespace.connect(auth={"token": "t"})) for _ in range(2))
    ann.receive("leave", "lobby", ack=False)
    assert ann.left == ["lobby"] and ann.rooms == {ann.sid}
    ann.receive("bye", ack=False)
    assert (ann.connected, ann.disconnectSent, ann.connectionClosed) == (False, True, False)
    assert ann.disconnectReason == ann.handler.lost == "server namespace disconnect"
    assert ann.rooms == frozenset() and ann.sid not in namespace.sockets
    with pytest.raises(UsageError):
        ann.receive("say", "x")
    cid = resultOf(namespace.connect(auth={"token": "t"}))
    cid.receive("bye", True, ack=False)
    assert cid.connectionClosed and cid.handler.lost == "server namespace disconnect"
    bob.receiveDisconnect()
    assert bob.handler.lost == "client namespace disconnect"
    assert bob.eventsNamed("gone") == [(ann.sid,), (cid.sid,)]
    assert bob.broadcasts[-1] == ("gone", (bob.sid,), {"lobby"}, {bob.sid}, False, None)


# -- SSE ---------------------------------------------------------------------------


class Feed(SSEHandler):
    """
    Token in a cookie; channels as asked (only C{news}, C{sport}).
    """

    def authorize(self, request):
        if request.getCookie("session") != "ok":
            raise ConnectionDeny(401, "log in")

    def channelsFor(self, request, requested):
        return [c for c in super().channelsFor(request, requested) if c in ("default", "news", "sport")]

    def subscribed(self, subscriber):
        super().subscribed(subscriber)
        subscriber.send("welcome", event="hello")

    def unsubscribed(self, reason):
        self.reason = reason


def test_sseSubscribe():
    """
    An authorized subscriber gets its channels, what it is sent, and what
    is published to its channels only.
    """
    resource = FakeEventSourceResource(Feed)
    subscriber = resultOf(resource.subscribe(FakeSSERequest(cookies={"session": "ok"}), ["news", "sport"]))
    assert subscriber.channels == ("news", "sport")
    assert subscriber.handler.subscriber is subscriber
    assert resource.channels == {"news": {subscriber}, "sport": {subscriber}}
    first = resource.publish("news", "n1")
    resource.publish("weather", "w1", event="rain")
    resource.publish("sport", "s1", id="custom")
    assert first == "1"
    assert subscriber.sent == [SSEEvent("welcome", "hello", None)]
    assert subscriber.events == [SSEEvent("welcome", "hello", None), SSEEvent("n1", None, "1"), SSEEvent("s1", None, "custom")]
    assert resource.publishedTo("weather") == [SSEEvent("w1", "rain", "2")]


def test_sseRefusals():
    """
    The handler's refusal, and a channel list the server would answer with
    400.
    """
    resource = FakeEventSourceResource(Feed)
    with pytest.raises(ConnectionDeny) as e:
        resultOf(resource.subscribe())
    assert e.value.status == 401
    with pytest.raises(ConnectionDeny) as e:
        resultOf(resource.subscribe(FakeSSERequest(cookies={"session": "ok"}), ["weather"]))
    assert (e.value.status, e.value.reason) == (400, "bad channel list")
    assert resource.subscribers == set()


def test_sseReplayAndMissed():
    """
    Resuming after a known id replays the later events of the subscriber's
    channels; an unknown id calls C{missedEvents}.
    """
    resource = FakeEventSourceResource(Feed)
    for data in ("a", "b", "c"):
        resource.publish("news", data)
    resource.publish("sport", "x")
    request = FakeSSERequest(cookies={"session": "ok"})
    subscriber = resultOf(resource.subscribe(request, ["news"], lastEventId="1"))
    assert [e.data for e in subscriber.events] == ["b", "c", "welcome"]
    subscriber = resultOf(resource.subscribe(request, ["news"], lastEventId="nope"))
    assert subscriber.events[0] == SSEEvent("nope", "missed", None)


def test_sseEnds():
    """
    The handler closing, the client leaving and a graceful stop each end a
    stream with their reason.
    """
    resource = FakeEventSourceResource(Feed)
    request = FakeSSERequest(cookies={"session": "ok"})
    a, b, c = (resultOf(resource.subscribe(request)) for _ in range(3))
    a.close()
    b.disconnect()
    resource.closeAll()
    assert [s.handler.reason for s in (a, b, c)] == ["closed", "client gone", "server shutting down"]
    assert resource.channels == {} and resource.subscribers == set()
    resource.publish("default", "nobody")
    assert [e.data for e in c.events] == ["welcome"]


def test_sseAttach():
    """
    L{FakeEventSourceResource.attach} runs the handler class's publisher;
    L{closeAll} stops it.
    """
    stopped = []

    class Publishing(SSEHandler):
        @classmethod
        def attach(cls, resource):
            resource.publish("default", "started")
            return lambda: stopped.append(True)

    resource = FakeEventSourceResource(Publishing)
    resource.attach()
    assert resource.publishedTo("default") == [SSEEvent("started", None, "1")]
    resource.closeAll()
    assert stopped == [True]
    with pytest.raises(UsageError):
        resource.publish("default", b"not str")
