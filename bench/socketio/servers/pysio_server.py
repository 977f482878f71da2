"""
python-socketio (C{socketio.AsyncServer} on aiohttp) peer server for the
rtproto socket.io benchmark (C{bench/socketio/run.py}).

Serves the benchmark app of C{bench/socketio/README.md} on
C{http://127.0.0.1:--port/socket.io/}, namespace C{/}:

  - C{"join-bench"(cb)}: join room C{"bench"}, then C{cb()};
  - C{"fanout"(payload, cb)}: emit C{"msg"(payload)} to room C{"bench"},
    then C{cb()};
  - C{"echo-ack"(payload, cb)}: C{cb(payload)}.

Settings shared with the other servers of the benchmark: ping interval
25 s, ping timeout 20 s, C{max_http_buffer_size} 1,000,000 bytes, HTTP
compression off, no permessage-deflate (python-engineio's aiohttp driver
would accept it, so a middleware removes C{Sec-WebSocket-Extensions} from
the upgrade request), no access log, listen backlog 1024, polling and
websocket transports.  python-socketio's defaults otherwise
(C{async_handlers=True}: each event runs in its own task), default asyncio
event loop (no uvloop).
"""

import argparse
import asyncio

import socketio
from aiohttp import web

EXTENSIONS = "Sec-WebSocket-Extensions"
ROOM = "bench"


@web.middleware
async def withoutWebSocketExtensions(request, handler):
    """
    Hide any WebSocket extension offer from python-engineio, so that
    permessage-deflate is never negotiated.
    """
    if EXTENSIONS in request.headers:
        headers = request.headers.copy()
        del headers[EXTENSIONS]
        request = request.clone(headers=headers)
    return await handler(request)


def makeServer():
    """
    The socket.io server with the benchmark's settings and the bench app.
    A handler's return value is its acknowledgement (C{None}: no
    arguments).
    """
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        ping_interval=25,
        ping_timeout=20,
        max_http_buffer_size=1_000_000,
        http_compression=False,
        allow_upgrades=True,
        logger=False,
        engineio_logger=False,
    )

    @sio.on("join-bench")
    async def joinBench(sid, *args):
        await sio.enter_room(sid, ROOM)

    @sio.on("fanout")
    async def fanout(sid, payload=None, *args):
        await sio.emit("msg", payload, to=ROOM)

    @sio.on("echo-ack")
    async def echoAck(sid, payload=None, *args):
        return payload

    return sio


async def serveForever(port):
    """
    Serve until the process is stopped.
    """
    app = web.Application(middlewares=[withoutWebSocketExtensions])
    makeServer().attach(app, socketio_path="socket.io")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    await asyncio.Event().wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serveForever(args.port))


if __name__ == "__main__":
    main()
