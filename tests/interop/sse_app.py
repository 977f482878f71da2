"""
The Server-Sent Events test application on rtproto (the interop tests'
server, C{--sse /events=tests.interop.sse_app.TestHandler}): the base
handler, plus the C{private} channel, which needs C{Authorization: Bearer
letmein} (none: 401, another: 403), and C{?closeAfterMs=N}, which ends the
stream N ms after it opened (to test reconnection and C{retry}).
"""

from twisted.internet import reactor

from rtproto.errors import ConnectionDeny
from rtproto.sse import SSEHandler

PRIVATE = "private"
TOKEN = b"Bearer letmein"


class TestHandler(SSEHandler):
    """
    The test application's subscriber.
    """

    _timer = None

    def authorize(self, request):
        """
        Guard the C{private} channel.
        """
        channels = [c.decode("utf-8", "replace") for c in request.args.get(b"channel", [])]
        if PRIVATE in channels:
            auth = request.headers.getRawHeaders(b"authorization")
            if not auth:
                raise ConnectionDeny(401, "private channel: log in")
            if auth[0] != TOKEN:
                raise ConnectionDeny(403, "private channel: not for you")

    def subscribed(self, subscriber):
        """
        Arm C{closeAfterMs}.
        """
        super().subscribed(subscriber)
        values = subscriber.request.args.get(b"closeAfterMs")
        if values and values[0].isdigit():
            self._timer = reactor.callLater(int(values[0]) / 1000, subscriber.close)

    def unsubscribed(self, reason):
        """
        Disarm the timer.
        """
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
