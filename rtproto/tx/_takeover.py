"""
Taking a connection away from C{twisted.web} after an HTTP upgrade.

This is the only module that knows how L{twisted.web.http.HTTPChannel}
holds its transport: it stops the channel's timeout, takes back the producer
registration and any bytes the channel read past the request, and points
the transport (or the TLS layer, or any other protocol wrapper) at the new
protocol.  The HTTP channel and request are then unreferenced and collected.
"""

from twisted.protocols.policies import ProtocolWrapper

from rtproto.tx._send import sendNow


def takeOverChannel(request, protocol, response: bytes) -> None:
    """
    Hand the connection under C{request} to C{protocol}.

    @param request: a L{twisted.web.server.Request} whose headers are read.
    @param protocol: the L{twisted.internet.interfaces.IProtocol} that owns
        the connection from now on; its C{makeConnection} is called.
    @param response: bytes to write first (the C{101} response head).
    """
    channel = request.channel
    transport = channel.transport
    channel.setTimeout(None)
    buffered = b"".join(getattr(channel, "_dataBuffer", ()))
    channel._dataBuffer = []
    release = getattr(channel, "releaseConnection", None)
    if release is not None:
        # The site's fast path (rtproto.tx._fastpath) keeps its own buffer.
        buffered += release()
    # HTTPChannel registered itself as the transport's producer.
    transport.unregisterProducer()
    replaceProtocol(transport, protocol)
    # Bytes that arrived in the same read as the request are parsed by the
    # channel after this returns; they go to the new protocol too.
    channel.rawDataReceived = protocol.dataReceived
    # The channel and request must not hold on to the connection.
    channel.transport = None
    request.transport = None
    sendNow(transport, response)
    protocol.makeConnection(transport)
    # HTTPChannel may have paused reading while it handled the request.
    transport.resumeProducing()
    if buffered:
        protocol.dataReceived(buffered)


def replaceProtocol(transport, protocol) -> None:
    """
    Make C{transport} deliver to C{protocol} from now on, whether it is a
    plain TCP transport or a protocol wrapper such as the TLS layer.
    """
    if isinstance(transport, ProtocolWrapper):
        transport.wrappedProtocol = protocol
    else:
        transport.protocol = protocol


def switchToHTTP2(channel, data: bytes) -> None:
    """
    Hand a fresh connection whose TLS handshake negotiated C{h2} (ALPN) from
    the site's HTTP/1.1 C{channel} to Twisted's L{H2Connection}, with the
    same site, request factory and timeouts, as Twisted's own generic
    channel does; C{data} is what was read so far.
    """
    from twisted.web._http2 import H2Connection

    transport = channel.transport
    producer = channel._networkProducer
    producer.unregisterProducer()
    channel.setTimeout(None)
    h2 = H2Connection(getattr(channel.site, "reactor", None))
    h2.requestFactory = channel.requestFactory
    h2.site = channel.site
    h2.factory = channel.factory
    h2.timeOut = getattr(channel, "idleTimeout", None)
    h2.callLater = channel.callLater
    replaceProtocol(transport, h2)
    channel.transport = None
    h2.makeConnection(transport)
    producer.registerProducer(h2, True)
    h2.dataReceived(data)
