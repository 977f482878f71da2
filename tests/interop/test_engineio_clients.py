"""
Real engine.io clients against engine.io servers: engine.io-client v6
(protocol 4) and engine.io-client 3.x (protocol 3), run by Node
(C{eio_client.js}), against rtproto and, to keep the client scripts honest,
against the reference Node C{engine.io} v6 server (C{eio_server.js}), both
serving the command application of L{tests.interop.eio_app}.

Each test runs one scenario of C{eio_client.js}, which prints what it saw;
the assertions are here.  Transports: C{polling} only, C{websocket} only,
and C{upgrade} (polling, then the upgrade to WebSocket).

Needs C{node} and C{npm ci --prefix tests/interop}.
"""

import pytest

from .eio_support import SERVER_CLOSE, TRANSPORTS, eioServers, kind, runNodeClient, sequenceProblems, shorten, summaries

pytestmark = pytest.mark.interop

__all__ = ["eioServers", "kind"]

CLIENTS = [pytest.param(4, id="eio4"), pytest.param(3, id="eio3")]
FIRST_TRANSPORT = {"polling": "polling", "websocket": "websocket", "upgrade": "polling"}


def assertNoErrors(facts) -> None:
    """
    The client reported no transport error and did not close by itself.
    """
    assert facts.get("errors", []) == [], shorten(facts)
    assert facts.get("closedEarly") is None, shorten(facts)


@pytest.mark.parametrize("eio", CLIENTS)
@pytest.mark.parametrize(
    "transport, forceBase64",
    [
        pytest.param("polling", False, id="polling"),
        pytest.param("websocket", False, id="websocket"),
        pytest.param("upgrade", False, id="upgrade"),
        pytest.param("polling", True, id="polling-base64"),
        pytest.param("websocket", True, id="websocket-base64"),
    ],
)
def test_messages(eioServers, kind, eio, transport, forceBase64):
    """
    Every kind of small message echoes back unchanged (strings, empty ones,
    non-ASCII ones, strings that look like other packets; Buffers,
    ArrayBuffers, typed-array views, empty and NUL binaries); the server
    records exactly what was sent; a mixed text/binary burst arrives in
    order with its types; the session reports the right protocol revision,
    transport and sid.
    """
    server = eioServers(kind)
    facts = runNodeClient("basic", server, eio, TRANSPORTS[transport], forceBase64)
    assert facts["transportAtOpen"] == FIRST_TRANSPORT[transport]
    problems = [f"{e['name']}: {e['problem']}" for e in facts["echoes"] if e["problem"]]
    assert problems == []
    assert facts["mixed"] == ["m0", "binary:m1", "m2", "binary:m3", "m4", "binary:m5"]
    assert summaries(facts["serverReceived"]) == summaries(facts["expectedReceived"])
    assert facts["protocolReply"] == str(eio)
    if transport == "upgrade":
        assert facts["transportReply"] in ("polling", "websocket")
    else:
        assert facts["transportReply"] == transport
    assert facts["sidReply"] == facts["sid"]
    assertNoErrors(facts)
    server.checkAlive()


@pytest.mark.parametrize("eio", CLIENTS)
def test_upgrade_with_messages_in_flight(eioServers, kind, eio):
    """
    Right after the polling session opens, the client asks for a burst of
    200 messages and streams numbered messages (every third one binary)
    while the upgrade to WebSocket happens: nothing is lost, duplicated or
    reordered in either direction, and the session ends on WebSocket.
    """
    server = eioServers(kind)
    facts = runNodeClient("upgrade", server, eio)
    assert facts["transportAtOpen"] == "polling"
    assert facts["upgradedAt"] is not None, f"the client never upgraded: {shorten(facts)}"
    assert 0 < facts["upgradedAt"] < facts["sent"], "messages were not in flight across the upgrade"
    assert sequenceProblems(facts["burst"], facts["expectedBurst"]) == [], "server to client"
    assert sequenceProblems(facts["echoes"], facts["expectedEchoes"]) == [], "client to server and back"
    assert facts["unexpected"] == []
    assert sequenceProblems(summaries(facts["serverReceived"]), summaries(facts["expectedReceived"])) == [], (
        "what the server received"
    )
    assert facts["transportReply"] == "websocket"
    assert facts["clientTransport"] == "websocket"
    assert facts["serverUpgrades"] == ["websocket"]
    assert facts["errors"] == []
    server.checkAlive()


@pytest.mark.parametrize("eio", CLIENTS)
@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_large_messages(eioServers, kind, eio, transport):
    """
    1 MiB strings and 1 MiB binaries, and a 300,000-code-point non-ASCII
    string, go both ways intact (server at C{--max-http-buffer-size
    4000000}, so that base64 on polling fits).
    """
    server = eioServers(kind, "big")
    facts = runNodeClient("big", server, eio, TRANSPORTS[transport], timeout=30)
    problems = [f"{e['name']}: {e['problem']}" for e in facts["echoes"] + facts["generated"] if e["problem"]]
    assert problems == []
    types = {e["name"]: e["receivedType"] for e in facts["echoes"] + facts["generated"]}
    assert types["1 MiB binary"] == types[f"bigbin:{1 << 20}"] == "Buffer"
    assertNoErrors(facts)
    server.checkAlive()


@pytest.mark.parametrize("eio", CLIENTS)
@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_heartbeat(eioServers, kind, eio, transport):
    """
    With a 0.2 s ping interval and a 0.2 s ping timeout, the session stays
    open over six heartbeats (at least five intervals), keeps its sid and
    still echoes.
    """
    server = eioServers(kind, "heartbeat")
    facts = runNodeClient("heartbeat", server, eio, TRANSPORTS[transport])
    assert facts["pingInterval"] == 200
    assert facts["pingTimeout"] == 200
    assert facts["heartbeats"] >= 6
    assert facts["elapsedMs"] >= 950, "heartbeats came faster than the ping interval"
    assert facts["echo"] == "still here"
    assert facts["sidAfter"] == facts["sid"]
    assert facts["transportReply"] in TRANSPORTS[transport]
    assertNoErrors(facts)
    server.checkAlive()


@pytest.mark.parametrize("eio", CLIENTS)
@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_client_disconnect(eioServers, kind, eio, transport):
    """
    The client closes its session cleanly; the server sees it close for the
    right reason (asked from a second session): C{client close} after the
    close packet the clients post on polling, C{transport close} on
    WebSocket, where they send none.
    """
    server = eioServers(kind)
    facts = runNodeClient("disconnect", server, eio, TRANSPORTS[transport])
    assert facts["echo"] == "before close"
    assert facts["clientClose"]["reason"] == "forced close"
    assert facts["secondSid"] != facts["sid"]
    if kind == "reference":
        expected = "transport close"
    elif facts["transportAtClose"] == "polling":
        # (with "upgrade", a slow upgrade may not have happened yet)
        expected = "client close"
    else:
        # On WebSocket both clients just close the socket, without a close
        # packet (the reference server's debug log shows none either).
        expected = "transport close"
    assert facts["serverCloseReason"] == expected
    server.checkAlive()


@pytest.mark.parametrize("eio", CLIENTS)
@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_reconnect_after_server_drop(eioServers, kind, eio, transport):
    """
    The server closes the session (C{drop}); the client sees the close, opens
    a new session with a new sid, and it works.
    """
    server = eioServers(kind)
    facts = runNodeClient("reconnect", server, eio, TRANSPORTS[transport])
    assert facts["sidReply"] == facts["sid"]
    assert facts["clientClose"]["reason"] == "transport close"
    assert facts["secondTransportAtOpen"] == FIRST_TRANSPORT[transport]
    assert facts["secondSid"] != facts["sid"]
    assert facts["secondSidReply"] == facts["secondSid"]
    assert facts["echo"] == "again"
    assert facts["serverCloseReason"] == SERVER_CLOSE[kind]
    assert facts["errors"] == []
    server.checkAlive()
