"""
rtproto's client against rtproto's server, over plain TCP (C{ws://}) and
TLS (C{wss://}, with a self-signed certificate made at test time, served
through a C{ssl:} endpoint string and trusted explicitly by the client).
"""

import pytest
import pytest_twisted

from rtproto.errors import HandshakeError
from rtproto.websocket import WebSocketOptions

from .peers.payloads import ECHO_CASES, makePayload, randomBinary, repeated
from .support import BIG_LIMITS, HOST, command, echoAll, expectClosed, openClient, within

pytestmark = pytest.mark.interop

COMPRESSION = [pytest.param(True, id="deflate"), pytest.param(False, id="plain")]


def tlsEndpoint(tlsFiles) -> str:
    """
    The C{ssl:} server endpoint string serving the test certificate on an
    ephemeral port of 127.0.0.1.
    """
    from twisted.internet.endpoints import quoteStringArgument

    keyPath, certPath, _ = tlsFiles
    return (
        f"ssl:0:interface={HOST}:privateKey={quoteStringArgument(str(keyPath))}"
        f":certKey={quoteStringArgument(str(certPath))}"
    )


class Ends:
    """
    A started rtproto server and how to reach it: its L{ServerUnderTest},
    the URL scheme, and the client's keyword arguments for C{connect}.
    """

    def __init__(self, server, scheme: str, connectArgs: dict) -> None:
        self.server = server
        self.scheme = scheme
        self.connectArgs = connectArgs

    def url(self, path: str) -> str:
        """
        The URL of C{path}.
        """
        return self.server.url(path, self.scheme)


@pytest.fixture(params=["ws", "wss"])
def startServer(request, rtprotoServer, tlsFiles):
    """
    A factory, once per scheme: C{await startServer(**options)} starts an
    rtproto server with those L{WebSocketOptions} and returns its L{Ends}.
    """

    async def start(**options):
        """
        Start the server (see the fixture).
        """
        opts = WebSocketOptions(**options)
        if request.param == "ws":
            return Ends(await rtprotoServer(opts), "ws", {})
        from twisted.internet.ssl import Certificate, optionsForClientTLS

        server = await rtprotoServer(opts, tlsEndpoint=tlsEndpoint(tlsFiles))
        trust = optionsForClientTLS(HOST, trustRoot=Certificate.loadPEM(tlsFiles[2]))
        return Ends(server, "wss", {"contextFactory": trust})

    return start


@pytest.fixture
def client(reactor, cleanup):
    """
    A factory: C{await client(ends, path, **options)} connects rtproto's
    client to a started server; aborted after the test if still open.
    """

    async def open(ends: Ends, path: str, **options):
        """
        Connect (see the fixture).
        """
        connection, handler = await openClient(reactor, ends.url(path), WebSocketOptions(**options), **ends.connectArgs)

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
async def test_echo(reactor, startServer, client, compression):
    """
    Text and binary messages (empty, non-ASCII, 70 KB, 2 MB) come back
    intact; both ends agree on permessage-deflate; the server knows whether
    the connection is secure; a normal close is clean on both ends.
    """
    ends = await startServer(compression=compression, **BIG_LIMITS)
    connection, handler = await client(ends, "/echo", compression=compression, **BIG_LIMITS)
    served = await ends.server.nextOpened()
    assert connection.extensions.startswith("permessage-deflate") == compression
    assert served.connection.extensions.startswith("permessage-deflate") == compression
    assert served.connection.request.isSecure == (ends.scheme == "wss")
    assert await echoAll(reactor, connection, handler, ECHO_CASES) == []
    connection.close(1000)
    assert await expectClosed(reactor, handler) == (1000, "", True)
    assert await expectClosed(reactor, served) == (1000, "", True)


@pytest.mark.parametrize("initiator", ["client", "server"])
@pytest_twisted.ensureDeferred
async def test_closeCompletesPromptly(reactor, startServer, client, initiator):
    """
    After the closing handshake the server drops the TCP connection at once
    (RFC 6455 section 7.1.1), over TLS as over plain TCP: both handlers hear
    of the close within 5 s, far below a C{closeTimeout} of 60 s.
    """
    ends = await startServer(closeTimeout=60.0)
    connection, handler = await client(ends, "/cmd", closeTimeout=60.0)
    served = await ends.server.nextOpened()
    if initiator == "client":
        connection.close(1000)
    else:
        served.connection.close(1000)
    assert await within(reactor, served.whenClosed(), "the server connection to close", 5.0) == (1000, "", True)
    assert await within(reactor, handler.whenClosed(), "the client connection to close", 5.0) == (1000, "", True)


@pytest_twisted.ensureDeferred
async def test_compressionOnTheWire(reactor, rtprotoServer, client):
    """
    Our client's compression really is used: three echoes of a very
    compressible 280 KB message cross the wire in a few KB.
    """
    server = await rtprotoServer()
    connection, handler = await client(Ends(server, "ws", {}), "/echo")
    served = await server.nextOpened()
    spec = repeated("spam and eggs ", 20000)
    assert await echoAll(reactor, connection, handler, [("m", spec)] * 3) == []
    connection.close()
    await expectClosed(reactor, served)
    size = len(makePayload(spec))
    assert server.counter.bytesIn < size // 10 and server.counter.bytesOut < size // 10


@pytest.mark.parametrize(
    "offered, chosen",
    [(("chat", "superchat"), "superchat"), (("chat",), "chat"), (("other",), None), ((), None)],
    ids=["preferred", "only-one", "none-shared", "none-offered"],
)
@pytest_twisted.ensureDeferred
async def test_subprotocol(reactor, startServer, client, offered, chosen):
    """
    The server handler's choice is C{.subprotocol} on both ends.
    """
    ends = await startServer()
    connection, handler = await client(ends, "/cmd", subprotocols=offered)
    served = await ends.server.nextOpened()
    assert connection.subprotocol == chosen
    assert served.connection.subprotocol == chosen
    connection.close()
    await expectClosed(reactor, handler)


@pytest.mark.parametrize("path, status", [("/deny", 403), ("/deny-later", 403), ("/nowhere", 404)])
@pytest_twisted.ensureDeferred
async def test_handshakeRefused(reactor, startServer, path, status):
    """
    A handler's C{ConnectionDeny(403, "nope")} (sync or from a Deferred)
    and an unknown path make C{connect()} fail with a L{HandshakeError}
    carrying the status.
    """
    ends = await startServer()
    with pytest.raises(HandshakeError) as caught:
        await openClient(reactor, ends.url(path), **ends.connectArgs)
    assert caught.value.status == status


@pytest_twisted.ensureDeferred
async def test_clientCloseCode(reactor, startServer, client):
    """
    The client closes with 4001 "bye": the server handler gets exactly
    that, and the client the echoed code, both cleanly.
    """
    ends = await startServer()
    connection, handler = await client(ends, "/cmd")
    served = await ends.server.nextOpened()
    connection.close(4001, "bye")
    assert await expectClosed(reactor, served) == (4001, "bye", True)
    code, _, wasClean = await expectClosed(reactor, handler)
    assert (code, wasClean) == (4001, True)


@pytest_twisted.ensureDeferred
async def test_serverCloseCode(reactor, startServer, client):
    """
    The server handler closes with 4002 "x": the client handler gets
    exactly that, and the server the echoed code, both cleanly.
    """
    ends = await startServer()
    connection, handler = await client(ends, "/cmd")
    served = await ends.server.nextOpened()
    connection.sendText(command(close=[4002, "x"]))
    assert await expectClosed(reactor, handler) == (4002, "x", True)
    code, _, wasClean = await expectClosed(reactor, served)
    assert (code, wasClean) == (4002, True)


@pytest.mark.parametrize("compression", COMPRESSION)
@pytest_twisted.ensureDeferred
async def test_oversizeToServer(reactor, startServer, client, compression):
    """
    A message over the server's C{maxMessageSize} (after inflation) closes
    with 1009, which the client receives.
    """
    ends = await startServer(compression=compression, maxMessageSize=64 * 1024)
    connection, handler = await client(ends, "/cmd", compression=compression)
    served = await ends.server.nextOpened()
    connection.sendText(makePayload(repeated("a", 100 * 1024)))
    assert (await expectClosed(reactor, handler))[0] == 1009
    assert (await expectClosed(reactor, served))[0] == 1009


@pytest.mark.parametrize("compression", COMPRESSION)
@pytest_twisted.ensureDeferred
async def test_oversizeToClient(reactor, startServer, client, compression):
    """
    A message over the client's C{maxMessageSize} closes with 1009, which
    the server receives.
    """
    ends = await startServer(compression=compression)
    connection, handler = await client(ends, "/cmd", compression=compression, maxMessageSize=64 * 1024)
    served = await ends.server.nextOpened()
    connection.sendText(command(send=randomBinary(64 * 1024 + 1)))
    assert (await expectClosed(reactor, handler))[0] == 1009
    assert (await expectClosed(reactor, served))[0] == 1009


@pytest_twisted.ensureDeferred
async def test_keepaliveBothWays(reactor, startServer, client):
    """
    Both ends ping on a short C{pingInterval}; each gets pongs and the
    connection stays usable.
    """
    ends = await startServer(pingInterval=0.05, pingTimeout=10)
    connection, handler = await client(ends, "/cmd", pingInterval=0.05, pingTimeout=10)
    served = await ends.server.nextOpened()
    for i in range(3):
        await within(reactor, handler.pongs.get(), f"client pong #{i + 1}")
        await within(reactor, served.pongs.get(), f"server pong #{i + 1}")
    connection.sendText("still here")
    assert await within(reactor, served.messages.get(), "a message") == "still here"
    connection.close()
    assert await expectClosed(reactor, handler) == (1000, "", True)


@pytest_twisted.ensureDeferred
async def test_wssRefusesUntrustedCertificate(reactor, rtprotoServer, tlsFiles):
    """
    Without trusting our self-signed certificate (the default
    C{optionsForClientTLS} with the platform's roots), or trusting it for
    the wrong host name, C{connect()} fails with a L{HandshakeError} naming
    the TLS failure, and no server handler opens.
    """
    from twisted.internet.ssl import Certificate, optionsForClientTLS

    server = await rtprotoServer(tlsEndpoint=tlsEndpoint(tlsFiles))
    url = server.url("/echo", "wss")
    wrongName = optionsForClientTLS("example.com", trustRoot=Certificate.loadPEM(tlsFiles[2]))
    for connectArgs, why in [({}, "certificate verify failed"), ({"contextFactory": wrongName}, "example.com")]:
        with pytest.raises(HandshakeError) as caught:
            await openClient(reactor, url, **connectArgs)
        assert why in caught.value.reason
    assert server.opened.pending == []
