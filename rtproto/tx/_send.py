"""
L{sendNow}: writing a small piece of data to a plain TCP connection
without waiting for the reactor's next write event, for the HTTP fast path
and the WebSocket protocol alike.
"""

from twisted.internet.tcp import Server as _tcpServer

SEND_NOW_LIMIT = 65536


def sendNow(transport, data: bytes) -> None:
    """
    Write C{data} to C{transport}, sending it at once when it is smaller than
    L{SEND_NOW_LIMIT} and the transport is a plain TCP server connection
    (not one that started TLS) with nothing queued: Twisted would otherwise queue it, ask the reactor
    for a write event (two C{epoll} changes) and send it on the next loop.
    Anything else, and whatever the socket does not take, goes through
    C{transport.write} as usual, so order is kept.
    """
    if (
        transport.__class__ is not _tcpServer
        or transport.TLS
        or len(data) >= SEND_NOW_LIMIT
        or transport._tempDataLen
        or len(transport.dataBuffer) > transport.offset
        or not transport.connected
        or transport.disconnecting
    ):
        transport.write(data)
        return
    try:
        sent = transport.socket.send(data)
    except OSError:
        # Would block, or failed: Twisted's own write path deals with it.
        sent = 0
    if sent < len(data):
        transport.write(data[sent:])
