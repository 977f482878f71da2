"""
The built-in C{chat} handlers, with L{rtproto.testing}: the socket.io
namespace (nicknames, rooms, messages, typing), and its feeds over the app
topic C{chat}.
"""

import json

from rtproto.plugins.chat import TOPIC, ChatEventsHandler, ChatFeedHandler, ChatHandler
from rtproto.testing import FakeEventSourceResource, FakeNamespace, SSEEvent, openWebSocket, resultOf
from rtproto.tx.app import App


def chatters(n, app=None):
    namespace = FakeNamespace(ChatHandler, "/chat", app=app if app is not None else App())
    return namespace, [resultOf(namespace.connect()) for _ in range(n)]


def test_arrivesInLobby():
    """
    A newcomer is a guest in the lobby, and the lobby is told.
    """
    namespace, (ann, bob) = chatters(2)
    assert ann.data == {"nick": f"guest-{ann.sid[:4]}", "room": "lobby"}
    assert ann.rooms == {ann.sid, "lobby"}
    assert ann.eventsNamed("joined") == [({"nick": ann.data["nick"], "room": "lobby"},), ({"nick": bob.data["nick"], "room": "lobby"},)]


def test_nick():
    """
    A nickname of 1-32 characters is taken (stripped); others are not; the
    ack is the name in use.
    """
    _, (ann,) = chatters(1)
    assert resultOf(ann.receive("nick", "  ann ")) == ["ann"]
    assert resultOf(ann.receive("nick", "x" * 33)) == ["ann"]
    assert resultOf(ann.receive("nick", 5)) == ["ann"]


def test_messageToRoomAndTopic():
    """
    A message goes to everyone in the room (the sender too) and is
    published, as JSON, to the app topic C{chat} with event C{message};
    the ack is C{True}.
    """
    app = App()
    heard = []
    app.listen(TOPIC, lambda topic, data, event: heard.append((topic, json.loads(data), event)))
    namespace, (ann, bob) = chatters(2, app)
    ann.receive("nick", "ann")
    assert resultOf(ann.receive("message", "hello")) == [True]
    ((message,),) = bob.eventsNamed("message")
    assert ann.eventsNamed("message") == [(message,)]
    assert {k: message[k] for k in ("from", "text", "room")} == {"from": "ann", "text": "hello", "room": "lobby"}
    assert isinstance(message["at"], int)
    assert heard == [("chat", message, "message")]
    assert namespace.broadcasts[-1].rooms == {"lobby"}


def test_badMessagesRefused():
    """
    Empty, too long or non-string messages are acked C{False}, sent to
    nobody and not published.
    """
    app = App()
    heard = []
    app.listen(TOPIC, lambda *a: heard.append(a))
    namespace, (ann,) = chatters(1, app)
    for text in ("", "x" * 2001, ["list"]):
        assert resultOf(ann.receive("message", text)) == [False]
    assert ann.eventsNamed("message") == [] and heard == []


def test_noAppNoPublish():
    """
    Outside a site (no app) a message still goes to the room.
    """
    namespace = FakeNamespace(ChatHandler, "/chat", app=None)
    ann = resultOf(namespace.connect())
    assert resultOf(ann.receive("message", "hi")) == [True]
    assert len(ann.eventsNamed("message")) == 1


def test_joinRoom():
    """
    Joining moves to the room, tells the old room who left and the new one
    who joined, and acks the members; messages stay in the room.
    """
    namespace, (ann, bob, cid) = chatters(3)
    ann.receive("nick", "ann")
    bob.receive("nick", "bob")
    assert resultOf(ann.receive("join", "den")) == [["ann"]]
    assert resultOf(bob.receive("join", "den")) == [["ann", "bob"]]
    assert ann.left == ["lobby"] and ann.rooms == {ann.sid, "den"}
    assert cid.eventsNamed("left") == [({"nick": "ann", "room": "lobby"},), ({"nick": "bob", "room": "lobby"},)]
    assert ann.eventsNamed("joined")[-1] == ({"nick": "bob", "room": "den"},)
    ann.receive("message", "in the den")
    assert len(bob.eventsNamed("message")) == 1 and cid.eventsNamed("message") == []


def test_joinRefused():
    """
    Bad room names, and another socket's own room, are refused (no ack
    arguments) and nothing moves.
    """
    namespace, (ann, bob) = chatters(2)
    for room in ("", "x" * 33, 7, bob.sid):
        assert resultOf(ann.receive("join", room)) == []
    assert ann.rooms == {ann.sid, "lobby"}


def test_typingIsVolatileToOthers():
    """
    Typing notices go to the others in the room, volatile.
    """
    namespace, (ann, bob) = chatters(2)
    ann.receive("typing", 1, ack=False)
    assert bob.eventsNamed("typing") == [({"nick": ann.data["nick"], "typing": True},)]
    assert ann.eventsNamed("typing") == []
    assert namespace.broadcasts[-1].volatile
    assert namespace.broadcasts[-1].exceptRooms == {ann.sid}


def test_leavingTellsRoom():
    """
    Whoever disconnects is announced to their room.
    """
    namespace, (ann, bob) = chatters(2)
    bob.receiveDisconnect("transport close")
    assert ann.eventsNamed("left") == [({"nick": bob.data["nick"], "room": "lobby"},)]


def test_feedRelaysTopic():
    """
    The WebSocket feed sends every message published to the topic, until
    it closes.
    """
    app = App()
    connection = resultOf(openWebSocket(ChatFeedHandler(), app=app))
    app.publish(TOPIC, '{"text": "one"}', event="message")
    app.publish("other", "ignored")
    connection.receiveText("ignored too")
    assert connection.sent == ['{"text": "one"}']
    connection.receiveClose(1000)
    assert app.listeners(TOPIC) == 0
    app.publish(TOPIC, "after")
    assert connection.sent == ['{"text": "one"}']


def test_feedWithoutApp():
    """
    Outside a site the feed relays nothing, and fails at nothing.
    """
    connection = resultOf(openWebSocket(ChatFeedHandler(), app=None))
    connection.receiveClose(1000)
    assert connection.closedWith == (1000, "", True)


def test_namespaceToFeeds():
    """
    A message said in the namespace reaches the SSE mount's channel
    C{chat} (kept for replay) and the WebSocket feed, through one app.
    """
    app = App()
    resource = FakeEventSourceResource(ChatEventsHandler, app=app)
    resource.attach()
    subscriber = resultOf(resource.subscribe())
    assert subscriber.channels == ("chat",)
    feed = resultOf(openWebSocket(ChatFeedHandler(), app=app))
    namespace, (ann,) = chatters(1, app)
    ann.receive("message", "hi all", ack=False)
    ((message,),) = ann.eventsNamed("message")
    assert subscriber.events == [SSEEvent(json.dumps(message), "message", "1")]
    assert resource.publishedTo("chat") == subscriber.events
    assert [json.loads(t) for t in feed.texts] == [message]
    resource.closeAll()
    assert app.listeners(TOPIC) == 1


def test_eventsWithoutApp():
    """
    Without an app the SSE handler attaches nothing.
    """
    resource = FakeEventSourceResource(ChatEventsHandler, app=None)
    assert resource.attach() is None
