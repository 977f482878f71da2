"""
A C{websockets} (asyncio) server for the interop tests, listening on an
ephemeral port of 127.0.0.1.  Run as a program::

    python ws_server.py [--compression deflate|none] [--max-size BYTES]

Paths:

  - C{/echo}: send every message back as it came;
  - C{/cmd}: text messages are JSON commands:
    C{{"close": [code, reason]}} closes the connection,
    C{{"send": <payload description>}} sends a message (see L{payloads});
  - C{/deny403}, C{/deny404}: refuse the handshake with that HTTP status.

Any path negotiates the subprotocol C{superchat}, else C{chat}, else none.

It prints JSON lines on stdout: C{{"event": "listening", "port"}} first,
then C{{"event": "opened", "path", "subprotocol", "extensions"}} and
C{{"event": "closed", "path", "code", "reason"}} for every connection
(C{code}/C{reason}: the close frame the server received).  It stops when
its stdin reaches end of file.
"""

import argparse
import asyncio
import json
import sys
from http import HTTPStatus

from payloads import makePayload
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

PREFERENCE = ("superchat", "chat")


def emit(**event) -> None:
    """
    Print one JSON event line and flush it at once.
    """
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def selectSubprotocol(connection, offered):
    """
    Our preference among the offered subprotocols, or none at all (rather
    than websockets' default of refusing a client that offers none).
    """
    for name in PREFERENCE:
        if name in offered:
            return name
    return None


def processRequest(connection, request):
    """
    Refuse the C{/deny*} paths before the handshake.
    """
    if request.path == "/deny403":
        return connection.respond(HTTPStatus.FORBIDDEN, "nope\n")
    if request.path == "/deny404":
        return connection.respond(HTTPStatus.NOT_FOUND, "no such thing\n")
    return None


async def handler(ws) -> None:
    """
    Serve one connection according to its path.
    """
    path = ws.request.path
    emit(
        event="opened",
        path=path,
        subprotocol=ws.subprotocol,
        extensions=[ext.name for ext in ws.protocol.extensions],
    )
    try:
        async for message in ws:
            if path == "/cmd":
                command = json.loads(message)
                if "close" in command:
                    code, reason = command["close"]
                    await ws.close(code, reason)
                elif "send" in command:
                    await ws.send(makePayload(command["send"]))
            else:
                await ws.send(message)
    except ConnectionClosed:
        pass
    emit(event="closed", path=path, code=ws.close_code, reason=ws.close_reason)


async def stdinClosed() -> None:
    """
    Wait until our stdin reaches end of file (the test closed it).
    """
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass


async def main(argv: "list[str]") -> None:
    """
    Serve until stdin closes.
    """
    parser = argparse.ArgumentParser()
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate")
    parser.add_argument("--max-size", type=int, default=8 << 20)
    args = parser.parse_args(argv)
    async with serve(
        handler,
        "127.0.0.1",
        0,
        compression="deflate" if args.compression == "deflate" else None,
        select_subprotocol=selectSubprotocol,
        process_request=processRequest,
        max_size=args.max_size or None,
        ping_interval=None,
        close_timeout=30,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        emit(event="listening", port=port)
        await stdinClosed()
        server.close()
        await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
