"""
Fakes for testing L{rtproto.interfaces.IEngineIOHandler}s without a
network: L{FakeEngineIORequest}, L{FakeEngineIOSocket} and
L{openEngineIO}.
"""

from zope.interface import implementer

from rtproto.errors import UsageError
from rtproto.interfaces import IEngineIORequest, IEngineIOSocket
from rtproto.testing._common import NEW_APP, appOf, fakePeer, makeArgs, makeHeaders, toBytes


@implementer(IEngineIORequest)
class FakeEngineIORequest:
    """
    The HTTP request that opened a session, from friendly arguments (as
    for L{rtproto.testing.FakeHandshakeRequest}).
    """

    def __init__(self, path="/engine.io/", args=None, headers=None, peer=None, isSecure=False):
        self.path = toBytes(path)
        self.args = makeArgs(args)
        self.headers = makeHeaders(headers)
        self.peer = peer if peer is not None else fakePeer()
        self.isSecure = isSecure

    def __repr__(self) -> str:
        return f"<FakeEngineIORequest {self.path!r}>"


@implementer(IEngineIOSocket)
class FakeEngineIOSocket:
    """
    An engine.io session that records what its handler sends and delivers
    what a test says the client sent.

    @ivar handler: the handler, once opened (see L{openEngineIO}).
    @ivar sent: the messages sent (with C{send} or C{sendShared}), in
        order: L{str} or L{bytes}.
    @ivar closeReason: the reason the handler was given in
        C{connectionClosed}, or L{None}.
    """

    def __init__(self, request=None, sid="fake-sid", protocol=4, transport="polling", app=NEW_APP):
        """
        @param app: the L{rtproto.tx.app.App} the handler sees; a new one by
            default, L{None} for a handler outside a site.
        """
        self.request = request if request is not None else FakeEngineIORequest()
        self.sid = sid
        self.protocol = protocol
        self.transport = transport
        self.app = appOf(app)
        self.writable = True
        self.closed = False
        self.handler = None
        self.sent: list = []
        self.closeReason = None

    def __repr__(self) -> str:
        return f"<FakeEngineIOSocket {self.sid} {len(self.sent)} sent>"

    def send(self, data) -> None:
        """
        Record a message (ignored once closed).
        """
        if not isinstance(data, (str, bytes, bytearray, memoryview)):
            raise UsageError(f"engine.io messages are str or bytes, not {type(data).__name__}")
        if not self.closed:
            self.sent.append(data if isinstance(data, str) else bytes(data))

    def sendShared(self, data, cache) -> None:
        """
        Record a message sent to many sessions alike.
        """
        self.send(data)

    def close(self) -> None:
        """
        The handler closes the session: its C{connectionClosed("server
        close")} follows, as from the server.
        """
        if not self.closed:
            self._end("server close")

    # -- what the client does ------------------------------------------------

    def receive(self, data):
        """
        The client sent a message: call the handler's C{messageReceived}.
        """
        if self.closed:
            raise UsageError("the session is closed: nothing more can arrive")
        return self.handler.messageReceived(data)

    def upgrade(self, transport="websocket") -> None:
        """
        The client moved the session to C{transport}.
        """
        self.transport = transport
        self.handler.transportUpgraded(transport)

    def disconnect(self, reason="transport close") -> None:
        """
        The session ends for C{reason} (C{'transport close'}, C{'client
        close'}, C{'ping timeout'}...): the handler's C{connectionClosed}.
        """
        if not self.closed:
            self._end(reason)

    def _end(self, reason) -> None:
        self.closed = True
        self.closeReason = reason
        if self.handler is not None:
            self.handler.connectionClosed(reason)


def openEngineIO(handler, request=None, app=NEW_APP, protocol=4, transport="polling", sid="fake-sid"):
    """
    Open C{handler} on a new L{FakeEngineIOSocket} (its
    C{connectionOpened}), as the server does when a client connects.

    @return: the socket.
    """
    socket = FakeEngineIOSocket(request, sid, protocol, transport, app)
    socket.handler = handler
    handler.connectionOpened(socket)
    return socket
