"""
Autobahn|Python (on Twisted) peer server for the rtproto benchmark.

Serves on 127.0.0.1:--port:

  - C{/ws}: echo (text and binary);
  - C{/broadcast}: every message received from any client is sent to all
    open C{/broadcast} connections, encoded once with autobahn's
    prepared-message API (C{factory.prepareMessage} +
    C{sendPreparedMessage}).

Compression is not offered (autobahn accepts no permessage-deflate unless
told to), message size is unlimited, TCP_NODELAY is on (autobahn's
C{tcpNoDelay} option, set explicitly), and the listen backlog is 1024.
"""

import argparse

from twisted.internet import epollreactor

epollreactor.install()

from autobahn.twisted.websocket import (  # noqa: E402
    WebSocketServerFactory,
    WebSocketServerProtocol,
)
from twisted.internet import endpoints, reactor  # noqa: E402


class BenchProtocol(WebSocketServerProtocol):
    """
    Echo on C{/ws}, fan-out on C{/broadcast}; the path is read at handshake.
    """

    broadcastClients = set()
    isBroadcast = False

    def onConnect(self, request):
        self.isBroadcast = request.path == "/broadcast"
        return None

    def onOpen(self):
        if self.isBroadcast:
            self.broadcastClients.add(self)

    def onMessage(self, payload, isBinary):
        if self.isBroadcast:
            prepared = self.factory.prepareMessage(payload, isBinary)
            for client in self.broadcastClients:
                client.sendPreparedMessage(prepared)
        else:
            self.sendMessage(payload, isBinary)

    def onClose(self, wasClean, code, reason):
        self.broadcastClients.discard(self)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    factory = WebSocketServerFactory(f"ws://127.0.0.1:{args.port}")
    factory.protocol = BenchProtocol
    factory.setProtocolOptions(
        tcpNoDelay=True,
        maxFramePayloadSize=0,
        maxMessagePayloadSize=0,
        autoPingInterval=0,
    )
    endpoint = endpoints.serverFromString(
        reactor, f"tcp:{args.port}:interface=127.0.0.1:backlog=1024"
    )
    endpoint.listen(factory)
    reactor.run()


if __name__ == "__main__":
    main()
