"""
A peer of C{test_service_stop.py}: Python clients of a running rtproto
service (the default app) watching what a graceful stop of the server does
to them, all connected at once:

  - a C{websockets} (asyncio) client on C{/ws};
  - an C{aiohttp} client reading the event stream of C{/events};
  - python-socketio C{AsyncClient}s on the namespace C{/chat}, one per
    C{--sio TRANSPORTS} (C{default}: polling upgraded to WebSocket, or a
    comma-separated list such as C{polling}).

    python stop_pyclients.py BASE_URL [--sio default ...] [--timeout SECONDS]

It prints JSON lines on stdout, each with C{"client"} and C{"event"}:
C{"connected"} for each client (then C{{"event": "ready"}}); after that,
as they happen: C{{"client": "websocket", "event": "closed", "code",
"reason", "rcvd", "sent"}}; C{{"client": "sse", "event": "ended", "clean",
"error", "tail"}} (C{clean}: the body ended as HTTP says it should, rather
than with a payload error); C{{"client": "socketio-N", "event":
"disconnect", "reason"}} and C{{"client": "socketio-N", "event":
"reconnect_attempt", "error"}} (a failed attempt to connect again: the
server is gone).  Once every client saw its end (and each socket.io client
tried to reconnect), C{{"event": "done"}} and exit status 0; on an error
or a wait overrunning C{--timeout}, C{{"event": "error", "message"}} and
exit status 1.  Closing stdin stops the peer at once.
"""

import argparse
import asyncio
import json
import os
import sys
import traceback

import aiohttp
import socketio
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


def emit(**event) -> None:
    """
    Print one JSON line and flush it at once.
    """
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


async def bounded(awaitable, seconds: float, what: str):
    """
    Await C{awaitable} for at most C{seconds}.
    """
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except asyncio.TimeoutError:
        raise AssertionError(f"timed out after {seconds}s waiting for {what}") from None


async def watchWebSocket(url: str, timeout: float):
    """
    Connect to the echo handler; return a coroutine reporting its close.
    """
    ws = await bounded(connect(url, compression=None, open_timeout=timeout), timeout, "the WebSocket to open")
    emit(client="websocket", event="connected")

    async def closed():
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as e:
            emit(
                client="websocket",
                event="closed",
                code=ws.close_code,
                reason=ws.close_reason,
                rcvd=[e.rcvd.code, e.rcvd.reason] if e.rcvd else None,
                sent=[e.sent.code, e.sent.reason] if e.sent else None,
            )

    return closed()


async def watchEvents(session: aiohttp.ClientSession, url: str, timeout: float):
    """
    Open the event stream; return a coroutine reporting how it ended.
    """
    response = await bounded(
        session.get(url, headers={"Accept": "text/event-stream"}, timeout=aiohttp.ClientTimeout(total=None)),
        timeout,
        "the event stream's headers",
    )
    emit(client="sse", event="connected", status=response.status, contentType=response.headers.get("Content-Type"))

    async def ended():
        lines, error = [], None
        try:
            while True:
                line = await response.content.readline()
                if not line:
                    break
                lines.append(line.decode("utf-8", "replace"))
        except aiohttp.ClientError as e:
            error = f"{type(e).__name__}: {e}"
        emit(client="sse", event="ended", clean=error is None, error=error, tail=lines[-5:])
        response.release()

    return ended()


async def watchSocketIO(name: str, url: str, transports, timeout: float):
    """
    Connect a python-socketio client to C{/chat}; return the client and a
    coroutine that ends once it was disconnected and tried to reconnect.
    """
    client = socketio.AsyncClient(
        reconnection=True,
        reconnection_attempts=3,
        reconnection_delay=0.1,
        reconnection_delay_max=0.1,
        randomization_factor=0,
    )
    loop = asyncio.get_running_loop()
    disconnected, attempted = loop.create_future(), loop.create_future()

    async def onDisconnect(reason):
        emit(client=name, event="disconnect", reason=reason)
        if not disconnected.done():
            disconnected.set_result(reason)

    async def onConnectError(data):
        if disconnected.done():
            emit(client=name, event="reconnect_attempt", error=str(data))
            if not attempted.done():
                attempted.set_result(data)

    client.on("disconnect", onDisconnect, namespace="/chat")
    client.on("connect_error", onConnectError, namespace="/chat")
    await bounded(
        client.connect(url, namespaces=["/chat"], transports=transports, wait_timeout=timeout),
        timeout,
        f"{name} to connect",
    )
    emit(client=name, event="connected", transport=client.transport())

    async def stopped():
        await disconnected
        await attempted

    return client, stopped()


async def main(options) -> None:
    """
    Connect everything, say ready, wait for every end, say done.
    """
    base = options.url.rstrip("/")
    wsBase = "ws" + base[len("http"):]
    async with aiohttp.ClientSession() as session:
        waits = [
            await watchWebSocket(wsBase + "/ws", options.timeout),
            await watchEvents(session, base + "/events", options.timeout),
        ]
        clients = []
        for i, spec in enumerate(options.sio):
            transports = None if spec == "default" else spec.split(",")
            client, stopped = await watchSocketIO(f"socketio-{i}", base, transports, options.timeout)
            clients.append(client)
            waits.append(stopped)
        emit(event="ready")
        await bounded(asyncio.gather(*waits), options.timeout, "every client to see the server stop")
        for client in clients:
            await bounded(client.disconnect(), options.timeout, "a socket.io client to stop reconnecting")
    emit(event="done")


async def untilStdinCloses() -> None:
    """
    Return when stdin reaches its end (the test's way of saying stop).
    """
    loop = asyncio.get_running_loop()
    ended = loop.create_future()
    fd = sys.stdin.fileno()

    def readable():
        if not os.read(fd, 4096) and not ended.done():
            ended.set_result(None)

    loop.add_reader(fd, readable)
    try:
        await ended
    finally:
        loop.remove_reader(fd)


async def run(options) -> int:
    """
    Run L{main}, bounded overall and stopped early if stdin closes.
    """
    work = asyncio.ensure_future(main(options))
    stop = asyncio.ensure_future(untilStdinCloses())
    done, _ = await asyncio.wait({work, stop}, timeout=options.timeout * 4, return_when=asyncio.FIRST_COMPLETED)
    if work not in done:
        work.cancel()
        emit(event="error", message="stdin closed before the end" if stop in done else "the whole run took too long")
        return 1
    try:
        work.result()
    except Exception:
        emit(event="error", message=traceback.format_exc())
        return 1
    return 0


def parseArgs(argv):
    """
    The command line.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the service's base URL, http://127.0.0.1:PORT")
    parser.add_argument("--sio", action="append", default=None, help="a socket.io client's transports (repeatable)")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds any single wait may take")
    options = parser.parse_args(argv)
    options.sio = options.sio or ["default"]
    return options


if __name__ == "__main__":
    sys.exit(asyncio.run(run(parseArgs(sys.argv[1:]))))
