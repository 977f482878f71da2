"""
The default app's demos: C{python -m twisted rtproto} with no
mount options serves the built-in C{chat} namespace at C{/chat}, and two
python-socketio clients chat through it (C{chat_pyclient.py}) on each
transport; and the C{ticker} event stream at C{/events}.
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


def test_tickerDemo(defaultApp):
    """
    The default app's SSE demo: C{GET /events} streams a C{tick} event a
    second on the C{ticker} channel, with ids, to a plain HTTP client.
    """
    import http.client
    import json

    connection = http.client.HTTPConnection("127.0.0.1", defaultApp.port, timeout=10)
    try:
        connection.request("GET", "/events", headers={"Accept": "text/event-stream"})
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
        assert response.readline() == b"retry: 3000\n"
        events, fields = [], {}
        while len(events) < 2:
            line = response.readline().rstrip(b"\n").decode("utf-8")
            if line == "":
                if "data" in fields:
                    events.append(fields)
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
    finally:
        connection.close()
    assert [e["event"] for e in events] == ["tick", "tick"]
    ticks = [json.loads(e["data"]) for e in events]
    assert ticks[1]["n"] == ticks[0]["n"] + 1
    assert events[0]["id"] != events[1]["id"]
    defaultApp.checkAlive()
