"""
The C{websockets} client against C{examples.wsrpc} (run by
C{test_wsrpc.py}): prints one JSON object of what it saw.

Usage: ws_client.py URL
"""

import asyncio
import json
import sys

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

WAIT = 10


async def closedWith(ws) -> list:
    try:
        await asyncio.wait_for(ws.recv(), WAIT)
    except ConnectionClosed as e:
        return [e.rcvd.code, e.rcvd.reason] if e.rcvd is not None else None
    return "no close"


async def main(url: str) -> None:
    facts = {}
    async with connect(url, subprotocols=["other", "rpc.v1"], open_timeout=WAIT) as ws:
        facts["subprotocol"] = ws.subprotocol
        replies = []
        for request in (
            {"jsonrpc": "2.0", "id": 1, "method": "add", "params": [2, 3]},
            {"jsonrpc": "2.0", "method": "upper", "params": ["ignored"]},
            {"jsonrpc": "2.0", "id": "b", "method": "upper", "params": {"text": "héllo"}},
            {"jsonrpc": "2.0", "id": 3, "method": "nope"},
        ):
            await ws.send(json.dumps(request))
            if "id" in request:
                replies.append(json.loads(await asyncio.wait_for(ws.recv(), WAIT)))
        facts["replies"] = replies
        await ws.send("{not json")
        facts["badJson"] = await closedWith(ws)
    async with connect(url, subprotocols=["rpc.v1"], open_timeout=WAIT) as ws:
        await ws.send(b"\x00")
        facts["binary"] = await closedWith(ws)
    try:
        async with connect(url, open_timeout=WAIT):
            facts["refused"] = "connected"
    except InvalidStatus as e:
        facts["refused"] = [e.response.status_code, e.response.body.decode("utf-8", "replace")]
    print(json.dumps(facts), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
