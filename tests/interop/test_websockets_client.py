"""
The C{websockets} (asyncio) client against rtproto's server.

The client runs in its own process (C{peers/ws_client.py}) following a
list of steps; the server runs here, in pytest-twisted's reactor, so the
tests can watch both ends: what the client reports, and what rtproto's
handlers saw.
"""

import pytest
import pytest_twisted

from rtproto.websocket import WebSocketOptions

from .peers.payloads import ECHO_CASES, randomBinary, repeated
from .support import BIG_LIMITS, command, eventsOf, expectClosed, within

pytestmark = pytest.mark.interop

COMPRESSION = [pytest.param(True, id="deflate"), pytest.param(False, id="plain")]


def echoProblems(events: "list[dict]", cases) -> "list[str]":
    """
    Compare the client's C{echo} results with the cases it was given.
    """
    results = {e["name"]: e for e in eventsOf(events, "op", "echo")}
    problems = []
    for name, spec in cases:
        r = results.get(name)
        if r is None:
            problems.append(f"{name}: no result")
        elif not r["equal"] or r["gotType"] != spec["type"]:
            problems.append(f"{name}: {r}")
    return problems


def only(events: "list[dict]", key: str, value: str) -> dict:
    """
    The one event whose C{key} is C{value}.
    """
    found = eventsOf(events, key, value)
    assert len(found) == 1, f"expected one {key}={value!r} in {events!r}"
    return found[0]


@pytest.mark.parametrize("compression", COMPRESSION)
@pytest_twisted.ensureDeferred
async def test_echo(reactor, rtprotoServer, runWsClient, compression):
    """
    Text and binary messages (empty, non-ASCII, 70 KB, 2 MB) come back
    intact and of the same type, with and without permessage-deflate; a
    ping is answered; a normal close is echoed with 1000.
    """
    server = await rtprotoServer(WebSocketOptions(compression=compression, **BIG_LIMITS))
    steps = [{"op": "echo", "name": name, "payload": spec} for name, spec in ECHO_CASES]
    steps.append({"op": "ping"})
    peer = runWsClient(server.url("/echo"), steps, compression=compression)
    handler = await server.nextOpened()
    events = await peer.finished()
    assert "error" not in [e.get("event") for e in events], peer.describe()
    assert echoProblems(events, ECHO_CASES) == []
    assert only(events, "op", "ping")["ok"]
    opened = only(events, "event", "open")
    assert opened["extensions"] == (["permessage-deflate"] if compression else [])
    assert only(events, "event", "end")["code"] == 1000
    assert await expectClosed(reactor, handler) == (1000, "", True)


@pytest.mark.parametrize(
    "clientCompression, serverCompression",
    [(True, True), (True, False), (False, True), (False, False)],
    ids=["both", "client-only", "server-only", "neither"],
)
@pytest_twisted.ensureDeferred
async def test_extensionNegotiation(reactor, rtprotoServer, runWsClient, clientCompression, serverCompression):
    """
    permessage-deflate is in use exactly when the client offers it and the
    server enables it; both ends agree on that.
    """
    server = await rtprotoServer(WebSocketOptions(compression=serverCompression))
    spec = repeated("negotiate ", 500)
    peer = runWsClient(server.url("/echo"), [{"op": "echo", "name": "x", "payload": spec}], compression=clientCompression)
    handler = await server.nextOpened()
    events = await peer.finished()
    agreed = clientCompression and serverCompression
    assert only(events, "event", "open")["extensions"] == (["permessage-deflate"] if agreed else [])
    assert handler.connection.extensions.startswith("permessage-deflate") == agreed
    assert echoProblems(events, [("x", spec)]) == []
    await expectClosed(reactor, handler)


@pytest.mark.parametrize("compression", COMPRESSION)
@pytest_twisted.ensureDeferred
async def test_compressionOnTheWire(reactor, rtprotoServer, runWsClient, compression):
    """
    The negotiated extension is really used, both ways: three echoes of a
    very compressible 280 KB message cross the wire in a few KB with
    permessage-deflate, and in full without.
    """
    server = await rtprotoServer(WebSocketOptions(compression=compression))
    spec = repeated("spam and eggs ", 20000)
    size = 14 * 20000
    steps = [{"op": "echo", "name": f"m{i}", "payload": spec} for i in range(3)]
    peer = runWsClient(server.url("/echo"), steps, compression=compression)
    handler = await server.nextOpened()
    events = await peer.finished()
    assert echoProblems(events, [(f"m{i}", spec) for i in range(3)]) == []
    await expectClosed(reactor, handler)
    counter = server.counter
    if compression:
        assert counter.bytesIn < size // 10 and counter.bytesOut < size // 10, (counter.bytesIn, counter.bytesOut)
    else:
        assert counter.bytesIn > 3 * size and counter.bytesOut > 3 * size, (counter.bytesIn, counter.bytesOut)


@pytest.mark.parametrize(
    "offered, chosen",
    [
        (["chat", "superchat"], "superchat"),
        (["chat"], "chat"),
        (["other"], None),
        ([], None),
    ],
    ids=["preferred", "only-one", "none-shared", "none-offered"],
)
@pytest_twisted.ensureDeferred
async def test_subprotocol(reactor, rtprotoServer, runWsClient, offered, chosen):
    """
    The handler's C{handshake} picks the subprotocol from
    C{request.subprotocols}; the client and the server connection agree.
    """
    server = await rtprotoServer()
    peer = runWsClient(server.url("/cmd"), subprotocols=offered)
    handler = await server.nextOpened()
    events = await peer.finished()
    assert only(events, "event", "open")["subprotocol"] == chosen
    assert handler.connection.subprotocol == chosen
    await expectClosed(reactor, handler)


@pytest.mark.parametrize("path", ["/deny", "/deny-later"])
@pytest_twisted.ensureDeferred
async def test_handshakeDenied(reactor, rtprotoServer, runWsClient, path):
    """
    A handler raising (or failing its Deferred with) C{ConnectionDeny(403,
    "nope")} makes the client fail with HTTP 403.
    """
    server = await rtprotoServer()
    events = await runWsClient(server.url(path)).finished()
    failed = only(events, "event", "connectFailed")
    assert (failed["error"], failed["status"]) == ("InvalidStatus", 403)
    assert "nope" in failed["body"]


@pytest_twisted.ensureDeferred
async def test_unknownPath(reactor, rtprotoServer, runWsClient):
    """
    A path with no handler answers 404.
    """
    server = await rtprotoServer()
    events = await runWsClient(server.url("/nowhere")).finished()
    failed = only(events, "event", "connectFailed")
    assert (failed["error"], failed["status"]) == ("InvalidStatus", 404)


@pytest_twisted.ensureDeferred
async def test_clientCloseCode(reactor, rtprotoServer, runWsClient):
    """
    The client closes with 4001 "bye": the handler gets exactly that,
    cleanly, and the client gets the code echoed.
    """
    server = await rtprotoServer()
    peer = runWsClient(server.url("/cmd"), [{"op": "close", "code": 4001, "reason": "bye"}])
    handler = await server.nextOpened()
    assert await expectClosed(reactor, handler) == (4001, "bye", True)
    events = await peer.finished()
    assert only(events, "op", "close")["code"] == 4001


@pytest_twisted.ensureDeferred
async def test_serverCloseCode(reactor, rtprotoServer, runWsClient):
    """
    The handler closes with 4002 "x": the client receives 4002 "x", and the
    handler's close is clean.
    """
    server = await rtprotoServer()
    steps = [{"op": "send", "text": command(close=[4002, "x"])}, {"op": "waitClose"}]
    peer = runWsClient(server.url("/cmd"), steps)
    handler = await server.nextOpened()
    events = await peer.finished()
    closed = only(events, "op", "waitClose")
    assert closed["rcvd"] == [4002, "x"], events
    code, reason, wasClean = await expectClosed(reactor, handler)
    assert (code, wasClean) == (4002, True)


@pytest.mark.parametrize("compression", COMPRESSION)
@pytest_twisted.ensureDeferred
async def test_oversizeMessage(reactor, rtprotoServer, runWsClient, compression):
    """
    A message over the server's C{maxMessageSize} closes the connection
    with 1009, seen by the client.  With permessage-deflate the message is
    tiny on the wire: the limit applies after inflation.
    """
    options = WebSocketOptions(compression=compression, maxMessageSize=64 * 1024)
    server = await rtprotoServer(options)
    steps = [{"op": "send", "payload": repeated("a", 100 * 1024)}, {"op": "waitClose"}]
    peer = runWsClient(server.url("/cmd"), steps, compression=compression)
    handler = await server.nextOpened()
    events = await peer.finished()
    closed = only(events, "op", "waitClose")
    assert closed["rcvd"] is not None and closed["rcvd"][0] == 1009, events
    code, _, _ = await expectClosed(reactor, handler)
    assert code == 1009


@pytest_twisted.ensureDeferred
async def test_oversizeBinaryFrame(reactor, rtprotoServer, runWsClient):
    """
    An incompressible binary message over both the message and the frame
    limit also closes with 1009.
    """
    options = WebSocketOptions(maxMessageSize=64 * 1024, maxFrameSize=64 * 1024)
    server = await rtprotoServer(options)
    steps = [{"op": "send", "payload": randomBinary(64 * 1024 + 1)}, {"op": "waitClose"}]
    peer = runWsClient(server.url("/cmd"), steps)
    await server.nextOpened()
    events = await peer.finished()
    assert only(events, "op", "waitClose")["rcvd"][0] == 1009, events


@pytest_twisted.ensureDeferred
async def test_keepalive(reactor, rtprotoServer, runWsClient):
    """
    With a short C{pingInterval} the server pings; the client's pongs reach
    the handler and the connection stays usable.
    """
    server = await rtprotoServer(WebSocketOptions(pingInterval=0.05, pingTimeout=10))
    peer = runWsClient(server.url("/cmd"), [{"op": "recv"}])
    handler = await server.nextOpened()
    for i in range(3):
        await within(reactor, handler.pongs.get(), f"pong #{i + 1}")
    handler.connection.sendText("done")
    events = await peer.finished()
    assert only(events, "op", "recv")["text"] == "done"
    assert await expectClosed(reactor, handler) == (1000, "", True)
