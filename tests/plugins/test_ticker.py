"""
The built-in C{ticker} SSE handler, with L{rtproto.testing}: it ticks every
second on the mount's clock while the C{ticker} channel has listeners.
"""

import json

from rtproto.plugins.ticker import CHANNEL, INTERVAL, TickerHandler
from rtproto.testing import FakeEventSourceResource, FakeSSERequest, resultOf


def mount():
    resource = FakeEventSourceResource(TickerHandler)
    resource.attach()
    return resource


def test_defaultChannel():
    """
    Subscribers get the ticker channel unless they ask for others.
    """
    resource = mount()
    assert resultOf(resource.subscribe()).channels == (CHANNEL,)
    assert resultOf(resource.subscribe(FakeSSERequest(), ["news"])).channels == ("news",)


def test_ticksWhileListened():
    """
    No ticks before a listener; then one a second, counted, with the time;
    none once the last listener left.
    """
    resource = mount()
    clock = resource.reactor
    clock.advance(INTERVAL * 3)
    assert resource.published == []
    subscriber = resultOf(resource.subscribe())
    clock.advance(INTERVAL - 0.01)
    assert subscriber.events == []
    clock.advance(0.01)
    clock.advance(INTERVAL)
    ticks = [json.loads(e.data) for e in subscriber.events]
    assert [e.event for e in subscriber.events] == ["tick", "tick"]
    assert [t["n"] for t in ticks] == [1, 2]
    assert ticks[0]["time"].endswith("Z")
    subscriber.disconnect()
    clock.advance(INTERVAL * 3)
    assert len(resource.published) == 2
    assert clock.getDelayedCalls() == []


def test_otherChannelsDoNotTick():
    """
    A listener of another channel does not start the ticker.
    """
    resource = mount()
    resultOf(resource.subscribe(FakeSSERequest(), ["news"]))
    resource.reactor.advance(INTERVAL * 2)
    assert resource.published == []


def test_stopsOnClose():
    """
    A graceful stop stops the ticker.
    """
    resource = mount()
    resultOf(resource.subscribe())
    resource.closeAll()
    assert resource.reactor.getDelayedCalls() == []
