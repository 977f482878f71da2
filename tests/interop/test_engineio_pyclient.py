"""
python-engineio's asyncio client (engine.io protocol 4, over aiohttp)
against rtproto and against the reference Node C{engine.io} server, both
serving the command application of L{tests.interop.eio_app}.

Each test runs one scenario of C{eio_pyclient.py} in a child process, which
prints what it saw; the assertions are here.
"""

import pytest

from .eio_support import SERVER_CLOSE, TRANSPORTS, eioServers, kind, runPythonClient, sequenceProblems, shorten, summaries

pytest.importorskip("engineio")
pytest.importorskip("aiohttp")

pytestmark = pytest.mark.interop

__all__ = ["eioServers", "kind"]

# python-engineio upgrades inside connect(): it is open on WebSocket.
OPEN_TRANSPORT = {"polling": "polling", "websocket": "websocket", "upgrade": "websocket"}


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_messages_and_clean_disconnect(eioServers, kind, transport):
    """
    Strings (empty, non-ASCII, packet-like) and bytes (empty, NUL) echo back
    with their types; a mixed text/binary burst arrives in order; the server
    recorded exactly what was sent; the session reports protocol 4, its
    transport and sid; the client then disconnects cleanly.
    """
    server = eioServers(kind)
    facts = runPythonClient("basic", server, TRANSPORTS[transport])
    assert facts["transportAtOpen"] == OPEN_TRANSPORT[transport]
    problems = [f"{e['name']}: {e['problem']}" for e in facts["echoes"] if e["problem"]]
    assert problems == []
    assert facts["mixed"] == ["m0", "binary:m1", "m2", "binary:m3", "m4", "binary:m5"]
    assert summaries(facts["serverReceived"]) == summaries(facts["expectedReceived"])
    assert facts["protocolReply"] == "4"
    assert facts["transportReply"] == OPEN_TRANSPORT[transport]
    assert facts["sidReply"] == facts["sid"]
    assert facts["closedEarly"] is None
    server.checkAlive()


def test_upgrade(eioServers, kind):
    """
    Polling, then the upgrade: the session is on WebSocket at both ends, the
    server saw one upgrade, and 200 numbered messages (every third binary)
    and a burst of 200 go through in order.
    """
    server = eioServers(kind)
    facts = runPythonClient("upgrade", server)
    assert facts["transportAtOpen"] == "websocket"
    assert facts["serverUpgrades"] == ["websocket"]
    assert facts["transportReply"] == "websocket"
    assert sequenceProblems(facts["burst"], facts["expectedBurst"]) == [], shorten(facts)
    assert sequenceProblems(facts["echoes"], facts["expectedEchoes"]) == [], shorten(facts)
    assert facts["unexpected"] == []
    assert summaries(facts["serverReceived"]) == summaries(facts["expectedReceived"])
    server.checkAlive()


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_server_sees_client_disconnect(eioServers, kind, transport):
    """
    The client disconnects; the server closes the session for the client's
    reason (asked from a second session).
    """
    server = eioServers(kind)
    facts = runPythonClient("disconnect", server, TRANSPORTS[transport])
    assert facts["echo"] == "before close"
    assert facts["secondSid"] != facts["sid"]
    if kind == "reference":
        expected = "transport close"
    elif facts["transportAtClose"] == "polling":
        expected = "client close"
    else:
        # python-engineio closes its WebSocket without sending the close
        # packet it queued (the reference server's debug log shows no
        # close packet either).
        expected = "transport close"
    assert facts["serverCloseReason"] == expected
    server.checkAlive()


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_reconnect_after_server_drop(eioServers, kind, transport):
    """
    The server closes the session (C{drop}); the client sees the disconnect
    and a new session, with a new sid, works.
    """
    server = eioServers(kind)
    facts = runPythonClient("reconnect", server, TRANSPORTS[transport])
    assert facts["sidReply"] == facts["sid"]
    # python-engineio reports a WebSocket that closes without a close packet
    # first (as the reference server's does) as a transport error.
    assert facts["clientClose"]["reason"] in ("server disconnect", "transport error")
    assert facts["secondTransportAtOpen"] == OPEN_TRANSPORT[transport]
    assert facts["secondSid"] != facts["sid"]
    assert facts["secondSidReply"] == facts["secondSid"]
    assert facts["echo"] == "again"
    assert facts["serverCloseReason"] == SERVER_CLOSE[kind]
    server.checkAlive()
