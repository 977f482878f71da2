"""
The built-in C{chat} namespace handler (the default app at C{/chat}):
nicknames, rooms, messages to a room, volatile typing notices, and the
acknowledgements that answer them.
"""

from rtproto.plugins.chat import MAX_NICK, MAX_TEXT, ChatHandler
from rtproto.socketio import ACK, EVENT
from tests.tx.sio_helpers import Peer, makeServer


def chatters(n, eioProtocols=None):
    """
    A chat server at C{/chat} and C{n} peers connected to it, their
    notices so far read.
    """
    server, reactor = makeServer()
    server.of("/chat", ChatHandler)
    peers = []
    for i in range(n):
        peer = Peer(server, (eioProtocols or [4] * n)[i])
        peer.connect("/chat")
        peers.append(peer)
    for peer in peers:
        peer.received()
    return server, reactor, peers


def ack(peer, event, *args, ackId=1):
    peer.emit(event, *args, namespace="/chat", ackId=ackId)
    [packet] = [p for p in peer.received() if p.type == ACK]
    return packet.data


def test_enterTheLobbyAsGuest():
    server, _ = makeServer()
    server.of("/chat", ChatHandler)
    first = Peer(server)
    first.connect("/chat")
    first.received()
    second = Peer(server)
    second.connect("/chat")
    sid = second.socket("/chat").sid
    notice = {"nick": f"guest-{sid[:4]}", "room": "lobby"}
    assert second.events("/chat") == [["joined", notice]]
    assert first.events("/chat") == [["joined", notice]]
    assert second.socket("/chat").rooms == {sid, "lobby"}


def test_nick():
    _, _, [peer] = chatters(1)
    assert ack(peer, "nick", "  ann  ") == ["ann"]
    assert ack(peer, "nick", "") == ["ann"]
    assert ack(peer, "nick", "x" * (MAX_NICK + 1)) == ["ann"]
    assert ack(peer, "nick", 42) == ["ann"]


def test_messageToTheRoom():
    _, _, (ann, bob, cid) = chatters(3)
    ack(ann, "nick", "ann")
    ack(cid, "join", "kitchen")
    ann.received(), bob.received(), cid.received()
    ann.emit("message", "hello", namespace="/chat", ackId=7)
    [[name, body]] = bob.events("/chat")
    assert name == "message"
    assert (body["from"], body["text"], body["room"]) == ("ann", "hello", "lobby")
    assert isinstance(body["at"], int)
    # the sender gets it too, then the ack
    assert [(p.type, p.data) for p in ann.received()] == [(EVENT, ["message", body]), (ACK, [True])]
    assert cid.events("/chat") == []


def test_messageRefused():
    _, _, (ann, bob) = chatters(2)
    assert ack(ann, "message", "") == [False]
    assert ack(ann, "message", "x" * (MAX_TEXT + 1)) == [False]
    assert ack(ann, "message", ["not", "text"]) == [False]
    assert bob.events("/chat") == []


def test_joinAnotherRoom():
    _, _, (ann, bob, cid) = chatters(3)
    ack(ann, "nick", "ann")
    ack(bob, "nick", "bob")
    ack(bob, "join", "kitchen")
    ann.received(), cid.received()
    assert ack(ann, "join", "kitchen") == [["ann", "bob"]]
    assert ann.socket("/chat").rooms == {ann.socket("/chat").sid, "kitchen"}
    assert cid.events("/chat") == [["left", {"nick": "ann", "room": "lobby"}]]
    assert bob.events("/chat") == [["joined", {"nick": "ann", "room": "kitchen"}]]
    assert ack(ann, "join", "kitchen") == [["ann", "bob"]], "joining where you are changes nothing"


def test_joinRefused():
    _, _, (ann, _bob) = chatters(2)
    sid = ann.socket("/chat").sid
    for room in ("", "x" * (MAX_NICK + 1), 5, sid):
        assert ack(ann, "join", room) == []
    assert ann.socket("/chat").rooms == {sid, "lobby"}


def test_typingIsVolatileAndForTheOthers():
    _, _, (ann, bob, cid) = chatters(3)
    ack(ann, "nick", "ann")
    ann.received(), bob.received(), cid.received()
    cid.eio.writable = False
    ann.emit("typing", 1, namespace="/chat")
    assert bob.events("/chat") == [["typing", {"nick": "ann", "typing": True}]]
    assert ann.events("/chat") == [] and cid.events("/chat") == []


def test_leavingTellsTheRoom():
    _, _, (ann, bob) = chatters(2, [4, 3])
    ack(ann, "nick", "ann")
    bob.received()
    ann.lose()
    assert bob.events("/chat") == [["left", {"nick": "ann", "room": "lobby"}]]
