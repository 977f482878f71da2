"""
autobahn-python's Twisted client against rtproto's server, both in the
test process on the same reactor.
"""

import pytest
import pytest_twisted

from rtproto.websocket import WebSocketOptions

from .autobahn_support import AutobahnRefused, openAutobahnClient
from .peers.payloads import ECHO_CASES, makePayload, randomBinary, repeated
from .support import BIG_LIMITS, command, expectClosed, within

pytestmark = pytest.mark.interop

COMPRESSION = [pytest.param(True, id="deflate"), pytest.param(False, id="plain")]


@pytest.fixture
def autobahnClient(reactor, cleanup):
    """
    A factory: C{await autobahnClient(server, path, **options)} opens an
    autobahn client to an rtproto L{ServerUnderTest}; dropped after the
    test if still up.
    """

    async def open(server, path: str, **kwargs):
        """
        Connect (see the fixture).
        """
        return await openAutobahnClient(reactor, server.url(path), server.portNumber, cleanup=cleanup, **kwargs)

    return open


async def echoAll(session, cases) -> "list[str]":
    """
    Send every case through an autobahn session and compare the echoes.
    """
    problems = []
    for name, spec in cases:
        message = makePayload(spec)
        session.send(message)
        got = await session.nextMessage(f"the echo of {name}")
        if type(got) is not type(message) or got != message:
            problems.append(f"{name}: sent {type(message).__name__}[{len(message)}], got {type(got).__name__}[{len(got)}]")
    return problems


@pytest.mark.parametrize("compression", COMPRESSION)
@pytest_twisted.ensureDeferred
async def test_echo(reactor, rtprotoServer, autobahnClient, compression):
    """
    Text and binary messages (empty, non-ASCII, 70 KB, 2 MB) come back
    intact with and without permessage-deflate (negotiated through
    autobahn's C{perMessageCompressionOffers}); a normal close is clean on
    both ends.
    """
    server = await rtprotoServer(WebSocketOptions(compression=compression, **BIG_LIMITS))
    session = await autobahnClient(server, "/echo", compression=compression)
    handler = await server.nextOpened()
    assert session.extensions == (["permessage-deflate"] if compression else [])
    assert handler.connection.extensions.startswith("permessage-deflate") == compression
    assert await echoAll(session, ECHO_CASES) == []
    session.protocol.sendClose(1000)
    assert await expectClosed(reactor, handler) == (1000, "", True)
    wasClean, code, _ = await session.whenClosed()
    assert (wasClean, code) == (True, 1000)


@pytest.mark.parametrize("compression", COMPRESSION)
@pytest_twisted.ensureDeferred
async def test_compressionOnTheWire(reactor, rtprotoServer, autobahnClient, compression):
    """
    The negotiated extension is really used both ways: a very compressible
    280 KB message, echoed three times, crosses the wire in a few KB.
    """
    server = await rtprotoServer(WebSocketOptions(compression=compression))
    session = await autobahnClient(server, "/echo", compression=compression)
    handler = await server.nextOpened()
    message = makePayload(repeated("spam and eggs ", 20000))
    for _ in range(3):
        session.send(message)
        assert await session.nextMessage() == message
    session.protocol.sendClose(1000)
    await expectClosed(reactor, handler)
    size, counter = len(message), server.counter
    if compression:
        assert counter.bytesIn < size // 10 and counter.bytesOut < size // 10, (counter.bytesIn, counter.bytesOut)
    else:
        assert counter.bytesIn > 3 * size and counter.bytesOut > 3 * size, (counter.bytesIn, counter.bytesOut)


@pytest.mark.parametrize(
    "offered, chosen",
    [(["chat", "superchat"], "superchat"), (["chat"], "chat"), (["other"], None), ([], None)],
    ids=["preferred", "only-one", "none-shared", "none-offered"],
)
@pytest_twisted.ensureDeferred
async def test_subprotocol(reactor, rtprotoServer, autobahnClient, offered, chosen):
    """
    The handler's choice of subprotocol is what autobahn ends up using.
    """
    server = await rtprotoServer()
    session = await autobahnClient(server, "/cmd", subprotocols=offered)
    handler = await server.nextOpened()
    assert session.subprotocol == chosen
    assert handler.connection.subprotocol == chosen
    session.protocol.sendClose(1000)
    await expectClosed(reactor, handler)


@pytest.mark.parametrize("path, status", [("/deny", 403), ("/deny-later", 403), ("/nowhere", 404)])
@pytest_twisted.ensureDeferred
async def test_handshakeRefused(reactor, rtprotoServer, autobahnClient, path, status):
    """
    A handler's C{ConnectionDeny(403, "nope")} (sync or from a Deferred),
    and an unknown path (404), fail autobahn's opening handshake with that
    status.
    """
    server = await rtprotoServer()
    with pytest.raises(AutobahnRefused) as caught:
        await autobahnClient(server, path)
    assert f"[{status}]" in caught.value.reason


@pytest_twisted.ensureDeferred
async def test_clientCloseCode(reactor, rtprotoServer, autobahnClient):
    """
    autobahn closes with 4001 "bye": the handler gets exactly that,
    cleanly, and autobahn gets 4001 echoed.
    """
    server = await rtprotoServer()
    session = await autobahnClient(server, "/cmd")
    handler = await server.nextOpened()
    session.protocol.sendClose(4001, "bye")
    assert await expectClosed(reactor, handler) == (4001, "bye", True)
    wasClean, code, _ = await session.whenClosed()
    assert (wasClean, code) == (True, 4001)


@pytest_twisted.ensureDeferred
async def test_serverCloseCode(reactor, rtprotoServer, autobahnClient):
    """
    The handler closes with 4002 "x": autobahn's C{onClose} gets 4002 "x",
    cleanly.  autobahn replies with 1000 (its default,
    C{echoCloseCodeReason=False}), which is what the handler reports.
    """
    server = await rtprotoServer()
    session = await autobahnClient(server, "/cmd")
    handler = await server.nextOpened()
    session.send(command(close=[4002, "x"]))
    assert await session.whenClosed() == (True, 4002, "x")
    assert await expectClosed(reactor, handler) == (1000, "", True)


@pytest.mark.parametrize(
    "compression, spec",
    [(True, repeated("a", 100 * 1024)), (False, repeated("a", 100 * 1024)), (False, randomBinary(64 * 1024 + 1))],
    ids=["deflated-text", "plain-text", "plain-binary"],
)
@pytest_twisted.ensureDeferred
async def test_oversizeMessage(reactor, rtprotoServer, autobahnClient, compression, spec):
    """
    A message over C{maxMessageSize} (after inflation, when compressed)
    closes the connection with 1009, seen by autobahn.
    """
    server = await rtprotoServer(WebSocketOptions(compression=compression, maxMessageSize=64 * 1024))
    session = await autobahnClient(server, "/cmd", compression=compression)
    handler = await server.nextOpened()
    session.send(makePayload(spec))
    _, code, _ = await session.whenClosed()
    assert code == 1009
    assert (await expectClosed(reactor, handler))[0] == 1009


@pytest_twisted.ensureDeferred
async def test_keepalive(reactor, rtprotoServer, autobahnClient):
    """
    The server's keep-alive pings are answered by autobahn; the connection
    stays usable.
    """
    server = await rtprotoServer(WebSocketOptions(pingInterval=0.05, pingTimeout=10))
    session = await autobahnClient(server, "/cmd")
    handler = await server.nextOpened()
    for i in range(3):
        await within(reactor, handler.pongs.get(), f"pong #{i + 1}")
    handler.connection.sendText("still here")
    assert await session.nextMessage() == "still here"
    session.protocol.sendClose(1000)
    assert await expectClosed(reactor, handler) == (1000, "", True)
