"""
Regression tests for bugs found in the Server-Sent Events glue (second
round): dropping a slow client over HTTP/2, HTTP/2 streams and the idle
timeout, the stats endpoint's timeout, and lenient cookie parsing.
"""

import pytest

from tests.tx.sse_helpers import Handlers, makeSSESite, subscribe


def test_http2SlowClientStreamReset(monkeypatch):
    """
    Over HTTP/2 a subscriber dropped as a slow client must have its stream
    reset (or ended), so that the client notices and reconnects.  Today
    C{Subscriber._end(abort=True)} looks for C{request.channel.transport},
    which is L{None} on Twisted's C{H2Stream}, and does nothing: the handler
    is told "slow client" and the subscriber forgotten, but the stream stays
    open with no events and no keep-alives, and the browser never
    reconnects.
    """
    pytest.importorskip("h2")
    from tests.tx.sse_helpers import H2Client

    handlers = Handlers()
    site, reactor, resource = makeSSESite(handlers, bufferSize=1000)
    client = H2Client(site, reactor)
    client.get()
    subscriber = handlers.made[0].subscriber
    for _ in range(80):
        resource.publish("default", "x" * 1000)
        client.pump()
        if subscriber.closed:
            break
    assert handlers.made[0].calls[-1] == ("unsubscribed", "slow client")
    client.pump()
    assert "StreamReset" in client.kinds() or "StreamEnded" in client.kinds()


def test_http2StreamOutlivesIdleTimeout(monkeypatch):
    """
    As over HTTP/1.1, an open stream is not dropped by the site's 60 s idle
    timeout.  Over HTTP/2 the connection's timeout stays on (an
    C{H2Stream} has none of its own), and the keep-alives reset it: they
    must come more often, so a keep-alive period of 60 s or more is refused
    (it let the connection get GOAWAY after 60 s), and the longest allowed
    one keeps the stream open.
    """
    pytest.importorskip("h2")
    from rtproto.tx.site import IDLE_TIMEOUT
    from tests.tx.sse_helpers import H2Client

    handlers = Handlers()
    with pytest.raises(ValueError, match="below 60"):
        makeSSESite(handlers, keepAlive=IDLE_TIMEOUT)
    site, reactor, resource = makeSSESite(handlers, keepAlive=IDLE_TIMEOUT - 1)
    client = H2Client(site, reactor)
    client.get()
    for _ in range(int(IDLE_TIMEOUT) * 2 + 5):
        reactor.advance(1)
        client.pump()
    assert "ConnectionTerminated" not in [type(e).__name__ for e in client.received]
    assert not client.transport.disconnecting


@pytest.mark.parametrize("timeout", [b"nan", b"-1", b"-inf"])
def test_statsTimeoutChecked(timeout):
    """
    C{GET <mount>/stats?subscribers=N&timeout=T} waits at most 60 s
    whatever T is (or refuses T with 400).  Before the fix, C{min(float(T), 60.0)}
    lets through NaN (C{min(nan, 60.0)} is NaN) and negative numbers: the
    real reactor's C{callLater} asserts C{delay >= 0}, so the request fails
    with a 500 (here, a reactor that checks as the real one does), and
    under C{python -O} a NaN timer never fires and the request hangs.
    """
    import json

    from twisted.internet.testing import MemoryReactorClock

    from rtproto.sse import EventIds, SSEOptions
    from rtproto.tx.site import buildSite
    from rtproto.tx.sse import EventSourceResource
    from tests.tx.sse_helpers import SSEClient

    class CheckingReactor(MemoryReactorClock):
        def callLater(self, delay, f, *args, **kw):
            assert delay >= 0, f"{delay} is not greater than or equal to 0 seconds"
            return super().callLater(delay, f, *args, **kw)

    reactor = CheckingReactor()
    resource = EventSourceResource(options=SSEOptions(publishToken="t"), reactor=reactor, ids=EventIds("E"))
    site = buildSite([], None, reactor, sse=[("/events", resource)])
    client = SSEClient(site)
    client.request(b"GET", b"/events/stats?subscribers=3&timeout=" + timeout, [(b"Authorization", b"Bearer t")])
    reactor.advance(60)
    response = client.response()
    assert response.status in (200, 400)
    if response.status == 200:
        assert json.loads(response.body)["subscribers"] == 0


@pytest.mark.parametrize("header", [b"cart[items]=3; session=abc", b'broken="x; session=abc', b"a b=1; session=abc"])
def test_getCookieAfterOddCookie(header):
    """
    A cookie the handler needs is found even when another cookie of the
    same site comes first with a name C{http.cookies} refuses (PHP-style
    C{cart[items]}, an unbalanced quote, a space: browsers send them).
    Before the fix, L{SSERequest.getCookie} loads the header with L{SimpleCookie},
    which silently stops at the first such pair, so C{session} is not seen
    and a cookie-checking C{authorize} refuses the user.
    """
    handlers = Handlers()
    site, _, _ = makeSSESite(handlers)
    subscribe(site, headers=[(b"Cookie", header)])
    request = handlers.made[0].request
    assert request.getCookie("session") == "abc"
    assert request.getCookie(b"session") == b"abc"
