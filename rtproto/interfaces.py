"""
The zope interfaces through which applications extend rtproto.

A WebSocket application is a I{handler}: one object per connection providing
L{IWebSocketHandler}, made by a I{handler factory} (any zero-argument
callable, usually the handler class).  rtproto gives the handler an
L{IWebSocketConnection} to send on.  A L{IHandlerPlugin} names a handler
factory so that the operator can mount it by name (C{--ws /chat=echo}); such
plugins are found with L{twisted.plugin.getPlugins} in L{rtproto.plugins}.
"""

from zope.interface import Attribute, Interface


class IHandshakeRequest(Interface):
    """
    What a WebSocket handler sees of an opening handshake request.
    """

    path = Attribute("The request path, L{bytes}, without the query string.")
    uri = Attribute("The full request URI (path and query), L{bytes}.")
    args = Attribute("Query arguments: L{dict} of L{bytes} to L{list} of L{bytes}.")
    headers = Attribute("The request headers, a L{twisted.web.http_headers.Headers}.")
    origin = Attribute("The C{Origin} header as L{str}, or L{None}.")
    subprotocols = Attribute("Subprotocols offered by the client, a L{list} of L{str}.")
    peer = Attribute("The peer's address, an L{twisted.internet.interfaces.IAddress}.")
    isSecure = Attribute("L{True} when the connection is over TLS.")


class IWebSocketConnection(Interface):
    """
    One open WebSocket connection, as its handler sees it.

    Sending after the connection has started closing is silently ignored:
    the peer could not receive it anyway.
    """

    request = Attribute("The L{IHandshakeRequest} of the opening handshake.")
    subprotocol = Attribute("The negotiated subprotocol (L{str}) or L{None}.")
    extensions = Attribute("The negotiated extensions, as a header value L{str}.")
    isClient = Attribute("L{True} on the client side of a connection.")
    closed = Attribute("L{True} once a close frame was sent or received.")
    app = Attribute(
        "The site's L{rtproto.tx.app.App} (its mounts, and topics to reach the other"
        " handlers through), or L{None} outside a site."
    )

    def sendText(text):
        """
        Send a text message.

        @type text: L{str}
        """

    def sendBinary(data):
        """
        Send a binary message.

        @type data: L{bytes}
        """

    def sendFragment(data, isBinary=False, final=False):
        """
        Send one fragment of a message streamed piece by piece.  The first
        fragment fixes the message type; control frames may go out between
        fragments; no other message may be sent until the C{final} one.
        """

    def sendPrepared(prepared):
        """
        Send a L{rtproto.websocket.PreparedMessage}: a message encoded (and
        compressed, where the connection allows) once for many connections.
        """

    def ping(payload=b""):
        """
        Send a ping (at most 125 bytes of payload).
        """

    def close(code=1000, reason=""):
        """
        Start the closing handshake.
        """

    def abort():
        """
        Drop the TCP connection at once, without a closing handshake.
        """

    def pauseReading():
        """
        Stop reading from the peer until L{resumeReading} (back-pressure
        towards a peer that sends faster than the handler can work).
        """

    def resumeReading():
        """
        Undo L{pauseReading}.
        """


class IWebSocketHandler(Interface):
    """
    The application side of one WebSocket connection (server or client).

    Subclass L{rtproto.websocket.WebSocketHandler}, which provides no-op
    versions of every method, rather than implementing this from scratch.
    """

    def handshake(request):
        """
        Called during the opening handshake, before the connection is
        accepted (server side only).

        @param request: the L{IHandshakeRequest}.
        @return: the chosen subprotocol (one of C{request.subprotocols}) or
            L{None} for none.
        @raise rtproto.errors.ConnectionDeny: to refuse the connection with
            an HTTP status.
        """

    def connectionOpened(connection):
        """
        The opening handshake succeeded.

        @param connection: the L{IWebSocketConnection} to send on.
        """

    def textReceived(text):
        """
        A whole text message arrived, as L{str}.

        May return a L{twisted.internet.defer.Deferred}: reading from the peer
        is paused until it fires (automatic back-pressure).
        """

    def binaryReceived(data):
        """
        A whole binary message arrived, as L{bytes}.  May return a
        L{Deferred} as L{textReceived} does.
        """

    def pongReceived(payload):
        """
        A pong frame arrived.
        """

    def writePaused():
        """
        The outgoing buffer is full: stop sending until L{writeResumed}.
        Sending on regardless is buffered up to the connection's write limit;
        past it the connection is dropped.
        """

    def writeResumed():
        """
        The outgoing buffer has drained.
        """

    def connectionClosed(code, reason, wasClean):
        """
        The connection is gone.

        @param code: the close code the peer sent (1005 when it sent none,
            1006 when the TCP connection dropped without a close frame).
        @param reason: the close reason, L{str}.
        @param wasClean: L{True} when the closing handshake completed.
        """


class IStreamingWebSocketHandler(IWebSocketHandler):
    """
    A handler that receives messages fragment by fragment instead of whole.

    A connection whose handler provides this interface never assembles
    messages: L{textReceived} and L{binaryReceived} are not called.
    """

    def messageStarted(isBinary):
        """
        A new message begins.
        """

    def fragmentReceived(data):
        """
        A piece of the current message: L{str} (validated UTF-8, decoded) for
        text, L{bytes} for binary.  Pieces follow the network, not the
        sender's frames.
        """

    def messageFinished():
        """
        The current message is complete.
        """


class IEngineIOSocket(Interface):
    """
    One engine.io session (one client), as its handler sees it.  It keeps
    its identity across the polling to WebSocket upgrade.

    Sending after the session closed is silently ignored.
    """

    sid = Attribute("The session id, L{str}.")
    protocol = Attribute("The engine.io protocol revision: C{3} or C{4}.")
    transport = Attribute("The current transport: C{'polling'} or C{'websocket'}.")
    request = Attribute("The L{IEngineIORequest} that opened the session.")
    closed = Attribute("L{True} once the session is closed.")
    app = Attribute(
        "The site's L{rtproto.tx.app.App} (its mounts, and topics to reach the other"
        " handlers through), or L{None} outside a site."
    )
    writable = Attribute(
        "L{True} when a message sent now goes out at once (a polling GET is"
        " waiting, or the WebSocket's peer keeps up)."
    )

    def send(data):
        """
        Send one message: L{str} arrives as a string, L{bytes} as binary.
        """

    def sendShared(data, cache):
        """
        Send a message that many sessions are sent alike (a broadcast):
        C{cache}, a L{dict} shared by those sends, keeps its encodings so
        that they are made once.
        """

    def close():
        """
        Close the session: the client is told (a close packet), then the
        transport is closed.
        """


class IEngineIORequest(Interface):
    """
    What an engine.io handler sees of the HTTP request that opened a session.
    """

    path = Attribute("The request path, L{bytes}, without the query string.")
    args = Attribute("Query arguments: L{dict} of L{bytes} to L{list} of L{bytes}.")
    headers = Attribute("The request headers, a L{twisted.web.http_headers.Headers}.")
    peer = Attribute("The peer's address, an L{twisted.internet.interfaces.IAddress}.")
    isSecure = Attribute("L{True} when the connection is over TLS.")


class IEngineIOHandler(Interface):
    """
    The application side of one engine.io session, made by a handler factory
    (a zero-argument callable) for each new session.

    Subclass L{rtproto.engineio.EngineIOHandler}, which provides no-op
    versions of every method.
    """

    def connectionOpened(socket):
        """
        The session is open; C{socket} is its L{IEngineIOSocket}.
        """

    def messageReceived(data):
        """
        The client sent a message: L{str} for a string, L{bytes} for binary.
        """

    def transportUpgraded(transport):
        """
        The session moved to another transport (C{'websocket'}).
        """

    def connectionClosed(reason):
        """
        The session is closed, for C{reason}: one of C{'transport close'}
        (the client went away), C{'client close'} (it sent a close packet),
        C{'server close'}, C{'ping timeout'}, C{'transport error'} (the
        client broke the protocol or a limit) or C{'buffer full'} (it did not
        read what we sent).
        """


class IHandlerPlugin(Interface):
    """
    A named handler that the operator can mount by name, found with
    L{twisted.plugin.getPlugins} in the L{rtproto.plugins} package.
    """

    name = Attribute("The name used on the command line, L{str}.")
    transport = Attribute(
        "Which transport it serves: C{'websocket'}, C{'engineio'}, C{'socketio'} or C{'sse'}."
    )
    description = Attribute("One line for C{--help} listings.")
    handlerFactory = Attribute("A zero-argument callable returning a new handler.")


class ISocketIOHandshake(Interface):
    """
    What a namespace handler sees of how a socket.io socket connected.
    """

    auth = Attribute(
        "The client's authentication payload, a L{dict} (protocol 5: the"
        " CONNECT packet's data; protocol 4: its namespace query string, parsed)."
    )
    query = Attribute("The engine.io request's query arguments: L{dict} of L{str} to L{str}.")
    headers = Attribute("The engine.io request's headers, a L{twisted.web.http_headers.Headers}.")
    peer = Attribute("The peer's address, an L{twisted.internet.interfaces.IAddress}.")
    isSecure = Attribute("L{True} when the connection is over TLS.")
    protocol = Attribute("The socket.io protocol revision: C{5} (v3/v4 clients) or C{4} (v2).")


class ISocket(Interface):
    """
    One client connected to one namespace (several may share one engine.io
    connection).
    """

    sid = Attribute("The socket id, L{str} (not the engine.io session id).")
    namespace = Attribute(
        "The L{rtproto.tx.socketio.Namespace} it is connected to: its C{name},"
        " C{sockets} (sid to socket), and broadcasts to its sockets (C{emit},"
        " C{to}, C{except_}, C{volatile}, C{timeout}, C{emitWithAck})."
    )
    broadcast = Attribute(
        "A broadcast to every other socket of the namespace, as C{to()} with no"
        " room: C{socket.broadcast.emit('event', ...)}."
    )
    handshake = Attribute("The L{ISocketIOHandshake}.")
    rooms = Attribute("The rooms it is in, a L{frozenset} of L{str} (its own sid among them).")
    connected = Attribute("L{True} until it disconnects.")
    recovered = Attribute("L{True} when connection state recovery restored it.")
    data = Attribute("A L{dict} for the application's own per-socket data (kept on recovery).")
    app = Attribute(
        "The site's L{rtproto.tx.app.App} (its mounts, and topics to reach the other"
        " handlers through), or L{None} outside a site."
    )

    def emit(event, *args):
        """
        Send an event to this client.
        """

    def emitWithAck(event, *args, timeout=None):
        """
        Send an event asking for an acknowledgement: a L{Deferred} firing
        with what the client answered, or failing with
        L{rtproto.errors.AckTimeout}.
        """

    def join(*rooms):
        """
        Enter rooms.
        """

    def leave(room):
        """
        Leave a room.
        """

    def to(*rooms):
        """
        A broadcast to C{rooms} that leaves this socket out.  The broadcast
        is chainable: C{.to(room)}, C{.except_(room)}, C{.volatile} (dropped
        for clients that cannot take it now), C{.timeout(seconds)}, then
        C{.emit(event, *args)} or C{.emitWithAck(event, *args)} (a
        L{Deferred} of every answer).
        """

    def onAny(listener):
        """
        Call C{listener(event, args)} for every event received, before its
        handler.
        """

    def offAny(listener):
        """
        Stop calling C{listener} for incoming events.
        """

    def onAnyOutgoing(listener):
        """
        Call C{listener(event, args)} for every event this socket emits (not
        for broadcasts, which are encoded once for everybody).
        """

    def offAnyOutgoing(listener):
        """
        Stop calling C{listener} for outgoing events.
        """

    def disconnect(close=False):
        """
        Disconnect from this namespace (C{close}: close the whole connection).
        """


class INamespaceHandler(Interface):
    """
    The application side of one socket connected to one namespace: one
    handler per socket, made by the namespace's handler factory, like a
    Twisted protocol per connection.  Events from the client call
    C{on_<event>} methods (see L{rtproto.socketio.NamespaceHandler}).
    """

    def authorize(socket):
        """
        Decide whether C{socket} may connect, before it does: return
        (or fire a L{Deferred} with) anything to accept; raise (or fail
        with) L{rtproto.errors.ConnectRefused} to refuse.
        """

    def connectionMade(socket):
        """
        C{socket} is connected (in its own room).
        """

    def eventReceived(event, args):
        """
        An event from the client; the result (or a L{Deferred}'s) is the
        acknowledgement if the client asked for one.
        """

    def disconnecting(reason):
        """
        The socket is about to disconnect; its rooms are still there.
        """

    def connectionLost(reason):
        """
        The socket disconnected: C{'client namespace disconnect'},
        C{'server namespace disconnect'}, C{'transport close'},
        C{'ping timeout'}, C{'transport error'}, C{'server shutting down'}...
        """


class IAdapter(Interface):
    """
    Rooms and broadcasts of one namespace.  The in-memory
    L{rtproto.socketio.MemoryAdapter} is the default; a multi-process
    adapter (on Redis, say) provides the same interface and is given to the
    namespace instead.
    """

    def addAll(sid, rooms):
        """
        Put socket C{sid} in every room of C{rooms}.
        """

    def delete(sid, room):
        """
        Take socket C{sid} out of C{room}.
        """

    def deleteAll(sid):
        """
        Take socket C{sid} out of every room.
        """

    def socketRooms(sid):
        """
        The rooms socket C{sid} is in, a L{frozenset}.
        """

    def sockets(rooms):
        """
        The sids of the sockets in any of C{rooms} (every socket if empty),
        a L{set}.
        """

    def broadcast(packet, options):
        """
        Send C{packet} (a L{rtproto.socketio.Packet}) to the sockets chosen
        by C{options} (a L{rtproto.socketio.BroadcastOptions}), encoding it
        once.
        """

    def broadcastWithAck(packet, options, clientCount, ack):
        """
        Like L{broadcast}, for a packet with an ack id: C{clientCount(n)} is
        called with how many sockets it went to, and C{ack(sid, args)} with
        each answer.
        """

    def persistSession(session, now):
        """
        Keep a disconnected socket's state for connection state recovery.
        """

    def restoreSession(pid, offset, now):
        """
        The state kept under C{pid} with the packets missed since
        C{offset}, or L{None}.
        """


class ISSERequest(Interface):
    """
    What an SSE handler sees of a subscription request (a snapshot: it does
    not keep the C{twisted.web} request alive).
    """

    path = Attribute("The request path, L{bytes}.")
    args = Attribute("Query arguments: L{dict} of L{bytes} to L{list} of L{bytes}.")
    headers = Attribute("The request headers, a L{twisted.web.http_headers.Headers}.")
    peer = Attribute("The peer's address, an L{twisted.internet.interfaces.IAddress}.")
    isSecure = Attribute("L{True} when the connection is over TLS.")

    def getCookie(name):
        """
        The value of cookie C{name} (L{bytes}), or L{None}.
        """


class ISSESubscriber(Interface):
    """
    One open event stream.
    """

    channels = Attribute("The channels it receives, a L{tuple} of L{str}.")
    request = Attribute("The L{ISSERequest}.")
    lastEventId = Attribute("The id it resumed from (L{str}), or L{None}.")
    resource = Attribute(
        "The L{rtproto.tx.sse.EventSourceResource} it is subscribed at: its C{publish},"
        " its C{channels}, and whatever a handler's C{attach} gave it."
    )
    app = Attribute(
        "The site's L{rtproto.tx.app.App} (its mounts, and topics to reach the other"
        " handlers through), or L{None} outside a site."
    )

    def send(data, event=None, id=None):
        """
        Send an event to this subscriber only (not kept in the history).
        """

    def close():
        """
        End the stream (the client reconnects after its retry delay).
        """


class ISSEHandler(Interface):
    """
    The application side of one event stream (see
    L{rtproto.sse.SSEHandler}).
    """

    def authorize(request):
        """
        Accept, or raise (or fail with) L{rtproto.errors.ConnectionDeny}
        (401 or 403); may return a L{Deferred}.
        """

    def channelsFor(request, requested):
        """
        The channels to subscribe to, from those C{requested}.
        """

    def subscribed(subscriber):
        """
        The stream is open.
        """

    def missedEvents(subscriber, lastEventId):
        """
        The client resumes from an id the history does not have.
        """

    def unsubscribed(reason):
        """
        The stream ended.
        """
