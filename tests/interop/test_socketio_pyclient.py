"""
python-socketio's C{AsyncClient} (engine.io protocol 4, socket.io protocol
5, over aiohttp) against rtproto and against the reference Node
C{socket.io} v4 server, both running the test application specified in
C{sio_server.js}.

Each test runs one scenario of C{sio_pyclient.py} (L{sio_pyscenarios}) in
a child process, which prints what it saw; the assertions are here.

Where python-socketio differs from the Node clients (see
L{tests.interop.sio_pyscenarios}): its disconnect reasons are its own
("server disconnect", "transport error", "client disconnect"); it shows a
refused namespace as C{connect_error} with the whole CONNECT_ERROR payload
(C{{"message": ..., "data": ...}}); it always answers an event that asks
for an ack (C{None} answers with no arguments); after an engine.io close
packet -- what the server's C{drop-transport} sends on polling -- it does
not reconnect, while after a WebSocket closed without one it does; it
connects all its namespaces at once and cannot leave one alone; and there
is no connection state recovery test: python-socketio does not implement
it (its client sends no C{pid}/C{offset} in CONNECT and has no
C{recovered} notion; its maintainer said so of the server side too,
Flask-SocketIO discussion #1987).
"""

import pytest

from .eio_support import sequenceProblems
from .sio_support import (
    TRANSPORTS,
    disconnections,
    event,
    kind,
    problems,
    roomEvents,
    runPythonClient,
    shorten,
    sioServers,
)

pytest.importorskip("socketio")
pytest.importorskip("aiohttp")

pytestmark = pytest.mark.interop

__all__ = ["kind", "sioServers"]

# python-engineio upgrades inside connect(): it is open on WebSocket.
OPEN_TRANSPORT = {"polling": "polling", "websocket": "websocket", "upgrade": "websocket"}


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_echo_and_acks(sioServers, kind, transport):
    """
    Every JSON type (unicode, emoji, strings that look like packets,
    placeholder-like objects, deep nesting, twenty arguments) and bytes
    nested in dicts and lists echo back unchanged and come back as ack
    arguments; the server's acks are answered, with bytes too, and an event
    whose handler returns C{None} is acked with no arguments (so the server
    sees C{{"response": []}}, not a timeout); offsets on every event sent
    without an ack; C{whoami}; a clean disconnect.
    """
    server = sioServers(kind)
    facts = runPythonClient("basic", server, TRANSPORTS[transport])
    assert facts["transportAtOpen"] == OPEN_TRANSPORT[transport]
    assert len(facts["echoes"]) == len(facts["acks"]) == 18
    assert problems(facts["echoes"]) == []
    assert problems(facts["acks"]) == []
    assert [(a["name"], a["askedProblem"], a["problem"]) for a in facts["serverAcks"]] == [
        ("values", None, None),
        ("binaries", None, None),
        ("no arguments", None, None),
    ]
    assert facts["unanswered"] == [{"response": []}]
    assert facts["whoami"] == {"sid": facts["sid"], "nsp": "/", "recovered": False, "auth": {}}
    # 18 echoes and 4 ack-results
    assert facts["offsets"] == {"count": 22, "distinct": 22, "missing": []}
    assert facts["life"] == [{"what": "connect", "sid": facts["sid"]}, {"what": "disconnect", "reason": "client disconnect"}]
    server.checkAlive()


def test_upgrade_then_200_echoes(sioServers, kind):
    """
    Polling, then the upgrade (python-engineio does it inside C{connect()},
    so nothing can be in flight across it): on WebSocket, 200 echoes (every
    third with bytes) sent back to back come back in order.
    """
    server = sioServers(kind)
    facts = runPythonClient("upgrade", server)
    assert facts["transportAtOpen"] == "websocket"
    assert facts["transport"] == "websocket"
    assert len(facts["expectedEchoes"]) == 200
    assert sequenceProblems(facts["echoes"], facts["expectedEchoes"]) == [], shorten(facts)
    assert facts["offsets"] == {"count": 200, "distinct": 200, "missing": []}
    server.checkAlive()


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_large_payloads(sioServers, kind, transport):
    """
    A 1 MiB string, 300,000 code points of non-ASCII text, 1 MiB of bytes in
    a dict and two 512 KiB bytes echo back intact; the 1 MiB ones come back
    as ack arguments (server at C{--max-http-buffer-size 4000000}).
    """
    server = sioServers(kind, "big")
    facts = runPythonClient("big", server, TRANSPORTS[transport], timeout=30)
    assert len(facts["echoes"]) == 4 and len(facts["acks"]) == 2
    assert problems(facts["echoes"] + facts["acks"]) == []
    assert [e["what"] for e in facts["life"]] == ["connect"]
    server.checkAlive()


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_namespaces_on_one_connection(sioServers, kind, transport):
    """
    C{/}, C{/other}, C{/dyn-abc} and C{/nope} requested on one connection:
    the first three connect, each with its own sid, on one engine.io
    session; C{/nope} gets C{connect_error} {"message": "Invalid
    namespace"} and the others are unaffected; each gets only its own
    echoes; the server disconnects C{/other} alone ("server disconnect";
    python-socketio cannot leave one namespace) and the others go on.
    """
    server = sioServers(kind)
    facts = runPythonClient("namespaces", server, TRANSPORTS[transport])
    sids = facts["clientSids"]
    assert facts["whoami"] == {
        name: {"sid": sids[name], "nsp": nsp, "recovered": False, "auth": {}}
        for name, nsp in [("main", "/"), ("other", "/other"), ("dyn", "/dyn-abc")]
    }
    assert len(set(sids.values()) | {facts["engineId"]}) == 4
    assert facts["refused"] == {"what": "connect_error", "data": {"message": "Invalid namespace"}}
    assert facts["engineIdAfter"] == facts["engineId"]
    assert facts["events"] == {
        "main": [event("echo", "to main"), event("echo", "again main")],
        "other": [event("echo", "to other")],
        "dyn": [event("echo", "to dyn"), event("echo", "again dyn")],
    }
    assert facts["otherDisconnect"] == "server disconnect"
    assert disconnections(facts["reasons"], sids.values()) == [
        (sids["other"], "/other", "server namespace disconnect", [sids["other"]])
    ]
    assert facts["connectedNamespaces"] == ["/", "/dyn-abc"]
    server.checkAlive()


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_auth_middleware(sioServers, kind, transport):
    """
    C{/auth} accepts C{auth={"token": "secret"}} and refuses a wrong token
    or none: C{connect_error} with {"message": "not authorized", "data":
    {"code": 401}}, and the namespace stays unconnected.
    """
    server = sioServers(kind)
    facts = runPythonClient("auth", server, TRANSPORTS[transport])
    whoami = facts["whoami"]
    assert (whoami["nsp"], whoami["recovered"], whoami["auth"]) == ("/auth", False, {"token": "secret"})
    assert facts["echo"] == ["authorized"]
    refused = {"what": "connect_error", "data": {"message": "not authorized", "data": {"code": 401}}}
    assert facts["refused"] == {"wrong token": refused, "no token": refused}
    assert facts["connectedAfterRefusal"] == {"wrong token": [], "no token": []}
    server.checkAlive()


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_rooms(sioServers, kind, transport):
    """
    Three python-socketio clients in one room: C{to-room} reaches the
    others but not the sender, C{to-room-all} everyone, C{broadcast-except}
    everyone but the client in the excepted room, C{broadcast-ack} collects
    the three answers (the handlers' return values); after C{leave}, the
    room's broadcasts no longer reach the leaver.
    """
    server = sioServers(kind)
    facts = runPythonClient("rooms", server, TRANSPORTS[transport])
    room, ex, sids = facts["room"], facts["ex"], facts["sids"]
    assert facts["joins"] == [True] * 4
    assert facts["rooms"] == [sorted([sids[0], room]), sorted([sids[1], room]), sorted([sids[2], room, ex])]
    assert facts["vote"] == {"error": None, "responses": ["a", "b", "c"]}
    assert facts["leave"] is True
    assert facts["roomsAfterLeave"] == sorted([sids[2], ex])
    assert facts["events"] == roomEvents()
    assert facts["offsets"] == [{"count": n, "distinct": n, "missing": []} for n in (6, 7, 5)]
    server.checkAlive()


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_server_disconnect(sioServers, kind, transport):
    """
    C{disconnect-me} on C{/other}: that namespace alone closes ("server
    disconnect") and C{/} still echoes; C{disconnect-me(true)} on C{/}: C{/}
    and C{/dyn-x} close too, the engine.io connection ends and the client
    does not reconnect; the server saw "server namespace disconnect" for
    all three.
    """
    server = sioServers(kind)
    facts = runPythonClient("server-disconnect", server, TRANSPORTS[transport])
    assert facts["otherReason"] == "server disconnect"
    assert facts["echoAfterOther"] == ["still here"]
    assert (facts["mainReason"], facts["dynReason"]) == ("server disconnect", "server disconnect")
    assert facts["eioState"] == "disconnected"
    assert facts["reconnecting"] is False
    assert facts["connected"] is False
    sids = facts["sids"]
    assert sorted(disconnections(facts["reasons"], sids.values())) == sorted(
        (sids[name], nsp, "server namespace disconnect", [sids[name]])
        for name, nsp in [("main", "/"), ("other", "/other"), ("dyn", "/dyn-x")]
    )
    server.checkAlive()


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_reconnect_after_transport_drop(sioServers, kind, transport):
    """
    C{drop-transport}: both namespaces see the disconnect.  A WebSocket
    closed without a close packet is a "transport error" and python-socketio
    reconnects on its own; an engine.io close packet (the reference server
    sends one on polling) is a "server disconnect" and it does not, so a new
    client connects.  Either way: new sids, not recovered, echoes again; the
    server saw "forced close" for both old sockets.
    """
    server = sioServers(kind)
    facts = runPythonClient("reconnect", server, TRANSPORTS[transport])
    reasons = set(facts["reasons"].values())
    assert len(reasons) == 1 and reasons <= {"transport error", "server disconnect"}, facts["reasons"]
    assert facts["reconnecting"] is (reasons == {"transport error"})
    if kind == "reference":
        assert reasons == {"server disconnect" if transport == "polling" else "transport error"}
    first, second = facts["first"], facts["second"]
    assert facts["engineIds"][0] != facts["engineIds"][1]
    for nsp in ("/", "/other"):
        assert second[nsp]["sid"] != first[nsp]["sid"]
        assert (second[nsp]["nsp"], second[nsp]["recovered"], second[nsp]["auth"]) == (nsp, False, {})
    assert facts["echoes"] == {"/": ["again /"], "/other": ["again /other"]}
    assert sorted(disconnections(facts["serverReasons"], [w["sid"] for w in first.values()])) == sorted(
        (w["sid"], w["nsp"], "forced close", [w["sid"]]) for w in first.values()
    )
    server.checkAlive()
