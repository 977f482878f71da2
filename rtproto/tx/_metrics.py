"""
L{Metrics}: the counters of one site's connections and messages, read by
C{/healthz} and C{/metrics} (L{rtproto.tx.health}).

Counting is on the hot path of every message, so a counter is a plain
integer attribute of a slotted object (L{TransportCounters}), incremented
in place (C{counters.sent += 1}): no lookup by name, no lock (the reactor
thread is the only writer), no log line per message.  A connection takes
its L{TransportCounters} when it opens and keeps it.

How the counters reach the code: every resource and server that accepts
connections has a C{metrics} attribute, a fresh L{Metrics} of its own by
default (so a resource built alone counts for itself), which the site
builder replaces with the site-wide one before serving::

    site.metrics = Metrics(reactor)
    for resource in (WebSocketResource, EngineIOResource and
                     EventSourceResource mounts):
        resource.metrics = site.metrics
    for server in socketIOServers:
        server.metrics = site.metrics   # passed on to its engine.io resource

It is read when a connection opens (C{resource.metrics.websocket}, ...),
never cached at import, so connections opened after the replacement count
in the site's L{Metrics}.  A graceful stop calls L{Metrics.markStopping}
first, so that C{/healthz} answers 503 while connections drain.
"""

import time

TRANSPORTS = ("websocket", "engineio", "socketio", "sse")


class TransportCounters:
    """
    The counters of one transport.

    @ivar name: the transport's name (one of L{TRANSPORTS}).
    @ivar connections: connections open now.
    @ivar opened: connections opened in all.
    @ivar received: messages received from clients.
    @ivar sent: messages sent to clients.
    @ivar dropped: slow clients dropped (their unsent data passed a bound).
    @ivar errors: connections closed for a protocol error of the peer.
    @ivar logConnections: whether connections counted here log a debug
        line when they open and when they close (off by default: two log
        events per connection cost a busy server about a tenth of its
        CPU, and C{twistd} writes debug events to its log).
    """

    __slots__ = ("name", "connections", "opened", "received", "sent", "dropped", "errors", "logConnections")

    def __init__(self, name: str, logConnections: bool = False) -> None:
        self.name = name
        self.logConnections = logConnections
        self.connections = 0
        self.opened = 0
        self.received = 0
        self.sent = 0
        self.dropped = 0
        self.errors = 0

    def __repr__(self) -> str:
        return f"<TransportCounters {self.name} {self.snapshot()}>"

    def snapshot(self) -> dict:
        """
        The counters as a L{dict}.
        """
        return {
            "connections": self.connections,
            "opened": self.opened,
            "received": self.received,
            "sent": self.sent,
            "dropped": self.dropped,
            "errors": self.errors,
        }


class CarrierCounters:
    """
    The counters of the WebSocket connections that carry engine.io sessions:
    their connections and frames are the sessions' business (counted under
    C{engineio} by the sessions themselves) and are not reported, but a
    carrier dropped for a slow reader, or failed for a WebSocket protocol
    error, counts in the engine.io counters it forwards to.
    """

    __slots__ = ("name", "connections", "opened", "received", "sent", "_owner")

    logConnections = False

    def __init__(self, owner: TransportCounters) -> None:
        self.name = owner.name
        self._owner = owner
        self.connections = 0
        self.opened = 0
        self.received = 0
        self.sent = 0

    @property
    def dropped(self) -> int:
        """
        The engine.io sessions' slow-client drops.
        """
        return self._owner.dropped

    @dropped.setter
    def dropped(self, value: int) -> None:
        self._owner.dropped = value

    @property
    def errors(self) -> int:
        """
        The engine.io sessions' protocol errors.
        """
        return self._owner.errors

    @errors.setter
    def errors(self, value: int) -> None:
        self._owner.errors = value


class Metrics:
    """
    The counters of one site, by transport, and when it started.

    An engine.io session serving socket.io counts twice, as it is two
    things: once under C{engineio} (the transport: one connection per
    session, its engine.io messages, its slow-client drops) and under
    C{socketio} once per namespace it connects to (the sockets: their
    packets, and the malformed packets that closed the connection).  Slow
    socket.io clients are dropped by engine.io and count under C{engineio}
    only.  SSE clients send nothing: their C{received} stays 0; their
    C{sent} counts the events written to them (live and replayed), not the
    keep-alive comments.

    @ivar websocket: the L{TransportCounters} of WebSocket mounts.
    @ivar engineio: those of engine.io sessions (socket.io's included).
    @ivar socketio: those of socket.io sockets.
    @ivar sse: those of Server-Sent Events streams.
    @ivar engineioCarrier: the L{CarrierCounters} of the WebSockets under
        engine.io sessions.
    @ivar startTime: when counting started (POSIX time), the process's
        start for a site's L{Metrics}.
    @ivar stopping: whether a graceful stop began.
    """

    def __init__(self, clock=None, logConnections: bool = False) -> None:
        """
        @param logConnections: whether connections log a debug line when
            they open and close (C{twistd rtproto --log-connections}).
        @param clock: an L{twisted.internet.interfaces.IReactorTime} for the
            uptime; the wall clock by default (or when C{clock} cannot
            tell the time).
        """
        self._now = getattr(clock, "seconds", None) or time.time
        self.websocket = TransportCounters("websocket", logConnections)
        self.engineio = TransportCounters("engineio", logConnections)
        self.socketio = TransportCounters("socketio", logConnections)
        self.sse = TransportCounters("sse", logConnections)
        self.engineioCarrier = CarrierCounters(self.engineio)
        self.startTime = self._now()
        self.stopping = False

    def markStopping(self) -> None:
        """
        A graceful stop began: C{/healthz} answers 503 from now on.
        """
        self.stopping = True

    def uptime(self) -> float:
        """
        Seconds since L{startTime}.
        """
        return max(0.0, self._now() - self.startTime)

    def transports(self) -> "list[TransportCounters]":
        """
        The L{TransportCounters} of every transport, in L{TRANSPORTS} order.
        """
        return [self.websocket, self.engineio, self.socketio, self.sse]

    def connections(self) -> dict:
        """
        Connections open now, by transport name.
        """
        return {c.name: c.connections for c in self.transports()}

    def snapshot(self) -> dict:
        """
        Everything, as a JSON-able L{dict}: C{startTime}, C{uptime},
        C{stopping} and C{transports} (name to L{TransportCounters.snapshot}).
        """
        return {
            "startTime": self.startTime,
            "uptime": self.uptime(),
            "stopping": self.stopping,
            "transports": {c.name: c.snapshot() for c in self.transports()},
        }


class PeerText:
    """
    A peer's address for a log event, made into C{host:port} only if the
    event is formatted (debug lines that nobody reads cost no string).

    @ivar source: an L{twisted.internet.interfaces.IAddress}, or a transport
        (whose C{getPeer()} is asked when formatting).
    """

    __slots__ = ("source",)

    def __init__(self, source) -> None:
        self.source = source

    def __str__(self) -> str:
        address = self.source
        try:
            if hasattr(address, "getPeer"):
                address = address.getPeer()
            host = getattr(address, "host", None)
            if host is None:
                return str(address)
            port = getattr(address, "port", "")
            return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        except Exception:
            return "?"
