"""
Event streams over HTTP/2 (the site's channel becomes Twisted's
C{H2Connection} when TLS negotiated C{h2}), driven by an C{h2} client over
a fake transport with fake time.
"""

import pytest

pytest.importorskip("h2")

from tests.tx.sse_helpers import (
    H2Client,
    Handlers,
    makeSSESite,
    readStream,
)


@pytest.fixture
def h2site(monkeypatch):
    """
    C{(site, reactor, resource, handlers)} with HTTP/2 on the fake reactor.
    """
    handlers = Handlers()
    site, reactor, resource = makeSSESite(handlers, keepAlive=20.0)
    return site, reactor, resource, handlers


def test_stream(h2site):
    """
    Headers, the retry line at once, then events: as over HTTP/1.1, without
    chunking.
    """
    site, reactor, resource, handlers = h2site
    client = H2Client(site, reactor)
    client.get(b"/events?channel=a")
    [response] = [e for e in client.received if type(e).__name__ == "ResponseReceived"]
    headers = dict(response.headers)
    assert headers[b":status"] == b"200"
    assert headers[b"content-type"] == b"text/event-stream; charset=utf-8"
    assert b"transfer-encoding" not in headers and b"content-length" not in headers
    assert client.body() == b"retry: 3000\n\n"
    resource.publish("a", "over h2")
    client.pump()
    assert [e.data for e in readStream(client.body()).events] == ["over h2"]


def test_clientResetsStream(h2site):
    """
    A client that resets its stream (a closed C{EventSource}) is
    unsubscribed at once.
    """
    from h2.errors import ErrorCodes

    site, reactor, resource, handlers = h2site
    client = H2Client(site, reactor)
    client.get()
    client.conn.reset_stream(1, ErrorCodes.CANCEL)
    client.send(client.conn.data_to_send())
    client.pump()
    assert handlers.made[0].calls[-1] == ("unsubscribed", "client gone")
    assert resource.subscribers == set() and resource.channels == {}


def test_closeAllEndsStreams(h2site):
    site, reactor, resource, handlers = h2site
    client = H2Client(site, reactor)
    client.get(streamId=1)
    client.get(streamId=3)
    resource.closeAll()
    client.pump()
    assert "StreamEnded" in client.kinds(1) and "StreamEnded" in client.kinds(3)
    assert [h.calls[-1] for h in handlers.made] == [("unsubscribed", "server shutting down")] * 2
