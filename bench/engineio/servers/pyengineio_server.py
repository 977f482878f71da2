"""
python-engineio (C{engineio.AsyncServer} on aiohttp) peer server for the
rtproto engine.io benchmark (C{bench/engineio/run.py}).

Serves an engine.io echo on C{http://127.0.0.1:--port/engine.io/}: every
message a client sends is sent back to it, text as text and binary as
binary.  Polling and websocket transports, upgrades allowed.

Settings shared with the other servers of the benchmark: ping interval
25 s, ping timeout 20 s, C{max_http_buffer_size} 1,000,000 bytes, HTTP
compression off (C{http_compression=False}), no permessage-deflate, no
access log, listen backlog 1024.  python-engineio's aiohttp driver builds
its C{WebSocketResponse} with aiohttp's default C{compress=True}, so a small
middleware removes C{Sec-WebSocket-Extensions} from the upgrade request:
no extension can then be negotiated, whatever the client offers.  The
default asyncio event loop (no uvloop); aiohttp turns TCP_NODELAY on.
"""

import argparse
import asyncio

import engineio
from aiohttp import web

EXTENSIONS = "Sec-WebSocket-Extensions"


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
    The engine.io server with the benchmark's settings and an echo handler.
    """
    eio = engineio.AsyncServer(
        async_mode="aiohttp",
        ping_interval=25,
        ping_timeout=20,
        max_http_buffer_size=1_000_000,
        http_compression=False,
        allow_upgrades=True,
        logger=False,
    )

    @eio.on("message")
    async def message(sid, data):
        await eio.send(sid, data)

    return eio


async def serveForever(port):
    """
    Serve until the process is stopped.
    """
    app = web.Application(middlewares=[withoutWebSocketExtensions])
    makeServer().attach(app, engineio_path="engine.io")
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
