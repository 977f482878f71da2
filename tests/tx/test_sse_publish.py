"""
Tests for C{POST <mount>/publish} on L{rtproto.tx.sse.EventSourceResource}
(on only with a C{publishToken}, which must come as a bearer token) and
for its CORS answers on C{GET}, C{POST} and C{OPTIONS} preflights.
"""

import json

import pytest

from tests.tx.sse_helpers import Event, SSEClient, makeSSESite, subscribe

TOKEN = "s3cret-token"
AUTH = (b"Authorization", b"Bearer " + TOKEN.encode())


def post(site, body, headers=(AUTH,), target=b"/events/publish", port=42000):
    """
    POST C{body} (a L{dict} as JSON, or L{bytes}); return the response.
    """
    client = SSEClient(site, port)
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    client.request(b"POST", target, [(b"Content-Type", b"application/json"), *headers], raw)
    return client.response()


def answer(response) -> dict:
    assert response.complete
    assert response.header(b"content-type") == b"application/json"
    return json.loads(response.body)


class TestPublishEndpoint:
    """
    The endpoint's answers, and what it publishes.
    """

    def test_offWithoutToken(self):
        """
        No token configured: 404, and nothing published.
        """
        site, _, resource = makeSSESite()
        for headers in [(), (AUTH,)]:
            response = post(site, {"channel": "a", "data": "x"}, headers)
            assert response.status == 404
        assert len(resource.history) == 0

    def test_otherPaths(self):
        site, _, resource = makeSSESite(publishToken=TOKEN)
        for target in (b"/events", b"/events/", b"/events/publish/x", b"/events/other"):
            assert post(site, {"channel": "a", "data": "x"}, target=target).status == 404
        assert len(resource.history) == 0

    def test_success(self):
        site, _, resource = makeSSESite(publishToken=TOKEN)
        client = subscribe(site, b"/events?channel=a")
        other = subscribe(site, b"/events?channel=b", port=2)
        response = post(site, {"channel": "a", "data": "hello\nworld"})
        assert response.status == 200
        assert answer(response) == {"id": "E-1"}
        response = post(site, {"channel": "a", "data": "typed", "event": "note", "id": "n-1"})
        assert answer(response) == {"id": "n-1"}
        assert client.events() == [Event("message", "hello\nworld", "E-1"), Event("note", "typed", "n-1")]
        assert other.events() == []
        assert len(resource.history) == 2

    def test_nullEventAndId(self):
        """
        JSON C{null} for C{event} or C{id} is the same as leaving them out.
        """
        site, _, _ = makeSSESite(publishToken=TOKEN)
        client = subscribe(site, b"/events?channel=a")
        response = post(site, {"channel": "a", "data": "x", "event": None, "id": None})
        assert answer(response) == {"id": "E-1"}
        assert client.events() == [Event("message", "x", "E-1")]

    def test_replayable(self):
        """
        What is published over HTTP is kept for replay like the rest.
        """
        site, _, _ = makeSSESite(publishToken=TOKEN)
        post(site, {"channel": "a", "data": "one"})
        post(site, {"channel": "a", "data": "two"})
        client = subscribe(site, b"/events?channel=a", [(b"Last-Event-ID", b"E-1")])
        assert [e.data for e in client.events()] == ["two"]

    @pytest.mark.parametrize(
        "headers, status",
        [
            ((), 401),
            (((b"Authorization", b"Bearer wrong"),), 403),
            (((b"Authorization", b"Bearer " + TOKEN.encode() + b"x"),), 403),
            (((b"Authorization", b"Bearer"),), 403),
            (((b"Authorization", b"Basic " + TOKEN.encode()),), 403),
            (((b"Authorization", TOKEN.encode()),), 403),
            (((b"Authorization", b"Bearer " + TOKEN.upper().encode()),), 403),
        ],
    )
    def test_refused(self, headers, status):
        site, _, resource = makeSSESite(publishToken=TOKEN)
        client = subscribe(site, b"/events?channel=a")
        response = post(site, {"channel": "a", "data": "x"}, headers)
        assert response.status == status
        assert "error" in answer(response)
        assert client.events() == [] and len(resource.history) == 0

    def test_schemeCaseInsensitive(self):
        site, _, _ = makeSSESite(publishToken=TOKEN)
        response = post(site, {"channel": "a", "data": "x"}, [(b"Authorization", b"bearer " + TOKEN.encode())])
        assert response.status == 200

    @pytest.mark.parametrize(
        "body",
        [
            b"not json",
            b"",
            b"\xff\xfe",
            b"[]",
            b'"a string"',
            b"null",
            b"42",
            {"data": "x"},
            {"channel": "a"},
            {"channel": "", "data": "x"},
            {"channel": "x" * 129, "data": "x"},
            {"channel": 1, "data": "x"},
            {"channel": ["a"], "data": "x"},
            {"channel": "a", "data": 1},
            {"channel": "a", "data": None},
            {"channel": "a", "data": {"k": "v"}},
            {"channel": "a", "data": "x", "event": 1},
            {"channel": "a", "data": "x", "id": 7},
            {"channel": "a", "data": "x", "event": "a\nb"},
            {"channel": "a", "data": "x", "event": "a\rb"},
            {"channel": "a", "data": "x", "id": "a\nb"},
            {"channel": "a", "data": "x", "id": "a\x00b"},
            {"channel": "a", "data": "\ud800"},
        ],
    )
    def test_badRequest(self, body):
        site, _, resource = makeSSESite(publishToken=TOKEN)
        client = subscribe(site, b"/events?channel=a")
        response = post(site, body)
        assert response.status == 400
        assert answer(response)["error"].startswith("bad publish request")
        assert client.events() == [] and len(resource.history) == 0
        assert post(site, {"channel": "a", "data": "ok"}).status == 200
        assert [e.lastEventId for e in client.events()] == ["E-1"]

    def test_tooLarge(self):
        """
        A body over the site's limit is not read: 413 (after the token is
        checked).
        """
        site, _, resource = makeSSESite(publishToken=TOKEN)
        client = SSEClient(site)
        head = b"POST /events/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n"
        client.send(head % (TOKEN.encode(), site.maxRequestBody + 1))
        client.send(b'{"channel": "a", "data": "' + b"x" * (site.maxRequestBody - 27) + b'"}')
        response = client.response()
        assert response.status == 413
        assert "error" in answer(response)
        assert len(resource.history) == 0

    def test_tooLargeWithoutTokenIs401(self):
        site, _, _ = makeSSESite(publishToken=TOKEN)
        client = SSEClient(site)
        size = site.maxRequestBody + 1
        client.send(b"POST /events/publish HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (size,))
        client.send(b"x" * size)
        assert client.response().status == 401

    def test_getOnPublishPath(self):
        site, _, resource = makeSSESite(publishToken=TOKEN)
        assert subscribe(site, b"/events/publish").response().status == 404
        assert resource.subscribers == set()


class TestCORS:
    """
    CORS headers only for allowed origins; never reflected for others.
    """

    A = b"https://a.example"
    B = b"https://b.example"

    def _get(self, site, origin, target=b"/events"):
        headers = [(b"Origin", origin)] if origin is not None else []
        return subscribe(site, target, headers).response()

    def test_offByDefault(self):
        site, _, _ = makeSSESite()
        response = self._get(site, self.A)
        assert response.status == 200
        assert not [h for h in response.headers if h.startswith(b"access-control-")]

    def test_allowList(self):
        site, _, _ = makeSSESite(corsOrigins=(self.A.decode(),))
        response = self._get(site, self.A)
        assert response.header(b"access-control-allow-origin") == self.A
        assert response.header(b"vary") == b"Origin"
        assert response.header(b"access-control-allow-credentials") is None
        for origin in (self.B, b"null", b"https://a.example.evil", None):
            response = self._get(site, origin)
            assert response.status == 200
            assert response.header(b"access-control-allow-origin") is None, origin
            assert response.header(b"access-control-allow-credentials") is None

    def test_credentials(self):
        site, _, _ = makeSSESite(corsOrigins=(self.A.decode(),), corsCredentials=True)
        response = self._get(site, self.A)
        assert response.header(b"access-control-allow-origin") == self.A
        assert response.header(b"access-control-allow-credentials") == b"true"
        response = self._get(site, self.B)
        assert response.header(b"access-control-allow-origin") is None
        assert response.header(b"access-control-allow-credentials") is None

    def test_anyOrigin(self):
        site, _, _ = makeSSESite(corsOrigins=("*",))
        response = self._get(site, self.B)
        assert response.header(b"access-control-allow-origin") == b"*"
        assert response.header(b"vary") is None
        assert self._get(site, None).header(b"access-control-allow-origin") is None

    def test_anyOriginWithCredentialsReflects(self):
        """
        C{*} is not allowed with credentials: the origin is reflected.
        """
        site, _, _ = makeSSESite(corsOrigins=("*",), corsCredentials=True)
        response = self._get(site, self.B)
        assert response.header(b"access-control-allow-origin") == self.B
        assert response.header(b"vary") == b"Origin"
        assert response.header(b"access-control-allow-credentials") == b"true"

    def test_onRefusals(self):
        """
        A refused subscription still carries CORS headers, so the page can
        read the status.
        """
        from tests.tx.sse_helpers import Handlers

        site, _, _ = makeSSESite(Handlers(deny=(401, "login")), corsOrigins=(self.A.decode(),))
        response = self._get(site, self.A)
        assert response.status == 401
        assert response.header(b"access-control-allow-origin") == self.A

    def test_whileClosing(self):
        site, _, resource = makeSSESite(corsOrigins=(self.A.decode(),))
        resource.closeAll()
        response = self._get(site, self.A)
        assert response.header(b"access-control-allow-origin") == self.A

    def test_post(self):
        site, _, _ = makeSSESite(publishToken=TOKEN, corsOrigins=(self.A.decode(),), corsCredentials=True)
        response = post(site, {"channel": "a", "data": "x"}, [AUTH, (b"Origin", self.A)])
        assert response.status == 200
        assert response.header(b"access-control-allow-origin") == self.A
        assert response.header(b"access-control-allow-credentials") == b"true"
        refused = post(site, {"channel": "a", "data": "x"}, [(b"Origin", self.A)])
        assert refused.status == 401
        assert refused.header(b"access-control-allow-origin") == self.A
        other = post(site, {"channel": "a", "data": "x"}, [AUTH, (b"Origin", self.B)])
        assert other.status == 200
        assert other.header(b"access-control-allow-origin") is None

    def _preflight(self, site, origin, target=b"/events", wanted=b"last-event-id, authorization"):
        client = SSEClient(site)
        headers = [(b"Access-Control-Request-Method", b"GET")]
        if origin is not None:
            headers.append((b"Origin", origin))
        if wanted is not None:
            headers.append((b"Access-Control-Request-Headers", wanted))
        client.request(b"OPTIONS", target, headers)
        return client.response()

    def test_preflight(self):
        site, _, resource = makeSSESite(corsOrigins=(self.A.decode(),), corsCredentials=True)
        for target in (b"/events", b"/events/publish"):
            response = self._preflight(site, self.A, target)
            assert (response.status, response.complete) == (204, True)
            assert response.header(b"access-control-allow-origin") == self.A
            assert response.header(b"access-control-allow-credentials") == b"true"
            assert response.header(b"access-control-allow-methods") == b"GET, POST, OPTIONS"
            assert response.header(b"access-control-allow-headers") == b"last-event-id, authorization"
            assert response.header(b"access-control-max-age") == b"86400"
        assert resource.subscribers == set()

    def test_preflightOtherOrigin(self):
        site, _, _ = makeSSESite(corsOrigins=(self.A.decode(),), corsCredentials=True)
        response = self._preflight(site, self.B)
        assert response.status == 204
        assert response.header(b"access-control-allow-origin") is None
        assert response.header(b"access-control-allow-credentials") is None

    def test_preflightWithoutRequestedHeaders(self):
        site, _, _ = makeSSESite(corsOrigins=(self.A.decode(),))
        response = self._preflight(site, self.A, wanted=None)
        assert response.header(b"access-control-allow-headers") is None
        assert response.header(b"access-control-allow-origin") == self.A


class TestStats:
    """
    C{GET <mount>/stats} (with the publish token): subscriber counts and
    the history's size, optionally waiting for a subscriber count.
    """

    def _stats(self, site, query=b"", headers=(AUTH,), port=43000):
        client = SSEClient(site, port)
        client.request(b"GET", b"/events/stats" + query, list(headers))
        return client

    def test_offWithoutToken(self):
        site, _, resource = makeSSESite()
        response = self._stats(site).response()
        assert response.status == 404
        assert resource.subscribers == set()

    @pytest.mark.parametrize("headers, status", [((), 401), (((b"Authorization", b"Bearer nope"),), 403)])
    def test_refused(self, headers, status):
        site, _, _ = makeSSESite(publishToken=TOKEN)
        assert self._stats(site, headers=headers).response().status == status

    def test_counts(self):
        site, _, resource = makeSSESite(publishToken=TOKEN)
        subscribe(site, b"/events?channel=a&channel=b", port=1)
        subscribe(site, b"/events?channel=a", port=2)
        resource.publish("a", "x")
        body = answer(self._stats(site).response())
        assert body == {
            "subscribers": 2,
            "channels": {"a": 2, "b": 1},
            "history": {"events": 1, "bytes": resource.history.size, "lastSeq": 1},
        }
        assert body == resource.stats()
        assert len(resource.subscribers) == 2

    def test_waitForCount(self):
        """
        C{?subscribers=N} answers once there are N subscribers.
        """
        site, reactor, resource = makeSSESite(publishToken=TOKEN)
        waiting = self._stats(site, b"?subscribers=2")
        assert waiting.responses() == []
        first = subscribe(site, port=1)
        assert waiting.responses() == []
        subscribe(site, port=2)
        assert answer(waiting.response())["subscribers"] == 2
        first.lose()
        down = self._stats(site, b"?subscribers=0", port=43001)
        assert down.responses() == []
        resource.closeAll()
        assert answer(down.response())["subscribers"] == 0
        assert [c for c in reactor.getDelayedCalls() if "_answerWaiter" in repr(c.func)] == []

    def test_waitAlreadyThere(self):
        site, _, _ = makeSSESite(publishToken=TOKEN)
        assert answer(self._stats(site, b"?subscribers=0").response())["subscribers"] == 0

    @pytest.mark.parametrize("query, waited", [(b"", 10.0), (b"&timeout=2.5", 2.5), (b"&timeout=999", 60.0), (b"&timeout=x", 10.0)])
    def test_waitTimesOut(self, query, waited):
        """
        Not reached in C{?timeout=} seconds (10 by default, at most 60): the
        current count.
        """
        site, reactor, _ = makeSSESite(publishToken=TOKEN)
        waiting = self._stats(site, b"?subscribers=3" + query)
        reactor.advance(waited - 0.01)
        assert waiting.responses() == []
        reactor.advance(0.01)
        assert answer(waiting.response())["subscribers"] == 0

    def test_waiterGone(self):
        """
        A waiting client that goes away leaves no timer and no waiter.
        """
        site, reactor, resource = makeSSESite(publishToken=TOKEN)
        waiting = self._stats(site, b"?subscribers=1")
        waiting.lose()
        assert reactor.getDelayedCalls() == []
        client = subscribe(site)
        assert resource.stats()["subscribers"] == 1
        client.lose()
        assert reactor.getDelayedCalls() == []


class TestDisconnectEndpoint:
    """
    C{POST <mount>/disconnect} (with the publish token) ends streams as a
    dropped connection would; clients come back with C{Last-Event-ID}.
    """

    def test_offWithoutToken(self):
        site, _, resource = makeSSESite()
        client = subscribe(site)
        assert post(site, b"", (AUTH,), target=b"/events/disconnect").status == 404
        assert len(resource.subscribers) == 1
        assert not client.response().complete

    def test_needsToken(self):
        site, _, resource = makeSSESite(publishToken=TOKEN)
        subscribe(site)
        assert post(site, b"", (), target=b"/events/disconnect").status == 401
        assert post(site, b"", ((b"Authorization", b"Bearer nope"),), target=b"/events/disconnect").status == 403
        assert len(resource.subscribers) == 1

    def test_everyStream(self):
        """
        Every stream ends cleanly (a complete response); the handlers hear
        why; a client resuming from its last id gets what it missed.
        """
        site, _, resource = makeSSESite(publishToken=TOKEN)
        a = subscribe(site, b"/events?channel=a")
        b = subscribe(site, b"/events?channel=b", port=2)
        resource.publish("a", "one")
        response = post(site, b"", target=b"/events/disconnect")
        assert response.status == 200 and answer(response) == {"disconnected": 2}
        assert a.response().complete and b.response().complete
        assert resource.subscribers == set() and resource.channels == {}
        [seen] = a.events()
        resource.publish("a", "two")
        again = subscribe(site, b"/events?channel=a", [(b"Last-Event-ID", seen.lastEventId.encode())], port=3)
        assert [e.data for e in again.events()] == ["two"]

    def test_someChannels(self):
        site, _, resource = makeSSESite(publishToken=TOKEN)
        a = subscribe(site, b"/events?channel=a")
        b = subscribe(site, b"/events?channel=b", port=2)
        both = subscribe(site, b"/events?channel=a&channel=b", port=3)
        response = post(site, b"", target=b"/events/disconnect?channel=a")
        assert answer(response) == {"disconnected": 2}
        assert a.response().complete and both.response().complete
        assert not b.response().complete
        assert resource.disconnect(["nothing"]) == 0
