"""
A leak test for L{rtproto.tx.sse.EventSourceResource}: thousands of
subscriptions ended every way there is leave no subscriber, no channel, no
timer and no handler behind.
"""

import gc
import weakref

from rtproto.errors import ConnectionDeny
from rtproto.sse import encodeEvent
from rtproto.sse._handler import SSEHandler
from tests.tx.sse_helpers import LogCapture, makeSSESite, subscribe

CYCLES = 3000
WAYS = ("client gone", "closed", "slow client", "refused", "gone while authorizing", "server shutting down")


class TrackedHandler(SSEHandler):
    """
    Refuses requests with C{?deny=1}; waits for C{?wait=1}; remembers (weakly)
    every instance and (by count) every reason it was told.
    """

    alive: "weakref.WeakSet" = weakref.WeakSet()
    reasons: dict = {}
    waiting: list = []

    def __init__(self):
        TrackedHandler.alive.add(self)

    def authorize(self, request):
        if request.args.get(b"deny"):
            raise ConnectionDeny(403, "no")
        if request.args.get(b"wait"):
            from twisted.internet.defer import Deferred

            d = Deferred()
            TrackedHandler.waiting.append(d)
            return d
        return None

    def unsubscribed(self, reason):
        TrackedHandler.reasons[reason] = TrackedHandler.reasons.get(reason, 0) + 1


def test_manyCycles():
    """
    3,000 subscribe/drop cycles over every way out, on a rotating set of
    channels, with events and keep-alives flowing: at the end, no
    subscribers, no channels, no delayed calls, every handler collected,
    nothing logged as a failure.
    """
    TrackedHandler.alive = weakref.WeakSet()
    TrackedHandler.reasons = {}
    TrackedHandler.waiting = []
    bufferSize = 200
    site, reactor, resource = makeSSESite(TrackedHandler, bufferSize=bufferSize, keepAlive=4.0, historyEvents=50)
    big = "x" * bufferSize
    assert len(encodeEvent(big, None, "E-1")) > bufferSize
    survivor = subscribe(site, b"/events?channel=all", port=1)
    with LogCapture() as log:
        for i in range(CYCLES):
            way = WAYS[i % len(WAYS)]
            channels = b"channel=c%d&channel=all" % (i % 37)
            query = channels + (b"&deny=1" if way == "refused" else b"") + (b"&wait=1" if "author" in way else b"")
            client = subscribe(site, b"/events?" + query, [(b"Last-Event-ID", b"E-%d" % max(i - 3, 1))], port=2)
            resource.publish("c%d" % (i % 37), "event %d" % i)
            if way == "client gone":
                client.lose()
            elif way == "closed":
                next(s for s in resource.subscribers if s.request.peer.port == 2).close()
                client.lose()
            elif way == "slow client":
                client.transport.producer.pauseProducing()
                resource.publish("all", big)
                assert client.transport.aborted
                client.lose()
            elif way == "refused":
                assert client.response().status == 403
                client.lose()
            elif way == "gone while authorizing":
                client.lose()
                TrackedHandler.waiting.pop().callback(None)
            else:
                # A partial shutdown: this mount's subscriber is ended the
                # way closeAll ends them all.
                next(s for s in resource.subscribers if s.request.peer.port == 2)._end("server shutting down")
                client.lose()
            if i % 100 == 0:
                reactor.advance(1.0)
            assert len(resource.subscribers) == 1, (i, way)
        del client
    assert log.failures == []
    assert [s.request.peer.port for s in resource.subscribers] == [1]
    assert set(resource.channels) == {"all"}
    survivor.lose()
    del survivor
    assert resource.subscribers == set()
    assert resource.channels == {}
    assert reactor.getDelayedCalls() == []
    assert resource._keepAlive is None
    gc.collect()
    assert len(TrackedHandler.alive) == 0
    per = CYCLES // len(WAYS)
    assert TrackedHandler.reasons == {
        "client gone": per + 1,
        "closed": per,
        "slow client": per,
        "server shutting down": per,
    }


def test_refusedAndWaitingLeaveNothing():
    """
    Subscriptions still being authorized when their client goes, and
    refused ones, keep no handler alive.
    """
    TrackedHandler.alive = weakref.WeakSet()
    TrackedHandler.waiting = []
    site, reactor, resource = makeSSESite(TrackedHandler)
    for i in range(200):
        client = subscribe(site, b"/events?wait=1" if i % 2 else b"/events?deny=1", port=i)
        client.lose()
    for d in TrackedHandler.waiting:
        d.callback(None)
    TrackedHandler.waiting = []
    del client, d
    gc.collect()
    assert len(TrackedHandler.alive) == 0
    assert resource.subscribers == set() and resource.channels == {}
    assert reactor.getDelayedCalls() == []
