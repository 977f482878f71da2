"""
autobahn-python (Twisted flavour) peers for the interop tests, run in the
test process on pytest-twisted's reactor: a recording client
(L{openAutobahnClient}) and a server (L{AutobahnServer}) with the same
paths as C{peers/ws_server.py}.
"""

import json

import pytest

pytest.importorskip("autobahn.twisted.websocket")

from autobahn.twisted.websocket import (  # noqa: E402
    WebSocketClientFactory,
    WebSocketClientProtocol,
    WebSocketServerFactory,
    WebSocketServerProtocol,
)
from autobahn.websocket.compress import (  # noqa: E402
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
    PerMessageDeflateResponse,
    PerMessageDeflateResponseAccept,
)
from autobahn.websocket.types import ConnectionDeny  # noqa: E402
from twisted.internet import defer  # noqa: E402
from twisted.internet.defer import DeferredQueue  # noqa: E402

from .peers.payloads import makePayload  # noqa: E402
from .support import HOST, PREFERENCE, OneShot, within  # noqa: E402


class AutobahnRefused(Exception):
    """
    The autobahn client's connection closed before it opened.

    @ivar reason: autobahn's explanation (it names the HTTP status, as in
        C{"WebSocket connection upgrade failed [403]: nope"}).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _toMessage(payload: bytes, isBinary: bool) -> "str | bytes":
    """
    An autobahn payload as str (text) or bytes (binary).
    """
    return payload if isBinary else payload.decode("utf-8")


def _sendMessage(protocol, message) -> None:
    """
    Send str as text and bytes as binary through an autobahn protocol.
    """
    if isinstance(message, str):
        protocol.sendMessage(message.encode("utf-8"), isBinary=False)
    else:
        protocol.sendMessage(message, isBinary=True)


def _extensionNames(protocol) -> "list[str]":
    """
    The names of the extensions an autobahn protocol has in use.
    """
    return [ext.EXTENSION_NAME for ext in protocol.websocket_extensions_in_use or ()]


# ---------------------------------------------------------------------------
# client


class AutobahnSession:
    """
    What one autobahn client connection saw.

    @ivar protocol: the autobahn protocol once open.
    @ivar messages: received messages (str for text, bytes for binary).
    @ivar pongs: received pong payloads.
    """

    def __init__(self, reactor) -> None:
        self.reactor = reactor
        self.protocol = None
        self.messages: DeferredQueue = DeferredQueue()
        self.pongs: DeferredQueue = DeferredQueue()
        self.opened = OneShot()
        self.closed = OneShot()

    @property
    def subprotocol(self) -> "str | None":
        """
        The subprotocol autobahn agreed on.
        """
        return self.protocol.websocket_protocol_in_use

    @property
    def extensions(self) -> "list[str]":
        """
        The names of the extensions autobahn has in use.
        """
        return _extensionNames(self.protocol)

    def send(self, message) -> None:
        """
        Send text (str) or binary (bytes).
        """
        _sendMessage(self.protocol, message)

    async def nextMessage(self, what: str = "a message"):
        """
        The next received message (bounded wait).
        """
        return await within(self.reactor, self.messages.get(), f"{what} at the autobahn client")

    async def whenClosed(self):
        """
        C{(wasClean, code, reason)} as autobahn's C{onClose} got them.
        """
        return await within(self.reactor, self.closed.wait(), "the autobahn client to close")

    def abort(self) -> None:
        """
        Drop the connection if it is still up (cleanup).
        """
        if self.protocol is not None and not self.closed.fired:
            self.protocol.dropConnection(abort=True)


class _ClientProtocol(WebSocketClientProtocol):
    """
    Feeds autobahn's callbacks into the factory's L{AutobahnSession}.
    """

    def onOpen(self) -> None:
        """
        Announce the open connection.
        """
        session = self.factory.session
        session.protocol = self
        session.opened.fire(self)

    def onMessage(self, payload, isBinary) -> None:
        """
        Record a message.
        """
        self.factory.session.messages.put(_toMessage(payload, isBinary))

    def onPong(self, payload) -> None:
        """
        Record a pong.
        """
        self.factory.session.pongs.put(payload)

    def onClose(self, wasClean, code, reason) -> None:
        """
        Record the close; a close before the open is a refusal.
        """
        session = self.factory.session
        session.closed.fire((wasClean, code, reason))
        session.opened.fire(AutobahnRefused(str(reason)))


class _ClientFactory(WebSocketClientFactory):
    """
    One factory per connection, holding its session.
    """

    protocol = _ClientProtocol

    def clientConnectionFailed(self, connector, reason) -> None:
        """
        The TCP connection failed: the open fails.
        """
        self.session.opened.fire(AutobahnRefused(reason.getErrorMessage()))


async def openAutobahnClient(reactor, url: str, port: int, compression: bool = True, subprotocols=(), cleanup=None):
    """
    Connect an autobahn client to C{url} (on 127.0.0.1:C{port}).

    @return: the open L{AutobahnSession}.
    @raise AutobahnRefused: the connection closed before opening.
    """
    factory = _ClientFactory(url, protocols=list(subprotocols) or None, reactor=reactor)
    options = dict(openHandshakeTimeout=20, closeHandshakeTimeout=20, autoPingInterval=0)
    if compression:
        options.update(
            perMessageCompressionOffers=[PerMessageDeflateOffer()],
            perMessageCompressionAccept=lambda response: (
                PerMessageDeflateResponseAccept(response) if isinstance(response, PerMessageDeflateResponse) else None
            ),
        )
    factory.setProtocolOptions(**options)
    session = factory.session = AutobahnSession(reactor)
    if cleanup is not None:
        cleanup(session.abort)
    reactor.connectTCP(HOST, port, factory, timeout=20)
    result = await within(reactor, session.opened.wait(), f"the autobahn client to open {url}")
    if isinstance(result, AutobahnRefused):
        raise result
    return session


# ---------------------------------------------------------------------------
# server


class _ServerProtocol(WebSocketServerProtocol):
    """
    The autobahn server's connections: C{/echo} echoes, C{/cmd} obeys JSON
    commands (C{{"close": [code, reason]}}, C{{"send": description}}),
    C{/deny403} and C{/deny404} refuse the handshake.

    @ivar closed: fires with C{(wasClean, code, reason)}.
    """

    path = None

    def __init__(self) -> None:
        super().__init__()
        self.closed = OneShot()

    def onConnect(self, request):
        """
        Refuse the C{/deny*} paths; pick a subprotocol from L{PREFERENCE}.
        """
        self.path = request.path
        if request.path == "/deny403":
            raise ConnectionDeny(403, "nope")
        if request.path == "/deny404":
            raise ConnectionDeny(404, "no such thing")
        for name in PREFERENCE:
            if name in request.protocols:
                return name
        return None

    def onOpen(self) -> None:
        """
        Announce the open connection.
        """
        self.factory.opened.put(self)

    def onMessage(self, payload, isBinary) -> None:
        """
        Echo, or obey a command.
        """
        if self.path != "/cmd":
            self.sendMessage(payload, isBinary)
            return
        command = json.loads(payload.decode("utf-8"))
        if "close" in command:
            code, reason = command["close"]
            self.sendClose(code, reason)
        elif "send" in command:
            _sendMessage(self, makePayload(command["send"]))

    def onClose(self, wasClean, code, reason) -> None:
        """
        Record the close.
        """
        self.closed.fire((wasClean, code, reason))

    @property
    def extensions(self) -> "list[str]":
        """
        The names of the extensions autobahn has in use.
        """
        return _extensionNames(self)


class AutobahnServer:
    """
    An autobahn server on an ephemeral port of 127.0.0.1.

    @ivar opened: a queue of the server protocols whose connections opened.
    """

    def __init__(self, reactor, compression: bool = True) -> None:
        self.reactor = reactor
        self.factory = WebSocketServerFactory(reactor=reactor)
        self.factory.protocol = _ServerProtocol
        self.factory.opened = self.opened = DeferredQueue()
        options = dict(openHandshakeTimeout=20, closeHandshakeTimeout=20, autoPingInterval=0)
        if compression:

            def accept(offers):
                """
                Accept the client's first permessage-deflate offer.
                """
                for offer in offers:
                    if isinstance(offer, PerMessageDeflateOffer):
                        return PerMessageDeflateOfferAccept(offer)
                return None

            options["perMessageCompressionAccept"] = accept
        self.factory.setProtocolOptions(**options)
        self.port = reactor.listenTCP(0, self.factory, interface=HOST)
        self.portNumber = self.port.getHost().port
        self._all = []

    def url(self, path: str) -> str:
        """
        The URL of C{path} on this server.
        """
        return f"ws://{HOST}:{self.portNumber}{path}"

    async def nextOpened(self):
        """
        The protocol of the next connection to open (bounded wait).
        """
        protocol = await within(self.reactor, self.opened.get(), "a connection to open on the autobahn server")
        self._all.append(protocol)
        return protocol

    async def whenClosed(self, protocol):
        """
        C{(wasClean, code, reason)} of a server connection (bounded wait).
        """
        return await within(self.reactor, protocol.closed.wait(), "the autobahn server connection to close")

    async def stop(self) -> None:
        """
        Drop connections still open and stop listening.
        """
        while self.opened.pending:
            self._all.append(self.opened.pending.pop())
        for protocol in self._all:
            if not protocol.closed.fired:
                protocol.dropConnection(abort=True)
                await self.whenClosed(protocol)
        await within(self.reactor, defer.maybeDeferred(self.port.stopListening), "the autobahn server to stop", 10.0)
