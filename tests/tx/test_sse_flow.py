"""
Tests for the life of a stream on L{rtproto.tx.sse.EventSourceResource}:
keep-alive comments on idle streams, a client that stops reading (dropped
past C{bufferSize}), a client that goes away, the server closing one
stream or all of them (a graceful stop), and the C{ticker} demo publisher.
All time is a L{MemoryReactorClock}'s.
"""

import json

from rtproto.plugins.ticker import CHANNEL, INTERVAL, TickerHandler
from tests.tx.sse_helpers import (
    Event,
    Handlers,
    LogCapture,
    SSEClient,
    makeSSESite,
    subscribe,
)

KEEPALIVE = 20.0


def keepAliveCalls(reactor) -> list:
    """
    The delayed calls that are not an HTTP channel's own timeout.
    """
    return [c for c in reactor.getDelayedCalls() if "TimeoutMixin" not in repr(c.func)]


class TestKeepAlive:
    """
    A stream silent for C{keepAlive} seconds gets a comment; one that
    had events does not; the timer runs only while there are subscribers.
    """

    def test_idleStreamGetsComment(self):
        site, reactor, _ = makeSSESite(keepAlive=KEEPALIVE)
        client = subscribe(site)
        reactor.advance(KEEPALIVE - 0.01)
        assert client.response().stream.comments == []
        reactor.advance(0.01)
        stream = client.response().stream
        assert len(stream.comments) == 1 and stream.events == []
        assert not client.response().complete

    def test_commentsKeepComing(self):
        """
        A stream that stays silent gets one comment per C{keepAlive}
        (within the timer's period of C{keepAlive / 4}).
        """
        site, reactor, _ = makeSSESite(keepAlive=KEEPALIVE)
        client = subscribe(site)
        for _ in range(40):
            reactor.advance(KEEPALIVE / 4)
        assert len(client.response().stream.comments) == 10

    def test_busyStreamNotPinged(self):
        """
        Only streams silent for C{keepAlive} get a comment: the one that got
        an event meanwhile does not (until it has been silent long enough).
        """
        site, reactor, resource = makeSSESite(keepAlive=KEEPALIVE)
        busy = subscribe(site, b"/events?channel=busy", port=1)
        idle = subscribe(site, b"/events?channel=idle", port=2)
        reactor.advance(KEEPALIVE / 2)
        resource.publish("busy", "hello")
        reactor.advance(KEEPALIVE / 2)
        assert busy.response().stream.comments == []
        assert len(idle.response().stream.comments) == 1
        reactor.advance(KEEPALIVE / 2 + KEEPALIVE / 4)
        assert len(busy.response().stream.comments) == 1
        assert busy.events() == [Event("message", "hello", "E-1")]

    def test_lateSubscriberCountsFromItsStart(self):
        """
        One timer for all: a subscriber that joined later gets its comment
        after its own silence, not the first one's.
        """
        site, reactor, _ = makeSSESite(keepAlive=KEEPALIVE)
        first = subscribe(site, port=1)
        reactor.advance(KEEPALIVE / 2)
        second = subscribe(site, port=2)
        reactor.advance(KEEPALIVE / 2)
        assert len(first.response().stream.comments) == 1
        assert second.response().stream.comments == []
        assert len(keepAliveCalls(reactor)) == 1

    def test_timerStopsWithLastSubscriber(self):
        """
        No subscribers, no timer: the last one leaving stops it, and a new
        one starts it again.
        """
        site, reactor, _ = makeSSESite(keepAlive=KEEPALIVE)
        assert reactor.getDelayedCalls() == []
        one = subscribe(site, port=1)
        two = subscribe(site, port=2)
        assert len(keepAliveCalls(reactor)) == 1
        one.lose()
        assert len(keepAliveCalls(reactor)) == 1
        two.lose()
        assert reactor.getDelayedCalls() == []
        three = subscribe(site, port=3)
        assert len(keepAliveCalls(reactor)) == 1
        reactor.advance(KEEPALIVE)
        assert len(three.response().stream.comments) == 1
        three.lose()
        assert reactor.getDelayedCalls() == []

    def test_noTimerForRefused(self):
        site, reactor, _ = makeSSESite(Handlers(deny=(403, "no")))
        subscribe(site)
        assert keepAliveCalls(reactor) == []


class TestSlowClient:
    """
    While the transport is paused, what is written to a subscriber is
    counted; past C{bufferSize} it is dropped by aborting its connection.
    """

    def _setup(self, bufferSize=None):
        if bufferSize is None:
            bufferSize = 2 * self._eventSize("x" * 40) + 10
        handlers = Handlers()
        site, reactor, resource = makeSSESite(handlers, bufferSize=bufferSize, keepAlive=KEEPALIVE)
        slow = subscribe(site, b"/events?channel=a", port=1)
        fast = subscribe(site, b"/events?channel=a", port=2)
        [slowHandler, fastHandler] = handlers.made
        slow.transport.producer.pauseProducing()
        return handlers, reactor, resource, slow, fast, slowHandler, fastHandler

    def _eventSize(self, data):
        from rtproto.sse import encodeEvent

        return len(encodeEvent(data, None, "E-1"))

    def test_droppedPastBuffer(self):
        handlers, reactor, resource, slow, fast, slowHandler, fastHandler = self._setup()
        data = "x" * 40
        assert self._eventSize(data) * 2 <= resource.options.bufferSize < self._eventSize(data) * 3
        resource.publish("a", data)
        resource.publish("a", data)
        assert not slow.transport.disconnecting
        resource.publish("a", data)
        assert slow.transport.aborted
        assert slowHandler.calls[-1] == ("unsubscribed", "slow client")
        assert [s.request.peer.port for s in resource.subscribers] == [2]
        assert resource.channels["a"] == resource.subscribers
        assert len(fast.events()) == 3 and not fast.transport.disconnecting
        assert fastHandler.calls[-1][0] == "subscribed"
        resource.publish("a", "more")
        assert len(fast.events()) == 4
        assert len(slow.events()) == 2

    def test_exactlyBufferSizeKept(self):
        """
        C{bufferSize} bytes queued is allowed; one more is not.
        """
        size = self._eventSize("y" * 40)
        handlers, reactor, resource, slow, fast, slowHandler, _ = self._setup(bufferSize=2 * size)
        resource.publish("a", "y" * 40)
        resource.publish("a", "y" * 40)
        assert not slow.transport.aborted and len(resource.subscribers) == 2
        slowHandler.subscriber.send("z")
        assert slow.transport.aborted
        assert slowHandler.calls[-1] == ("unsubscribed", "slow client")

    def test_resumeResetsCount(self):
        """
        A client that catches up (the transport resumes) starts from zero.
        """
        handlers, reactor, resource, slow, fast, slowHandler, _ = self._setup()
        for _ in range(5):
            resource.publish("a", "x" * 40)
            resource.publish("a", "x" * 40)
            slow.transport.producer.resumeProducing()
            slow.transport.producer.pauseProducing()
        assert not slow.transport.aborted
        assert len(slow.events()) == 10

    def test_keepAlivesCount(self):
        """
        Keep-alive comments queue up too.
        """
        _, reactor, resource, slow, fast, slowHandler, _ = self._setup(bufferSize=30)
        for _ in range(8):
            reactor.advance(KEEPALIVE)
        assert slow.transport.aborted
        assert slowHandler.calls[-1] == ("unsubscribed", "slow client")
        assert not fast.transport.disconnecting

    def test_pausedBySubscriberItself(self):
        """
        The subscriber is the request's producer: pausing it directly counts
        the same.
        """
        handlers = Handlers()
        site, _, resource = makeSSESite(handlers, bufferSize=10)
        client = subscribe(site)
        subscriber = handlers.made[0].subscriber
        assert client.channel._requestProducer is subscriber
        subscriber.pauseProducing()
        resource.publish("default", "x" * 20)
        assert client.transport.aborted
        assert handlers.made[0].calls[-1] == ("unsubscribed", "slow client")

    def test_connectionLostAfterDropTellsOnce(self):
        """
        The abort's C{connectionLost} comes later: the handler was told
        once, and nothing is left behind.
        """
        handlers, reactor, resource, slow, fast, slowHandler, _ = self._setup(bufferSize=10)
        with LogCapture() as log:
            resource.publish("a", "x" * 40)
            slow.lose()
        assert [c for c in slowHandler.calls if c[0] == "unsubscribed"] == [("unsubscribed", "slow client")]
        fast.lose()
        assert resource.subscribers == set() and resource.channels == {}
        assert reactor.getDelayedCalls() == []
        assert log.failures == []


class TestClientGone:
    """
    A client that goes away is unsubscribed at once.
    """

    def test_unsubscribedAtOnce(self):
        handlers = Handlers()
        site, reactor, resource = makeSSESite(handlers)
        client = subscribe(site, b"/events?channel=a&channel=b")
        other = subscribe(site, b"/events?channel=b", port=2)
        client.lose()
        assert handlers.made[0].calls[-1] == ("unsubscribed", "client gone")
        assert [s.request.peer.port for s in resource.subscribers] == [2]
        assert set(resource.channels) == {"b"}
        resource.publish("a", "x")
        resource.publish("b", "y")
        assert [e.data for e in other.events()] == ["y"]
        other.lose()
        assert handlers.made[1].calls[-1] == ("unsubscribed", "client gone")
        assert resource.subscribers == set() and resource.channels == {}
        assert reactor.getDelayedCalls() == []

    def test_toldOnce(self):
        handlers = Handlers()
        site, _, resource = makeSSESite(handlers)
        client = subscribe(site)
        client.lose()
        client.lose()
        handlers.made[0].subscriber.close()
        assert [c for c in handlers.made[0].calls if c[0] == "unsubscribed"] == [("unsubscribed", "client gone")]

    def test_writesAfterGoneIgnored(self):
        handlers = Handlers()
        site, _, resource = makeSSESite(handlers)
        client = subscribe(site)
        client.lose()
        before = client.transport.value()
        handlers.made[0].subscriber.send("late")
        resource.publish("default", "late")
        assert client.transport.value() == before


class TestServerClose:
    """
    L{Subscriber.close} and L{EventSourceResource.closeAll}.
    """

    def test_close(self):
        """
        The stream ends cleanly (the chunked terminator), the connection
        stays open for the next request, the handler hears C{closed}.
        """
        handlers = Handlers()
        site, reactor, resource = makeSSESite(handlers)
        client = subscribe(site)
        resource.publish("default", "last")
        handlers.made[0].subscriber.close()
        response = client.response()
        assert response.complete and response.events == [Event("message", "last", "E-1")]
        assert client.transport.value().endswith(b"\r\n0\r\n\r\n")
        assert not client.transport.disconnecting
        assert handlers.made[0].calls[-1] == ("unsubscribed", "closed")
        assert resource.subscribers == set() and resource.channels == {}
        assert keepAliveCalls(reactor) == []
        client.get()
        assert [r.status for r in client.responses()] == [200, 200]
        assert len(resource.subscribers) == 1

    def test_closeAll(self):
        handlers = Handlers()
        site, reactor, resource = makeSSESite(handlers, keepAlive=KEEPALIVE)
        clients = [subscribe(site, b"/events?channel=c%d" % (i % 2), port=i) for i in range(3)]
        stopped = []
        resource.onClose.append(lambda: stopped.append(True))
        resource.onClose.append(None)
        resource.closeAll()
        assert stopped == [True]
        for client, handler in zip(clients, handlers.made, strict=True):
            assert client.response().complete
            assert handler.calls[-1] == ("unsubscribed", "server shutting down")
        assert resource.subscribers == set() and resource.channels == {}
        assert keepAliveCalls(reactor) == []
        for client in clients:
            client.lose()
        assert reactor.getDelayedCalls() == []
        resource.closeAll()
        assert stopped == [True]

    def test_getWhileClosing(self):
        """
        After C{closeAll}, a GET gets 200 with only the C{retry} line, and
        no handler is made.
        """
        handlers = Handlers()
        site, reactor, resource = makeSSESite(handlers, retry=5000)
        resource.closeAll()
        client = subscribe(site, b"/events?channel=a", [(b"Last-Event-ID", b"E-1")])
        response = client.response()
        assert (response.status, response.body, response.complete) == (200, b"retry: 5000\n\n", True)
        assert response.header(b"content-type") == b"text/event-stream; charset=utf-8"
        assert handlers.made == []
        assert resource.subscribers == set()
        assert keepAliveCalls(reactor) == []

    def test_getWhileClosingOnSameConnection(self):
        site, _, resource = makeSSESite()
        client = subscribe(site)
        resource.closeAll()
        client.get()
        first, second = client.responses()
        assert first.complete and second.complete
        assert second.body == b"retry: 3000\n\n"

    def test_publishAfterCloseAll(self):
        """
        Publishing still works (nobody to send to) and is kept.
        """
        site, _, resource = makeSSESite()
        resource.closeAll()
        assert resource.publish("a", "x") == "E-1"
        assert len(resource.history) == 1

    def test_handlerClosingDuringCloseAll(self):
        """
        A handler that closes (or publishes) while told of the shutdown
        does not upset C{closeAll}.
        """

        handlers = Handlers()
        site, _, resource = makeSSESite(handlers)
        subscribe(site, port=1)
        subscribe(site, port=2)
        original = handlers.made[0].unsubscribed

        def unsubscribed(reason):
            original(reason)
            handlers.made[1].subscriber.close()
            resource.publish("default", "bye")

        handlers.made[0].unsubscribed = unsubscribed
        with LogCapture() as log:
            resource.closeAll()
        assert resource.subscribers == set()
        assert log.failures == []
        reasons = sorted(h.calls[-1][1] for h in handlers.made)
        assert reasons in (["closed", "server shutting down"], ["server shutting down", "server shutting down"])


class TestTicker:
    """
    The C{ticker} demo: a tick a second on the C{ticker} channel, through
    the resource's reactor, stopped by C{closeAll}.
    """

    def test_ticks(self):
        site, reactor, resource = makeSSESite(TickerHandler, keepAlive=KEEPALIVE)
        resource.onClose.append(TickerHandler.attach(resource))
        client = subscribe(site)
        assert handlersChannels(resource) == [(CHANNEL,)]
        assert client.events() == []
        for _ in range(3):
            reactor.advance(INTERVAL)
        events = client.events()
        assert [e.type for e in events] == ["tick"] * 3
        assert [json.loads(e.data)["n"] for e in events] == [1, 2, 3]
        assert all("time" in json.loads(e.data) for e in events)
        assert [e.lastEventId for e in events] == ["E-1", "E-2", "E-3"]

    def test_otherChannelsOnRequest(self):
        site, reactor, resource = makeSSESite(TickerHandler)
        resource.onClose.append(TickerHandler.attach(resource))
        client = subscribe(site, b"/events?channel=news")
        reactor.advance(INTERVAL)
        resource.publish("news", "hi")
        assert [e.data for e in client.events()] == ["hi"]

    def test_stopsOnCloseAll(self):
        site, reactor, resource = makeSSESite(TickerHandler)
        resource.onClose.append(TickerHandler.attach(resource))
        client = subscribe(site)
        reactor.advance(INTERVAL)
        resource.closeAll()
        client.lose()
        assert reactor.getDelayedCalls() == []
        reactor.advance(10 * INTERVAL)
        assert resource.history.lastSeq == 1

    def test_stopTwice(self):
        _, reactor, resource = makeSSESite(TickerHandler)
        stop = TickerHandler.attach(resource)
        stop()
        stop()
        assert reactor.getDelayedCalls() == []


def handlersChannels(resource) -> list:
    return [s.channels for s in resource.subscribers]


def test_clientHelperSeesAbort():
    """
    The helper transport tells an abort from a clean close.
    """
    site, _, _ = makeSSESite()
    client = SSEClient(site)
    client.transport.loseConnection()
    assert client.transport.disconnecting and not client.transport.aborted
    client.transport.abortConnection()
    assert client.transport.aborted


class TestTickerOnlyWhileListened:
    """
    The ticker runs while its channel has subscribers, and only then.
    """

    def test_noTicksWithoutListeners(self):
        site, reactor, resource = makeSSESite(TickerHandler)
        resource.onClose.append(TickerHandler.attach(resource))
        assert reactor.getDelayedCalls() == []
        reactor.advance(5 * INTERVAL)
        assert resource.history.lastSeq == 0
        other = subscribe(site, b"/events?channel=news")
        reactor.advance(5 * INTERVAL)
        assert resource.history.lastSeq == 0
        other.lose()

    def test_stopsWithLastListener(self):
        site, reactor, resource = makeSSESite(TickerHandler, keepAlive=KEEPALIVE)
        resource.onClose.append(TickerHandler.attach(resource))
        one = subscribe(site, port=1)
        two = subscribe(site, port=2)
        reactor.advance(INTERVAL)
        reactor.advance(INTERVAL)
        one.lose()
        reactor.advance(INTERVAL)
        assert resource.history.lastSeq == 3
        assert [json.loads(e.data)["n"] for e in two.events()] == [1, 2, 3]
        two.lose()
        assert reactor.getDelayedCalls() == []
        reactor.advance(5 * INTERVAL)
        assert resource.history.lastSeq == 3
        three = subscribe(site, port=3)
        reactor.advance(INTERVAL)
        assert [json.loads(e.data)["n"] for e in three.events()] == [4]

    def test_refusedDoesNotStart(self):
        """
        A subscription that never opened does not touch the ticker.
        """

        class Refusing(TickerHandler):
            def authorize(self, request):
                from rtproto.errors import ConnectionDeny

                raise ConnectionDeny(403)

        site, reactor, resource = makeSSESite(Refusing)
        resource.onClose.append(Refusing.attach(resource))
        subscribe(site).lose()
        assert reactor.getDelayedCalls() == []
