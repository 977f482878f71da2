"""
The default app's demos: C{python -m twisted rtproto} with no
mount options serves the built-in C{chat} namespace at C{/chat}, and two
python-socketio clients chat through it (C{chat_pyclient.py}) on each
transport; and its feeds, the event stream at C{/events} and the
WebSocket at C{/feed}.
"""

import sys

import pytest

from .eio_support import HERE, TRANSPORTS, runPeer
from .sio_support import SocketIOServer

pytestmark = pytest.mark.interop


class DefaultApp(SocketIOServer):
    """
    rtproto with no mount option: the built-in app.
    """

    def command(self, port: int) -> "list[str]":
        return [
            sys.executable, "-m", "twisted", "--log-format=text", "rtproto",
            "--listen", f"tcp:{port}:interface=127.0.0.1",
        ]


@pytest.fixture(scope="module")
def defaultApp():
    server = DefaultApp("rtproto").start()
    yield server
    server.stop()


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_chat(defaultApp, transport):
    """
    Nicknames are acknowledged, a message reaches the other person with its
    sender and room and is acknowledged C{True}, an empty one is refused
    (C{False}), typing notices arrive, a room change answers the members
    and the old room hears who left.
    """
    facts = runPeer([sys.executable, str(HERE / "chat_pyclient.py"), defaultApp.url, transport], defaultApp)
    assert facts["aliceJoined"]["room"] == "lobby"
    assert (facts["aliceNick"], facts["bobNick"]) == ("alice", "bob")
    assert facts["bobJoinedSeenByAlice"] == "lobby"
    assert facts["sent"] is True and facts["refused"] is False
    assert facts["bobGot"] == {"from": "alice", "text": "hello bob", "room": "lobby"}
    assert facts["typing"] == {"nick": "alice", "typing": True}
    assert facts["members"] == ["bob"]
    assert facts["bobLeftSeenByAlice"] == {"nick": "bob", "room": "lobby"}
    defaultApp.checkAlive()


def test_chatFeedsDemo(defaultApp):
    """
    The default app's feeds: a chat message said over socket.io (by
    C{chat_pyclient.py}) reaches a plain HTTP client of C{GET /events} as
    a C{message} event with an id, and a C{websockets} client of C{/feed}
    as a JSON text message.
    """
    import http.client
    import json

    from websockets.sync.client import connect

    connection = http.client.HTTPConnection("127.0.0.1", defaultApp.port, timeout=10)
    feed = connect(f"ws://127.0.0.1:{defaultApp.port}/feed", open_timeout=10)
    try:
        connection.request("GET", "/events", headers={"Accept": "text/event-stream"})
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
        assert response.readline() == b"retry: 3000\n"
        facts = runPeer([sys.executable, str(HERE / "chat_pyclient.py"), defaultApp.url, "websocket"], defaultApp)
        assert facts["sent"] is True
        fields: dict = {}
        while "data" not in fields:
            line = response.readline().rstrip(b"\n").decode("utf-8")
            if line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
        fed = json.loads(feed.recv(timeout=10))
    finally:
        connection.close()
        feed.close()
    assert fields["event"] == "message"
    assert fields["id"]
    message = json.loads(fields["data"])
    assert {k: message[k] for k in ("from", "text", "room")} == {"from": "alice", "text": "hello bob", "room": "lobby"}
    assert fed == message
    defaultApp.checkAlive()
