"""
Fakes for testing L{rtproto.interfaces.IWebSocketHandler}s without a
network: L{FakeHandshakeRequest}, L{FakeWebSocketConnection} and
L{openWebSocket}, which runs a handler's handshake hook and opens it.
"""

from inspect import iscoroutine

from twisted.internet.defer import Deferred, maybeDeferred
from zope.interface import implementer

from rtproto.errors import UsageError
from rtproto.interfaces import IHandshakeRequest, IWebSocketConnection
from rtproto.testing._common import NEW_APP, appOf, fakePeer, makeArgs, makeHeaders, makeUri, toBytes
from rtproto.websocket._frames import OP_BINARY

#: The close code a handler sees when the peer closed without one.
CLOSE_NO_STATUS = 1005
#: The close code a handler sees when the TCP connection dropped.
CLOSE_ABNORMAL = 1006


@implementer(IHandshakeRequest)
class FakeHandshakeRequest:
    """
    An opening handshake request, made from friendly arguments.

    @ivar path: the path, L{bytes}.
    @ivar args: the query arguments, L{bytes} to a L{list} of L{bytes}.
    @ivar headers: a L{twisted.web.http_headers.Headers}.
    @ivar subprotocols: the subprotocols the client offers, a L{list} of L{str}.
    """

    def __init__(self, path="/", args=None, headers=None, subprotocols=(), origin=None, peer=None, isSecure=False):
        """
        @param path: L{str} or L{bytes}.
        @param args: a L{dict}; keys and values L{str} or L{bytes}, values
            single or in a list (C{{"token": "s3cret"}}).
        @param headers: a L{dict} (name to value or values) or L{Headers}.
        @param peer: an C{IAddress}; 127.0.0.1 by default.
        """
        self.path = toBytes(path)
        self.args = makeArgs(args)
        self.uri = makeUri(self.path, self.args)
        self.headers = makeHeaders(headers)
        self.subprotocols = list(subprotocols)
        self.origin = origin
        self.peer = peer if peer is not None else fakePeer()
        self.isSecure = isSecure

    def __repr__(self) -> str:
        return f"<FakeHandshakeRequest {self.uri!r} {self.subprotocols!r}>"


@implementer(IWebSocketConnection)
class FakeWebSocketConnection:
    """
    A connection that records what its handler sends, and delivers to the
    handler what a test says the peer sent.

    As on a real connection, sending once it is closed is ignored.  The
    handler's L{close} is recorded (C{closeCode}, C{closeReason}); its
    C{connectionClosed} comes when the test delivers the peer's answer
    with L{receiveClose} (or L{dropConnection}).

    @ivar handler: the handler, once opened (see L{openWebSocket}).
    @ivar sent: every message sent, in order: L{str} for text, L{bytes} for
        binary (prepared messages and finished fragmented ones included).
    @ivar fragments: C{(data, isBinary, final)} of each L{sendFragment}.
    @ivar pings: the payloads of the pings sent.
    @ivar closeCode: the code the handler closed with, or L{None}.
    @ivar closeReason: the reason it closed with, or L{None}.
    @ivar aborted: L{True} once the handler called L{abort}.
    @ivar readPauses: how many L{pauseReading}s are not undone yet
        (C{readingPaused} is whether any is).
    @ivar closedWith: the C{(code, reason, wasClean)} the handler was told,
        or L{None}.
    """

    def __init__(self, request=None, subprotocol=None, app=NEW_APP, extensions="", isClient=False):
        """
        @param app: the L{rtproto.tx.app.App} the handler sees; a new one by
            default, L{None} for a handler outside a site.
        """
        self.request = request if request is not None else FakeHandshakeRequest()
        self.subprotocol = subprotocol
        self.extensions = extensions
        self.isClient = isClient
        self.app = appOf(app)
        self.handler = None
        self.closed = False
        self.sent: list = []
        self.fragments: list = []
        self.pings: list = []
        self.closeCode = None
        self.closeReason = None
        self.aborted = False
        self.readPauses = 0
        self.closedWith = None
        self._streaming: list = []

    def __repr__(self) -> str:
        return f"<FakeWebSocketConnection {len(self.sent)} sent{' closed' if self.closed else ''}>"

    @property
    def texts(self) -> list:
        """
        The text messages sent, in order.
        """
        return [m for m in self.sent if isinstance(m, str)]

    @property
    def binaries(self) -> list:
        """
        The binary messages sent, in order.
        """
        return [m for m in self.sent if isinstance(m, bytes)]

    @property
    def readingPaused(self) -> bool:
        """
        Whether reading from the peer is paused.
        """
        return self.readPauses > 0

    # -- IWebSocketConnection ------------------------------------------------

    def sendText(self, text) -> None:
        """
        Record a text message.
        """
        if not isinstance(text, str):
            raise UsageError(f"sendText takes str, not {type(text).__name__}")
        if not self.closed:
            self.sent.append(text)

    def sendBinary(self, data) -> None:
        """
        Record a binary message.
        """
        if isinstance(data, str):
            raise UsageError("sendBinary takes bytes, not str")
        if not self.closed:
            self.sent.append(bytes(data))

    def sendFragment(self, data, isBinary=False, final=False) -> None:
        """
        Record a fragment; the message it ends goes to L{sent}.
        """
        if self.closed:
            return
        self.fragments.append((data, isBinary, final))
        self._streaming.append(data)
        if final:
            pieces, self._streaming = self._streaming, []
            first = self.fragments[-len(pieces)]
            if first[1]:
                self.sent.append(b"".join(toBytes(p) for p in pieces))
            else:
                self.sent.append("".join(p.decode("utf-8") if isinstance(p, bytes) else p for p in pieces))

    def sendPrepared(self, prepared) -> None:
        """
        Record a L{rtproto.websocket.PreparedMessage} as the message it
        carries.
        """
        if self.closed:
            return
        payload = prepared.payload
        self.sent.append(payload if prepared.opcode == OP_BINARY else payload.decode("utf-8"))

    def ping(self, payload=b"") -> None:
        """
        Record a ping.
        """
        if len(payload) > 125:
            raise UsageError("a ping carries at most 125 bytes")
        if not self.closed:
            self.pings.append(bytes(payload))

    def close(self, code=1000, reason="") -> None:
        """
        Record the handler's close (the first one counts).
        """
        if self.closed:
            return
        self.closed = True
        self.closeCode, self.closeReason = code, reason

    def abort(self) -> None:
        """
        Record the abort (the handler hears of it when the test calls
        L{dropConnection}, as the TCP connection goes).
        """
        self.aborted = True
        self.closed = True

    def pauseReading(self) -> None:
        """
        Count a pause.
        """
        self.readPauses += 1

    def resumeReading(self) -> None:
        """
        Undo one pause.
        """
        if self.readPauses:
            self.readPauses -= 1

    # -- what the peer does ----------------------------------------------------

    def _deliver(self, method, *args):
        if self.closedWith is not None:
            raise UsageError("the connection is gone: nothing more can arrive")
        result = method(*args)
        if iscoroutine(result):
            result = Deferred.fromCoroutine(result)
        if isinstance(result, Deferred) and not result.called:
            # As the server does: no more reading until the handler is done.
            self.pauseReading()

            def done(value):
                self.resumeReading()
                return value

            result.addBoth(done)
        return result

    def receiveText(self, text: str):
        """
        The peer sent a text message: call the handler's C{textReceived}.

        @return: what the handler returned (reading stays paused while a
            L{Deferred} it returned has not fired).
        """
        return self._deliver(self.handler.textReceived, text)

    def receiveBinary(self, data: bytes):
        """
        The peer sent a binary message: call C{binaryReceived}.
        """
        return self._deliver(self.handler.binaryReceived, bytes(data))

    def receivePong(self, payload: bytes = b""):
        """
        The peer answered a ping: call C{pongReceived}.
        """
        return self._deliver(self.handler.pongReceived, bytes(payload))

    def pauseWriting(self) -> None:
        """
        The peer stops reading: call the handler's C{writePaused}.
        """
        self.handler.writePaused()

    def resumeWriting(self) -> None:
        """
        The peer caught up: call C{writeResumed}.
        """
        self.handler.writeResumed()

    def receiveClose(self, code=None, reason="") -> None:
        """
        The peer's close frame: the closing handshake completes and the
        handler's C{connectionClosed} is called, cleanly.

        @param code: the peer's code; by default the handler's own (the
            peer's echo) if it closed first, else 1005 (none).
        """
        if code is None:
            code = self.closeCode if self.closeCode is not None else CLOSE_NO_STATUS
            if self.closeCode is not None and not reason:
                reason = self.closeReason or ""
        if not self.closed:
            self.closed = True
            self.closeCode, self.closeReason = code, reason
        self._tellClosed(code, reason, True)

    def dropConnection(self) -> None:
        """
        The TCP connection dropped: C{connectionClosed(1006, "", False)}.
        """
        self.closed = True
        self._tellClosed(CLOSE_ABNORMAL, "", False)

    def _tellClosed(self, code, reason, wasClean) -> None:
        if self.closedWith is not None:
            return
        self.closedWith = (code, reason, wasClean)
        if self.handler is not None:
            self.handler.connectionClosed(code, reason, wasClean)


def openWebSocket(handler, request=None, app=NEW_APP) -> Deferred:
    """
    Take C{handler} through the opening handshake as the server does: call
    its C{handshake(request)} hook, check the subprotocol it chose was
    offered, then call C{connectionOpened} with a L{FakeWebSocketConnection}.

    @param request: a L{FakeHandshakeRequest} (a plain one by default).
    @return: a L{Deferred} firing with the connection, or failing with the
        hook's L{rtproto.errors.ConnectionDeny} (or L{UsageError} for a
        subprotocol the client did not offer).  Use L{resultOf} to read it.
    """
    request = request if request is not None else FakeHandshakeRequest()

    def accepted(subprotocol):
        if subprotocol is not None and subprotocol not in request.subprotocols:
            raise UsageError(f"the handler chose subprotocol {subprotocol!r}, which the client did not offer")
        connection = FakeWebSocketConnection(request, subprotocol, app)
        connection.handler = handler
        handler.connectionOpened(connection)
        return connection

    return maybeDeferred(handler.handshake, request).addCallback(accepted)
