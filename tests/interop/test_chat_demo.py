"""
The default app's socket.io demo: C{python -m twisted rtproto} with no
mount options serves the built-in C{chat} namespace at C{/chat}, and two
python-socketio clients chat through it (C{chat_pyclient.py}) on each
transport.
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
