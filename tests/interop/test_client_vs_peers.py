"""
rtproto's client against peer servers: C{websockets} (asyncio, in its own
process, C{peers/ws_server.py}) and autobahn-python (Twisted, in this
process).  Both peers serve the same paths: C{/echo}, C{/cmd} (JSON
commands), C{/deny403} and C{/deny404}.
"""

import json

import pytest
import pytest_twisted

from rtproto.errors import HandshakeError
from rtproto.websocket import WebSocketOptions

from .autobahn_support import AutobahnServer
from .peers.payloads import ECHO_CASES, makePayload, randomBinary, repeated
from .support import BIG_LIMITS, echoAll, expectClosed, openClient, within

pytestmark = pytest.mark.interop

COMPRESSION = [pytest.param(True, id="deflate"), pytest.param(False, id="plain")]
PEERS = ["websockets", "autobahn"]


class WebsocketsPeer:
    """
    The C{websockets} server process, seen through its JSON events.
    """

    name = "websockets"
    # websockets echoes the close code and reason it received.
    echoesCloseReason = True

    def __init__(self, process, port: int) -> None:
        self.process = process
        self.port = port

    def url(self, path: str) -> str:
        """
        The URL of C{path}.
        """
        return f"ws://127.0.0.1:{self.port}{path}"

    async def opened(self) -> dict:
        """
        C{{"path", "subprotocol", "extensions"}} of the next connection.
        """
        event = await self.process.nextEvent("a connection to open")
        assert event["event"] == "opened", self.process.describe()
        return event

    async def closed(self) -> dict:
        """
        C{{"code", "reason"}} the server received for the next connection
        to close.
        """
        event = await self.process.nextEvent("a connection to close")
        assert event["event"] == "closed", self.process.describe()
        return event


class AutobahnPeer:
    """
    The in-process autobahn server, seen through the same methods.
    """

    name = "autobahn"
    # autobahn answers a close with 1000 and no reason by default.
    echoesCloseReason = False

    def __init__(self, server: AutobahnServer) -> None:
        self.server = server
        self._protocols = []

    def url(self, path: str) -> str:
        """
        The URL of C{path}.
        """
        return self.server.url(path)

    async def opened(self) -> dict:
        """
        C{{"path", "subprotocol", "extensions"}} of the next connection.
        """
        protocol = await self.server.nextOpened()
        self._protocols.append(protocol)
        return {"path": protocol.path, "subprotocol": protocol.websocket_protocol_in_use, "extensions": protocol.extensions}

    async def closed(self) -> dict:
        """
        C{{"code", "reason"}} autobahn's C{onClose} got for the oldest
        connection not yet reported closed.
        """
        protocol = self._protocols.pop(0)
        wasClean, code, reason = await self.server.whenClosed(protocol)
        return {"path": protocol.path, "code": code, "reason": reason, "wasClean": wasClean}


@pytest.fixture(params=PEERS)
def startPeer(request, reactor, cleanup, wsServer):
    """
    A factory, once per peer: C{await startPeer(compression=True)} starts
    that peer's server and returns its L{WebsocketsPeer}/L{AutobahnPeer}.
    """

    async def start(compression: bool = True):
        """
        Start the peer server (see the fixture).
        """
        if request.param == "websockets":
            process, port = await wsServer(compression=compression)
            return WebsocketsPeer(process, port)
        server = AutobahnServer(reactor, compression=compression)
        cleanup(server.stop)
        return AutobahnPeer(server)

    return start


@pytest.fixture
def client(reactor, cleanup):
    """
    A factory: C{await client(url, **options)} connects rtproto's client
    (see L{openClient}); aborted after the test if still open.
    """

    async def open(url: str, **options):
        """
        Connect (see the fixture).
        """
        connection, handler = await openClient(reactor, url, WebSocketOptions(**options))

        def abort():
            """
            Drop the connection if still open.
            """
            if not handler.isClosed:
                connection.abort()
                return within(reactor, handler.whenClosed(), "the aborted client to close", 10.0)

        cleanup(abort)
        return connection, handler

    return open


@pytest.mark.parametrize("compression", COMPRESSION)
@pytest_twisted.ensureDeferred
async def test_echo(reactor, startPeer, client, compression):
    """
    Text and binary messages (empty, non-ASCII, 70 KB, 2 MB) come back
    intact, with and without permessage-deflate; C{.extensions} says which;
    a normal close is clean on both ends.
    """
    peer = await startPeer(compression=compression)
    connection, handler = await client(peer.url("/echo"), compression=compression, **BIG_LIMITS)
    opened = await peer.opened()
    assert connection.extensions.startswith("permessage-deflate") == compression, connection.extensions
    assert opened["extensions"] == (["permessage-deflate"] if compression else [])
    assert await echoAll(reactor, connection, handler, ECHO_CASES) == []
    connection.close(1000)
    assert await expectClosed(reactor, handler) == (1000, "", True)
    assert (await peer.closed())["code"] == 1000


@pytest.mark.parametrize(
    "clientCompression, serverCompression",
    [(True, False), (False, True)],
    ids=["client-only", "server-only"],
)
@pytest_twisted.ensureDeferred
async def test_extensionDeclined(reactor, startPeer, client, clientCompression, serverCompression):
    """
    Without both sides wanting it, no extension is in use (C{.extensions}
    is empty) and messages still flow.
    """
    peer = await startPeer(compression=serverCompression)
    connection, handler = await client(peer.url("/echo"), compression=clientCompression)
    opened = await peer.opened()
    assert connection.extensions == ""
    assert opened["extensions"] == []
    assert await echoAll(reactor, connection, handler, [("x", repeated("abc", 1000))]) == []
    connection.close()
    await expectClosed(reactor, handler)


@pytest.mark.parametrize(
    "offered, chosen",
    [(("chat", "superchat"), "superchat"), (("chat",), "chat"), (("other",), None), ((), None)],
    ids=["preferred", "only-one", "none-shared", "none-offered"],
)
@pytest_twisted.ensureDeferred
async def test_subprotocol(reactor, startPeer, client, offered, chosen):
    """
    The peer's choice among the offered C{subprotocols} is C{.subprotocol}.
    """
    peer = await startPeer()
    connection, handler = await client(peer.url("/echo"), subprotocols=offered)
    opened = await peer.opened()
    assert connection.subprotocol == chosen
    assert opened["subprotocol"] == chosen
    connection.close()
    await expectClosed(reactor, handler)


@pytest.mark.parametrize("status", [403, 404])
@pytest_twisted.ensureDeferred
async def test_handshakeRefused(reactor, startPeer, status):
    """
    A peer answering the upgrade with 403 or 404 makes C{connect()} fail
    with a L{HandshakeError} whose C{.status} is that status.
    """
    peer = await startPeer()
    with pytest.raises(HandshakeError) as caught:
        await openClient(reactor, peer.url(f"/deny{status}"))
    assert caught.value.status == status


@pytest_twisted.ensureDeferred
async def test_clientCloseCode(reactor, startPeer, client):
    """
    We close with 4001 "bye": the peer receives exactly that; our handler
    gets the peer's clean reply.
    """
    peer = await startPeer()
    connection, handler = await client(peer.url("/cmd"))
    await peer.opened()
    connection.close(4001, "bye")
    closed = await peer.closed()
    assert (closed["code"], closed["reason"]) == (4001, "bye")
    expected = (4001, "bye", True) if peer.echoesCloseReason else (1000, "", True)
    assert await expectClosed(reactor, handler) == expected


@pytest_twisted.ensureDeferred
async def test_serverCloseCode(reactor, startPeer, client):
    """
    The peer closes with 4002 "x": our handler gets exactly that, cleanly,
    and the peer gets 4002 echoed.
    """
    peer = await startPeer()
    connection, handler = await client(peer.url("/cmd"))
    await peer.opened()
    connection.sendText(json.dumps({"close": [4002, "x"]}))
    assert await expectClosed(reactor, handler) == (4002, "x", True)
    assert (await peer.closed())["code"] == 4002


@pytest.mark.parametrize(
    "compression, spec",
    [(True, repeated("a", 100 * 1024)), (False, repeated("a", 100 * 1024)), (False, randomBinary(64 * 1024 + 1))],
    ids=["deflated-text", "plain-text", "plain-binary"],
)
@pytest_twisted.ensureDeferred
async def test_oversizeFromPeer(reactor, startPeer, client, compression, spec):
    """
    A message over our client's C{maxMessageSize} (after inflation) fails
    the connection with 1009, which the peer receives.
    """
    peer = await startPeer(compression=compression)
    connection, handler = await client(peer.url("/cmd"), compression=compression, maxMessageSize=64 * 1024)
    await peer.opened()
    connection.sendText(json.dumps({"send": spec}))
    code, _, wasClean = await expectClosed(reactor, handler)
    assert (code, wasClean) == (1009, False)
    assert (await peer.closed())["code"] == 1009


@pytest.mark.parametrize("compression", COMPRESSION)
@pytest_twisted.ensureDeferred
async def test_messageFromPeer(reactor, startPeer, client, compression):
    """
    A 2 MB message the peer sends on its own reaches our handler intact.
    """
    peer = await startPeer(compression=compression)
    connection, handler = await client(peer.url("/cmd"), compression=compression, **BIG_LIMITS)
    await peer.opened()
    spec = randomBinary(2 * 1024 * 1024, seed=9)
    connection.sendText(json.dumps({"send": spec}))
    got = await within(reactor, handler.messages.get(), "the peer's message")
    assert got == makePayload(spec)
    connection.close()
    await expectClosed(reactor, handler)
