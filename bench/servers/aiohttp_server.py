"""
aiohttp (C{aiohttp.web}) peer server for the rtproto benchmark.

Serves on 127.0.0.1:--port:

  - C{/ws}: echo (text and binary);
  - C{/broadcast}: every message received is sent to all open C{/broadcast}
    connections (aiohttp has no prepared-message API, so each
    C{send_str}/C{send_bytes} encodes its own frame).

C{compress=False}, C{max_msg_size=0} (unlimited), no access log, listen
backlog 1024; aiohttp and asyncio turn TCP_NODELAY on.  Uses the default
asyncio event loop (no uvloop).
"""

import argparse
import asyncio

from aiohttp import WSMsgType, web

CLIENTS = set()


def newSocket():
    return web.WebSocketResponse(compress=False, max_msg_size=0)


async def echo(request):
    ws = newSocket()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


async def fanOut(request):
    ws = newSocket()
    await ws.prepare(request)
    CLIENTS.add(ws)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                for client in list(CLIENTS):
                    try:
                        await client.send_str(msg.data)
                    except ConnectionResetError:
                        pass
            elif msg.type == WSMsgType.BINARY:
                for client in list(CLIENTS):
                    try:
                        await client.send_bytes(msg.data)
                    except ConnectionResetError:
                        pass
    finally:
        CLIENTS.discard(ws)
    return ws


async def serveForever(port):
    app = web.Application()
    app.router.add_get("/ws", echo)
    app.router.add_get("/broadcast", fanOut)
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
