"""
The built-in C{ticker} Server-Sent Events handler, the default app's demo
at C{/events}: while anybody listens, the mount publishes a C{tick} event
to the C{ticker} channel every second (JSON: a counter and the server's UTC
time), which every subscriber gets by default; other channels can be asked
for with C{?channel=NAME} (and published to over HTTP when a token is set).
"""

import json
import time

from twisted.internet.task import LoopingCall

from rtproto.handlers import HandlerPlugin
from rtproto.sse import SSEHandler

CHANNEL = "ticker"
INTERVAL = 1.0


class Ticker:
    """
    The tick publisher of one mount, running while the channel has
    subscribers.
    """

    def __init__(self, resource) -> None:
        self.resource = resource
        self.count = 0
        self._loop = None

    def _tick(self) -> None:
        self.count += 1
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.resource.publish(CHANNEL, json.dumps({"n": self.count, "time": now}), event="tick")

    def start(self) -> None:
        """
        Tick every second, from a second from now.
        """
        if self._loop is None:
            self._loop = LoopingCall(self._tick)
            self._loop.clock = self.resource.reactor
            self._loop.start(INTERVAL, now=False)

    def stop(self) -> None:
        """
        Stop ticking.
        """
        if self._loop is not None:
            if self._loop.running:
                self._loop.stop()
            self._loop = None

    def update(self) -> None:
        """
        Tick while the channel has subscribers.
        """
        if self.resource.channels.get(CHANNEL):
            self.start()
        else:
            self.stop()


class TickerHandler(SSEHandler):
    """
    Subscribers get the C{ticker} channel unless they name others.
    """

    defaultChannels = (CHANNEL,)

    @classmethod
    def attach(cls, resource):
        """
        Give C{resource} its L{Ticker}; return what stops it.
        """
        resource.ticker = Ticker(resource)
        return resource.ticker.stop

    def subscribed(self, subscriber):
        """
        Start ticking if this is the first listener.
        """
        super().subscribed(subscriber)
        ticker = getattr(subscriber.resource, "ticker", None)
        if ticker is not None:
            ticker.update()

    def unsubscribed(self, reason):
        """
        Stop ticking after the last listener.
        """
        ticker = getattr(self.subscriber.resource, "ticker", None) if self.subscriber is not None else None
        if ticker is not None:
            ticker.update()


ticker = HandlerPlugin("ticker", "sse", TickerHandler, "publishes a tick every second to the ticker channel")
