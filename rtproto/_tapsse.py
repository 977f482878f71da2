"""
The Server-Sent Events part of the C{twistd rtproto} options
(L{SSEOptionsMixin}, mixed into L{rtproto.tap.Options}) and the resources
they make (L{buildSSE}).
"""

from twisted.python import usage

from rtproto.handlers import findHandler
from rtproto.sse import SSEHandler, SSEOptions
from rtproto.sse._options import MAX_KEEPALIVE
from rtproto.tx.sse import EventSourceResource

DEFAULT_SSE = [("/events", "chat")]


class SSEOptionsMixin:
    """
    C{--sse} and the C{--sse-*} options.
    """

    optFlags = [
        ["sse-cors-credentials", None, "SSE: allow credentials in CORS requests."],
    ]

    optParameters = [
        ["sse-keepalive", None, 15.0, "SSE: seconds of silence before an idle stream gets a comment."],
        ["sse-retry", None, 3000, "SSE: the reconnection delay sent to clients, in milliseconds."],
        ["sse-history", None, 1000, "SSE: events kept per mount for Last-Event-ID replay."],
        ["sse-history-bytes", None, 1 << 20, "SSE: bytes of events kept per mount for replay."],
        ["sse-buffer", None, 256 * 1024, "SSE: bytes queued for a client that stops reading before it is dropped."],
        ["sse-publish-token", None, "", "SSE: turn on POST <mount>/publish, with this bearer token."],
        ["sse-cors-origins", None, "", "SSE: comma-separated origins given CORS headers, or * (empty: none)."],
    ]

    def __init__(self) -> None:
        self["sse"] = []

    def opt_sse(self, mount: str) -> None:
        """
        Serve Server-Sent Events: PATH or PATH=HANDLER, e.g. /events=ticker
        (repeatable; channels are chosen with ?channel=NAME).
        """
        path, sep, name = mount.partition("=")
        if not path.startswith("/") or (sep and not name):
            raise usage.UsageError(f"--sse takes PATH or PATH=HANDLER, not {mount!r}")
        self["sse"].append((path, name or None))

    def resolveSSE(self, defaultApp: bool) -> None:
        """
        Resolve the SSE handlers (the built-in C{ticker} at C{/events} when
        nothing is given and C{defaultApp}).

        @raise rtproto.errors.UsageError: an unknown handler.
        """
        mounts = self["sse"] or (DEFAULT_SSE if defaultApp else [])
        self["sseHandlers"] = [(path, findHandler(name, "sse") if name else SSEHandler) for path, name in mounts]

    def sseOptions(self) -> SSEOptions:
        """
        The L{SSEOptions} of the parsed options.
        """
        values = {}
        for name, kind in [
            ("sse-keepalive", float),
            ("sse-retry", int),
            ("sse-history", int),
            ("sse-history-bytes", int),
            ("sse-buffer", int),
        ]:
            try:
                values[name] = kind(self[name])
            except (TypeError, ValueError):
                values[name] = -1
            if not 0 <= values[name] < float("inf") or (name in ("sse-keepalive", "sse-buffer") and not values[name]):
                raise usage.UsageError(f"--{name} takes a number above 0, not {self[name]!r}")
        if values["sse-keepalive"] >= MAX_KEEPALIVE:
            raise usage.UsageError(f"--sse-keepalive must be below {MAX_KEEPALIVE:g} seconds (the idle timeout)")
        return SSEOptions(
            keepAlive=values["sse-keepalive"],
            retry=values["sse-retry"],
            historyEvents=values["sse-history"],
            historyBytes=values["sse-history-bytes"],
            bufferSize=values["sse-buffer"],
            publishToken=self["sse-publish-token"] or None,
            corsOrigins=tuple(o.strip() for o in self["sse-cors-origins"].split(",") if o.strip()),
            corsCredentials=bool(self["sse-cors-credentials"]),
        )


def buildSSE(options, reactor) -> "list[tuple[str, EventSourceResource]]":
    """
    One L{EventSourceResource} per C{--sse} mount.
    """
    return [
        (path, EventSourceResource(factory, options.get("sseOptions"), reactor))
        for path, factory in options.get("sseHandlers") or []
    ]


def attachSSE(site) -> None:
    """
    Once the site (and its L{rtproto.tx.app.App}) exists: give each SSE
    mount whose handler class has an C{attach(resource)} class method (a
    publisher, a relay of app topics) its start, and run what that returns
    on a graceful stop.
    """
    for resource in site.sse:
        attach = getattr(resource.handlerFactory, "attach", None)
        if attach is not None:
            resource.onClose.append(attach(resource))
