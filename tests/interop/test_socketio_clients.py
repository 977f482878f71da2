"""
Real socket.io clients run by Node (C{sio_client.js}): socket.io-client v4
(engine.io protocol 4, socket.io protocol 5) and socket.io-client 2.x
(engine.io protocol 3, socket.io protocol 4), against rtproto and, to keep
the client scripts honest, against the reference Node C{socket.io} v4
server (C{sio_server.js}), both running the test application specified in
C{sio_server.js}.

Each test runs one scenario of C{sio_client.js}, which prints what it saw;
the assertions are here.  Transports: C{polling} only, C{websocket} only,
and C{upgrade} (polling, then the upgrade to WebSocket).

Where the two client versions differ (the reference server's behaviour
towards each, or the clients' own API):

  - a refused namespace: v4 gets C{connect_error} with C{message} and
    C{data}; v2 gets an C{error} event with the payload alone -- the
    middleware's data C{{"code": 401}} (no message), or
    C{{"message": "Invalid namespace"}};
  - sids: a v4 socket gets a random sid per namespace; a v2 socket's is the
    engine.io id on C{/}, else C{"<nsp>#<engine.io id>"};
  - the v4 client sends C{pid} (and C{offset}, once it has received an
    event carrying one) in its reconnection CONNECT: they show in
    C{handshake.auth}; connection state recovery is v4 only.

Needs C{node} and C{npm ci --prefix tests/interop}.
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
    runNodeClient,
    shorten,
    sioServers,
)

pytestmark = pytest.mark.interop

__all__ = ["kind", "sioServers"]

CLIENTS = [pytest.param("v4", id="v4"), pytest.param("v2", id="v2")]
FIRST_TRANSPORT = {"polling": "polling", "websocket": "websocket", "upgrade": "polling"}
CLOSED = {"what": "disconnect", "reason": "io client disconnect"}


def refusal(client: str, message: str, data=None) -> dict:
    """
    How a refused namespace shows to C{client} (see the module docstring).
    """
    if client == "v4":
        return {"what": "connect_error", "message": message, "data": data}
    return {"what": "error", "data": data if data is not None else {"message": message}}


def namespaceSid(client: str, engineId: str, nsp: str, sid: str) -> str:
    """
    The sid a socket of C{client} should have: a v2 socket's is derived
    from the engine.io id; a v4 socket's is its own.
    """
    if client == "v4":
        assert sid and sid != engineId
        return sid
    return engineId if nsp == "/" else f"{nsp}#{engineId}"


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_echo_and_acks(sioServers, kind, client, transport):
    """
    Every JSON type (unicode, emoji, strings that look like packets,
    placeholder-like objects, deep nesting, twenty arguments) and Buffers
    nested in objects and arrays echo back unchanged, and come back the same
    as ack arguments; the server's acks are answered (C{request-ack}), with
    binaries too; every event the server sent without an ack carried a
    distinct offset; C{whoami}; a clean client disconnect.
    """
    server = sioServers(kind)
    facts = runNodeClient("basic", server, client, TRANSPORTS[transport])
    # (with "upgrade", the upgrade may be over before the namespace connects)
    assert facts["transportAtOpen"] in {FIRST_TRANSPORT[transport], TRANSPORTS[transport][-1]}
    assert facts["transport"] == TRANSPORTS[transport][-1]
    assert len(facts["echoes"]) == len(facts["acks"]) == 18
    assert problems(facts["echoes"]) == []
    assert problems(facts["acks"]) == []
    binary = [e["binaryTypes"] for e in facts["echoes"] + facts["acks"] if e["binaryTypes"]]
    assert binary == [["Buffer"]] * 12
    assert [(a["name"], a["acked"], a["askedProblem"], a["problem"]) for a in facts["serverAcks"]] == [
        ("values", True, None, None),
        ("binaries", True, None, None),
        ("no arguments", True, None, None),
    ]
    assert facts["whoami"] == {"sid": facts["sid"], "nsp": "/", "recovered": False, "auth": {}}
    assert facts["clientSid"] == facts["sid"]
    # 18 echoes and 3 ack-results; the 3 please-ack requests had ack ids
    assert facts["offsets"] == {"count": 21, "distinct": 21, "missing": []}
    assert facts["life"][-1] == CLOSED and len(facts["life"]) == 2
    server.checkAlive()


@pytest.mark.parametrize("client", CLIENTS)
def test_upgrade_with_messages_in_flight(sioServers, kind, client):
    """
    The upgrade probe is held back until the namespace is connected over
    polling and 20 echoes are sent; then the upgrade happens while more
    echoes (every third with a Buffer) stream: all come back in order, and
    the connection ends on WebSocket.
    """
    server = sioServers(kind)
    facts = runNodeClient("upgrade", server, client)
    assert facts["transportAtOpen"] == "polling"
    assert facts["probed"] == ["websocket"]
    assert facts["upgradedAt"] is not None, shorten(facts)
    assert facts["probeReleasedAt"] <= facts["upgradingAt"] <= facts["upgradedAt"] < facts["sent"], (
        "echoes were not in flight across the upgrade"
    )
    assert facts["sent"] >= 200
    assert sequenceProblems(facts["echoes"], facts["expectedEchoes"]) == []
    assert facts["transport"] == "websocket"
    assert facts["offsets"] == {"count": facts["sent"], "distinct": facts["sent"], "missing": []}
    server.checkAlive()


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_large_payloads(sioServers, kind, client, transport):
    """
    A 1 MiB string, 300,000 code points of non-ASCII text, a 1 MiB Buffer
    nested in an object and two 512 KiB Buffers echo back intact, and the
    1 MiB ones come back as ack arguments (server at
    C{--max-http-buffer-size 4000000}).
    """
    server = sioServers(kind, "big")
    facts = runNodeClient("big", server, client, TRANSPORTS[transport], timeout=30)
    assert len(facts["echoes"]) == 4 and len(facts["acks"]) == 2
    assert problems(facts["echoes"] + facts["acks"]) == []
    assert [e["binaryTypes"] for e in facts["echoes"]] == [[], [], ["Buffer"], ["Buffer"]]
    assert [e["what"] for e in facts["life"]] == ["connect"], "disconnected during the transfers"
    server.checkAlive()


def test_server_ack_timeout(sioServers, kind):
    """
    A client that never answers C{request-ack}'s event: after its 5 s the
    server reports C{{"error": "timeout"}} (once, v4 on WebSocket: it is
    slow).
    """
    server = sioServers(kind)
    facts = runNodeClient("ack-timeout", server, "v4", TRANSPORTS["websocket"])
    assert facts["asked"] == {"acked": True, "args": [1]}
    assert facts["result"] == [{"error": "timeout"}]
    assert facts["elapsedMs"] >= 4900
    server.checkAlive()


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_namespaces_on_one_connection(sioServers, kind, client, transport):
    """
    C{/}, C{/other} and C{/dyn-abc} connect over one engine.io connection;
    C{/nope} is refused ("Invalid namespace") without disturbing them; each
    namespace gets only its own echoes; the client leaves C{/other} alone
    (the server sees "client namespace disconnect") and the others go on on
    the same connection.
    """
    server = sioServers(kind)
    facts = runNodeClient("namespaces", server, client, TRANSPORTS[transport])
    engineId = facts["engineId"]
    sids = facts["clientSids"]
    assert facts["whoami"] == {
        name: {"sid": namespaceSid(client, engineId, nsp, sids[name]), "nsp": nsp, "recovered": False, "auth": {}}
        for name, nsp in [("main", "/"), ("other", "/other"), ("dyn", "/dyn-abc")]
    }
    assert len(set(sids.values())) == 3
    assert facts["refused"] == refusal(client, "Invalid namespace")
    assert facts["engineIdAfter"] == engineId
    assert facts["opens"] == 1
    assert facts["events"] == {
        "main": [event("echo", "to main"), event("echo", "again main")],
        "other": [event("echo", "to other")],
        "dyn": [event("echo", "to dyn"), event("echo", "again dyn")],
    }
    assert facts["otherDisconnect"] == "io client disconnect"
    assert disconnections(facts["reasons"], sids.values()) == [
        (sids["other"], "/other", "client namespace disconnect", [sids["other"]])
    ]
    if client == "v4":
        assert facts["badActive"] is False
    assert facts["life"]["bad"] == [facts["refused"]]
    server.checkAlive()


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_auth_middleware(sioServers, kind, client, transport):
    """
    C{/auth} accepts the token "secret" (v4: C{auth}; v2: the namespace's
    query, which the server turns into C{handshake.auth}) and refuses a
    wrong token or none with "not authorized" and C{{"code": 401}} (as v2
    shows it: the data alone); a refused v4 socket does not retry.
    """
    server = sioServers(kind)
    facts = runNodeClient("auth", server, client, TRANSPORTS[transport])
    whoami = facts["whoami"]
    assert (whoami["nsp"], whoami["recovered"], whoami["auth"]) == ("/auth", False, {"token": "secret"})
    assert facts["echo"] == ["authorized"]
    refused = refusal(client, "not authorized", {"code": 401})
    assert facts["refused"] == {"wrong token": refused, "no token": refused}
    expected = False if client == "v4" else None
    assert facts["activeAfterRefusal"] == {"wrong token": expected, "no token": expected}
    server.checkAlive()


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_rooms_with_mixed_versions(sioServers, kind, client, transport):
    """
    Three clients in one room, two of the tested version and one of the
    other (v4, v4, v2 or v2, v2, v4): C{to-room} reaches the others but not
    the sender, C{to-room-all} everyone, C{broadcast-except} everyone but
    the client in the excepted room, C{broadcast-ack} collects the three
    answers; after C{leave}, the room's broadcasts no longer reach the
    leaver.  Every received event is accounted for, in order.
    """
    server = sioServers(kind)
    facts = runNodeClient("rooms", server, client, TRANSPORTS[transport])
    assert facts["versions"] == (["v4", "v4", "v2"] if client == "v4" else ["v2", "v2", "v4"])
    room, ex, sids = facts["room"], facts["ex"], facts["sids"]
    assert facts["joins"] == [True] * 4
    assert facts["rooms"] == [sorted([sids[0], room]), sorted([sids[1], room]), sorted([sids[2], room, ex])]
    assert facts["vote"] == {"error": None, "responses": ["a", "b", "c"]}
    assert facts["leave"] is True
    assert facts["roomsAfterLeave"] == sorted([sids[2], ex])
    assert facts["events"] == roomEvents()
    assert [o["count"] for o in facts["offsets"]] == [6, 7, 5]
    assert [o["distinct"] for o in facts["offsets"]] == [6, 7, 5]
    assert [o["missing"] for o in facts["offsets"]] == [[], [], []]
    server.checkAlive()


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_server_disconnect(sioServers, kind, client, transport):
    """
    C{disconnect-me} on C{/other}: that namespace alone closes ("io server
    disconnect") and C{/} still echoes; then C{disconnect-me(true)} on
    C{/}: C{/} and C{/dyn-x} close ("io server disconnect"), the client
    closes the connection ("forced close": the DISCONNECT packets come
    first) and does not reconnect; the server saw "server namespace
    disconnect" for all three.
    """
    server = sioServers(kind)
    facts = runNodeClient("server-disconnect", server, client, TRANSPORTS[transport])
    assert facts["otherReason"] == "io server disconnect"
    assert facts["echoAfterOther"] == ["still here"]
    assert (facts["mainReason"], facts["dynReason"]) == ("io server disconnect", "io server disconnect")
    assert facts["managerClose"] == ["forced close"]
    assert facts["reconnecting"] is False
    assert facts["skipReconnect"] is True
    assert facts["opens"] == 1
    if client == "v4":
        assert facts["active"] == [False, False, False]
    sids = facts["sids"]
    assert sorted(disconnections(facts["reasons"], sids.values())) == sorted(
        (sids[name], nsp, "server namespace disconnect", [sids[name]])
        for name, nsp in [("main", "/"), ("other", "/other"), ("dyn", "/dyn-x")]
    )
    server.checkAlive()


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_reconnect_after_transport_drop(sioServers, kind, client, transport):
    """
    C{drop-transport}: C{/} and C{/other} see "transport close", reconnect
    on their own over a new engine.io connection with new sids, not
    recovered (nothing received carried an offset), and echo again; the
    server saw "forced close" for both old sockets.
    """
    server = sioServers(kind)
    facts = runNodeClient("reconnect", server, client, TRANSPORTS[transport])
    assert facts["reasons"] == {"main": "transport close", "other": "transport close"}
    first, second = facts["first"], facts["second"]
    oldEngine, newEngine = facts["engineIds"]
    assert newEngine != oldEngine
    assert facts["opens"] == 2
    for name, nsp in [("main", "/"), ("other", "/other")]:
        assert first[name]["sid"] == namespaceSid(client, oldEngine, nsp, first[name]["sid"])
        assert second[name]["sid"] == namespaceSid(client, newEngine, nsp, second[name]["sid"])
        assert second[name]["sid"] != first[name]["sid"]
        assert (second[name]["nsp"], second[name]["recovered"]) == (nsp, False)
    assert facts["echoes"] == {"main": ["again main"], "other": ["again other"]}
    if client == "v4":
        assert facts["clientRecovered"] is False
        # a v4 client sends its pid when it reconnects (no offset: it has none)
        assert set(second["main"]["auth"]) == {"pid"}
    assert sorted(disconnections(facts["serverReasons"], [w["sid"] for w in first.values()])) == sorted(
        (w["sid"], w["nsp"], "forced close", [w["sid"]]) for w in first.values()
    )
    server.checkAlive()


@pytest.mark.parametrize("transport", list(TRANSPORTS))
def test_connection_state_recovery(sioServers, kind, transport):
    """
    socket.io-client v4 only (v2 predates connection state recovery): A
    joins a room and receives one broadcast, so it has an offset; the server
    drops A's transport ("transport close"); B sends three messages to the
    room (one with a Buffer); A reconnects and is recovered: same sid,
    C{recovered}, still in the room, the three missed messages first and in
    order, then live ones; the server saw "forced close" with A's rooms.
    """
    server = sioServers(kind)
    facts = runNodeClient("recovery", server, "v4", TRANSPORTS[transport])
    sid, room = facts["before"]["sid"], facts["room"]
    assert facts["join"] is True
    assert facts["hadOffset"] is True
    assert facts["dropReason"] == "transport close"
    assert facts["reconnected"] == {"sid": sid, "recovered": True}
    after = facts["after"]
    assert (after["sid"], after["nsp"], after["recovered"]) == (sid, "/", True)
    assert set(after["auth"]) == {"pid", "offset"}
    assert facts["roomsAfter"] == sorted([sid, room])
    assert facts["events"] == [
        event("msg", 0, "before"),
        event("msg", 1, "missed"),
        event("msg", 2, {"bin": b"\x02"}),
        event("msg", 3, "missed"),
        event("msg", 4, "live"),
    ]
    assert facts["offsets"] == {"count": 5, "distinct": 5, "missing": []}
    assert disconnections(facts["serverReasons"], [sid]) == [(sid, "/", "forced close", sorted([sid, room]))]
    server.checkAlive()
