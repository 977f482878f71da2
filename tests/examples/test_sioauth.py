"""
C{examples.sioauth}: a socket.io namespace with token auth and rooms; unit
tests with L{rtproto.testing}, and python-socketio clients over loopback.
"""

import pytest
import pytest_twisted

from examples.sioauth import RoomsHandler
from rtproto.errors import ConnectRefused
from rtproto.testing import FakeNamespace, resultOf
from rtproto.tx import buildSite
from rtproto.tx.socketio import SocketIOServer

from .support import listen, runClient


def users(*tokens):
    namespace = FakeNamespace(RoomsHandler, "/rooms")
    return namespace, [resultOf(namespace.connect(auth={"token": t})) for t in tokens]


@pytest.mark.parametrize("auth, message", [({}, "token required"), ({"token": "x"}, "invalid token")])
def test_refused(auth, message):
    """
    No token, or an unknown one: refused with a message and code 401.
    """
    namespace = FakeNamespace(RoomsHandler, "/rooms")
    with pytest.raises(ConnectRefused) as e:
        resultOf(namespace.connect(auth=auth))
    assert (e.value.message, e.value.data) == (message, {"code": 401})
    assert namespace.sockets == {}


def test_welcome():
    """
    A known token connects as its user, who is greeted.
    """
    _, (alice,) = users("alice-token")
    assert alice.data["user"] == "alice"
    assert alice.emitted == [("welcome", ({"user": "alice"},))]


def test_joinAndSay():
    """
    Joining tells the others in the room and acks the members; saying
    reaches the whole room, the speaker too, and nobody outside.
    """
    namespace, (alice, bob, carol) = users("alice-token", "bob-token", "carol-token")
    assert resultOf(alice.receive("join", "r1")) == [{"room": "r1", "members": ["alice"]}]
    assert resultOf(bob.receive("join", "r1")) == [{"room": "r1", "members": ["alice", "bob"]}]
    assert resultOf(bob.receive("join", "r1")) == [{"room": "r1", "members": ["alice", "bob"]}]
    assert alice.eventsNamed("joined") == [({"user": "bob", "room": "r1"},)]
    assert bob.joined == ["r1"]
    assert resultOf(alice.receive("say", "r1", "hi")) == [True]
    said = ({"user": "alice", "room": "r1", "text": "hi"},)
    assert alice.eventsNamed("said") == bob.eventsNamed("said") == [said]
    assert carol.eventsNamed("said") == []
    assert namespace.broadcasts[-1].rooms == {"r1"}
    assert resultOf(bob.receive("rooms")) == [["r1"]]


def test_sayRefused():
    """
    Saying to a room you are not in, or saying nothing, is refused.
    """
    _, (alice, bob) = users("alice-token", "bob-token")
    assert resultOf(alice.receive("say", "r1", "hi")) == [{"error": "not in that room"}]
    assert resultOf(alice.receive("say", alice.sid, "hi")) == [{"error": "not in that room"}]
    alice.receive("join", "r1")
    assert resultOf(alice.receive("say", "r1", "")) == [{"error": "bad text"}]
    assert resultOf(alice.receive("say", "r1", "x" * 501)) == [{"error": "bad text"}]
    assert alice.eventsNamed("said") == []


def test_badRooms():
    """
    Bad room names and other sockets' own rooms cannot be joined.
    """
    _, (alice, bob) = users("alice-token", "bob-token")
    for room in ("", "x" * 33, 5, bob.sid):
        assert resultOf(alice.receive("join", room)) == [{"error": "bad room name"}]
    assert alice.rooms == {alice.sid}


def test_leave():
    """
    Leaving tells the room; leaving a room you are not in is C{False}.
    """
    _, (alice, bob) = users("alice-token", "bob-token")
    alice.receive("join", "r1")
    bob.receive("join", "r1")
    assert resultOf(bob.receive("leave", "r1")) == [True]
    assert resultOf(bob.receive("leave", "r1")) == [False]
    assert resultOf(bob.receive("leave", bob.sid)) == [False]
    assert alice.eventsNamed("left") == [({"user": "bob", "room": "r1"},)]
    assert bob.left == ["r1"] and bob.rooms == {bob.sid}


def test_disconnectTellsRooms():
    """
    A user who goes is announced to each of their rooms.
    """
    _, (alice, bob) = users("alice-token", "bob-token")
    for room in ("r1", "r2"):
        alice.receive("join", room)
        bob.receive("join", room)
    bob.receiveDisconnect("transport close")
    assert alice.eventsNamed("left") == [({"user": "bob", "room": "r1"},), ({"user": "bob", "room": "r2"},)]


@pytest.mark.interop
@pytest.mark.parametrize("transport", ["polling", "websocket"])
@pytest_twisted.ensureDeferred
async def test_pythonSocketIOClients(reactor, cleanup, transport):
    """
    python-socketio C{AsyncClient}s over loopback: a bad token gets
    C{connect_error} with the message and data; two users join a room, one
    speaks, both hear, the acks come back, and the one who stays hears who
    left.
    """
    server = SocketIOServer(reactor=reactor)
    server.of("/rooms", RoomsHandler)
    cleanup(server.closeAll)
    port = listen(reactor, buildSite([], reactor=reactor, socketio=[("/socket.io/", server)]), cleanup)
    facts = await runClient(reactor, cleanup, "sio_client.py", f"http://127.0.0.1:{port}", transport)
    assert facts["badConnected"] is False
    assert facts["refused"] == ["connect_error", {"message": "invalid token", "data": {"code": 401}}]
    assert facts["welcome"] == [["welcome", {"user": "alice"}], ["welcome", {"user": "bob"}]]
    assert facts["aliceJoin"] == {"room": "r1", "members": ["alice"]}
    assert facts["bobJoin"] == {"room": "r1", "members": ["alice", "bob"]}
    assert facts["aliceSawJoin"] == ["joined", {"user": "bob", "room": "r1"}]
    assert facts["sayAck"] is True
    said = ["said", {"user": "alice", "room": "r1", "text": "hello"}]
    assert facts["bobHeard"] == facts["aliceHeard"] == said
    assert facts["sayElsewhere"] == {"error": "not in that room"}
    assert facts["bobRooms"] == ["r1"]
    assert facts["aliceSawLeave"] == ["left", {"user": "bob", "room": "r1"}]
