"""
L{SSEHandler}: a base class for Server-Sent Events applications.

One handler serves one subscriber (one open C{EventSource}), like a Twisted
protocol serves one connection: it may refuse the subscription, choose its
channels, hear when it starts and ends, and say what to do when the client
asks to resume from an event the server no longer has.
"""

from zope.interface import implementer

from rtproto.interfaces import ISSEHandler


@implementer(ISSEHandler)
class SSEHandler:
    """
    Accepts everybody, on the channels they ask for (or
    L{defaultChannels}); subclass it and override what you need.

    @ivar subscriber: the L{rtproto.interfaces.ISSESubscriber}, once
        subscribed.
    """

    defaultChannels = ("default",)
    subscriber = None

    def authorize(self, request):
        """
        Accept (override to check C{request.headers}, cookies or
        C{request.args} and raise L{rtproto.errors.ConnectionDeny} with 401
        or 403).
        """

    def channelsFor(self, request, requested):
        """
        The channels of this subscriber: the ones it asked for (C{channel}
        query arguments), else L{defaultChannels}.
        """
        return list(requested) or list(self.defaultChannels)

    def subscribed(self, subscriber):
        """
        Remember the subscriber.
        """
        self.subscriber = subscriber

    def missedEvents(self, subscriber, lastEventId):
        """
        The client asked to resume after C{lastEventId}, which the history
        no longer has (or never had: another server run): tell it with a
        C{missed} event whose data is that id, so it can reload its state.
        """
        subscriber.send(lastEventId, event="missed")

    def unsubscribed(self, reason):
        """
        The stream ended: C{'client gone'}, C{'closed'} (by the server),
        C{'slow client'} or C{'server shutting down'}.
        """
