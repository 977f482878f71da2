"""
L{App}: what the handlers of one site share — its mounts, by path, and
in-process topics through which one handler reaches the others (the
default app's socket.io chat publishes each message to topic C{chat}; its
SSE mount and its WebSocket feed relay that topic to their clients).

Topics are in-process only: listeners run synchronously, in the order they
started listening, in the publisher's call.  Several processes need a real
broker (Redis) behind them, not this.
"""

from twisted.logger import Logger

_log = Logger()


class App:
    """
    The shared face of one site.

    @ivar websocket: the L{rtproto.tx.resource.WebSocketResource}s by mount
        path.
    @ivar engineio: the L{rtproto.tx.engineio.EngineIOResource}s of plain
        engine.io mounts, by path.
    @ivar socketio: the L{rtproto.tx.socketio.SocketIOServer}s by path.
    @ivar sse: the L{rtproto.tx.sse.EventSourceResource}s by path.
    @ivar metrics: the site's counters, or L{None}.
    """

    def __init__(self) -> None:
        self.websocket: dict = {}
        self.engineio: dict = {}
        self.socketio: dict = {}
        self.sse: dict = {}
        self.metrics = None
        self._listeners: dict = {}

    def listen(self, topic: "str | None", callback):
        """
        Call C{callback(topic, data, event)} for every message published to
        C{topic} (to any topic when C{topic} is L{None}).

        @return: a zero-argument callable that stops listening (calling it
            twice is harmless).
        """
        entry = [callback]
        self._listeners.setdefault(topic, []).append(entry)

        def stop() -> None:
            listeners = self._listeners.get(topic)
            if listeners is None:
                return
            for i, e in enumerate(listeners):
                if e is entry:
                    del listeners[i]
                    break
            if not listeners:
                del self._listeners[topic]

        return stop

    def listeners(self, topic: str) -> int:
        """
        How many listeners a message to C{topic} reaches.
        """
        return len(self._listeners.get(topic, ())) + len(self._listeners.get(None, ()))

    def publish(self, topic: str, data, event: "str | None" = None) -> int:
        """
        Hand C{data} (and an optional C{event} name) to every listener of
        C{topic} and of every topic.  A listener that raises is logged and
        the others still run.

        @return: how many listeners were called.
        """
        called = 0
        for key in (topic, None):
            for entry in list(self._listeners.get(key, ())):
                called += 1
                try:
                    entry[0](topic, data, event)
                except Exception:
                    _log.failure("A listener of topic {topic!r} failed", topic=topic)
        return called
