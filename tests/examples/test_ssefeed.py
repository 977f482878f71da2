"""
C{examples.ssefeed}: a price feed over Server-Sent Events, with a token
and a publisher on the mount's reactor; unit tests with L{rtproto.testing}
(a L{Clock} drives the publisher), and C{treq} over loopback.
"""

import json
import random

import pytest
import pytest_twisted
import treq
from twisted.internet.defer import Deferred
from twisted.internet.protocol import Protocol

from examples.ssefeed import SYMBOLS, TOKEN, PriceFeed, PricesHandler
from rtproto.errors import ConnectionDeny
from rtproto.sse import SSEOptions
from rtproto.testing import FakeEventSourceResource, FakeSSERequest, resultOf
from rtproto.tx import buildSite
from rtproto.tx.sse import EventSourceResource

from tests.interop.support import within

from .support import listen


def withToken(**kwargs):
    return FakeSSERequest("/prices", args={"token": TOKEN}, **kwargs)


@pytest.mark.parametrize(
    "request_, status",
    [
        (FakeSSERequest(), 401),
        (FakeSSERequest(args={"token": "wrong"}), 403),
        (FakeSSERequest(headers={"Authorization": "Bearer wrong"}), 403),
        (FakeSSERequest(headers={"Authorization": "Basic " + TOKEN}), 401),
    ],
)
def test_refused(request_, status):
    """
    No token is 401, a wrong one 403.
    """
    with pytest.raises(ConnectionDeny) as e:
        resultOf(FakeEventSourceResource(PricesHandler).subscribe(request_))
    assert e.value.status == status


def test_tokenInHeaderOrQuery():
    """
    The token is taken from C{Authorization: Bearer} or C{?token=}.
    """
    resource = FakeEventSourceResource(PricesHandler)
    assert resultOf(resource.subscribe(withToken())).channels == SYMBOLS
    header = FakeSSERequest(headers={"Authorization": f"Bearer {TOKEN}"})
    assert resultOf(resource.subscribe(header, ["ACME"])).channels == ("ACME",)


def test_channels():
    """
    Symbols asked for are the channels; an unknown one makes the channel
    list bad (400).
    """
    resource = FakeEventSourceResource(PricesHandler)
    assert resultOf(resource.subscribe(withToken(), ["GLOBEX", "ACME"])).channels == ("GLOBEX", "ACME")
    with pytest.raises(ConnectionDeny) as e:
        resultOf(resource.subscribe(withToken(), ["ACME", "NOPE"]))
    assert e.value.status == 400


def test_hello():
    """
    A subscriber is told its channels, alone (not in the history).
    """
    resource = FakeEventSourceResource(PricesHandler)
    subscriber = resultOf(resource.subscribe(withToken(), ["ACME"]))
    assert [(e.event, json.loads(e.data)) for e in subscriber.sent] == [("hello", {"channels": ["ACME"]})]
    assert resource.published == []


def test_feedPublishesOnItsReactor():
    """
    Once attached, the feed publishes one symbol's price a tick, in turn,
    on the mount's clock; a subscriber gets only its symbols; the feed
    stops on close.
    """
    resource = FakeEventSourceResource(PricesHandler)
    resource.attach()
    subscriber = resultOf(resource.subscribe(withToken(), ["GLOBEX"]))
    resource.reactor.advance(PriceFeed.interval * 0.5)
    assert resource.published == []
    for _ in range(6):
        resource.reactor.advance(PriceFeed.interval)
    assert [p.channel for p in resource.published] == list(SYMBOLS) * 2
    prices = [json.loads(e.data) for e in subscriber.events if e.event == "price"]
    assert [p["symbol"] for p in prices] == ["GLOBEX", "GLOBEX"]
    assert all(p["price"] > 0 for p in prices)
    resource.closeAll()
    assert resource.reactor.getDelayedCalls() == []


def test_feedRandomWalk():
    """
    Prices move at most 2% a step, from 100, never below 1.
    """
    published = []

    class Sink:
        def publish(self, channel, data, event=None):
            published.append(json.loads(data)["price"])

    feed = PriceFeed(Sink(), reactor=None, rng=random.Random(7))
    for _ in range(30):
        feed.tick()
    acme = published[::3]
    assert abs(acme[0] - 100) <= 2.0
    assert all(abs(b - a) <= a * 0.02 + 0.01 for a, b in zip(acme, acme[1:]))


class EventReader(Protocol):
    """
    Reads an event stream; fires C{done} with the first C{count} events
    (dicts of their fields), then drops the connection.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.events: list = []
        self.done = Deferred()
        self._buffer = b""
        self._fields: dict = {}

    def dataReceived(self, data: bytes) -> None:
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            text = line.decode("utf-8")
            if text == "":
                if "data" in self._fields:
                    self.events.append(self._fields)
                self._fields = {}
            elif not text.startswith(":"):
                name, _, value = text.partition(":")
                self._fields[name] = value[1:] if value.startswith(" ") else value
        if len(self.events) >= self.count and not self.done.called:
            self.done.callback(self.events[: self.count])
            self.transport.stopProducing()

    def connectionLost(self, reason) -> None:
        if not self.done.called:
            self.done.errback(AssertionError(f"the stream ended after {self.events!r}"))


@pytest.mark.interop
@pytest_twisted.ensureDeferred
async def test_treqClient(reactor, cleanup):
    """
    Over loopback with C{treq}: refusals answer 401, 403 and 400; a
    subscriber with the token gets its C{hello}, then prices of its symbol
    (published by the feed on the real reactor, with ids).
    """

    class QuickFeed(PriceFeed):
        interval = 0.05

    class Prices(PricesHandler):
        feedFactory = QuickFeed

    resource = EventSourceResource(Prices, SSEOptions(), reactor)
    site = buildSite([], reactor=reactor, sse=[("/prices", resource)])
    resource.onClose.append(Prices.attach(resource))
    cleanup(resource.closeAll)
    base = f"http://127.0.0.1:{listen(reactor, site, cleanup)}/prices"

    async def status(url, **kwargs):
        response = await within(reactor, treq.get(url, reactor=reactor, persistent=False, **kwargs), url)
        await within(reactor, treq.content(response), f"the body of {url}")
        return response.code

    assert await status(base) == 401
    assert await status(base + "?token=wrong") == 403
    assert await status(f"{base}?token={TOKEN}&channel=NOPE") == 400
    response = await within(
        reactor,
        treq.get(f"{base}?channel=INITECH", headers={"Authorization": f"Bearer {TOKEN}"}, reactor=reactor, persistent=False),
        "the stream's headers",
    )
    assert response.code == 200
    assert response.headers.getRawHeaders(b"content-type") == [b"text/event-stream; charset=utf-8"]
    reader = EventReader(3)
    response.deliverBody(reader)
    hello, first, second = await within(reactor, reader.done, "a hello and two INITECH prices")
    assert (hello["event"], json.loads(hello["data"])) == ("hello", {"channels": ["INITECH"]})
    assert [first["event"], second["event"]] == ["price", "price"]
    assert {json.loads(e["data"])["symbol"] for e in (first, second)} == {"INITECH"}
    assert first["id"] != second["id"]
