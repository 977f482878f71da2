"""
Tests for C{Last-Event-ID} replay on L{rtproto.tx.sse.EventSourceResource}:
a client that reconnects with the id of the last event it got (header, or
C{?lastEventId=} for clients that cannot set headers) gets exactly the
events it missed on its channels, then live ones; when some are no longer
kept (or the id was never ours), a C{missed} event instead.
"""

import pytest

from rtproto.sse._handler import SSEHandler
from tests.tx.sse_helpers import Event, Handlers, makeSSESite, subscribe


def publishMixed(resource):
    """
    Publish a1 b1 a2 c1 a3 (ids E-1 to E-5).
    """
    for channel, data in [("a", "a1"), ("b", "b1"), ("a", "a2"), ("c", "c1"), ("a", "a3")]:
        resource.publish(channel, data)


def resume(site, lastEventId: bytes, channels=b"channel=a", how="header", port=41000):
    """
    Reconnect on C{channels} after C{lastEventId}.
    """
    if how == "header":
        return subscribe(site, b"/events?" + channels, [(b"Last-Event-ID", lastEventId)], port=port)
    return subscribe(site, b"/events?" + channels + b"&lastEventId=" + lastEventId, port=port)


class TestReplay:
    """
    Exactly the events after the id, on the client's channels, in order,
    then the live ones: nothing lost, nothing twice.
    """

    @pytest.mark.parametrize("how", ["header", "query"])
    def test_afterId(self, how):
        site, _, resource = makeSSESite()
        publishMixed(resource)
        client = resume(site, b"E-1", how=how)
        assert client.events() == [Event("message", "a2", "E-3"), Event("message", "a3", "E-5")]
        resource.publish("a", "a4")
        resource.publish("b", "b2")
        assert [e.data for e in client.events()] == ["a2", "a3", "a4"]

    def test_retryLineFirst(self):
        """
        The C{retry} line still comes first, then the replayed events.
        """
        site, _, resource = makeSSESite()
        publishMixed(resource)
        body = resume(site, b"E-3").response().body
        assert body.startswith(b"retry: 3000\n\nid: E-5\n")

    def test_severalChannelsInterleaved(self):
        site, _, resource = makeSSESite()
        publishMixed(resource)
        client = resume(site, b"E-2", channels=b"channel=a&channel=c")
        assert [(e.data, e.lastEventId) for e in client.events()] == [("a2", "E-3"), ("c1", "E-4"), ("a3", "E-5")]

    def test_idFromAnotherChannel(self):
        """
        The id may be of an event on a channel the client does not have
        now (it changed channels): still the events after it.
        """
        site, _, resource = makeSSESite()
        publishMixed(resource)
        client = resume(site, b"E-4")
        assert [e.data for e in client.events()] == ["a3"]

    def test_lastEventNothingToReplay(self):
        """
        Up to date: nothing replayed, no C{missed}, and live events follow.
        """
        handlers = Handlers()
        site, _, resource = makeSSESite(handlers)
        publishMixed(resource)
        client = resume(site, b"E-5")
        assert client.events() == []
        resource.publish("a", "a4")
        assert client.events() == [Event("message", "a4", "E-6")]
        assert "missed" not in [c[0] for c in handlers.made[0].calls]

    def test_headerBeforeQuery(self):
        """
        Both given: the header (what a browser sends) wins.
        """
        site, _, resource = makeSSESite()
        publishMixed(resource)
        client = subscribe(site, b"/events?channel=a&lastEventId=E-1", [(b"Last-Event-ID", b"E-3")])
        assert [e.data for e in client.events()] == ["a3"]

    @pytest.mark.parametrize("how", ["header", "query"])
    def test_emptyIdIsNone(self, how):
        """
        An empty id is no id: no replay and no C{missed}.
        """
        handlers = Handlers()
        site, _, resource = makeSSESite(handlers)
        publishMixed(resource)
        client = resume(site, b"", how=how)
        assert client.events() == []
        assert handlers.made[0].calls[-1][0] == "subscribed"
        assert handlers.made[0].subscriber.lastEventId is None

    def test_subscriberKnowsItsId(self):
        handlers = Handlers()
        site, _, resource = makeSSESite(handlers)
        publishMixed(resource)
        resume(site, b"E-2")
        assert handlers.made[0].subscriber.lastEventId == "E-2"

    def test_appChosenIds(self):
        """
        Ids the application chose resume as well as ours.
        """
        site, _, resource = makeSSESite()
        resource.publish("a", "one", id="order-1")
        resource.publish("a", "two", id="order-2")
        resource.publish("b", "other")
        resource.publish("a", "three")
        client = resume(site, b"order-1")
        assert [(e.data, e.lastEventId) for e in client.events()] == [("two", "order-2"), ("three", "E-4")]

    def test_replayThenLiveInOrder(self):
        """
        Replayed events, then events published afterwards, with no event
        twice even if published while the replay is being written.
        """

        class PublishOnSubscribe(SSEHandler):
            def subscribed(self, subscriber):
                subscriber.resource.publish("a", "live")

        site, _, resource = makeSSESite(PublishOnSubscribe)
        publishMixed(resource)
        client = resume(site, b"E-3")
        assert [e.data for e in client.events()] == ["a3", "live"]

    def test_replayNotRepeatedToOthers(self):
        """
        A replay goes to the client that resumes only.
        """
        site, _, resource = makeSSESite()
        live = subscribe(site, b"/events?channel=a", port=1)
        publishMixed(resource)
        resume(site, b"E-1", port=2)
        assert [e.data for e in live.events()] == ["a1", "a2", "a3"]


class TestMissed:
    """
    An id the history cannot resume from gives the handler's
    C{missedEvents}; by default a C{missed} event with the id as data,
    then live events.
    """

    @pytest.mark.parametrize(
        "lastEventId",
        [b"nope", b"X-1", b"E-99", b"E-0", b"E-01", b"E--1", b"E-", b"E", b"e-1"],
    )
    def test_unknownId(self, lastEventId):
        """
        Another epoch (a restart), a number not given yet, or anything
        malformed: C{missed}, nothing replayed.
        """
        handlers = Handlers()
        site, _, resource = makeSSESite(handlers)
        publishMixed(resource)
        client = resume(site, lastEventId)
        expected = lastEventId.decode()
        assert client.events() == [Event("missed", expected, "")]
        assert ("missed", expected) in handlers.made[0].calls
        resource.publish("a", "live")
        assert client.events()[1:] == [Event("message", "live", "E-6")]

    def test_beforeFirstPublish(self):
        """
        A fresh server (nothing published) does not know any id.
        """
        site, _, _ = makeSSESite()
        client = resume(site, b"E-1")
        assert client.events() == [Event("missed", "E-1", "")]

    def test_evicted(self):
        """
        An event after the id was dropped from the history (count bound):
        C{missed} rather than a silent gap.
        """
        site, _, resource = makeSSESite(historyEvents=3)
        for i in range(1, 6):
            resource.publish("a", f"a{i}")
        client = resume(site, b"E-1")
        assert client.events() == [Event("missed", "E-1", "")]
        still = resume(site, b"E-2", port=2)
        assert [e.data for e in still.events()] == ["a3", "a4", "a5"]

    def test_evictedBySize(self):
        site, _, resource = makeSSESite(historyBytes=100)
        for i in range(1, 6):
            resource.publish("a", f"{i}" * 20)
        assert resume(site, b"E-1").events() == [Event("missed", "E-1", "")]

    def test_evictedAppId(self):
        site, _, resource = makeSSESite(historyEvents=1)
        resource.publish("a", "x", id="mine")
        resource.publish("a", "y")
        assert resume(site, b"mine").events() == [Event("missed", "mine", "")]

    def test_evictionOnOtherChannelsHarmless(self):
        """
        The client's own event was evicted by traffic on another channel,
        but nothing on its channels was lost: no C{missed}.
        """
        handlers = Handlers()
        site, _, resource = makeSSESite(handlers, historyEvents=2)
        resource.publish("a", "a1")
        resource.publish("b", "b1")
        resource.publish("b", "b2")
        resource.publish("b", "b3")
        client = resume(site, b"E-1")
        assert client.events() == []
        assert "missed" not in [c[0] for c in handlers.made[0].calls]

    def test_noHistory(self):
        """
        With no history kept, every resume that needs an event is
        C{missed}; one that is up to date is not.
        """
        site, _, resource = makeSSESite(historyEvents=0)
        resource.publish("a", "a1")
        resource.publish("a", "a2")
        assert resume(site, b"E-1").events() == [Event("missed", "E-1", "")]
        assert resume(site, b"E-2", port=2).events() == []

    def test_customMissedEvents(self):
        """
        A handler may answer differently: here, close the stream.
        """

        class Reload(SSEHandler):
            def missedEvents(self, subscriber, lastEventId):
                subscriber.send("reload " + lastEventId, event="reload")
                subscriber.close()

        site, reactor, resource = makeSSESite(Reload)
        client = resume(site, b"old")
        response = client.response()
        assert response.events == [Event("reload", "reload old", "")]
        assert response.complete
        assert resource.subscribers == set() and resource.channels == {}
        client.lose()
        assert reactor.getDelayedCalls() == []
