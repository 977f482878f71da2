"""
Regression tests for bugs found in the Server-Sent Events glue while its
tests were written: a subscription authorized after a graceful stop began,
a large replay dropping a fast client, a subscriber made while its
connection waits not starting paused, HEAD opening a stream, the service
scheduling timers when built, and a keep-alive of NaN or infinity.
"""

import math

import pytest
from twisted.internet.testing import MemoryReactor, MemoryReactorClock
from twisted.python import usage

from rtproto import tap
from rtproto.plugins.ticker import INTERVAL
from tests.tx.sse_helpers import Event, FlowControlledTransport, Handlers, SSEClient, makeSSESite, subscribe


def test_authorizedAfterCloseAllGetsNoStream():
    """
    A subscription whose C{authorize} L{Deferred} fires after C{closeAll}
    must not open a stream: it gets what any GET gets while closing (200,
    the retry line, the end), no subscriber is kept and no keep-alive timer
    runs.  Today it is subscribed, after the graceful stop, and restarts the
    keep-alive timer.
    """
    handlers = Handlers(pending=True)
    site, reactor, resource = makeSSESite(handlers)
    client = subscribe(site)
    resource.closeAll()
    handlers.waiting[0].callback(None)
    response = client.response()
    assert (response.status, response.body, response.complete) == (200, b"retry: 3000\n\n", True)
    assert resource.subscribers == set() and resource.channels == {}
    assert "subscribed" not in [c[0] for c in handlers.made[0].calls]
    client.lose()
    assert reactor.getDelayedCalls() == []


def test_bigReplayDoesNotDropFastClient():
    """
    With the default options (1 MiB of history, a 256 KiB C{bufferSize}),
    a client that reconnects after missing ~400 KiB of events is dropped as
    a "slow client" before it could read anything: the whole replay is
    written in one go, the transport pauses the producer after 64 KiB (as
    Twisted's C{FileDescriptor.write} does), and the rest counts against
    C{bufferSize}.  It reconnects with the same C{Last-Event-ID} and is
    dropped again, forever.
    """
    handlers = Handlers()
    site, _, resource = makeSSESite(handlers)
    assert resource.options.historyBytes > resource.options.bufferSize
    for i in range(400):
        resource.publish("a", f"{i:04d}" + "x" * 1020)
    assert len(resource.history) == 400
    client = SSEClient(site, transportFactory=FlowControlledTransport)
    client.get(b"/events?channel=a", [(b"Last-Event-ID", b"E-1")])
    client.transport.drain()
    assert not client.transport.aborted
    assert ("unsubscribed", "slow client") not in handlers.made[0].calls
    resource.publish("a", "live")
    events = client.events()
    assert len(events) == 400 and events[-1] == Event("message", "live", "E-401")


def test_subscriberRegisteredWhilePausedIsPaused():
    """
    A pipelined GET served while the connection's transport is paused (its
    previous response not read yet) must start paused, so that what piles
    up for it is bounded by C{bufferSize}.  Twisted's
    C{HTTPChannel.registerProducer} does not pause a producer registered
    while it waits for the transport, and the resource does not check, so
    a client that pipelines two GETs and stops reading gets an unbounded
    buffer.
    """
    handlers = Handlers()
    site, _, resource = makeSSESite(handlers, bufferSize=1000)
    client = SSEClient(site)
    client.get()
    client.get()
    client.transport.producer.pauseProducing()
    handlers.made[0].subscriber.close()
    assert len(handlers.made) == 2 and len(resource.subscribers) == 1
    for _ in range(10):
        resource.publish("default", "x" * 500)
    assert client.transport.aborted
    assert handlers.made[1].calls[-1] == ("unsubscribed", "slow client")


def test_headDoesNotSubscribe():
    """
    C{HEAD /events} gets the stream's headers and ends: no subscriber (its
    body would be thrown away), and the connection goes on to the next
    request.  Today a HEAD makes a subscriber that gets every event (all
    discarded) and keep-alives until the TCP connection dies, and a
    request pipelined after it is never answered.
    """
    handlers = Handlers()
    site, _, resource = makeSSESite(handlers)
    client = SSEClient(site)
    client.request(b"HEAD", b"/events")
    client.get(b"/")
    assert b"text/event-stream" in client.transport.value()
    assert resource.subscribers == set()
    assert b"SSE: /events" in client.transport.value()


def _parse(*args):
    options = tap.Options()
    options.parseOptions(list(args))
    return options


def test_makeServiceSchedulesNothing():
    """
    Building the service has no effect on the reactor, and the default
    ticker runs only while somebody listens: no tick is published
    (or kept) for nobody.
    """
    reactor = MemoryReactorClock()
    service = tap.makeService(_parse("--listen", "tcp:9000", "--sse", "/events=ticker"), reactor)
    assert reactor.getDelayedCalls() == []
    tap.makeService(_parse("--listen", "tcp:9000", "--sse", "/events=ticker"), MemoryReactor())
    service.startService()
    reactor.advance(INTERVAL * 3)
    [resource] = next(c for c in service if isinstance(c, tap.GracefulStop)).site.sse
    assert resource.history.lastSeq == 0
    assert reactor.getDelayedCalls() == []


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_keepAliveMustBeFinite(value):
    """
    C{--sse-keepalive nan} (or C{inf}) is a usage error.  Today it is
    accepted (C{nan < 0} and C{not nan} are both false), and the first
    subscriber starts a C{LoopingCall} with a NaN period: the real
    reactor's next timeout becomes C{max(0, nan)} = 0, a busy loop, and no
    keep-alive is ever sent.  C{SSEOptions(keepAlive=nan)} is accepted too.
    """
    assert not math.isfinite(float(value))
    with pytest.raises(usage.UsageError, match="sse-keepalive"):
        _parse("--sse-keepalive", value)
