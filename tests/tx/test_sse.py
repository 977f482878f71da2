"""
Tests for L{rtproto.tx.sse.EventSourceResource} through a real
C{twisted.web} site: the stream's response, who gets which published event,
the channel list, the authorization hook and the request snapshot.

Replay, keep-alives, back-pressure and shutdown, the publish endpoint and
CORS, and leaks have their own modules (C{test_sse_*.py}).
"""

import pytest
from twisted.internet.defer import fail, succeed
from zope.interface.verify import verifyObject

from rtproto.errors import ConnectionDeny
from rtproto.interfaces import ISSEHandler, ISSERequest, ISSESubscriber
from rtproto.sse._handler import SSEHandler
from rtproto.tx._ssesubscriber import SSERequest
from rtproto.tx.site import IDLE_TIMEOUT
from rtproto.tx.sse import MAX_CHANNEL
from tests.tx.sse_helpers import (
    Event,
    Handlers,
    LogCapture,
    SSEClient,
    makeSSESite,
    subscribe,
)


class TestStreamResponse:
    """
    The response that carries a stream.
    """

    def test_headers(self):
        """
        200, C{text/event-stream} in UTF-8, not cached, not buffered by a
        proxy, chunked, with neither a length nor a content coding (a
        gzip stream would be held back by the compressor).
        """
        site, _, _ = makeSSESite()
        client = subscribe(site, b"/events", [(b"Accept-Encoding", b"gzip, deflate")])
        response = client.response()
        assert response.status == 200
        assert response.header(b"content-type") == b"text/event-stream; charset=utf-8"
        assert response.header(b"cache-control") == b"no-cache"
        assert response.header(b"x-accel-buffering") == b"no"
        assert response.header(b"transfer-encoding") == b"chunked"
        assert b"content-length" not in response.headers
        assert b"content-encoding" not in response.headers
        assert not response.complete

    def test_retryLineAtOnce(self):
        """
        The C{retry} line is written as soon as the stream opens, before any
        event, so the headers reach the client at once.
        """
        site, _, _ = makeSSESite(retry=1234)
        client = subscribe(site)
        response = client.response()
        assert response.body == b"retry: 1234\n\n"
        assert response.stream == ([], [], 1234)

    def test_commentWithoutRetry(self):
        """
        With C{retry=None} a comment goes first instead: still something to
        flush the headers, and no reconnection time.
        """
        site, _, _ = makeSSESite(retry=None)
        client = subscribe(site)
        stream = client.response().stream
        assert client.response().body.startswith(b":")
        assert stream.retry is None and stream.events == [] and len(stream.comments) == 1

    def test_otherPathsNotFound(self):
        """
        Only the mount itself (with or without a trailing slash) streams.
        """
        site, _, resource = makeSSESite()
        for target in (b"/events/", b"/events?channel=a"):
            assert subscribe(site, target).response().status == 200
        for target in (b"/events/x", b"/events/publish"):
            response = subscribe(site, target).response()
            assert (response.status, response.complete) == (404, True)
        assert len(resource.subscribers) == 2

    def test_idleTimeoutOffForStreams(self):
        """
        The site drops idle HTTP connections after 60 s, but not a stream
        (keep-alive writes do not reset an HTTP/1.1 channel's timer):
        past that (and past the header deadline) it is still open.
        """
        site, reactor, resource = makeSSESite(keepAlive=IDLE_TIMEOUT - 1)
        client = subscribe(site)
        for _ in range(int(IDLE_TIMEOUT) * 3):
            reactor.advance(1)
        assert not client.transport.disconnecting
        assert not client.response().complete
        assert len(resource.subscribers) == 1
        resource.publish("default", "still here")
        assert client.events() == [Event("message", "still here", "E-1")]

    def test_idleConnectionStillTimesOut(self):
        """
        The site's timeout is back once the stream has ended: the
        connection does not stay open forever.
        """
        site, reactor, resource = makeSSESite()
        client = subscribe(site)
        [subscriber] = resource.subscribers
        subscriber.close()
        assert client.response().complete
        reactor.advance(IDLE_TIMEOUT + 1)
        assert client.transport.disconnecting


class TestPublish:
    """
    L{EventSourceResource.publish} reaches exactly the subscribers of the
    channel, in order.
    """

    def test_routing(self):
        """
        Subscribers of C{a}, of C{b}, and of both get exactly the events of
        their channels, in publishing order, each once.
        """
        site, _, resource = makeSSESite()
        onA = subscribe(site, b"/events?channel=a", port=1)
        onB = subscribe(site, b"/events?channel=b", port=2)
        onBoth = subscribe(site, b"/events?channel=a&channel=b", port=3)
        onOther = subscribe(site, b"/events?channel=c", port=4)
        ids = [
            resource.publish("a", "a1"),
            resource.publish("b", "b1", event="kind"),
            resource.publish("a", "a2"),
            resource.publish("z", "nobody"),
            resource.publish("b", "b2"),
        ]
        assert ids == ["E-1", "E-2", "E-3", "E-4", "E-5"]
        assert onA.events() == [Event("message", "a1", "E-1"), Event("message", "a2", "E-3")]
        assert onB.events() == [Event("kind", "b1", "E-2"), Event("message", "b2", "E-5")]
        assert [e.data for e in onBoth.events()] == ["a1", "b1", "a2", "b2"]
        assert onOther.events() == []

    def test_defaultChannels(self):
        """
        Without C{?channel=}, the handler's default channels.
        """
        site, _, resource = makeSSESite()
        client = subscribe(site)
        [subscriber] = resource.subscribers
        assert subscriber.channels == ("default",)
        assert set(resource.channels) == {"default"}
        resource.publish("default", "hello")
        resource.publish("other", "not for you")
        assert client.events() == [Event("message", "hello", "E-1")]

    def test_repeatedChannelOnce(self):
        """
        A channel named twice is subscribed once: its events come once.
        """
        site, _, resource = makeSSESite()
        client = subscribe(site, b"/events?channel=a&channel=b&channel=a")
        [subscriber] = resource.subscribers
        assert subscriber.channels == ("a", "b")
        resource.publish("a", "x")
        assert client.events() == [Event("message", "x", "E-1")]

    def test_dataSurvives(self):
        """
        Multi-line, empty, non-ASCII and space-led data come back as
        published (CR and CRLF as LF: the format cannot tell them apart).
        """
        site, _, resource = makeSSESite()
        client = subscribe(site)
        payloads = ["line1\nline2", "", "  spaced", "é€😀", "trailing\n", "cr\r\nlf\rend"]
        for data in payloads:
            resource.publish("default", data)
        got = [e.data for e in client.events()]
        assert got == payloads[:-1] + ["cr\nlf\nend"]

    def test_appIds(self):
        """
        An application's own id is used, on the wire and as the return
        value; the next generated id goes on counting.
        """
        site, _, resource = makeSSESite()
        client = subscribe(site)
        assert resource.publish("default", "x", id="order-7") == "order-7"
        assert resource.publish("default", "y") == "E-2"
        assert [e.lastEventId for e in client.events()] == ["order-7", "E-2"]

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"event": "a\nb"},
            {"event": "a\rb"},
            {"id": "a\nb"},
            {"id": "a\x00b"},
            {"data": b"bytes"},
            {"channel": b"default"},
        ],
    )
    def test_badPublishNotSent(self, kwargs):
        """
        A field that would break the stream, or data or a channel that is
        not a L{str}, is refused before anything is written or kept.
        """
        from rtproto.errors import UsageError

        site, _, resource = makeSSESite()
        client = subscribe(site)
        before = client.transport.value()
        args = {"channel": "default", "data": "x", **kwargs}
        with pytest.raises(UsageError):
            resource.publish(**args)
        assert client.transport.value() == before
        assert len(resource.history) == 0
        assert resource.publish("default", "ok") == "E-1"

    def test_subscriberSend(self):
        """
        L{Subscriber.send} reaches that subscriber only, and is not kept
        for replay.
        """
        site, _, resource = makeSSESite()
        one = subscribe(site, port=1)
        two = subscribe(site, port=2)
        subscriber = next(s for s in resource.subscribers if s.request.peer.port == 1)
        subscriber.send("just you", event="private", id="p1")
        assert one.events() == [Event("private", "just you", "p1")]
        assert two.events() == []
        assert len(resource.history) == 0


class TestChannelList:
    """
    The channel list is checked: 400 for an empty name, a name over
    C{MAX_CHANNEL} characters, more than C{maxChannels} names, or none.
    """

    @pytest.mark.parametrize(
        "query",
        [
            b"channel=",
            b"channel=a&channel=",
            b"channel=" + b"x" * (MAX_CHANNEL + 1),
            b"&".join(b"channel=c%d" % i for i in range(4)),
        ],
    )
    def test_refused(self, query):
        handlers = Handlers()
        site, _, resource = makeSSESite(handlers, maxChannels=3)
        response = subscribe(site, b"/events?" + query).response()
        assert (response.status, response.complete) == (400, True)
        assert response.header(b"content-type") == b"text/plain; charset=utf-8"
        assert resource.subscribers == set() and resource.channels == {}
        assert [c[0] for c in handlers.made[0].calls] == ["authorize", "channelsFor"]

    @pytest.mark.parametrize(
        "query",
        [
            b"channel=" + b"x" * MAX_CHANNEL,
            b"&".join(b"channel=c%d" % i for i in range(3)),
            b"channel=%C3%A9t%C3%A9",
        ],
    )
    def test_accepted(self, query):
        site, _, resource = makeSSESite(maxChannels=3)
        response = subscribe(site, b"/events?" + query).response()
        assert response.status == 200
        assert len(resource.subscribers) == 1

    def test_nonAsciiName(self):
        """
        Channel names are the UTF-8 decoded query values.
        """
        site, _, resource = makeSSESite()
        client = subscribe(site, b"/events?channel=%C3%A9t%C3%A9")
        resource.publish("été", "chaud")
        assert client.events() == [Event("message", "chaud", "E-1")]

    @pytest.mark.parametrize("channels", [[], [""], [42], ["ok", None], ["x" * (MAX_CHANNEL + 1)]])
    def test_handlerChoiceChecked(self, channels):
        """
        The handler's C{channelsFor} answer is checked too.
        """
        handlers = Handlers(channels=lambda requested: channels)
        site, _, resource = makeSSESite(handlers)
        response = subscribe(site, b"/events?channel=a").response()
        assert response.status == 400
        assert resource.subscribers == set() and resource.channels == {}

    def test_handlerChoosesChannels(self):
        """
        C{channelsFor} gets the requested names and decides.
        """
        handlers = Handlers(channels=lambda requested: ["user-1"] + [c for c in requested if c != "secret"])
        site, _, resource = makeSSESite(handlers)
        client = subscribe(site, b"/events?channel=news&channel=secret")
        assert handlers.made[0].calls[1] == ("channelsFor", ["news", "secret"])
        resource.publish("secret", "no")
        resource.publish("user-1", "yes")
        assert [e.data for e in client.events()] == ["yes"]
        assert set(resource.channels) == {"user-1", "news"}


class TestAuthorize:
    """
    The handler's C{authorize} hook can refuse, synchronously or later;
    a handler that fails gives 403, never 500.
    """

    @pytest.mark.parametrize("status, reason", [(401, "Unauthorized"), (403, "Go away")])
    def test_refusedAtOnce(self, status, reason):
        handlers = Handlers(deny=(status, reason))
        site, _, resource = makeSSESite(handlers)
        response = subscribe(site).response()
        assert (response.status, response.body, response.complete) == (status, reason.encode() + b"\n", True)
        assert response.header(b"content-type") == b"text/plain; charset=utf-8"
        assert resource.subscribers == set()
        assert handlers.made[0].calls == [("authorize",)]

    @pytest.mark.parametrize("status", [401, 403])
    def test_refusedLater(self, status):
        handlers = Handlers(pending=True)
        site, _, resource = makeSSESite(handlers)
        client = subscribe(site)
        assert client.responses() == []
        [d] = handlers.waiting
        d.errback(ConnectionDeny(status, "no"))
        assert (client.response().status, client.response().body) == (status, b"no\n")
        assert resource.subscribers == set()

    def test_acceptedLater(self):
        """
        A L{Deferred} that succeeds opens the stream then.
        """
        handlers = Handlers(pending=True)
        site, _, resource = makeSSESite(handlers)
        client = subscribe(site)
        resource.publish("default", "before")
        assert client.responses() == [] and resource.subscribers == set()
        handlers.waiting[0].callback(None)
        assert client.response().status == 200
        resource.publish("default", "after")
        assert [e.data for e in client.events()] == ["after"]
        assert [c[0] for c in handlers.made[0].calls] == ["authorize", "channelsFor", "subscribed"]

    @pytest.mark.parametrize(
        "deny",
        [
            lambda request: succeed(None),
            lambda request: None,
        ],
    )
    def test_acceptingResults(self, deny):
        handlers = Handlers(deny=deny)
        site, _, _ = makeSSESite(handlers)
        assert subscribe(site).response().status == 200

    def test_deniedByFailedDeferred(self):
        handlers = Handlers(deny=lambda request: fail(ConnectionDeny(401, "later")))
        site, _, _ = makeSSESite(handlers)
        assert subscribe(site).response().status == 401

    def test_clientGoneWhileAuthorizing(self):
        """
        A client that leaves before the answer is forgotten: nothing is
        written, no subscriber, the handler is not told it subscribed.
        """
        handlers = Handlers(pending=True)
        site, _, resource = makeSSESite(handlers)
        client = subscribe(site)
        client.lose()
        handlers.waiting[0].callback(None)
        assert client.transport.value() == b""
        assert resource.subscribers == set() and resource.channels == {}
        assert handlers.made[0].calls == [("authorize",)]

    def test_clientGoneWhileAuthorizingThenRefused(self):
        handlers = Handlers(pending=True)
        site, _, resource = makeSSESite(handlers)
        client = subscribe(site)
        client.lose()
        with LogCapture() as log:
            handlers.waiting[0].errback(ConnectionDeny(403))
        assert client.transport.value() == b""
        assert log.failures == []

    @pytest.mark.parametrize("where", ["authorize", "channelsFor", "deferred"])
    def test_handlerFailureIs403(self, where):
        """
        An exception in C{authorize} (raised or in its L{Deferred}) or in
        C{channelsFor} is logged and answered with 403, not 500.
        """

        class Broken(SSEHandler):
            def authorize(self, request):
                if where == "authorize":
                    raise ValueError("bug")
                if where == "deferred":
                    return fail(ValueError("bug"))

            def channelsFor(self, request, requested):
                raise ValueError("bug")

        site, _, resource = makeSSESite(Broken)
        with LogCapture() as log:
            response = subscribe(site).response()
        assert (response.status, response.complete) == (403, True)
        assert b"bug" not in response.body
        assert len(log.failures) == 1
        assert log.failures[0]["log_failure"].check(ValueError)
        assert resource.subscribers == set()

    def test_failingHooksAfterAuthorizeAreLogged(self):
        """
        C{subscribed}, C{missedEvents} and C{unsubscribed} that raise are
        logged; the stream is not harmed.
        """

        class Broken(SSEHandler):
            def subscribed(self, subscriber):
                super().subscribed(subscriber)
                raise ValueError("subscribed")

            def missedEvents(self, subscriber, lastEventId):
                raise ValueError("missed")

            def unsubscribed(self, reason):
                raise ValueError("unsubscribed")

        site, _, resource = makeSSESite(Broken)
        with LogCapture() as log:
            client = subscribe(site, headers=[(b"Last-Event-ID", b"nope")])
            resource.publish("default", "fine")
            assert client.events() == [Event("message", "fine", "E-1")]
            client.lose()
        assert resource.subscribers == set()
        assert sorted(str(e["log_failure"].value) for e in log.failures) == ["missed", "subscribed", "unsubscribed"]

    def test_interfaces(self):
        """
        The handler, subscriber and request provide their interfaces.
        """
        handlers = Handlers()
        site, _, resource = makeSSESite(handlers)
        subscribe(site)
        [subscriber] = resource.subscribers
        assert verifyObject(ISSEHandler, handlers.made[0])
        assert verifyObject(ISSESubscriber, subscriber)
        assert verifyObject(ISSERequest, subscriber.request)


class TestRequestSnapshot:
    """
    L{SSERequest}: what the handler sees of the request.
    """

    def _request(self, headers, target=b"/events?channel=a&x=1"):
        handlers = Handlers()
        site, _, _ = makeSSESite(handlers)
        subscribe(site, target, headers, port=5555)
        return handlers.made[0].request

    def test_fields(self):
        request = self._request([(b"X-Token", b"t")])
        assert isinstance(request, SSERequest)
        assert request.path == b"/events"
        assert request.args == {b"channel": [b"a"], b"x": [b"1"]}
        assert request.headers.getRawHeaders(b"x-token") == [b"t"]
        assert (request.peer.host, request.peer.port) == ("127.0.0.1", 5555)
        assert request.isSecure is False

    def test_getCookie(self):
        """
        Cookies by L{str} or L{bytes} name, from any C{Cookie} header.
        """
        request = self._request([(b"Cookie", b"a=1; session=abc"), (b"Cookie", b"other=2")])
        assert request.getCookie("session") == "abc"
        assert request.getCookie(b"session") == b"abc"
        assert request.getCookie("other") == "2"
        assert request.getCookie(b"other") == b"2"
        assert request.getCookie("missing") is None
        assert request.getCookie(b"missing") is None

    def test_getCookieQuotedAndBroken(self):
        """
        A quoted value is unquoted; a header that cannot be parsed is
        skipped, not fatal.
        """
        request = self._request([(b"Cookie", b'q="a b"'), (b"Cookie", b"==broken"), (b"Cookie", b"z=9")])
        assert request.getCookie("q") == "a b"
        assert request.getCookie("z") == "9"

    def test_noCookies(self):
        request = self._request([])
        assert request.getCookie("session") is None

    def test_snapshotOutlivesRequest(self):
        """
        The snapshot still answers after the connection is gone.
        """
        handlers = Handlers()
        site, _, _ = makeSSESite(handlers)
        client = subscribe(site, headers=[(b"Cookie", b"s=1")])
        client.lose()
        request = handlers.made[0].request
        assert request.getCookie("s") == "1"
        assert "SSERequest" in repr(request)


def test_singleClient():
    """
    L{SSEClient} on its own: a plain request on a non-SSE path is answered
    (the index), so the helper reads ordinary responses too.
    """
    site, _, _ = makeSSESite()
    client = SSEClient(site)
    client.get(b"/")
    response = client.response()
    assert response.status == 200 and response.complete
    assert b"SSE: /events" in response.body
