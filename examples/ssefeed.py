"""
A Server-Sent Events feed: prices of a few made-up stocks, one channel per
symbol, for subscribers with a token.

Run it from the repository's root::

    PYTHONPATH=. twistd -n rtproto --no-demo --sse /prices=examples.ssefeed.PricesHandler

then C{curl -N 'http://localhost:8080/prices?token=demo-token&channel=ACME'}.

  - L{PricesHandler.authorize}: the token comes as C{?token=} or as
    C{Authorization: Bearer <token>}; none is refused with 401, a wrong one
    with 403.  The token is L{TOKEN} (set C{RTPROTO_EXAMPLE_TOKEN} to
    change it).
  - L{PricesHandler.channelsFor}: C{?channel=SYMBOL} (repeatable) chooses
    symbols among L{SYMBOLS}; none asked for means all of them; an unknown
    symbol gets no channel, which the server answers with 400.
  - On subscribing, the client gets a C{hello} event (to it alone) with its
    channels.
  - L{PriceFeed}, started by C{attach(resource)} when the mount is made,
    publishes a C{price} event (JSON C{{"symbol", "price"}}) to a symbol's
    channel every L{PriceFeed.interval} seconds, on the reactor it is given
    (a L{twisted.internet.task.Clock} in the tests).  Prices are published
    with ids, so a client that reconnects with C{Last-Event-ID} gets what it
    missed.
"""

import hmac
import json
import os
import random

from twisted.internet.task import LoopingCall

from rtproto.errors import ConnectionDeny
from rtproto.sse import SSEHandler

SYMBOLS = ("ACME", "GLOBEX", "INITECH")
TOKEN = os.environ.get("RTPROTO_EXAMPLE_TOKEN", "demo-token")


class PriceFeed:
    """
    Publishes a price of one symbol after another, each C{interval}
    seconds, as a random walk.

    @ivar prices: symbol -> last price.
    """

    interval = 1.0

    def __init__(self, resource, reactor, rng=None) -> None:
        """
        @param resource: publishes: has C{publish(channel, data, event=)}.
        @param reactor: an C{IReactorTime} (never the global one here).
        @param rng: a L{random.Random} (a seeded one for tests).
        """
        self.resource = resource
        self.reactor = reactor
        self.rng = rng if rng is not None else random.Random()
        self.prices = {symbol: 100.0 for symbol in SYMBOLS}
        self._turn = 0
        self._loop = None

    def tick(self) -> None:
        """
        Move and publish the next symbol's price.
        """
        symbol = SYMBOLS[self._turn % len(SYMBOLS)]
        self._turn += 1
        price = round(max(1.0, self.prices[symbol] * (1 + self.rng.uniform(-0.02, 0.02))), 2)
        self.prices[symbol] = price
        self.resource.publish(symbol, json.dumps({"symbol": symbol, "price": price}), event="price")

    def start(self) -> None:
        """
        Publish every C{interval} seconds from now on.
        """
        if self._loop is None:
            self._loop = LoopingCall(self.tick)
            self._loop.clock = self.reactor
            self._loop.start(self.interval, now=False)

    def stop(self) -> None:
        """
        Stop publishing.
        """
        if self._loop is not None:
            if self._loop.running:
                self._loop.stop()
            self._loop = None


class PricesHandler(SSEHandler):
    """
    One subscriber to the prices.
    """

    feedFactory = PriceFeed

    @classmethod
    def attach(cls, resource):
        """
        Start the mount's feed on the mount's reactor; return its stop.
        """
        feed = cls.feedFactory(resource, resource.reactor)
        feed.start()
        return feed.stop

    def authorize(self, request):
        """
        Check the token.
        """
        token = None
        header = request.headers.getRawHeaders(b"authorization", [None])[0]
        if header is not None:
            scheme, _, value = header.partition(b" ")
            if scheme.lower() == b"bearer":
                token = value.strip()
        if token is None and request.args.get(b"token"):
            token = request.args[b"token"][0]
        if token is None:
            raise ConnectionDeny(401, "a token is required")
        if not hmac.compare_digest(token, TOKEN.encode("utf-8")):
            raise ConnectionDeny(403, "bad token")

    def channelsFor(self, request, requested):
        """
        The symbols asked for (all when none); none at all if one is
        unknown (the server answers 400).
        """
        if not requested:
            return list(SYMBOLS)
        if any(symbol not in SYMBOLS for symbol in requested):
            return []
        return list(requested)

    def subscribed(self, subscriber):
        """
        Say hello with the channels chosen.
        """
        super().subscribed(subscriber)
        subscriber.send(json.dumps({"channels": list(subscriber.channels)}), event="hello")
