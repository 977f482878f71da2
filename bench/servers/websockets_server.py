"""
C{websockets} (asyncio implementation, C{websockets.asyncio.server}) peer
server for the rtproto benchmark.

Serves on 127.0.0.1:--port:

  - C{/ws}: echo (text and binary);
  - C{/broadcast}: every message received is sent to all open C{/broadcast}
    connections with C{websockets.asyncio.server.broadcast} (encodes the
    message once, writes it synchronously to every connection).

C{compression=None}, C{max_size=None}, listen backlog 1024; asyncio turns
TCP_NODELAY on for every TCP transport.  Keepalive pings are left at the
library default.  Uses the default asyncio event loop (no uvloop).
"""

import argparse
import asyncio

from websockets.asyncio.server import broadcast, serve

CLIENTS = set()


async def handler(websocket):
    """
    Echo, or fan out on C{/broadcast}.
    """
    if websocket.request.path == "/broadcast":
        CLIENTS.add(websocket)
        try:
            async for message in websocket:
                broadcast(CLIENTS, message)
        finally:
            CLIENTS.discard(websocket)
    else:
        async for message in websocket:
            await websocket.send(message)


async def serveForever(port):
    async with serve(
        handler,
        "127.0.0.1",
        port,
        compression=None,
        max_size=None,
        backlog=1024,
    ) as server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serveForever(args.port))


if __name__ == "__main__":
    main()
