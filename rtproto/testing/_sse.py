"""
Fakes for testing L{rtproto.interfaces.ISSEHandler}s without a network:
L{FakeEventSourceResource} subscribes handlers as the server's mount does
(C{authorize}, C{channelsFor}, C{Last-Event-ID} replay or
C{missedEvents}, C{subscribed}) and records what is published; each
L{FakeSSESubscriber} records the events its client gets.
"""

from collections import namedtuple

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.task import Clock
from zope.interface import implementer

from rtproto.errors import ConnectionDeny
from rtproto.interfaces import ISSERequest, ISSESubscriber
from rtproto.sse import SSEHandler, SSEOptions, encodeEvent
from rtproto.testing._common import NEW_APP, appOf, fakePeer, makeArgs, makeHeaders, toBytes
from rtproto.tx._ssesubscriber import SSERequest
from rtproto.tx.sse import MAX_CHANNEL

#: An event as a client gets it: C{data}, C{event} name (or L{None}), C{id}
#: (or L{None}).
SSEEvent = namedtuple("SSEEvent", "data event id")
#: A published event: its C{channel}, C{data}, C{event} and C{id}.
Published = namedtuple("Published", "channel data event id")


@implementer(ISSERequest)
class FakeSSERequest:
    """
    A subscription request, from friendly arguments (as for
    L{rtproto.testing.FakeHandshakeRequest}), with C{cookies} (a L{dict}
    of L{str}) sent in a C{Cookie} header.
    """

    def __init__(self, path="/events", args=None, headers=None, cookies=None, peer=None, isSecure=False):
        self.path = toBytes(path)
        self.args = makeArgs(args)
        self.headers = makeHeaders(headers)
        if cookies:
            value = "; ".join(f"{k}={v}" for k, v in cookies.items())
            self.headers.addRawHeader(b"cookie", value.encode("latin-1"))
        self.peer = peer if peer is not None else fakePeer()
        self.isSecure = isSecure

    def getCookie(self, name):
        """
        The value of cookie C{name} (L{bytes} or L{str}, as C{name}), or
        L{None}: the server's own parsing.
        """
        return SSERequest.getCookie(self, name)

    def __repr__(self) -> str:
        return f"<FakeSSERequest {self.path!r}>"


@implementer(ISSESubscriber)
class FakeSSESubscriber:
    """
    One event stream, recording what its client gets.

    @ivar resource: its L{FakeEventSourceResource}.
    @ivar handler: its handler.
    @ivar events: every L{SSEEvent} the client got, in order: replayed,
        published to its channels, and sent to it alone.
    @ivar sent: the L{SSEEvent}s sent to it alone (C{send}).
    @ivar closed: whether the stream ended.
    @ivar closeReason: why (C{'closed'}, C{'client gone'}, ...), or L{None}.
    """

    def __init__(self, channels=("default",), request=None, lastEventId=None, resource=None, handler=None):
        self.channels = tuple(channels)
        self.request = request if request is not None else FakeSSERequest()
        self.lastEventId = lastEventId
        self.resource = resource if resource is not None else FakeEventSourceResource()
        self.handler = handler
        self.events: list = []
        self.sent: list = []
        self.closed = False
        self.closeReason = None

    def __repr__(self) -> str:
        return f"<FakeSSESubscriber {self.channels}>"

    @property
    def app(self):
        """
        Its resource's L{rtproto.tx.app.App}.
        """
        return self.resource.app

    def send(self, data, event=None, id=None) -> None:
        """
        Record an event for this subscriber only (checked as the server
        encodes it: C{data} a L{str}, no line breaks in C{event} or C{id}).
        """
        encodeEvent(data, event, id)
        if not self.closed:
            self.sent.append(SSEEvent(data, event, id))
            self.events.append(SSEEvent(data, event, id))

    def close(self) -> None:
        """
        The handler ends the stream: C{unsubscribed("closed")}.
        """
        self.resource.unsubscribe(self, "closed")

    def disconnect(self, reason="client gone") -> None:
        """
        The client goes away: C{unsubscribed(reason)}.
        """
        self.resource.unsubscribe(self, reason)


class FakeEventSourceResource:
    """
    An SSE mount for handler tests: L{subscribe} opens streams, L{publish}
    records and delivers events, L{attach} runs the handler class's
    C{attach(resource)} publisher and L{closeAll} stops it.

    @ivar reactor: a L{Clock} unless given (advance it to run publishers).
    @ivar app: the L{rtproto.tx.app.App} of the mount.
    @ivar channels: channel name to the L{set} of its subscribers.
    @ivar subscribers: every open L{FakeSSESubscriber}.
    @ivar published: every L{Published} event, in order.
    @ivar onClose: what L{closeAll} calls (what L{attach} returned).
    """

    def __init__(self, handlerFactory=SSEHandler, reactor=None, app=NEW_APP, options=None) -> None:
        self.handlerFactory = handlerFactory
        self.reactor = reactor if reactor is not None else Clock()
        self.app = appOf(app)
        self.options = options or SSEOptions()
        self.channels: dict = {}
        self.subscribers: set = set()
        self.published: list = []
        self.onClose: list = []

    def publish(self, channel: str, data: str, event=None, id=None) -> str:
        """
        Record an event and deliver it to the channel's subscribers.

        @return: its id (C{id}, or C{"1"}, C{"2"}...).
        """
        eventId = id if id is not None else str(len(self.published) + 1)
        encodeEvent(data, event, eventId)
        self.published.append(Published(channel, data, event, eventId))
        for subscriber in list(self.channels.get(channel, ())):
            subscriber.events.append(SSEEvent(data, event, eventId))
        return eventId

    def publishedTo(self, channel: str) -> list:
        """
        The L{SSEEvent}s published to C{channel}.
        """
        return [SSEEvent(p.data, p.event, p.id) for p in self.published if p.channel == channel]

    def attach(self):
        """
        Call the handler class's C{attach(resource)} if it has one (as
        C{twistd rtproto} does once the site exists); what it returns is
        called by L{closeAll}.

        @return: what it returned, or L{None}.
        """
        attach = getattr(self.handlerFactory, "attach", None)
        stop = attach(self) if attach is not None else None
        self.onClose.append(stop)
        return stop

    def subscribe(self, request=None, channels=(), lastEventId=None, handler=None) -> Deferred:
        """
        A client subscribes, asking for C{channels}: the handler's
        C{authorize(request)}, then C{channelsFor(request, channels)}, the
        replay after C{lastEventId} (or C{missedEvents} if no event has
        that id), then C{subscribed(subscriber)}.

        @return: a L{Deferred} firing with the L{FakeSSESubscriber}, or
            failing with the handler's L{ConnectionDeny} (or a 400 one for a
            bad channel list, as the server answers).
        """
        request = request if request is not None else FakeSSERequest()
        handler = handler if handler is not None else self.handlerFactory()

        def authorized(_):
            chosen = list(dict.fromkeys(handler.channelsFor(request, list(channels))))
            bad = [c for c in chosen if not isinstance(c, str) or not 0 < len(c) <= MAX_CHANNEL]
            if bad or not chosen or len(chosen) > self.options.maxChannels:
                raise ConnectionDeny(400, "bad channel list")
            subscriber = FakeSSESubscriber(chosen, request, lastEventId, self, handler)
            if lastEventId is not None:
                ids = [p.id for p in self.published]
                if lastEventId in ids:
                    for p in self.published[ids.index(lastEventId) + 1 :]:
                        if p.channel in subscriber.channels:
                            subscriber.events.append(SSEEvent(p.data, p.event, p.id))
                else:
                    handler.missedEvents(subscriber, lastEventId)
            for name in subscriber.channels:
                self.channels.setdefault(name, set()).add(subscriber)
            self.subscribers.add(subscriber)
            handler.subscribed(subscriber)
            return subscriber

        return maybeDeferred(handler.authorize, request).addCallback(authorized)

    def unsubscribe(self, subscriber, reason: str) -> None:
        """
        End C{subscriber}'s stream and tell its handler C{unsubscribed(reason)}.
        """
        if subscriber.closed:
            return
        subscriber.closed, subscriber.closeReason = True, reason
        for name in subscriber.channels:
            members = self.channels.get(name)
            if members is not None:
                members.discard(subscriber)
                if not members:
                    del self.channels[name]
        self.subscribers.discard(subscriber)
        if subscriber.handler is not None:
            subscriber.handler.unsubscribed(reason)

    def closeAll(self) -> None:
        """
        A graceful stop: run L{onClose}, end every stream (C{'server
        shutting down'}).
        """
        for stop in self.onClose:
            if stop is not None:
                stop()
        self.onClose = []
        for subscriber in list(self.subscribers):
            self.unsubscribe(subscriber, "server shutting down")
