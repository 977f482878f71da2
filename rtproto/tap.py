"""
The C{twistd rtproto} plugin: command-line options and the service they
make.  One L{twisted.web.server.Site} serves every mount on every
C{--listen} endpoint.
"""

import gc
import sys

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import MultiService, Service
from twisted.internet.defer import DeferredList
from twisted.internet.endpoints import serverFromString
from twisted.python import usage

from rtproto.engineio import EngineIOOptions
from rtproto.errors import UsageError
from rtproto.handlers import availablePlugins, findHandler
from rtproto._tapconfig import configArguments, splitConfig
from rtproto.tx.site import buildSite
from rtproto._tapsio import SocketIOOptionsMixin, buildSocketIO
from rtproto._tapsse import SSEOptionsMixin, attachSSE, buildSSE
from rtproto.websocket import DeflateOptions, WebSocketOptions

DEFAULT_LISTEN = "tcp:8080"
DEFAULT_WS = [("/ws", "echo")]
#: With the default socket.io chat, its WebSocket feed too.
DEFAULT_FEED = ("/feed", "chat")
_BACKLOG = 1024
GC_THRESHOLD = 5000


def _number(options, name: str, kind):
    """
    Convert option C{name} to a non-negative C{kind}, or fail naming it.
    """
    raw = options[name]
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        value = -1
    if value < 0:
        noun = "a whole number of bytes" if kind is int else "a number of seconds"
        raise usage.UsageError(f"--{name} takes {noun}, 0 or more, not {raw!r}")
    return value


def withBacklog(description: str) -> str:
    """
    Give a C{tcp:}/C{ssl:} endpoint description a listen backlog of 1024
    unless it names one: Twisted's default of 50 drops connections in
    bursts.
    """
    kind = description.split(":", 1)[0].lower()
    if kind in ("tcp", "tcp6", "ssl") and "backlog=" not in description:
        return f"{description}:backlog={_BACKLOG}"
    return description


class Options(usage.Options, SocketIOOptionsMixin, SSEOptionsMixin):
    """
    C{twistd rtproto} options.
    """

    synopsis = "[options]"
    longdesc = (
        "Serve WebSocket, engine.io, socket.io and Server-Sent Events handlers on one "
        "HTTP port. Without options: the default app (a demo page at /, a WebSocket "
        "echo at /ws, the socket.io chat namespace /chat at /socket.io/, its feeds at "
        "/events (SSE) and /feed (WebSocket)); --no-demo serves only the mounts you "
        "name. HANDLER is a plugin name (see --list-handlers) or a dotted path "
        "package.module.Name. --config FILE reads the same settings from TOML "
        "(the command line wins)."
    )

    optFlags = [
        ["compression", None, "Negotiate permessage-deflate (the default)."],
        ["no-compression", None, "Do not negotiate permessage-deflate."],
        ["list-handlers", None, "List the installed handler plugins and exit."],
        ["no-eio-upgrades", None, "engine.io: do not let polling sessions upgrade to WebSocket."],
        ["no-eio3", None, "engine.io: refuse protocol v3 clients (socket.io v2)."],
        ["cors-credentials", None, "engine.io: allow credentials in CORS requests."],
        ["no-http-compression", None, "engine.io: do not gzip/deflate polling responses."],
        ["eio-ws-compression", None, "engine.io: negotiate permessage-deflate on its WebSockets."],
        ["access-log", None, "Log a line per HTTP request (off: long-polling makes many)."],
        ["no-demo", None, "No demo page and none of the default app's mounts: only those named."],
        ["log-connections", None, "Log a debug line per connection opened and closed (transport, peer, reason)."],
    ]

    optParameters = [
        ["max-message-size", None, 1 << 20, "Largest message accepted, after inflation, in bytes (0: no limit)."],
        ["max-frame-size", None, 1 << 20, "Largest frame payload accepted, in bytes (0: no limit)."],
        ["ping-interval", None, 20.0, "Seconds between keep-alive pings (0: none)."],
        ["ping-timeout", None, 20.0, "Seconds to wait for a pong before closing with 1011 (0: forever)."],
        ["open-timeout", None, 10.0, "Seconds a client may take to send its request headers."],
        ["close-timeout", None, 10.0, "Seconds the closing handshake may take."],
        [
            "shutdown-timeout",
            None,
            10.0,
            "On SIGTERM, seconds connections get to close before they are dropped and the process exits.",
        ],
        ["allowed-origins", None, "", "Comma-separated Origin allow-list, e.g. https://example.com (empty: any)."],
        ["eio-ping-interval", None, 25.0, "engine.io: seconds between heartbeats."],
        ["eio-ping-timeout", None, 20.0, "engine.io: seconds to wait for a heartbeat answer."],
        ["max-http-buffer-size", None, 1_000_000, "engine.io: largest message or POST body, in bytes."],
        ["eio-transports", None, "polling,websocket", "engine.io: comma-separated transports clients may use."],
        ["cors-origins", None, "", "engine.io: comma-separated origins given CORS headers, or * (empty: none)."],
        ["eio-cookie", None, "", "engine.io: name of a cookie holding the session id (empty: no cookie)."],
        [
            "gc-threshold",
            None,
            GC_THRESHOLD,
            "Python's youngest-generation GC threshold once serving; startup objects are "
            "frozen out of collection (0: leave the GC as Python sets it).",
            int,
        ],
    ]

    def __init__(self) -> None:
        super().__init__()
        # The opt_ methods' docstrings span lines: one line each in --help.
        self.docs = {name: " ".join(doc.split()) if doc else doc for name, doc in self.docs.items()}
        SocketIOOptionsMixin.__init__(self)
        SSEOptionsMixin.__init__(self)
        self["listen"] = []
        self["ws"] = []
        self["engineio"] = []
        self["static"] = []
        self["config"] = None

    def parseOptions(self, options=None):
        """
        Read C{--config FILE} first, then the command line (which wins).
        """
        if options is None:
            options = sys.argv[1:]
        path, rest = splitConfig(list(options))
        if path is not None:
            self["config"] = path
            rest = configArguments(self, path, rest) + rest
        super().parseOptions(rest)

    def opt_config(self, path: str) -> None:
        """
        Read settings from a TOML file: keys are the long options without
        their dashes (listen = ["tcp:8080"], ping-interval = 20,
        compression = false); the command line wins.
        """
        raise usage.UsageError("--config may be given once")  # splitConfig takes it first

    def opt_socketio(self, path: str) -> None:
        """
        Where socket.io is mounted (default /socket.io/); the same as
        --socketio-path.
        """
        self["socketio-path"] = path

    def opt_static(self, mount: str) -> None:
        """
        Serve a folder: PATH=DIR, e.g. /assets=./public (repeatable; /=DIR
        serves it at the root instead of the demo page).
        """
        path, sep, folder = mount.partition("=")
        if not sep or not path.startswith("/") or not folder:
            raise usage.UsageError(f"--static takes PATH=DIR, not {mount!r}")
        self["static"].append((path, folder))

    def opt_listen(self, description: str) -> None:
        """
        Listen on a Twisted endpoint, e.g. tcp:8080 or
        ssl:8443:privateKey=key.pem:certKey=cert.pem (repeatable; default
        tcp:8080).
        """
        self["listen"].append(description)

    def opt_ws(self, mount: str) -> None:
        """
        Mount a WebSocket handler: PATH=HANDLER, e.g. /chat=echo (repeatable;
        default /ws=echo).
        """
        path, sep, name = mount.partition("=")
        if not sep or not path or not name:
            raise usage.UsageError(f"--ws takes PATH=HANDLER, not {mount!r}")
        self["ws"].append((path, name))

    def opt_engineio(self, mount: str) -> None:
        """
        Mount an engine.io handler: PATH=HANDLER, e.g. /engine.io/=echo
        (repeatable).
        """
        path, sep, name = mount.partition("=")
        if not sep or not path or not name:
            raise usage.UsageError(f"--engineio takes PATH=HANDLER, not {mount!r}")
        self["engineio"].append((path, name))

    def postOptions(self) -> None:
        """
        Check the options and resolve the handlers, so that mistakes are
        usage errors rather than tracebacks.
        """
        if self["list-handlers"]:
            for plugin in availablePlugins():
                print(f"{plugin.name:16} {plugin.transport:10} {plugin.description}")
            raise SystemExit(0)
        if self["compression"] and self["no-compression"]:
            raise usage.UsageError("--compression and --no-compression exclude each other")
        if self["gc-threshold"] < 0:
            raise usage.UsageError("--gc-threshold takes a whole number, 0 or more")
        shutdown = _number(self, "shutdown-timeout", float)
        if not 0 < shutdown < float("inf"):
            raise usage.UsageError("--shutdown-timeout takes a number of seconds above 0")
        listen = self["listen"] or [DEFAULT_LISTEN]
        self["endpoints"] = [withBacklog(d) for d in listen]
        demo = not self["no-demo"]
        defaultChat = demo and not self["engineio"] and not self["namespace"] and not self["socketio-app"]
        ws = self["ws"]
        if not ws and demo:
            ws = DEFAULT_WS + ([DEFAULT_FEED] if defaultChat else [])
        try:
            self["handlers"] = [(path, findHandler(name, "websocket")) for path, name in ws]
            self["engineioHandlers"] = [(path, findHandler(name, "engineio")) for path, name in self["engineio"]]
            self.resolveSocketIO(defaultApp=demo and not self["engineio"])
            self.resolveSSE(defaultApp=defaultChat)
        except UsageError as e:
            raise usage.UsageError(str(e)) from None
        self["engineioOptions"] = self._engineioOptions()
        self["socketioOptions"] = self.socketioOptions()
        self["sseOptions"] = self.sseOptions()
        origins = tuple(o.strip() for o in self["allowed-origins"].split(",") if o.strip())
        self["options"] = WebSocketOptions(
            maxMessageSize=_number(self, "max-message-size", int),
            maxFrameSize=_number(self, "max-frame-size", int),
            pingInterval=_number(self, "ping-interval", float),
            pingTimeout=_number(self, "ping-timeout", float),
            openTimeout=_number(self, "open-timeout", float),
            closeTimeout=_number(self, "close-timeout", float),
            allowedOrigins=origins,
            compression=not self["no-compression"],
            deflate=DeflateOptions(),
        )


    def _engineioOptions(self) -> EngineIOOptions:
        interval = _number(self, "eio-ping-interval", float)
        timeout = _number(self, "eio-ping-timeout", float)
        if not interval or not timeout:
            raise usage.UsageError("--eio-ping-interval and --eio-ping-timeout must be above 0")
        transports = tuple(t.strip() for t in self["eio-transports"].split(",") if t.strip())
        try:
            return EngineIOOptions(
                pingInterval=interval,
                pingTimeout=timeout,
                maxHttpBufferSize=_number(self, "max-http-buffer-size", int),
                transports=transports,
                allowUpgrades=not self["no-eio-upgrades"],
                allowEIO3=not self["no-eio3"],
                corsOrigins=tuple(o.strip() for o in self["cors-origins"].split(",") if o.strip()),
                corsCredentials=bool(self["cors-credentials"]),
                cookie=self["eio-cookie"] or None,
                httpCompression=not self["no-http-compression"],
                perMessageDeflate=bool(self["eio-ws-compression"]),
            )
        except ValueError as e:
            raise usage.UsageError(f"--eio-transports: {e}") from None


class GCTuning(Service):
    """
    Tune Python's cyclic garbage collector for a server once it starts:
    every object made while starting (modules, plugins, options) is frozen
    out of collection (L{gc.freeze}), so a full collection no longer walks
    them all; and the youngest generation is collected every C{threshold}
    net allocations instead of 700, since most of a connection's objects
    die by reference counting long before.  On stop, the old threshold is
    restored.
    """

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self._saved = None

    def startService(self) -> None:
        """
        Freeze what exists and raise the threshold.
        """
        super().startService()
        self._saved = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(self.threshold, *self._saved[1:])

    def stopService(self):
        """
        Restore the threshold (the frozen objects stay frozen: harmless).
        """
        super().stopService()
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None


class GracefulStop(Service):
    """
    On stop (as the listeners stop): C{/healthz} answers 503 from now on;
    every Server-Sent Events stream ends (clients reconnect with
    C{Last-Event-ID}); every engine.io session, socket.io's included, goes
    away (L{rtproto.engineio.Session.goAway}: a held GET gets what is
    buffered, a polling client between two GETs gets it with its next one,
    a WebSocket closes with 1001, and neither an engine.io close packet nor
    a socket.io DISCONNECT is sent), so that its client reconnects (to
    another server, or to this one restarted); every WebSocket is closed
    with 1001; and the stop waits for them, at most C{timeout} seconds,
    after which the stragglers are dropped.
    """

    def __init__(self, site, reactor, timeout: float) -> None:
        self.site = site
        self.reactor = reactor
        self.timeout = timeout

    def stopService(self):
        """
        Close the connections; twistd waits for the returned Deferred.
        """
        super().stopService()
        metrics = getattr(self.site, "metrics", None)
        if metrics is not None:
            metrics.markStopping()
        for resource in getattr(self.site, "sse", ()):
            resource.closeAll()
        waiting = [server.closeAll(self.timeout) for server in getattr(self.site, "socketio", ())]
        waiting += [resource.closeAll(self.timeout) for resource in getattr(self.site, "engineio", ())]
        waiting.append(self.site.connections.closeAll(self.reactor, self.timeout))
        return DeferredList(waiting, consumeErrors=True).addCallback(lambda _: None)


def makeService(options: Options, reactor=None) -> MultiService:
    """
    The service: one site on every endpoint, and a graceful stop.
    """
    if reactor is None:
        from twisted.internet import reactor
    try:
        socketio = buildSocketIO(options, reactor)
        site = buildSite(
            options["handlers"],
            options["options"],
            reactor,
            engineio=options.get("engineioHandlers", []),
            engineioOptions=options.get("engineioOptions"),
            accessLog=bool(options.get("access-log")),
            socketio=[(options.get("socketio-path") or "/socket.io/", socketio)] if socketio else [],
            sse=buildSSE(options, reactor),
            static=options.get("static") or [],
            demo=not options.get("no-demo"),
            logConnections=bool(options.get("log-connections")),
        )
        attachSSE(site)
    except UsageError as e:
        raise usage.UsageError(str(e)) from None
    service = MultiService()
    # Children stop in reverse order: listeners first, then connections.
    GracefulStop(site, reactor, float(options.get("shutdown-timeout") or 10.0)).setServiceParent(service)
    # Started before the listeners, so that startup is what gets frozen.
    if options["gc-threshold"] > 0:
        GCTuning(options["gc-threshold"]).setServiceParent(service)
    for description in options["endpoints"]:
        try:
            endpoint = serverFromString(reactor, description)
        except (ValueError, TypeError, KeyError, OSError) as e:
            # OSError: a TLS endpoint's key or certificate file that cannot be read.
            raise usage.UsageError(f"bad --listen endpoint {description!r}: {e}") from None
        StreamServerEndpointService(endpoint, site).setServiceParent(service)
    return service
