"""
L{SSEOptions}: the settings of one Server-Sent Events mount.
"""

from dataclasses import dataclass

# Keep-alives must come more often than an HTTP connection's idle timeout
# (rtproto's site: 60 s; HTTP/2 connections honour it even while streaming).
MAX_KEEPALIVE = 60.0


@dataclass(frozen=True)
class SSEOptions:
    """
    Server-Sent Events settings.

    @ivar keepAlive: seconds of silence after which an idle stream gets a
        comment line (proxies and browsers drop silent connections); below
        L{MAX_KEEPALIVE}.
    @ivar retry: the reconnection delay sent to clients first, milliseconds
        (L{None}: send none, a comment instead).
    @ivar historyEvents: events kept for C{Last-Event-ID} replay, per mount.
    @ivar historyBytes: at most this many encoded bytes kept for replay.
    @ivar bufferSize: bytes a subscriber that stops reading may have queued
        before it is dropped (it reconnects and resumes from the history).
    @ivar publishToken: turns on C{POST <mount>/publish}, which needs
        C{Authorization: Bearer <publishToken>}; L{None}: off.
    @ivar corsOrigins: origins given C{Access-Control-Allow-Origin} (C{"*"}
        for any); empty: no CORS headers.
    @ivar corsCredentials: allow credentials (cookies) cross-origin.
    @ivar maxChannels: channels one subscriber may name.
    """

    keepAlive: float = 15.0
    retry: "int | None" = 3000
    historyEvents: int = 1000
    historyBytes: int = 1 << 20
    bufferSize: int = 256 * 1024
    publishToken: "str | None" = None
    corsOrigins: "tuple[str, ...]" = ()
    corsCredentials: bool = False
    maxChannels: int = 16

    def __post_init__(self) -> None:
        if not 0 < self.keepAlive < MAX_KEEPALIVE:
            raise ValueError(f"keepAlive must be above 0 and below {MAX_KEEPALIVE:g} seconds")
        if self.retry is not None and self.retry < 0:
            raise ValueError("retry must be 0 or more")
        if self.historyEvents < 0 or self.historyBytes < 0 or self.bufferSize < 1 or self.maxChannels < 1:
            raise ValueError("history bounds must be 0 or more, bufferSize and maxChannels 1 or more")

    def corsOrigin(self, origin: "str | None") -> "str | None":
        """
        The C{Access-Control-Allow-Origin} value for a request from
        C{origin}, or L{None} when it gets none (origins not on the list
        are never reflected).
        """
        if not self.corsOrigins or origin is None:
            return None
        if "*" in self.corsOrigins:
            return origin if self.corsCredentials else "*"
        return origin if origin in self.corsOrigins else None
