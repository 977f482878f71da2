"""
Twisted's own C{twisted.web.websocket} (Twisted >= 25.5, needs wsproto:
C{pip install 'Twisted[websocket]'}) peer server for the rtproto benchmark.

Serves on 127.0.0.1:--port, in a C{twisted.web.server.Site}:

  - C{/ws}: echo (text and binary);
  - C{/broadcast}: every message received is sent to all open C{/broadcast}
    connections.  This API has no prepared-message facility, so the loop
    encodes the frame once per connection (C{sendTextMessage}).

No extension is negotiated (wsproto accepts none unless given some), TCP_NODELAY
is set on each upgraded connection, and the listen backlog is 1024.  No access
log is written (logging is never started).
"""

import argparse

from twisted.internet import epollreactor

epollreactor.install()

from twisted.internet import endpoints, reactor  # noqa: E402
from twisted.web.resource import Resource  # noqa: E402
from twisted.web.server import Site  # noqa: E402
from twisted.web.websocket import WebSocketResource  # noqa: E402


class Echo:
    """
    A C{WebSocketProtocol} sending back what it receives.
    """

    transport = None

    def negotiationStarted(self, transport):
        self.transport = transport

    def negotiationFinished(self):
        pass

    def pongReceived(self, payload):
        pass

    def textMessageReceived(self, message):
        self.transport.sendTextMessage(message)

    def bytesMessageReceived(self, data):
        self.transport.sendBytesMessage(data)

    def connectionLost(self, reason):
        pass


class Broadcast(Echo):
    """
    A C{WebSocketProtocol} sending what it receives to every open peer.
    """

    clients = set()

    def negotiationFinished(self):
        self.clients.add(self)

    def textMessageReceived(self, message):
        for client in self.clients:
            client.transport.sendTextMessage(message)

    def bytesMessageReceived(self, data):
        for client in self.clients:
            client.transport.sendBytesMessage(data)

    def connectionLost(self, reason):
        self.clients.discard(self)


class Factory:
    """
    A C{WebSocketServerFactory} that also turns TCP_NODELAY on.
    """

    def __init__(self, protocol):
        self.protocol = protocol

    def buildProtocol(self, request):
        request.channel.transport.setTcpNoDelay(True)
        return self.protocol()


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    root = Resource()
    root.putChild(b"ws", WebSocketResource(Factory(Echo)))
    root.putChild(b"broadcast", WebSocketResource(Factory(Broadcast)))
    endpoint = endpoints.serverFromString(
        reactor, f"tcp:{args.port}:interface=127.0.0.1:backlog=1024"
    )
    endpoint.listen(Site(root))
    reactor.run()


if __name__ == "__main__":
    main()
