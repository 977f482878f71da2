"""
sse-starlette (C{EventSourceResponse} on Starlette, served by uvicorn) peer
server for rtproto's side-by-side SSE benchmark (C{bench/sse/run.py}).

Serves the bench app of C{bench/sse/README.md} on
C{http://127.0.0.1:--port/}:

  - C{GET /events?channel=NAME}: an C{EventSourceResponse} that sends
    C{retry: 3000} at once, then every event published to C{NAME} as
    C{id: <id>\\nevent: msg\\ndata: <payload>\\n\\n};
  - C{POST /publish} (body = the payload, UTF-8 text): publishes it to
    channel C{"bench"} and answers C{200} with the event id (text) once
    every subscriber's stream has handed it to its transport.

The fan-out is the usual asyncio one: each subscriber has its own bounded
C{asyncio.Queue} (a subscriber whose queue is full is dropped, it does not
hold up the others), and its C{EventSourceResponse} generator takes events
from it.  An event is encoded once (C{ServerSentEvent.encode}) and the same
bytes are yielded to every subscriber.  The generator resumes after a
C{yield} only once C{EventSourceResponse} has sent that chunk, which is
when the event counts as written for the publisher's answer.

sse-starlette's settings: C{sep="\\n"}, keep-alive ping every 15 s (its
default, as rtproto's and the Node server's), no send timeout.  uvicorn:
C{--loop} and C{--http} default to C{auto} (uvloop and httptools when
installed, else asyncio and h11: the C{bench} extra installs neither), no
access log, log level warning, listen backlog 1024, lifespan off.
"""

import argparse
import asyncio
import importlib.util
import sys

import uvicorn
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

PUBLISH_CHANNEL = "bench"
RETRY_MS = 3000
PING_S = 15
QUEUE_SIZE = 4096
MAX_BODY = 1 << 20


class Publication:
    """
    One published event: its encoded bytes, and a future done when every
    subscriber it was queued for has written it (or left).
    """

    __slots__ = ("chunk", "done", "id", "remaining")

    def __init__(self, id, chunk, subscribers):
        self.id = id
        self.chunk = chunk
        self.remaining = subscribers
        self.done = asyncio.get_running_loop().create_future()
        if subscribers == 0:
            self.done.set_result(None)

    def written(self):
        self.remaining -= 1
        if self.remaining == 0 and not self.done.done():
            self.done.set_result(None)


class Subscriber:
    __slots__ = ("current", "dropped", "queue")

    def __init__(self):
        self.queue = asyncio.Queue(QUEUE_SIZE)
        self.current = None
        self.dropped = False


class Hub:
    """
    Channels of subscribers; C{publish} queues one encoded event for every
    subscriber of a channel.
    """

    def __init__(self):
        self.channels = {}
        self.lastId = 0

    def add(self, channel):
        subscriber = Subscriber()
        self.channels.setdefault(channel, set()).add(subscriber)
        return subscriber

    def remove(self, channel, subscriber):
        members = self.channels.get(channel)
        if members is not None:
            members.discard(subscriber)
            if not members:
                del self.channels[channel]
        # What it will never write no longer holds up a publisher.
        if subscriber.current is not None:
            subscriber.current.written()
            subscriber.current = None
        while not subscriber.queue.empty():
            subscriber.queue.get_nowait().written()

    def publish(self, channel, data):
        self.lastId += 1
        eventId = str(self.lastId)
        chunk = ServerSentEvent(data, event="msg", id=eventId, sep="\n").encode()
        members = list(self.channels.get(channel, ()))
        publication = Publication(eventId, chunk, len(members))
        for subscriber in members:
            try:
                subscriber.queue.put_nowait(publication)
            except asyncio.QueueFull:
                subscriber.dropped = True
                publication.written()
        return publication


def makeApp():
    hub = Hub()
    retry = ServerSentEvent(retry=RETRY_MS, sep="\n").encode()

    async def events(request):
        channel = request.query_params.get("channel", PUBLISH_CHANNEL)
        subscriber = hub.add(channel)

        async def stream():
            try:
                yield retry
                while not subscriber.dropped:
                    publication = await subscriber.queue.get()
                    subscriber.current = publication
                    yield publication.chunk
                    # Resumed: EventSourceResponse has sent the chunk.
                    subscriber.current = None
                    publication.written()
            finally:
                hub.remove(channel, subscriber)

        return EventSourceResponse(stream(), ping=PING_S, sep="\n")

    async def publish(request):
        body = await request.body()
        if len(body) > MAX_BODY:
            return PlainTextResponse("too large\n", status_code=413)
        publication = hub.publish(PUBLISH_CHANNEL, body.decode("utf-8"))
        await publication.done
        return PlainTextResponse(publication.id)

    return Starlette(routes=[
        Route("/events", events, methods=["GET"]),
        Route("/publish", publish, methods=["POST"]),
    ])


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--loop", default="auto", help="uvicorn event loop: auto, asyncio, uvloop")
    parser.add_argument("--http", default="auto", help="uvicorn HTTP protocol: auto, h11, httptools")
    args = parser.parse_args()
    config = uvicorn.Config(
        makeApp(), host="127.0.0.1", port=args.port, loop=args.loop, http=args.http,
        log_level="warning", access_log=False, backlog=1024, lifespan="off",
    )
    server = uvicorn.Server(config)
    config.load()
    loop = args.loop
    if loop == "auto":
        loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    print(f"uvicorn {uvicorn.__version__}: http {config.http_protocol_class.__name__}, "
          f"loop {loop}", file=sys.stderr, flush=True)
    server.run()


if __name__ == "__main__":
    main()
